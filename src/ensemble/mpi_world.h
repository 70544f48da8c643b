#pragma once
// Process-level parallelism for ensembles: the MPI world a command runs in.
//
// When Soma is built with MPI (CMake found it: SOMA_HAVE_MPI) and the
// process was started by an MPI launcher (mpirun/mpiexec set
// OMPI_COMM_WORLD_SIZE, PMI_SIZE or PMIX_RANK), Join() initialises MPI and
// the world has the launcher's ranks; otherwise it is one process, rank 0,
// and nothing of MPI is touched (so `soma` never needs a launcher).
//
// Ensembles split their members by index across ranks (member i on rank
// i mod size) and gather results on rank 0. Members are seeded by index, so
// results do not depend on the number of ranks or threads.
//
// Thread safety: call from the thread that called Join() only (MPI is
// initialised with MPI_THREAD_FUNNELED).

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace soma::ensemble {

class MpiWorld {
 public:
  // Joins the world (see above). Errors: MPI_Init failing (kUnavailable).
  static Result<std::unique_ptr<MpiWorld>> Join();
  ~MpiWorld();  // MPI_Finalize when MPI was initialised

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool distributed() const { return size_ > 1; }
  // True when this binary was built with MPI support.
  static bool Available();

  // Every rank passes its bytes; rank 0 receives all of them in rank order
  // (its own first), other ranks an empty vector. Collective.
  Result<std::vector<std::string>> GatherToRoot(const std::string& bytes);
  // Rank 0's value of `ok` on every rank (a collective decision). Collective.
  bool BroadcastFlag(bool ok);
  // Rank 0's `values` on every rank (other ranks' input is replaced).
  // Collective. Errors: MPI failures (kUnavailable).
  Status BroadcastInts(std::vector<int>* values);

 private:
  MpiWorld() = default;
  int rank_ = 0;
  int size_ = 1;
  bool initialised_ = false;
};

// How many of `count` members each rank runs, in proportion to `rates`
// (members per second each rank achieved so far; empty, or any rate not
// positive and finite: equal shares). Largest remainders round the shares
// to whole members summing to `count`; while count >= ranks, every rank
// gets at least one, so that its rate keeps being measured.
std::vector<int> ShareByRate(int count, int ranks, const std::vector<double>& rates);

}  // namespace soma::ensemble
