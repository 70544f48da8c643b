#include "ensemble/mpi_world.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#ifdef SOMA_HAVE_MPI
#include <mpi.h>
#endif

#include "ensemble/mpi_launcher.h"

namespace soma::ensemble {

bool MpiWorld::Available() {
#ifdef SOMA_HAVE_MPI
  return true;
#else
  return false;
#endif
}

Result<std::unique_ptr<MpiWorld>> MpiWorld::Join() {
  std::unique_ptr<MpiWorld> w(new MpiWorld());
  if (!StartedByMpiLauncher()) return w;
#ifdef SOMA_HAVE_MPI
  int provided = 0;
  if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
    return Unavailable("MPI_Init_thread failed");
  }
  w->initialised_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &w->rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &w->size_);
  return w;
#else
  if (const char* n = std::getenv("OMPI_COMM_WORLD_SIZE"); n != nullptr && std::atoi(n) > 1) {
    return Unsupported("started by mpirun with " + std::string(n) +
                       " ranks, but this soma was built without MPI (install libopenmpi-dev and rebuild)");
  }
  return w;
#endif
}

MpiWorld::~MpiWorld() {
#ifdef SOMA_HAVE_MPI
  if (initialised_) MPI_Finalize();
#endif
}

Result<std::vector<std::string>> MpiWorld::GatherToRoot(const std::string& bytes) {
  std::vector<std::string> out;
  if (size_ == 1) {
    out.push_back(bytes);
    return out;
  }
#ifdef SOMA_HAVE_MPI
  // Sizes first (as 64-bit counts, chunked below 2 GiB per message), then
  // each rank's bytes point to point: simple and independent of MPI's int
  // displacement limits.
  long long n = static_cast<long long>(bytes.size());
  std::vector<long long> sizes(size_);
  if (MPI_Gather(&n, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD) != MPI_SUCCESS) {
    return Unavailable("MPI_Gather of result sizes failed");
  }
  constexpr long long kChunk = 1LL << 30;
  if (rank_ != 0) {
    for (long long at = 0; at < n; at += kChunk) {
      int len = static_cast<int>(std::min(kChunk, n - at));
      if (MPI_Send(bytes.data() + at, len, MPI_CHAR, 0, 7, MPI_COMM_WORLD) != MPI_SUCCESS) {
        return Unavailable("MPI_Send of results failed");
      }
    }
    return out;
  }
  out.push_back(bytes);
  for (int r = 1; r < size_; ++r) {
    std::string buf(static_cast<size_t>(sizes[r]), '\0');
    for (long long at = 0; at < sizes[r]; at += kChunk) {
      int len = static_cast<int>(std::min(kChunk, sizes[r] - at));
      if (MPI_Recv(buf.data() + at, len, MPI_CHAR, r, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE) != MPI_SUCCESS) {
        return Unavailable("MPI_Recv of results from rank " + std::to_string(r) + " failed");
      }
    }
    out.push_back(std::move(buf));
  }
  return out;
#else
  return Internal("a distributed world without MPI");
#endif
}

bool MpiWorld::BroadcastFlag(bool ok) {
#ifdef SOMA_HAVE_MPI
  if (size_ > 1) {
    int v = ok ? 1 : 0;
    MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return v != 0;
  }
#endif
  return ok;
}

Status MpiWorld::BroadcastInts(std::vector<int>* values) {
#ifdef SOMA_HAVE_MPI
  if (size_ > 1) {
    long long n = static_cast<long long>(values->size());
    if (MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD) != MPI_SUCCESS) {
      return Unavailable("MPI_Bcast of a count failed");
    }
    values->resize(static_cast<size_t>(n));
    constexpr long long kChunk = 1LL << 28;
    for (long long at = 0; at < n; at += kChunk) {
      const int len = static_cast<int>(std::min(kChunk, n - at));
      if (MPI_Bcast(values->data() + at, len, MPI_INT, 0, MPI_COMM_WORLD) != MPI_SUCCESS) {
        return Unavailable("MPI_Bcast of values failed");
      }
    }
  }
#endif
  return Status::Ok();
}

std::vector<int> ShareByRate(int count, int ranks, const std::vector<double>& rates) {
  std::vector<int> share(static_cast<size_t>(std::max(ranks, 0)), 0);
  if (ranks <= 0 || count <= 0) return share;
  std::vector<double> w(share.size(), 1.0);
  const bool measured = rates.size() == share.size() &&
                        std::all_of(rates.begin(), rates.end(), [](double r) { return std::isfinite(r) && r > 0; });
  if (measured) w = rates;
  // Every rank's floor first, then the rest by weight.
  const int floor = count >= ranks ? 1 : 0;
  const int rest = count - floor * ranks;
  double sum = 0;
  for (double x : w) sum += x;
  std::vector<double> exact(share.size());
  int given = 0;
  for (size_t r = 0; r < share.size(); ++r) {
    exact[r] = rest * w[r] / sum;
    share[r] = floor + static_cast<int>(std::floor(exact[r]));
    given += share[r];
  }
  // Largest remainders (ties to the lower rank) take the members left.
  std::vector<size_t> order(share.size());
  for (size_t r = 0; r < order.size(); ++r) order[r] = r;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return exact[x] - std::floor(exact[x]) > exact[y] - std::floor(exact[y]);
  });
  for (size_t k = 0; given < count; k = (k + 1) % order.size(), ++given) ++share[order[k]];
  return share;
}

}  // namespace soma::ensemble
