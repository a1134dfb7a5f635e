// DatabaseThread: one thread running the jobs posted to it in order, so that work on a remote
// database (PostgreSQL: seats, reloads, last use) never holds a request thread or the server's
// control thread. stop() (and the destructor) runs the jobs already queued, then joins; a job
// posted after stop() is dropped.
//   DatabaseThread thread;
//   thread.post([&] { store.take_seat(user, seats, now); done(); });
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace jotgate::auth {

class DatabaseThread {
 public:
  DatabaseThread();
  ~DatabaseThread() { stop(); }
  DatabaseThread(const DatabaseThread&) = delete;
  DatabaseThread& operator=(const DatabaseThread&) = delete;

  void post(std::function<void()> job);
  void stop();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the members it uses exist
};

}  // namespace jotgate::auth
