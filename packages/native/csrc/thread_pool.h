// A fixed pool of worker threads for data-parallel kernel loops.
//
// Why our own pool and not OpenMP: OpenBLAS (pthread build) already keeps its
// own workers; an OpenMP runtime would add a third set of threads on a 2-core
// machine.
//
// Waiting: a training step calls hundreds of kernels back to back, most of
// them a millisecond or less. Waking a worker blocked on a condition variable
// took ~18 us on this VM (a 70k-element relu: 19 us on one thread, 37 us on
// two; an idle vCPU has to be rescheduled by the hypervisor), so a worker that
// finishes a job spins for a while (SpinTime) on the job counter before it
// blocks, and so does the caller waiting for the last part. LeNet-5 step at
// batch 128 (median ms, 3 alternating runs each): spin 0.2 ms 5.8/5.7/6.6,
// 1 ms 5.3/5.3/5.0, 5 ms 5.1/5.0/4.6 — the default is 5 ms (OpenMP runtimes
// spin for longer: libgomp ~300k iterations, Intel's KMP_BLOCKTIME 200 ms). Spinning is bounded: an idle pool sleeps, it does not burn a core.
// MOPRUNE_NATIVE_SPIN_US sets the spin (microseconds, default 5000; 0 = block
// at once, for a machine shared with other busy processes).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace moprune {

class ThreadPool {
 public:
  // How long a worker (or the caller) spins before it blocks.
  static std::chrono::microseconds SpinTime() {
    static const std::chrono::microseconds spin = [] {
      const char* e = std::getenv("MOPRUNE_NATIVE_SPIN_US");
      const long v = e == nullptr ? 5000 : std::strtol(e, nullptr, 10);
      return std::chrono::microseconds(v < 0 ? 0 : v > 100000 ? 100000 : v);
    }();
    return spin;
  }

  explicit ThreadPool(int threads) { Resize(threads); }
  ~ThreadPool() { Stop(); }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void Resize(int threads) {
    if (threads < 1) threads = 1;
    Stop();
    stop_ = false;
    for (int i = 1; i < threads; ++i) {
      workers_.emplace_back([this] { WorkerLoop(); });
    }
  }

  // Runs fn(part) for part in [0, parts) with parts <= size(). Parts are
  // claimed, not assigned: the caller keeps claiming until none is left, so a
  // worker the OS has not scheduled yet (a loaded machine) never holds up the
  // job, it just finds nothing left to do. Rethrows the first exception.
  void Run(int parts, const std::function<void(int)>& fn) {
    if (parts <= 1 || workers_.empty()) {
      for (int p = 0; p < parts; ++p) fn(p);
      return;
    }
    std::lock_guard<std::mutex> serial(run_mutex_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &fn;
      job_parts_ = parts;
      next_part_ = 0;
      completed_.store(0, std::memory_order_relaxed);
      error_ = nullptr;
      generation_.fetch_add(1, std::memory_order_release);
    }
    // No system call when every worker is still spinning (no waiters).
    start_cv_.notify_all();
    Work();
    SpinUntil([&] { return completed_.load(std::memory_order_acquire) == parts; });
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [&] { return completed_.load(std::memory_order_acquire) == parts; });
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  // Spins until done() or kSpin has passed; true when done() held.
  template <typename Done>
  static bool SpinUntil(Done done) {
    const auto spin = SpinTime();
    if (spin.count() == 0) return done();
    const auto until = std::chrono::steady_clock::now() + spin;
    for (int i = 0;; ++i) {
      if (done()) return true;
#if defined(__SSE2__)
      _mm_pause();
#endif
      // Reading the clock costs more than a pause: look every 64 rounds.
      if ((i & 63) == 63 && std::chrono::steady_clock::now() >= until) return false;
    }
  }

  // Claims and runs parts of the current job until none is left.
  void Work() {
    for (;;) {
      const std::function<void(int)>* job = nullptr;
      int part = 0;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (job_ == nullptr || next_part_ >= job_parts_) return;
        part = next_part_++;
        job = job_;
      }
      std::exception_ptr err;
      try {
        (*job)(part);
      } catch (...) {
        err = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mutex_);
      if (err && !error_) error_ = err;
      if (completed_.fetch_add(1, std::memory_order_acq_rel) + 1 == job_parts_) done_cv_.notify_one();
    }
  }

  void WorkerLoop() {
    std::size_t seen = generation_.load(std::memory_order_acquire);
    for (;;) {
      if (!SpinUntil([&] {
            return stop_flag_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen;
          })) {
        std::unique_lock<std::mutex> lock(mutex_);
        start_cv_.wait(lock, [&] { return stop_ || generation_.load(std::memory_order_acquire) != seen; });
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stop_) return;
        seen = generation_.load(std::memory_order_acquire);
      }
      Work();
    }
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      stop_flag_.store(true, std::memory_order_release);
    }
    start_cv_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
    stop_flag_.store(false, std::memory_order_release);
  }

  std::vector<std::thread> workers_;
  std::mutex run_mutex_;
  std::mutex mutex_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  const std::function<void(int)>* job_ = nullptr;
  int job_parts_ = 0;
  int next_part_ = 0;
  std::atomic<int> completed_{0};
  std::atomic<std::size_t> generation_{0};
  bool stop_ = false;
  std::atomic<bool> stop_flag_{false};
  std::exception_ptr error_;
};

}  // namespace moprune
