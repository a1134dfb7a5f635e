// RedisClient: an asynchronous Redis client for the session store. A few connections of its own
// (plain TCP, or TLS for rediss://) on one thread of its own; commands of many threads are
// pipelined into one write per connection and their replies matched in order. A server that is
// down is retried with backoff, and a caller never waits behind it: it gets an error at once.
//   auto client = RedisClient::create({.url = "redis://127.0.0.1:6379/0"});
//   (*client)->send({{"SET", "k", "v", "PX", "1000"}, {"GET", "k"}},
//                   [](Result<Replies> replies) { /* on the client's thread */ });
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"

namespace jotgate::redis {

struct RedisSettings {
  // redis://[user[:password]@]host[:port][/db] or rediss://...; default port 6379, db 0.
  std::string url{};
  // From session_store.password_file ("" = none; else overrides the URL's).
  std::string password{};
  // rediss://: the CA that signed the server's certificate ("" = system store); host name
  // verified.
  std::string ca_file{};
  std::chrono::milliseconds connect_timeout{2000};
  // A batch without its replies by then fails (kSessionStoreUnavailable) and the connection is
  // reset.
  std::chrono::milliseconds command_timeout{1000};
  std::size_t connections = 2;  // batches are spread round-robin over them
  // Batches queued or awaiting replies on one connection; beyond it `done` gets the error, so a
  // slow server cannot make the gateway's memory grow.
  std::size_t max_queued_batches = 10000;
};

// One reply of RESP2, as hiredis reads it.
struct Reply {
  enum class Type { kNil, kInteger, kString, kStatus, kError, kArray };
  Type type = Type::kNil;
  std::int64_t integer = 0;
  std::string text{};             // kString, kStatus, kError
  std::vector<Reply> elements{};  // kArray
};

using Command = std::vector<std::string>;  // {"SET", key, value, "PX", "1000"}
using Replies = std::vector<Reply>;        // one per command, in order

class RedisClient {
 public:
  // Parses the URL (errors: Reason::kConfigInvalid or whatever fits, with a clear message) and
  // starts the client's own thread; connects in the background: a server that is down is not an
  // error here (it reconnects with backoff 100 ms doubling to 5 s, logging state changes once,
  // never the password).
  static Result<std::unique_ptr<RedisClient>> create(RedisSettings settings);
  ~RedisClient();  // stops the thread; pending callbacks get an error
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Thread-safe, never blocks: queues the commands on one connection, written together (pipelined
  // with whatever else is queued on that connection) and calls `done` ONCE on the client's thread
  // with all their replies (a command's own error is a Reply of kError, not a failure) or an Error
  // with Reason::kSessionStoreUnavailable (not connected, timeout, connection lost). While no
  // connection is up, `done` gets that error at once (no queueing behind a dead server).
  void send(std::vector<Command> commands, std::function<void(Result<Replies>)> done);
  // Blocking with a deadline of command_timeout (for the admin API, the CLI and tests; never from a
  // request thread).
  Result<Replies> send_and_wait(std::vector<Command> commands);
  bool connected() const;          // at least one connection is up (readiness; fast fail)
  std::string address() const;     // the URL without user and password, for logs and readyz
  std::string last_error() const;  // why the last connection attempt failed, "" when connected

  // What the pipelining achieved: batches accepted by send() and the writes that carried them.
  struct Counters {
    std::uint64_t batches = 0;
    std::uint64_t writes = 0;
  };
  Counters counters() const;

  struct Impl;

 private:
  explicit RedisClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace jotgate::redis
