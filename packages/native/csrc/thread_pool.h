// A fixed pool of worker threads for data-parallel kernel loops.
//
// Why our own pool and not OpenMP: OpenBLAS (pthread build) already keeps its
// own workers; an OpenMP runtime would add a third set of spinning threads on
// a 2-core machine. Workers here block on a condition variable between jobs,
// so they cost nothing while OpenBLAS runs.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace moprune {

class ThreadPool {
 public:
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
      completed_ = 0;
      error_ = nullptr;
      ++generation_;
    }
    start_cv_.notify_all();
    Work();
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [this] { return completed_ == job_parts_; });
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
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
      if (++completed_ == job_parts_) done_cv_.notify_one();
    }
  }

  void WorkerLoop() {
    std::size_t seen = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      seen = generation_;
    }
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
        if (stop_) return;
        seen = generation_;
      }
      Work();
    }
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    start_cv_.notify_all();
    for (auto& w : workers_) w.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex run_mutex_;
  std::mutex mutex_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  const std::function<void(int)>* job_ = nullptr;
  int job_parts_ = 0;
  int next_part_ = 0;
  int completed_ = 0;
  std::size_t generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace moprune
