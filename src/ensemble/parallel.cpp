#include "ensemble/parallel.h"

#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace soma::ensemble {

int ThreadCount(const ParallelOptions& options) {
  if (options.threads > 0) return options.threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

long ParallelFor(long begin, long end, const std::function<void(long)>& run,
                 const ParallelOptions& options) {
  if (end <= begin) return 0;
  const long total = end - begin;
  const int threads = static_cast<int>(std::min<long>(ThreadCount(options), total));
  std::atomic<long> next{begin};
  std::atomic<long> done{0};
  RunWorkers(threads, [&] {
    for (;;) {
      if (options.cancel != nullptr && options.cancel->load()) break;
      long i = next.fetch_add(1);
      if (i >= end) break;
      run(i);
      done.fetch_add(1);
    }
  }, done, total, options);
  return done.load();
}

void RunWorkers(int threads, const std::function<void()>& worker, const std::atomic<long>& done, long total,
                const ParallelOptions& options) {
  std::mutex mu;
  std::condition_variable cv;
  int running = threads;
  std::vector<std::thread> pool;
  pool.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      worker();
      std::lock_guard<std::mutex> lock(mu);
      if (--running == 0) cv.notify_all();
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    while (running > 0) {
      cv.wait_for(lock, options.progress_interval, [&] { return running == 0; });
      if (options.progress) {
        lock.unlock();
        options.progress(done.load(), total);
        lock.lock();
      }
    }
  }
  for (auto& t : pool) t.join();
}

ProgressBar::ProgressBar(std::string label, std::FILE* out)
    : label_(std::move(label)), out_(out), tty_(isatty(fileno(out)) != 0),
      start_(std::chrono::steady_clock::now()) {}

void ProgressBar::Update(long done, long total) {
  if (finished_ || total <= 0) return;
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double frac = static_cast<double>(done) / total;
  if (tty_) {
    constexpr int kWidth = 30;
    int filled = static_cast<int>(frac * kWidth);
    std::string bar(filled, '=');
    bar.resize(kWidth, ' ');
    if (done > 0 && done < total) {
      double left = elapsed / frac - elapsed;
      std::fprintf(out_, "\r%s [%s] %ld/%ld  %.0f s, about %.0f s left   ", label_.c_str(), bar.c_str(),
                   done, total, elapsed, left);
    } else {
      std::fprintf(out_, "\r%s [%s] %ld/%ld  %.0f s   ", label_.c_str(), bar.c_str(), done, total, elapsed);
    }
    std::fflush(out_);
    return;
  }
  int decile = static_cast<int>(frac * 10);
  if (decile > last_decile_) {
    last_decile_ = decile;
    std::fprintf(out_, "%s: %ld/%ld (%d%%), %.1f s\n", label_.c_str(), done, total, decile * 10, elapsed);
    std::fflush(out_);
  }
}

void ProgressBar::Finish() {
  if (finished_) return;
  finished_ = true;
  if (tty_) std::fprintf(out_, "\n");
}

}  // namespace soma::ensemble
