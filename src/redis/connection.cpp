#include "redis/connection.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/stream_traits.hpp>

#include "pki/handshake_problem.h"

namespace jotgate::redis {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr milliseconds kFirstBackoff{100};
constexpr milliseconds kLongestBackoff{5000};
constexpr std::size_t kReadChunk = 16 * 1024;

std::string in_ms(milliseconds duration) { return std::to_string(duration.count()) + " ms"; }

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

ClientState::ClientState(RedisSettings settings_in, RedisUrl url_in,
                         std::optional<ssl::context> tls_in)
    : settings(std::move(settings_in)), url(std::move(url_in)), tls(std::move(tls_in)) {}

void ClientState::connection_up() {
  ++connections_up_;
  std::lock_guard lock(mutex_);
  last_error_.clear();
  if (logged_ != Logged::kUp) spdlog::info("Redis {}: connected", url.address);
  logged_ = Logged::kUp;
}

void ClientState::connection_down(bool was_up, const std::string& why, bool stopping) {
  if (was_up) --connections_up_;
  std::lock_guard lock(mutex_);
  last_error_ = why;
  if (stopping) return;
  if (connections_up_.load() > 0) {
    if (was_up)
      spdlog::info("Redis {}: a connection was lost ({}); reconnecting", url.address, why);
    return;
  }
  if (logged_ != Logged::kDown) {
    spdlog::warn("Redis {}: unavailable ({}); reconnecting with backoff", url.address, why);
  }
  logged_ = Logged::kDown;
}

std::string ClientState::last_error() const {
  if (connected()) return "";
  std::lock_guard lock(mutex_);
  return last_error_;
}

Connection::Connection(asio::io_context& io, ClientState& state)
    : io_(io),
      state_(state),
      resolver_(io),
      backoff_timer_(io),
      command_timer_(io),
      read_buffer_(kReadChunk) {}

void Connection::start() {
  asio::co_spawn(
      io_, [self = shared_from_this()] { return self->run(); }, asio::detached);
}

void Connection::stop() {
  stopping_ = true;
  resolver_.cancel();
  backoff_timer_.cancel();
  close_stream("the client is shutting down");
}

std::optional<std::string> Connection::enqueue(std::vector<Command>& commands, Done& done) {
  std::string wire;
  for (const Command& command : commands) append_command(wire, command);
  const auto deadline = std::chrono::steady_clock::now() + state_.settings.command_timeout;
  std::lock_guard lock(mutex_);
  if (!up_) return "not connected";
  if (pending_.size() + awaiting_.size() >= state_.settings.max_queued_batches) {
    return "too many commands waiting (" + std::to_string(state_.settings.max_queued_batches) +
           " batches on a connection)";
  }
  pending_wire_ += wire;
  pending_.push_back(Batch{commands.size(), {}, std::move(done), deadline});
  if (!flush_due_) {
    flush_due_ = true;
    asio::post(io_, [self = shared_from_this()] { self->flush(); });
  }
  return std::nullopt;
}

asio::awaitable<void> Connection::run() {
  milliseconds backoff = kFirstBackoff;
  while (!stopping_) {
    if (auto failure = co_await open()) {
      went_down(false, *failure);
    } else {
      backoff = kFirstBackoff;
      {
        std::lock_guard lock(mutex_);
        up_ = true;
      }
      state_.connection_up();
      went_down(true, co_await serve());
    }
    if (stopping_) break;
    backoff_timer_.expires_after(backoff);
    co_await backoff_timer_.async_wait(kNoThrow);
    backoff = std::min(backoff * 2, kLongestBackoff);
  }
}

asio::awaitable<std::optional<std::string>> Connection::open() {
  const RedisUrl& url = state_.url;
  if (state_.tls) {
    stream_ = std::make_shared<Stream>(std::in_place_index<1>, io_, *state_.tls);
  } else {
    stream_ = std::make_shared<Stream>(std::in_place_index<0>, io_);
  }
  reader_ = std::make_unique<ReplyReader>();
  const milliseconds timeout = state_.settings.connect_timeout;
  auto [resolve_ec, endpoints] =
      co_await resolver_.async_resolve(url.host, std::to_string(url.port), kNoThrow);
  if (stopping_) co_return close_reason_;
  if (resolve_ec) co_return "cannot resolve " + url.host + ": " + resolve_ec.message();

  auto& tcp_stream = std::visit(
      [](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); }, *stream_);
  tcp_stream.expires_after(timeout);  // connecting, the TLS handshake and the hello
  auto [connect_ec, endpoint] = co_await tcp_stream.async_connect(endpoints, kNoThrow);
  if (stopping_) co_return close_reason_;
  if (connect_ec == beast::error::timeout)
    co_return "cannot connect: timed out after " + in_ms(timeout);
  if (connect_ec) co_return "cannot connect: " + connect_ec.message();
  boost::system::error_code ignored;
  tcp_stream.socket().set_option(tcp::no_delay(true), ignored);

  if (auto* tls = std::get_if<1>(stream_.get())) {
    // SNI only for names, never for IP literals (RFC 6066); the name is verified either way.
    // OpenSSL checks the name itself, so a mismatch reads "hostname mismatch" or "IP address
    // mismatch" rather than a callback's "unspecified certificate verification error".
    SSL* handle = tls->native_handle();
    if (is_ip_literal(url.host)) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(handle), url.host.c_str());
    } else {
      SSL_set_tlsext_host_name(handle, url.host.c_str());
      SSL_set1_host(handle, url.host.c_str());
    }
    tls->set_verify_mode(ssl::verify_peer);
    auto [handshake_ec] = co_await tls->async_handshake(ssl::stream_base::client, kNoThrow);
    if (stopping_) co_return close_reason_;
    if (handshake_ec == beast::error::timeout)
      co_return "TLS handshake failed: timed out after " + in_ms(timeout);
    if (handshake_ec) {
      co_return pki::handshake_problem(tls->native_handle(),
                                       static_cast<unsigned long>(handshake_ec.value()),
                                       handshake_ec.message());
    }
  }
  auto failure = co_await say_hello();
  tcp_stream.expires_never();
  co_return failure;
}

// AUTH and SELECT before the connection counts as up, and a PING, so a server that wants a
// password we do not have is found here (NOAUTH) rather than by the first request.
asio::awaitable<std::optional<std::string>> Connection::say_hello() {
  const RedisUrl& url = state_.url;
  std::vector<Command> hello;
  if (!url.password.empty()) {
    hello.push_back(url.user.empty() ? Command{"AUTH", url.password}
                                     : Command{"AUTH", url.user, url.password});
  }
  if (url.db != 0) hello.push_back({"SELECT", std::to_string(url.db)});
  hello.push_back({"PING"});
  std::string wire;
  for (const Command& command : hello) append_command(wire, command);
  auto [write_ec, written] = co_await std::visit(
      [&](auto& s) { return asio::async_write(s, asio::buffer(wire), kNoThrow); }, *stream_);
  if (stopping_) co_return close_reason_;
  if (write_ec == beast::error::timeout)
    co_return "no hello reply within " + in_ms(state_.settings.connect_timeout);
  if (write_ec) co_return "cannot write: " + write_ec.message();

  for (const Command& command : hello) {
    std::optional<Reply> reply;
    while (!reply) {
      auto next = reader_->next();
      if (!next) co_return next.error().detail;
      reply = std::move(*next);
      if (reply) break;
      const auto read_ec = co_await read_more();
      if (stopping_) co_return close_reason_;
      if (read_ec == beast::error::timeout)
        co_return "no hello reply within " + in_ms(state_.settings.connect_timeout);
      if (read_ec == asio::error::eof) co_return "the server closed the connection";
      if (read_ec) co_return "connection lost: " + read_ec.message();
    }
    if (reply->type != Reply::Type::kError) continue;
    // The reply text never holds the password ("WRONGPASS invalid username-password pair...").
    const std::string& name = command.front();
    if (name == "AUTH" || reply->text.starts_with("NOAUTH") || reply->text.starts_with("WRONGPASS"))
      co_return "authentication failed: " + reply->text;
    co_return name + " failed: " + reply->text;
  }
  co_return std::nullopt;
}

asio::awaitable<boost::system::error_code> Connection::read_more() {
  auto stream = stream_;
  auto [ec, read] = co_await std::visit(
      [&](auto& s) { return s.async_read_some(asio::buffer(read_buffer_), kNoThrow); }, *stream);
  if (!ec) reader_->feed(std::string_view(read_buffer_.data(), read));
  co_return ec;
}

asio::awaitable<std::string> Connection::serve() {
  std::vector<Reply> replies;
  for (;;) {
    const auto ec = co_await read_more();
    if (!close_reason_.empty()) co_return close_reason_;
    if (ec == asio::error::eof) co_return "the server closed the connection";
    if (ec) co_return "connection lost: " + ec.message();
    replies.clear();
    for (;;) {
      auto next = reader_->next();
      if (!next) co_return next.error().detail;
      if (!*next) break;
      replies.push_back(std::move(**next));
    }
    if (auto failure = deliver(replies)) co_return *failure;
  }
}

void Connection::went_down(bool was_up, const std::string& why) {
  std::deque<Batch> failed;
  {
    std::lock_guard lock(mutex_);
    up_ = false;
    flush_due_ = false;
    pending_wire_.clear();
    failed = std::move(awaiting_);
    awaiting_.clear();
    for (Batch& batch : pending_) failed.push_back(std::move(batch));
    pending_.clear();
  }
  if (stream_) {
    std::visit([](auto& s) { beast::get_lowest_layer(s).close(); }, *stream_);
    stream_.reset();
  }
  reader_.reset();
  close_reason_.clear();
  command_timer_.cancel();
  state_.connection_down(was_up, why, stopping_);
  for (Batch& batch : failed) {
    batch.done(
        make_error(Reason::kSessionStoreUnavailable, "Redis " + state_.url.address + ": " + why));
  }
}

void Connection::flush() {
  {
    std::lock_guard lock(mutex_);
    if (writing_) return;  // the write in flight flushes again when it is done
    flush_due_ = false;
    if (!up_ || !stream_ || pending_.empty()) return;
    write_buffer_.swap(pending_wire_);
    pending_wire_.clear();
    for (Batch& batch : pending_) awaiting_.push_back(std::move(batch));
    pending_.clear();
    writing_ = true;
  }
  ++state_.writes;
  arm_command_timer();
  std::visit(
      [&](auto& s) {
        asio::async_write(s, asio::buffer(write_buffer_),
                          [self = shared_from_this(), stream = stream_](
                              const boost::system::error_code& ec, std::size_t) {
                            self->on_written(stream, ec);
                          });
      },
      *stream_);
}

void Connection::on_written(const std::shared_ptr<Stream>& stream,
                            const boost::system::error_code& ec) {
  writing_ = false;
  if (ec && stream == stream_) close_stream("cannot write: " + ec.message());
  flush();
}

std::optional<std::string> Connection::deliver(std::vector<Reply>& replies) {
  std::vector<Batch> answered;
  {
    std::lock_guard lock(mutex_);
    for (Reply& reply : replies) {
      if (awaiting_.empty()) return "the server sent a reply to no command";
      Batch& oldest = awaiting_.front();
      oldest.replies.push_back(std::move(reply));
      if (oldest.replies.size() == oldest.commands) {
        answered.push_back(std::move(oldest));
        awaiting_.pop_front();
      }
    }
  }
  for (Batch& batch : answered) batch.done(std::move(batch.replies));
  arm_command_timer();
  return std::nullopt;
}

// One timer per connection, set to the oldest batch's deadline and moved on lazily when it
// fires, so answering a batch costs no timer operation.
void Connection::arm_command_timer() {
  if (timer_armed_) return;
  std::chrono::steady_clock::time_point deadline;
  {
    std::lock_guard lock(mutex_);
    if (awaiting_.empty()) return;
    deadline = awaiting_.front().deadline;
  }
  timer_armed_ = true;
  command_timer_.expires_at(deadline);
  command_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    self->on_command_timer(ec);
  });
}

void Connection::on_command_timer(const boost::system::error_code& ec) {
  timer_armed_ = false;
  if (!ec) {
    bool expired = false;
    {
      std::lock_guard lock(mutex_);
      expired =
          !awaiting_.empty() && awaiting_.front().deadline <= std::chrono::steady_clock::now();
    }
    if (expired) {
      close_stream("no reply within " + in_ms(state_.settings.command_timeout));
      return;
    }
  }
  arm_command_timer();
}

void Connection::close_stream(std::string why) {
  if (!stream_) return;
  if (close_reason_.empty()) close_reason_ = std::move(why);
  std::visit([](auto& s) { beast::get_lowest_layer(s).close(); }, *stream_);
}

}  // namespace jotgate::redis
