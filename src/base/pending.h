// Pending: work another thread finishes (a round trip to a shared store) that a request waits
// for without holding its thread. The waiter registers what to do when it is finished; the
// worker finishes it once, ok or not. Thread-safe.
//   auto pending = std::make_shared<Pending>();
//   pending->when_finished([&] { wake(); });   // at once when finished already
//   pending->finish(true);                      // on the store's thread: runs the callbacks
#pragma once

#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace jotgate {

class Pending {
 public:
  // Runs `done` once the work finished: at once (on this thread) when it has, else on the
  // thread that finishes it.
  void when_finished(std::function<void()> done) {
    {
      std::lock_guard lock(mutex_);
      if (!finished_) {
        waiting_.push_back(std::move(done));
        return;
      }
    }
    done();
  }

  // The first call counts; later ones are ignored.
  void finish(bool ok) {
    std::vector<std::function<void()>> waiting;
    {
      std::lock_guard lock(mutex_);
      if (finished_) return;
      finished_ = true;
      ok_ = ok;
      waiting.swap(waiting_);
    }
    for (auto& done : waiting) done();
  }

  bool finished() const {
    std::lock_guard lock(mutex_);
    return finished_;
  }
  // Finished, and successfully.
  bool ok() const {
    std::lock_guard lock(mutex_);
    return finished_ && ok_;
  }

 private:
  mutable std::mutex mutex_;
  bool finished_ = false;
  bool ok_ = false;
  std::vector<std::function<void()>> waiting_;
};

}  // namespace jotgate
