#pragma once
// RAII owners for SUNDIALS objects and the one helper that checks return
// codes. Every SUNDIALS call in Soma goes through CheckFlag so that no return
// code is ignored.

#include <memory>
#include <string_view>

#include <sundials/sundials_context.h>
#include <sundials/sundials_linearsolver.h>
#include <sundials/sundials_matrix.h>
#include <sundials/sundials_nonlinearsolver.h>
#include <sundials/sundials_nvector.h>

#include "core/status.h"

namespace soma::solvers {

// Owns a SUNContext. One per thread of work (SUNDIALS objects created from a
// context must not be used concurrently).
class SundialsContext {
 public:
  SundialsContext();
  ~SundialsContext();
  SundialsContext(const SundialsContext&) = delete;
  SundialsContext& operator=(const SundialsContext&) = delete;
  SUNContext get() const { return ctx_; }

 private:
  SUNContext ctx_ = nullptr;
};

struct NVectorDeleter { void operator()(_generic_N_Vector* v) const; };
struct SunMatrixDeleter { void operator()(_generic_SUNMatrix* m) const; };
struct SunLinearSolverDeleter { void operator()(_generic_SUNLinearSolver* s) const; };
struct SunNonlinearSolverDeleter { void operator()(_generic_SUNNonlinearSolver* s) const; };
using NVectorPtr = std::unique_ptr<_generic_N_Vector, NVectorDeleter>;
using SunMatrixPtr = std::unique_ptr<_generic_SUNMatrix, SunMatrixDeleter>;
using SunLinearSolverPtr = std::unique_ptr<_generic_SUNLinearSolver, SunLinearSolverDeleter>;
using SunNonlinearSolverPtr = std::unique_ptr<_generic_SUNNonlinearSolver, SunNonlinearSolverDeleter>;

// OK when flag >= 0 (SUNDIALS success and warnings); otherwise a
// SolverFailure naming the function and the flag's name.
Status CheckFlag(int flag, std::string_view function);

// CVODES' name for a return flag, e.g. "CV_TOO_MUCH_WORK".
std::string_view CvodeFlagName(int flag);

// The SUNDIALS package whose return flags a call gives (the packages reuse
// the same numbers for different failures).
enum class SundialsPackage { kCvodes, kKinsol };

// CheckFlag naming the flag in `package`'s table.
Status CheckFlag(int flag, std::string_view function, SundialsPackage package);

// KINSOL's name for a return flag, e.g. "KIN_LINESEARCH_NONCONV", with a
// short explanation for the failures.
std::string_view KinsolFlagName(int flag);

}  // namespace soma::solvers
