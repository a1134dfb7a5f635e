#include "ops/ops_server.h"

#include <set>
#include <thread>

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "net/listen.h"

namespace jotgate::ops {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

}  // namespace

struct OpsServer::Impl {
  Impl(const config::Limits& l, OpsSource& s) : limits(l), source(s) {}

  const config::Limits limits;
  OpsSource& source;
  asio::io_context ioc{1};
  std::unique_ptr<tcp::acceptor> acceptor;
  std::string address;
  std::set<beast::tcp_stream*> connections;  // touched only on the server's thread
  std::thread thread;

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket socket);
  asio::awaitable<bool> serve_one(beast::tcp_stream& stream, beast::flat_buffer& buffer);
  void shut_down();
};

asio::awaitable<void> OpsServer::Impl::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(kNoThrow);
    if (ec) {
      if (!acceptor->is_open()) co_return;
      spdlog::warn("accept on the ops listener {}: {}", address, ec.message());
      asio::steady_timer pause(ioc, std::chrono::milliseconds(100));
      co_await pause.async_wait(kNoThrow);
      continue;
    }
    // Full: closed at once (the socket goes out of scope), the open ones keep being served.
    if (connections.size() >= kMaxConnections) continue;
    asio::co_spawn(ioc, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> OpsServer::Impl::serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  connections.insert(&stream);
  beast::flat_buffer buffer;
  while (acceptor->is_open() && co_await serve_one(stream, buffer)) {
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  connections.erase(&stream);
}

// Reads and answers one request; false when the connection is to be closed.
asio::awaitable<bool> OpsServer::Impl::serve_one(beast::tcp_stream& stream,
                                                 beast::flat_buffer& buffer) {
  http::request_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
  // The wait for a request and its head together: a connection that sends nothing, or a
  // head byte by byte, is closed after limits.header_timeout.
  stream.expires_after(limits.header_timeout);
  auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, kNoThrow);
  Answer answer;
  bool keep_alive = false;
  if (ec == http::error::header_limit) {
    answer = Answer{
        431, {{"Content-Type", "text/plain; charset=utf-8"}}, "Request Header Fields Too Large\n"};
  } else if (ec) {
    co_return false;  // closed, timed out, or not HTTP: nothing worth answering
  } else if (!parser.is_done()) {
    // No request of the ops listener has a body: refused unread, then closed.
    answer = Answer{400,
                    {{"Content-Type", "text/plain; charset=utf-8"}},
                    "Bad Request: the ops listener takes no request body\n"};
  } else {
    const auto& request = parser.get();
    answer = answer_ops_request(request.method_string(), request.target(), source);
    keep_alive = request.keep_alive();
  }
  const bool head = !ec && parser.get().method() == http::verb::head;
  http::response<http::string_body> response{static_cast<http::status>(answer.status), 11};
  for (const auto& [name, value] : answer.headers) response.set(name, value);
  response.body() = std::move(answer.body);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  stream.expires_after(limits.idle_timeout);
  if (head) {
    // The header as for GET (Content-Length included), no body.
    http::response_serializer<http::string_body> serializer(response);
    auto [write_ec, written] = co_await http::async_write_header(stream, serializer, kNoThrow);
    co_return !write_ec && keep_alive;
  }
  auto [write_ec, written] = co_await http::async_write(stream, response, kNoThrow);
  co_return !write_ec && keep_alive;
}

void OpsServer::Impl::shut_down() {
  beast::error_code ignored;
  acceptor->close(ignored);
  for (beast::tcp_stream* stream : connections) stream->socket().close(ignored);
}

OpsServer::OpsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

OpsServer::~OpsServer() { stop(); }

Result<std::unique_ptr<OpsServer>> OpsServer::create(const config::OpsSettings& settings,
                                                     const config::Limits& limits,
                                                     OpsSource& source) {
  auto impl = std::make_unique<Impl>(limits, source);
  auto acceptor = net::listen_tcp(impl->ioc, settings.host, settings.port, " (ops listener)");
  if (!acceptor) return acceptor.error();
  impl->acceptor = std::move(*acceptor);
  impl->address =
      "http://" + net::host_port(settings.host, impl->acceptor->local_endpoint().port());
  return std::unique_ptr<OpsServer>(new OpsServer(std::move(impl)));
}

std::string OpsServer::address() const { return impl_->address; }

void OpsServer::start() {
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

void OpsServer::stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->ioc, [impl = impl_.get()] { impl->shut_down(); });
  impl_->thread.join();
}

}  // namespace jotgate::ops
