#include "fetch/https_get.h"

#include <openssl/ssl.h>

#include <charconv>
#include <exception>
#include <optional>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "base/text.h"
#include "pki/handshake_problem.h"

namespace jotgate::fetch {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMiB = 1024 * 1024;

Error failed(std::string_view url, const std::string& what) {
  return make_error(Reason::kFetchFailed, std::string(url) + ": " + what);
}

std::string timed_out(std::chrono::milliseconds timeout) {
  if (timeout.count() % 1000 == 0)
    return "timed out after " + std::to_string(timeout.count() / 1000) + "s";
  return "timed out after " + std::to_string(timeout.count()) + "ms";
}

std::string larger_than(std::size_t max_bytes) {
  if (max_bytes % kMiB == 0)
    return "document larger than " + std::to_string(max_bytes / kMiB) + " MiB";
  return "document larger than " + std::to_string(max_bytes) + " bytes";
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

struct Request {
  const std::string& url;
  const HttpsUrl& parts;
  const FetchOptions& options;
  std::chrono::steady_clock::time_point deadline;
};

asio::awaitable<Result<Document>> get(const Request& request, ssl::context& tls) {
  const std::string& url = request.url;
  const HttpsUrl& parts = request.parts;
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  auto [resolve_ec, endpoints] = co_await resolver.async_resolve(parts.host, parts.port, kNoThrow);
  if (resolve_ec)
    co_return failed(url, "cannot resolve " + parts.host + ": " + resolve_ec.message());

  beast::ssl_stream<beast::tcp_stream> stream(executor, tls);
  beast::tcp_stream& tcp_stream = beast::get_lowest_layer(stream);
  tcp_stream.expires_at(request.deadline);  // every step below ends by the deadline
  auto [connect_ec, endpoint] = co_await tcp_stream.async_connect(endpoints, kNoThrow);
  if (connect_ec == beast::error::timeout)
    co_return failed(url, timed_out(request.options.timeout));
  if (connect_ec) co_return failed(url, "cannot connect: " + connect_ec.message());

  // SNI only for names, never for IP literals (RFC 6066); the name is verified either way.
  if (!is_ip_literal(parts.host))
    SSL_set_tlsext_host_name(stream.native_handle(), parts.host.c_str());
  stream.set_verify_mode(ssl::verify_peer);
  stream.set_verify_callback(ssl::host_name_verification(parts.host));
  auto [handshake_ec] = co_await stream.async_handshake(ssl::stream_base::client, kNoThrow);
  if (handshake_ec == beast::error::timeout)
    co_return failed(url, timed_out(request.options.timeout));
  if (handshake_ec)
    co_return failed(url, pki::handshake_problem(stream.native_handle(),
                                                 static_cast<unsigned long>(handshake_ec.value()),
                                                 handshake_ec.message()));

  http::request<http::empty_body> get{http::verb::get, parts.target, 11};
  const std::string host =
      parts.host.find(':') != std::string::npos ? "[" + parts.host + "]" : parts.host;
  get.set(http::field::host, parts.port == "443" ? host : host + ":" + parts.port);
  get.set(http::field::user_agent, "jotgate");
  get.set(http::field::accept, "application/json");
  get.keep_alive(false);
  auto [write_ec, written] = co_await http::async_write(stream, get, kNoThrow);
  if (write_ec == beast::error::timeout) co_return failed(url, timed_out(request.options.timeout));
  if (write_ec) co_return failed(url, "cannot send the request: " + write_ec.message());

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(request.options.max_bytes);
  auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, kNoThrow);
  if (read_ec == http::error::body_limit)
    co_return failed(url, larger_than(request.options.max_bytes));
  if (read_ec == beast::error::timeout) co_return failed(url, timed_out(request.options.timeout));
  if (read_ec) co_return failed(url, "cannot read the answer: " + read_ec.message());
  auto& response = parser.get();
  if (response.result_int() != 200) {
    co_return failed(url, "HTTP " + std::to_string(response.result_int()));
  }
  Document document;
  document.max_age = max_age_of(response[http::field::cache_control]);
  document.body = std::move(response.body());
  co_return document;
}

}  // namespace

Result<HttpsUrl> parse_https_url(std::string_view url) {
  constexpr std::string_view kScheme = "https://";
  if (!istarts_with(url, kScheme)) {
    return make_error(Reason::kFetchFailed, std::string(url) + ": only https:// URLs are fetched");
  }
  std::string_view rest = url.substr(kScheme.size());
  const std::size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view target = path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (target.find('#') != std::string_view::npos) return failed(url, "a fragment is not fetched");
  if (authority.find('@') != std::string_view::npos)
    return failed(url, "user info is not accepted");
  HttpsUrl out;
  out.port = "443";
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {  // an IPv6 literal
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return failed(url, "unclosed [ in the host");
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return failed(url, "unexpected text after the host");
      port = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty() || has_control(out.host) || out.host.find(' ') != std::string::npos) {
    return failed(url, "no host");
  }
  if (!port.empty()) {
    unsigned number = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (ec != std::errc() || end != port.data() + port.size() || number == 0 || number > 65535) {
      return failed(url, "the port is not a number from 1 to 65535");
    }
    out.port = std::to_string(number);
  }
  if (has_control(target) || target.find(' ') != std::string_view::npos) {
    return failed(url, "the path holds spaces or control characters");
  }
  out.target =
      target.empty() || target.front() == '?' ? "/" + std::string(target) : std::string(target);
  return out;
}

std::optional<std::chrono::seconds> max_age_of(std::string_view cache_control) {
  std::optional<std::chrono::seconds> found;
  for_each_list_element(cache_control, [&](std::string_view directive) {
    constexpr std::string_view kMaxAge = "max-age=";
    if (!istarts_with(directive, kMaxAge)) return;
    std::string_view value = directive.substr(kMaxAge.size());
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    std::int64_t seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc() && end == value.data() + value.size() && seconds >= 0) {
      found = std::chrono::seconds(seconds);
    }
  });
  return found;
}

Result<Document> https_get(const std::string& url, const FetchOptions& options) {
  auto parts = parse_https_url(url);
  if (!parts) return parts.error();
  ssl::context tls(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_2_VERSION);
  boost::system::error_code ec;
  if (options.ca_file.empty()) {
    tls.set_default_verify_paths(ec);
  } else {
    tls.load_verify_file(options.ca_file, ec);
  }
  if (ec) {
    return failed(
        url, "cannot load the trusted certificates " +
                 (options.ca_file.empty() ? std::string("of the system") : options.ca_file) + ": " +
                 ec.message());
  }
  // Its own io_context: the caller's thread blocks here until the answer or the deadline.
  asio::io_context ioc(1);
  const Request request{url, *parts, options, std::chrono::steady_clock::now() + options.timeout};
  std::optional<Result<Document>> outcome;
  asio::co_spawn(
      ioc, [&]() -> asio::awaitable<void> { outcome.emplace(co_await get(request, tls)); },
      [&](std::exception_ptr error) {
        if (error && !outcome) outcome.emplace(failed(url, "unexpected error"));
      });
  // Resolving has no timer of its own: the deadline ends the run, and what is left of the
  // call is abandoned with the io_context.
  ioc.run_until(request.deadline);
  if (!outcome) return failed(url, timed_out(options.timeout));
  return std::move(*outcome);
}

}  // namespace jotgate::fetch
