#include "proxy/demo_upstream.h"

#include <string>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "base/text.h"

namespace jotgate::proxy {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// Header values come from tokens: escape them before putting them in HTML.
std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

bool shown(std::string_view name) {
  return istarts_with(name, "x-jotgate-") || istarts_with(name, "x-forwarded-");
}

http::response<http::string_body> page(const http::request<http::string_body>& request) {
  bool html = false;
  if (auto accept = request.find(http::field::accept); accept != request.end()) {
    html = accept->value().find("text/html") != std::string_view::npos;
  }
  std::string user = "(none)";
  std::string text;
  std::string rows;
  for (const auto& field : request) {
    if (!shown(field.name_string())) continue;
    if (iequals(field.name_string(), "x-jotgate-user")) user = std::string(field.value());
    text += std::string(field.name_string()) + ": " + std::string(field.value()) + "\n";
    rows += "<tr><th>" + html_escape(field.name_string()) + "</th><td>" +
            html_escape(field.value()) + "</td></tr>\n";
  }
  http::response<http::string_body> response{http::status::ok, request.version()};
  if (html) {
    response.set(http::field::content_type, "text/html; charset=utf-8");
    response.body() =
        "<!doctype html>\n<html><head><title>jotgate demo upstream</title></head><body>\n"
        "<h1>Hello from the jotgate demo upstream</h1>\n<p>The gateway let you through as <b>" +
        html_escape(user) + "</b>.</p>\n<p>Path: <code>" + html_escape(request.target()) +
        "</code></p>\n<table>\n" + rows + "</table>\n</body></html>\n";
  } else {
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = "Hello from the jotgate demo upstream.\nYou are: " + user +
                      "\nPath: " + std::string(request.target()) + "\n\n" + text;
  }
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  return response;
}

asio::awaitable<void> serve(beast::tcp_stream stream) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024);
    stream.expires_after(std::chrono::seconds(60));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    if (ec) break;
    auto response = page(parser.get());
    auto [write_ec, written] = co_await http::async_write(stream, response, kNoThrow);
    if (write_ec || !response.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> accept(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
    if (ec) {
      if (!acceptor.is_open()) co_return;
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), serve(beast::tcp_stream(std::move(socket))),
                   asio::detached);
  }
}

}  // namespace

struct DemoUpstream::Impl {
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::thread thread;
};

DemoUpstream::DemoUpstream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

DemoUpstream::~DemoUpstream() {
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t DemoUpstream::port() const { return impl_->acceptor.local_endpoint().port(); }

Result<std::unique_ptr<DemoUpstream>> DemoUpstream::start() {
  auto impl = std::make_unique<Impl>();
  boost::system::error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), 0);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return make_error(Reason::kBadRequest, "demo upstream: " + ec.message());
  asio::co_spawn(impl->ioc, accept(impl->acceptor), asio::detached);
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->ioc.run(); });
  return std::unique_ptr<DemoUpstream>(new DemoUpstream(std::move(impl)));
}

}  // namespace jotgate::proxy
