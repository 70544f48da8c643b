// FitTwin in a build without soma::infer.

#include "twin/fit.h"

namespace soma::twin {

bool FitAvailable() { return false; }

Result<Json> FitTwin(const TwinEngine&, TwinState&, const FitOptions&) {
  return Unsupported("twin fit: MAP personalisation needs soma::infer, which this build does not include");
}

}  // namespace soma::twin
