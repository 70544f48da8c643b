#pragma once
// Many independent runs on all cores. Work is handed out index by index from
// a shared counter; each run must depend only on its index (seed it with
// uq::MemberRng(base, index)), so results are identical whatever the thread
// count or scheduling. Progress is reported from the calling thread.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>

namespace soma::ensemble {

struct ParallelOptions {
  // Worker threads; 0 = std::thread::hardware_concurrency().
  int threads = 0;
  // Called on the calling thread about every `progress_interval` and once at
  // the end, with (finished, total). May be empty.
  std::function<void(long done, long total)> progress;
  std::chrono::milliseconds progress_interval{200};
  // When set to true by another thread, no new runs start; ParallelFor
  // returns after the running ones finish.
  const std::atomic<bool>* cancel = nullptr;
};

// Calls run(i) for every i in [begin, end). `run` must be thread-safe and
// must not throw. Returns the number of runs finished (end - begin unless
// cancelled).
long ParallelFor(long begin, long end, const std::function<void(long)>& run,
                 const ParallelOptions& options = {});

// Runs `worker` on `threads` new threads and meanwhile reports
// options.progress(done, total) from the calling thread, as ParallelFor does
// (about every progress_interval and once at the end); returns when all
// workers have returned. For runners that hand out work themselves.
void RunWorkers(int threads, const std::function<void()>& worker, const std::atomic<long>& done, long total,
                const ParallelOptions& options);

// The number of threads ParallelFor would use for `options`.
int ThreadCount(const ParallelOptions& options);

// A progress bar on a terminal ("\r[=====     ] 45/100  12 s, about 15 s left"),
// or a line every 10% when the stream is not a terminal (CI logs).
class ProgressBar {
 public:
  ProgressBar(std::string label, std::FILE* out = stderr);
  void Update(long done, long total);
  void Finish();

 private:
  std::string label_;
  std::FILE* out_;
  bool tty_;
  int last_decile_ = -1;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace soma::ensemble
