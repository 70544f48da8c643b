#pragma once
// Whether an MPI launcher (mpirun/mpiexec: Open MPI, or a PMI/PMIx process
// manager such as Slurm's) started this process. Header-only, so that the
// `soma` dispatcher (cli/dispatch.h) can hand such command lines to the
// binary that links MPI without linking it itself.

#include <cstdlib>

namespace soma::ensemble {

inline bool StartedByMpiLauncher() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"}) {
    if (std::getenv(var) != nullptr) return true;
  }
  return false;
}

}  // namespace soma::ensemble
