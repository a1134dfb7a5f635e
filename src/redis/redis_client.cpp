#include "redis/redis_client.h"

#include <exception>
#include <future>
#include <thread>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "redis/connection.h"
#include "redis/redis_url.h"

namespace jotgate::redis {

namespace asio = boost::asio;
namespace ssl = asio::ssl;

struct RedisClient::Impl {
  Impl(RedisSettings settings, RedisUrl url, std::optional<ssl::context> tls)
      : work(asio::make_work_guard(io)),
        state(std::move(settings), std::move(url), std::move(tls)) {}

  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work;
  ClientState state;
  std::vector<std::shared_ptr<Connection>> connections;
  std::atomic<std::size_t> next_connection{0};
  std::thread thread;

  void fail_soon(Done done, std::string why) {
    asio::post(io, [done = std::move(done), why = std::move(why)] {
      done(make_error(Reason::kSessionStoreUnavailable, why));
    });
  }
};

namespace {

Result<std::optional<ssl::context>> tls_context(const RedisSettings& settings,
                                                const RedisUrl& url) {
  if (!url.tls) {
    if (!settings.ca_file.empty()) {
      return make_error(Reason::kConfigInvalid,
                        "a CA file is used only with TLS: the Redis URL must start with rediss://");
    }
    return std::optional<ssl::context>();
  }
  ssl::context tls(ssl::context::tls_client);
  tls.set_options(ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  if (settings.ca_file.empty()) {
    tls.set_default_verify_paths(ec);
    if (ec)
      return make_error(Reason::kConfigInvalid,
                        "cannot read the system's CA certificates: " + ec.message());
  } else {
    tls.load_verify_file(settings.ca_file, ec);
    if (ec)
      return make_error(
          Reason::kFileUnreadable,
          settings.ca_file + ": not a readable PEM CA certificate (" + ec.message() + ")");
  }
  return std::optional<ssl::context>(std::move(tls));
}

Result<void> check_settings(const RedisSettings& settings) {
  if (settings.connections == 0)
    return make_error(Reason::kConfigInvalid, "the Redis client needs at least one connection");
  if (settings.connect_timeout.count() <= 0 || settings.command_timeout.count() <= 0)
    return make_error(Reason::kConfigInvalid, "the Redis client's timeouts must be positive");
  if (settings.max_queued_batches == 0)
    return make_error(Reason::kConfigInvalid, "the Redis client must queue at least one batch");
  return {};
}

}  // namespace

Result<std::unique_ptr<RedisClient>> RedisClient::create(RedisSettings settings) {
  if (auto checked = check_settings(settings); !checked) return checked.error();
  auto url = parse_redis_url(settings.url);
  if (!url) return url.error();
  if (!settings.password.empty()) url->password = settings.password;
  if (!url->user.empty() && url->password.empty()) {
    return make_error(Reason::kConfigInvalid,
                      "Redis URL " + url->address + ": user '" + url->user +
                          "' needs a password (in the URL or session_store.password_file)");
  }
  auto tls = tls_context(settings, *url);
  if (!tls) return tls.error();

  auto impl = std::make_unique<Impl>(std::move(settings), std::move(*url), std::move(*tls));
  for (std::size_t i = 0; i < impl->state.settings.connections; ++i) {
    impl->connections.push_back(std::make_shared<Connection>(impl->io, impl->state));
    impl->connections.back()->start();
  }
  impl->thread = std::thread([io = &impl->io] {
    for (;;) {
      try {
        io->run();
        return;
      } catch (const std::exception& e) {
        // A callback that threw: a bug of its owner, but not a reason to stop every session.
        spdlog::error("Redis client: a callback threw: {}", e.what());
      }
    }
  });
  return std::unique_ptr<RedisClient>(new RedisClient(std::move(impl)));
}

RedisClient::RedisClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RedisClient::~RedisClient() {
  asio::post(impl_->io, [impl = impl_.get()] {
    for (auto& connection : impl->connections) connection->stop();
  });
  impl_->work.reset();
  impl_->thread.join();
}

void RedisClient::send(std::vector<Command> commands, std::function<void(Result<Replies>)> done) {
  ++impl_->state.batches;
  if (commands.empty()) {
    asio::post(impl_->io, [done = std::move(done)] { done(Replies{}); });
    return;
  }
  const std::size_t count = impl_->connections.size();
  const std::size_t first = impl_->next_connection.fetch_add(1, std::memory_order_relaxed);
  std::string refused;
  for (std::size_t i = 0; i < count; ++i) {
    auto refusal = impl_->connections[(first + i) % count]->enqueue(commands, done);
    if (!refusal) return;
    // "not connected" says less than "too many commands waiting" on another connection.
    if (refused.empty() || *refusal != "not connected") refused = std::move(*refusal);
  }
  impl_->fail_soon(std::move(done), "Redis " + impl_->state.url.address + ": " +
                                        (refused == "not connected" && !last_error().empty()
                                             ? "not connected (" + last_error() + ")"
                                             : refused));
}

Result<Replies> RedisClient::send_and_wait(std::vector<Command> commands) {
  if (std::this_thread::get_id() == impl_->thread.get_id()) {
    // The reply would come on this very thread, which would be waiting for it.
    return make_error(Reason::kSessionStoreUnavailable,
                      "send_and_wait called on the Redis client's own thread");
  }
  auto promise = std::make_shared<std::promise<Result<Replies>>>();
  auto replies = promise->get_future();
  send(std::move(commands),
       [promise](Result<Replies> result) { promise->set_value(std::move(result)); });
  // The connection's timer fails the batch at command_timeout; the margin covers its lateness.
  const auto timeout = impl_->state.settings.command_timeout;
  if (replies.wait_for(timeout + std::chrono::milliseconds(500)) != std::future_status::ready) {
    return make_error(
        Reason::kSessionStoreUnavailable,
        "Redis " + address() + ": no reply within " + std::to_string(timeout.count()) + " ms");
  }
  return replies.get();
}

bool RedisClient::connected() const { return impl_->state.connected(); }

std::string RedisClient::address() const { return impl_->state.url.address; }

std::string RedisClient::last_error() const { return impl_->state.last_error(); }

RedisClient::Counters RedisClient::counters() const {
  return {impl_->state.batches.load(), impl_->state.writes.load()};
}

}  // namespace jotgate::redis
