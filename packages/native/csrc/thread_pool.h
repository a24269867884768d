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
// at once).
//
// A shared machine: spinning pays only while the spinning thread has a core to
// itself. Beside another busy process (a sweep's second trial), a spinning
// worker takes time slices the caller — or the other process — needed:
// LeNet-300-100 training beside a CPU-bound process ran its epoch in 1.1–1.4 s
// with 2 spinning threads against 0.86–0.90 s with spin 0 or one thread. So
// each worker watches its own involuntary context switches (getrusage,
// RUSAGE_THREAD) and its time waiting for a core (/proc/thread-self/schedstat),
// read at most every kProbe = 50 ms: preempted at least kPreempted = 5 times, or
// kept waiting at least a fifth of the window, in each of kBusyWindows = 6
// windows in a row (300 ms) means other runnable tasks keep wanting its core,
// and the whole pool blocks instead of spinning for kHold = 2 s, then tries
// spinning again. The wait matters with many tasks per core: the scheduler's
// slices grow, and with six CPU-bound processes on two cores a worker was
// preempted fewer than 5 times per window, so the switch count alone never
// backed off (a 20 s test run, 2026-12-06); the wait criterion did within ~1 s. On an idle
// machine V8's own threads preempt a worker in bursts (one to three windows),
// which these thresholds ignore (chosen on this VM: 3 windows still switched an
// idle LeNet-5 benchmark to blocking once or twice in 4 s, 6 did not).
// MOPRUNE_NATIVE_SPIN_ADAPT=0 turns the watch off (for A/B measurements).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sys/resource.h>
#endif

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

  // Times the pool has switched from spinning to blocking because a worker was being preempted.
  std::size_t backoffs() const { return backoffs_.load(std::memory_order_relaxed); }

  // True while the pool blocks instead of spinning (see the note on shared machines above).
  bool blocking() const { return Now() < blocking_until_.load(std::memory_order_relaxed); }

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
    if (!blocking()) SpinUntil([&] { return completed_.load(std::memory_order_acquire) == parts; });
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [&] { return completed_.load(std::memory_order_acquire) == parts; });
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  // A probe window of a worker's involuntary context switches, the count in one window that means
  // another task wanted the core, how many such windows in a row mean the machine is oversubscribed
  // (one or two happen on an idle machine too, V8's collector and compiler threads), and how long
  // the pool then blocks before it tries spinning again.
  static constexpr std::chrono::milliseconds kProbe{50};
  static constexpr long kPreempted = 5;
  // A window counts as busy too when the worker waited for a core 1/kWaitShare of it or more.
  static constexpr std::int64_t kWaitShare = 5;
  static constexpr int kBusyWindows = 6;
  static constexpr std::chrono::seconds kHold{2};

  static std::int64_t Now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  // This thread's time waiting on a run queue so far (ready, another task on the core), in ns, from
  // /proc/thread-self/schedstat; -1 where the OS does not tell.
  static std::int64_t RunQueueWaitNs() {
#if defined(__linux__)
    std::FILE* f = std::fopen("/proc/thread-self/schedstat", "r");
    if (f == nullptr) return -1;
    unsigned long long run = 0;
    unsigned long long wait = 0;
    const int n = std::fscanf(f, "%llu %llu", &run, &wait);
    std::fclose(f);
    return n == 2 ? static_cast<std::int64_t>(wait) : -1;
#else
    return -1;
#endif
  }

  // This thread's involuntary context switches so far; -1 where the OS does not tell.
  static long InvoluntarySwitches() {
#if defined(__linux__) && defined(RUSAGE_THREAD)
    rusage u{};
    if (getrusage(RUSAGE_THREAD, &u) == 0) return u.ru_nivcsw;
#endif
    return -1;
  }

  // Called by a worker once per job: every kProbe, compares its involuntary switches with the last
  // probe's and, past kPreempted, makes the pool block for kHold.
  void Probe(std::int64_t& window_start, long& switches, std::int64_t& waited, int& busy_windows) {
    static const bool adapt = [] {
      const char* e = std::getenv("MOPRUNE_NATIVE_SPIN_ADAPT");
      return e == nullptr || std::string(e) != "0";
    }();
    if (!adapt) return;
    const std::int64_t now = Now();
    if (now - window_start < std::chrono::duration_cast<std::chrono::nanoseconds>(kProbe).count()) return;
    const long count = InvoluntarySwitches();
    const std::int64_t wait = RunQueueWaitNs();
    // Preempted often, or kept waiting for a core a fifth of the window or more: with many tasks per
    // core the scheduler's slices grow and preemptions per window fall below kPreempted, while the
    // wait for a core only grows.
    const bool preempted = count >= 0 && switches >= 0 && count - switches >= kPreempted;
    const bool kept_waiting = wait >= 0 && waited >= 0 && (wait - waited) * kWaitShare >= now - window_start;
    busy_windows = preempted || kept_waiting ? busy_windows + 1 : 0;
    if (busy_windows >= kBusyWindows && !blocking()) {
      blocking_until_.store(now + std::chrono::duration_cast<std::chrono::nanoseconds>(kHold).count(),
                            std::memory_order_relaxed);
      backoffs_.fetch_add(1, std::memory_order_relaxed);
      busy_windows = 0;
    }
    switches = count;
    waited = wait;
    window_start = now;
  }

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
    std::int64_t window_start = Now();
    long switches = InvoluntarySwitches();
    std::int64_t waited = RunQueueWaitNs();
    int busy_windows = 0;
    for (;;) {
      Probe(window_start, switches, waited, busy_windows);
      if (blocking() || !SpinUntil([&] {
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
  std::atomic<std::int64_t> blocking_until_{0};
  std::atomic<std::size_t> backoffs_{0};
};

}  // namespace moprune
