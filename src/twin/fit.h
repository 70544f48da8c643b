#pragma once
// Personalisation of a twin: the maximum a-posteriori estimate of its
// personalised parameters from the whole observation history, with Laplace
// 95 % intervals, computed by soma::infer (Ceres, forward sensitivities,
// multistart). The likelihood is the definition's noise models; the prior
// its population distributions (log-normal, normal, uniform); parameters are
// estimated on the log scale within their bounds (infinite bounds are
// replaced by the prior's 1e-3 and 1e3 multiples of its median).
//
// The model runs once from t = 0 over the history with every recorded
// intervention as events (TwinEngine::HistoryModel). After the fit the
// ensemble is redrawn from the Laplace posterior (log scale, N(theta_hat,
// covariance)) and re-run to the twin's time; the fit is stored in
// state.fit.
//
// Thread safety: FitTwin changes only `state`; the progress callback is
// called from the estimating threads, one call at a time.

#include <functional>
#include <string>

#include "core/status.h"
#include "twin/engine.h"
#include "twin/state.h"

namespace soma::twin {

struct FitOptions {
  int starts = 4;          // multistart count, >= 1
  std::uint64_t seed = 1;
  // Also the profile likelihood interval of each personalised parameter
  // (infer::ProfileLikelihood, 95 %), reported next to the Laplace one as
  // "profile" of each parameter; the ensemble is still drawn from the
  // Laplace posterior.
  bool profile = false;
  // progress in [0, 1] with a short message; may be empty.
  std::function<void(double, const std::string&)> progress;
};

// True when this build includes soma::infer.
bool FitAvailable();

// Errors: kFailedPrecondition (no personalised parameters, no observations),
// kUnsupported (built without soma::infer), the estimator's errors.
Result<Json> FitTwin(const TwinEngine& engine, TwinState& state, const FitOptions& options);

}  // namespace soma::twin
