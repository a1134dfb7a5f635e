// One connection of a RedisClient, and the state its connections share. Internal to src/redis
// (Asio and Beast live here, not in redis_client.h). A Connection lives on the client's thread:
// it connects (TCP, TLS, AUTH, SELECT, PING), then pipelines the batches queued by any thread
// into one write at a time and matches replies in order; when anything fails it fails every
// batch it holds, and connects again with backoff.
//   auto connection = std::make_shared<Connection>(io, state);
//   connection->start();                                 // on the client's thread
//   if (auto refused = connection->enqueue(commands, done)) ...;   // any thread
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "redis/redis_client.h"
#include "redis/redis_url.h"
#include "redis/resp.h"

namespace jotgate::redis {

using Done = std::function<void(Result<Replies>)>;

// What a client's connections share: what to connect to, and the client's health, which
// connected(), last_error() and the log read. State changes are logged once each.
class ClientState {
 public:
  ClientState(RedisSettings settings, RedisUrl url, std::optional<boost::asio::ssl::context> tls);

  const RedisSettings settings;
  const RedisUrl url;
  std::optional<boost::asio::ssl::context> tls;  // rediss:// only
  std::atomic<std::uint64_t> batches{0};
  std::atomic<std::uint64_t> writes{0};

  void connection_up();
  void connection_down(bool was_up, const std::string& why, bool stopping);
  bool connected() const { return connections_up_.load() > 0; }
  std::string last_error() const;

 private:
  enum class Logged { kNothing, kUp, kDown };
  std::atomic<int> connections_up_{0};
  mutable std::mutex mutex_;
  std::string last_error_;
  Logged logged_ = Logged::kNothing;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(boost::asio::io_context& io, ClientState& state);

  void start();  // on the client's thread
  void stop();   // on the client's thread: fails what it holds and does not connect again
  // Any thread. Queues the batch, or says why not (then `commands` and `done` are untouched).
  std::optional<std::string> enqueue(std::vector<Command>& commands, Done& done);

 private:
  using Stream =
      std::variant<boost::beast::tcp_stream, boost::beast::ssl_stream<boost::beast::tcp_stream>>;
  struct Batch {
    std::size_t commands = 0;
    Replies replies;
    Done done;
    std::chrono::steady_clock::time_point deadline;
  };

  boost::asio::awaitable<void> run();
  // Connects and says hello; the reason when it could not.
  boost::asio::awaitable<std::optional<std::string>> open();
  boost::asio::awaitable<std::optional<std::string>> say_hello();
  // Reads replies until the connection fails; says why it did.
  boost::asio::awaitable<std::string> serve();
  boost::asio::awaitable<boost::system::error_code> read_more();
  void went_down(bool was_up, const std::string& why);
  void flush();
  void on_written(const std::shared_ptr<Stream>& stream, const boost::system::error_code& ec);
  // Replies read so far go to the oldest batches; the reason when they cannot.
  std::optional<std::string> deliver(std::vector<Reply>& replies);
  void arm_command_timer();
  void on_command_timer(const boost::system::error_code& ec);
  void close_stream(std::string why);

  boost::asio::io_context& io_;
  ClientState& state_;
  // On the client's thread only.
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer backoff_timer_;
  boost::asio::steady_timer command_timer_;
  std::shared_ptr<Stream> stream_;  // the current link; null between links
  std::unique_ptr<ReplyReader> reader_;
  std::vector<char> read_buffer_;
  std::string write_buffer_;
  std::string close_reason_;  // why the stream was closed on purpose (timeout, write failed)
  bool writing_ = false;
  bool timer_armed_ = false;
  bool stopping_ = false;
  // Shared with the sending threads.
  std::mutex mutex_;
  bool up_ = false;
  bool flush_due_ = false;      // a flush is posted, or a write in flight will flush when done
  std::string pending_wire_;    // the commands of pending_, encoded
  std::deque<Batch> pending_;   // queued, not written yet
  std::deque<Batch> awaiting_;  // written (or being written), waiting for replies
};

}  // namespace jotgate::redis
