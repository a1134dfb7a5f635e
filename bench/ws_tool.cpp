// ws_tool: the WebSocket (and idle HTTP) side of the benchmarks: an echo server, a ping-pong load
// generator and connection holders. One thread, Boost.Beast over Asio; used by bench/run and
// bench/sessions.
//   ws_tool echo --port 9001      # echo server on 127.0.0.1 (any path; plain GETs get 200 "ok");
//                                 # prints "ready"; runs until SIGTERM/SIGINT
//   ws_tool load --url ws://127.0.0.1:8080/jwt/ws [--header "Cookie: a=b"]...
//                --connections 50 --seconds 5 --size 64
//       # each connection: send, await the echo, again; one JSON line: round trips per second
//       # (messages_per_second), their number (messages) and round-trip p50/p99 in microseconds
//   ws_tool hold --url ws://... [--header ...] --count 10000 # "ready N"; holds until SIGTERM, or
//                                 # until stdin closes when it is a pipe or terminal
//   ws_tool idle --url http://127.0.0.1:8080/jwt/ [--header ...] --count 10000
//       # N keep-alive HTTP connections, one GET each (2xx expected), then idle like hold
// A refused handshake or request exits 1 with the HTTP status it got.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using WebSocket = websocket::stream<beast::tcp_stream>;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr int kOpenersInFlight = 64;  // connections being opened at once (hold, idle)

struct Url {
  std::string host;
  std::string port;
  std::string target;
};

struct Options {
  std::string mode;
  std::optional<Url> url;
  std::vector<std::pair<std::string, std::string>> headers;
  unsigned short port = 0;
  int connections = 50;
  double seconds = 5;
  std::size_t size = 64;
  int count = 10000;
};

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "ws_tool: %s\n", message.c_str());
  std::exit(1);
}

// ws://host:port/path or http://host:port/path (the port is required: loopback benchmarks).
Url parse_url(std::string_view text) {
  for (std::string_view scheme : {"ws://", "http://"}) {
    if (text.substr(0, scheme.size()) != scheme) continue;
    text.remove_prefix(scheme.size());
    const auto slash = text.find('/');
    const std::string_view authority = text.substr(0, slash);
    const auto colon = authority.rfind(':');
    if (colon == std::string_view::npos || colon == 0) break;
    return {std::string(authority.substr(0, colon)), std::string(authority.substr(colon + 1)),
            slash == std::string_view::npos ? "/" : std::string(text.substr(slash))};
  }
  fail("bad --url '" + std::string(text) + "' (expected ws://host:port/path or http://...)");
}

// "Name: value" (the value's leading spaces dropped).
std::pair<std::string, std::string> parse_header(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0) fail("bad --header '" + text + "'");
  const auto start = text.find_first_not_of(' ', colon + 1);
  return {text.substr(0, colon), start == std::string::npos ? "" : text.substr(start)};
}

Options parse_options(int argc, char** argv) {
  CLI::App app{"ws_tool: WebSocket echo server, load generator and connection holders", "ws_tool"};
  app.require_subcommand(1);
  Options o;
  std::string url;
  std::vector<std::string> headers;
  auto* echo = app.add_subcommand("echo", "Echo server on 127.0.0.1; prints \"ready\"");
  echo->add_option("--port", o.port, "Port to listen on")->required()->check(CLI::Range(1, 65535));
  // load, hold and idle open connections to --url, each with the same extra headers.
  const auto add_target = [&](CLI::App* mode) {
    mode->add_option("--url", url, "ws://host:port/path (idle: http://host:port/path)")->required();
    mode->add_option("--header", headers, "'Name: value' on every handshake (repeatable)")
        ->allow_extra_args(false);
  };
  auto* load = app.add_subcommand("load", "Ping-pong load; one JSON line of rates and latency");
  add_target(load);
  load->add_option("--connections", o.connections, "Connections")
      ->check(CLI::Range(1, 100'000))
      ->capture_default_str();
  load->add_option("--seconds", o.seconds, "Measured seconds")
      ->check(CLI::Range(0.001, 3600.0))
      ->capture_default_str();
  load->add_option("--size", o.size, "Message bytes")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24))
      ->capture_default_str();
  for (const auto& [name, what] : {std::pair{"hold", "Hold N open WebSockets"},
                                   std::pair{"idle", "Hold N idle keep-alive HTTP connections"}}) {
    auto* holder = app.add_subcommand(name, what);
    add_target(holder);
    holder->add_option("--count", o.count, "Connections")
        ->check(CLI::Range(1, 1'000'000))
        ->capture_default_str();
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e) == 0 ? 0 : 2);  // usage errors exit 2, like jotgate's
  }
  o.mode = app.get_subcommands().front()->get_name();
  if (!url.empty()) o.url = parse_url(url);
  for (const auto& header : headers) o.headers.push_back(parse_header(header));
  return o;
}

// Thousands of sockets: the soft descriptor limit goes up to the hard one.
void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// ---------------------------------------------------------------------------------------- echo

// A WebSocket upgrade becomes an echo socket; any other request gets a small keep-alive 200
// (the backend of bench/sessions' idle HTTP connections).
asio::awaitable<void> echo_session(tcp::socket socket) {
  socket.set_option(tcp::no_delay(true));
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  for (;;) {
    request = {};
    auto [ec, n] = co_await http::async_read(stream, buffer, request, kNoThrow);
    if (ec) co_return;
    if (websocket::is_upgrade(request)) break;
    http::response<http::string_body> response{http::status::ok, request.version()};
    response.set(http::field::content_type, "text/plain");
    response.body() = "ok\n";
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    auto [write_ec, written] = co_await http::async_write(stream, response, kNoThrow);
    if (write_ec || !request.keep_alive()) co_return;
  }
  WebSocket ws(std::move(stream));
  ws.set_option(websocket::stream_base::timeout{std::chrono::seconds(30),
                                                websocket::stream_base::none(), false});
  auto [accept_ec] = co_await ws.async_accept(request, kNoThrow);
  if (accept_ec) co_return;
  buffer.clear();
  for (;;) {
    auto [ec, n] = co_await ws.async_read(buffer, kNoThrow);
    if (ec) co_return;
    ws.text(ws.got_text());
    auto [write_ec, written] = co_await ws.async_write(buffer.data(), kNoThrow);
    if (write_ec) co_return;
    buffer.consume(n);
  }
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;  // e.g. out of descriptors: keep serving the others
    asio::co_spawn(acceptor.get_executor(), echo_session(std::move(socket)), asio::detached);
  }
}

int run_echo(const Options& o) {
  asio::io_context ioc(1);
  tcp::acceptor acceptor(ioc);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), o.port);
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail("cannot listen on 127.0.0.1:" + std::to_string(o.port) + ": " + ec.message());
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { ioc.stop(); });
  asio::co_spawn(ioc, accept_loop(acceptor), asio::detached);
  std::printf("ready\n");
  std::fflush(stdout);
  ioc.run();
  return 0;
}

// ------------------------------------------------------------------------------ client side

// Why opening a connection failed, for the one message the tool prints.
struct OpenError {
  std::string message;
};

std::string describe_refusal(int status, std::string_view reason, std::string_view body) {
  std::string text = "HTTP " + std::to_string(status) + " " + std::string(reason);
  body = body.substr(0, std::min<std::size_t>(body.find('\n'), 200));
  if (!body.empty()) text += ": " + std::string(body);
  return text;
}

asio::awaitable<std::optional<OpenError>> connect(beast::tcp_stream& stream, const Url& url,
                                                  const tcp::resolver::results_type& endpoints) {
  stream.expires_after(std::chrono::seconds(10));
  auto [ec, endpoint] = co_await stream.async_connect(endpoints, kNoThrow);
  if (ec) co_return OpenError{"connect to " + url.host + ":" + url.port + ": " + ec.message()};
  stream.socket().set_option(tcp::no_delay(true));
  co_return std::nullopt;
}

// A WebSocket that completed its handshake (with the extra headers) and one echo round trip.
asio::awaitable<std::optional<OpenError>> open_websocket(
    WebSocket& ws, const Options& o, const tcp::resolver::results_type& endpoints) {
  const Url& url = *o.url;
  if (auto error = co_await connect(beast::get_lowest_layer(ws), url, endpoints)) co_return error;
  beast::get_lowest_layer(ws).expires_never();
  // No idle timeout: a held socket stays quiet for as long as the benchmark needs.
  ws.set_option(websocket::stream_base::timeout{std::chrono::seconds(10),
                                                websocket::stream_base::none(), false});
  ws.set_option(websocket::stream_base::decorator([&o](websocket::request_type& request) {
    for (const auto& [name, value] : o.headers) request.set(name, value);
  }));
  websocket::response_type response;
  auto [ec] =
      co_await ws.async_handshake(response, url.host + ":" + url.port, url.target, kNoThrow);
  if (ec) {
    if (response.result_int() != 0 && response.result() != http::status::switching_protocols) {
      co_return OpenError{"handshake refused: " + describe_refusal(response.result_int(),
                                                                   response.reason(),
                                                                   response.body())};
    }
    co_return OpenError{"handshake: " + ec.message()};
  }
  ws.binary(true);
  static constexpr std::string_view kHello = "hello";
  auto [write_ec, written] = co_await ws.async_write(asio::buffer(kHello), kNoThrow);
  if (write_ec) co_return OpenError{"first message: " + write_ec.message()};
  beast::flat_buffer buffer;
  auto [read_ec, n] = co_await ws.async_read(buffer, kNoThrow);
  if (read_ec) co_return OpenError{"first echo: " + read_ec.message()};
  if (beast::buffers_to_string(buffer.data()) != kHello) co_return OpenError{"first echo differs"};
  co_return std::nullopt;
}

// A keep-alive HTTP connection that got a 2xx answer to one GET.
asio::awaitable<std::optional<OpenError>> open_http(beast::tcp_stream& stream, const Options& o,
                                                    const tcp::resolver::results_type& endpoints) {
  const Url& url = *o.url;
  if (auto error = co_await connect(stream, url, endpoints)) co_return error;
  http::request<http::empty_body> request{http::verb::get, url.target, 11};
  request.set(http::field::host, url.host + ":" + url.port);
  for (const auto& [name, value] : o.headers) request.set(name, value);
  request.keep_alive(true);
  auto [write_ec, written] = co_await http::async_write(stream, request, kNoThrow);
  if (write_ec) co_return OpenError{"request: " + write_ec.message()};
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  auto [read_ec, n] = co_await http::async_read(stream, buffer, response, kNoThrow);
  if (read_ec) co_return OpenError{"answer: " + read_ec.message()};
  if (response.result_int() / 100 != 2) {
    co_return OpenError{"request refused: " + describe_refusal(response.result_int(),
                                                               response.reason(), response.body())};
  }
  if (!response.keep_alive())
    co_return OpenError{"the server closes the connection after one answer"};
  stream.expires_never();
  co_return std::nullopt;
}

tcp::resolver::results_type resolve(asio::io_context& ioc, const Url& url) {
  tcp::resolver resolver(ioc);
  boost::system::error_code ec;
  auto results = resolver.resolve(url.host, url.port, ec);
  if (ec) fail("cannot resolve " + url.host + ":" + url.port + ": " + ec.message());
  return results;
}

// ---------------------------------------------------------------------------------------- load

struct LoadState {
  Clock::time_point deadline;
  std::vector<std::uint32_t> latencies_ns;  // one per round trip completed before the deadline
  int running = 0;
  std::optional<std::string> error;
  asio::io_context* ioc = nullptr;
};

asio::awaitable<void> ping_pong(WebSocket& ws, const std::string& payload, LoadState& state) {
  beast::flat_buffer buffer;
  for (;;) {
    const auto start = Clock::now();
    if (start >= state.deadline) break;
    auto [write_ec, written] = co_await ws.async_write(asio::buffer(payload), kNoThrow);
    if (write_ec) {
      state.error = "send: " + write_ec.message();
      break;
    }
    auto [read_ec, n] = co_await ws.async_read(buffer, kNoThrow);
    if (read_ec) {
      state.error = "echo: " + read_ec.message();
      break;
    }
    const auto end = Clock::now();
    if (n != payload.size()) {
      state.error = "echo of " + std::to_string(n) + " bytes for " + std::to_string(payload.size());
      break;
    }
    buffer.consume(n);
    if (end <= state.deadline) {
      state.latencies_ns.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count(), UINT32_MAX)));
    }
  }
  if (--state.running == 0) state.ioc->stop();  // idle stream timers would keep run() going
}

double percentile_us(std::vector<std::uint32_t>& values, double p) {
  if (values.empty()) return 0;
  const auto at = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(at), values.end());
  return values[at] / 1000.0;
}

int run_load(const Options& o) {
  asio::io_context ioc(1);
  const auto endpoints = resolve(ioc, *o.url);
  std::vector<std::unique_ptr<WebSocket>> sockets;
  std::optional<std::string> open_error;
  for (int i = 0; i < o.connections; ++i) sockets.push_back(std::make_unique<WebSocket>(ioc));
  // Each phase stops the loop itself when done: idle stream timers would keep run() going.
  int opening = o.connections;
  for (auto& ws : sockets) {
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          if (auto error = co_await open_websocket(*ws, o, endpoints); error && !open_error) {
            open_error = error->message;
          }
          if (--opening == 0) ioc.stop();
        },
        asio::detached);
  }
  ioc.run();
  if (open_error) fail(o.url->host + ":" + o.url->port + o.url->target + ": " + *open_error);

  // A stalled peer ends the run instead of hanging it.
  for (auto& ws : sockets) {
    ws->set_option(
        websocket::stream_base::timeout{std::chrono::seconds(10), std::chrono::seconds(10), false});
  }
  LoadState state;
  state.latencies_ns.reserve(1 << 20);
  const std::string payload(o.size, 'x');
  const auto start = Clock::now();
  state.deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  state.running = o.connections;
  state.ioc = &ioc;
  for (auto& ws : sockets) asio::co_spawn(ioc, ping_pong(*ws, payload, state), asio::detached);
  ioc.restart();
  ioc.run();
  if (state.error) fail("during the run: " + *state.error);
  const double rate = static_cast<double>(state.latencies_ns.size()) / o.seconds;
  const double p50 = percentile_us(state.latencies_ns, 0.50);
  const double p99 = percentile_us(state.latencies_ns, 0.99);
  std::printf(
      "{\"messages_per_second\":%.0f,\"messages\":%zu,\"p50_us\":%.1f,\"p99_us\":%.1f,"
      "\"connections\":%d}\n",
      rate, state.latencies_ns.size(), p50, p99, o.connections);
  return 0;
}

// ------------------------------------------------------------------------------- hold, idle

struct HoldState {
  int next = 0;
  int opened = 0;
  int openers = 0;
  int closed_by_peer = 0;
  std::optional<std::string> error;
};

// Notices when the peer closes a held connection (no data is expected while holding).
asio::awaitable<void> watch(tcp::socket& socket, HoldState& state) {
  char byte;
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(&byte, 1), kNoThrow);
    if (ec) break;
  }
  ++state.closed_by_peer;
}

int run_hold(const Options& o) {
  asio::io_context ioc(1);
  const auto endpoints = resolve(ioc, *o.url);
  const bool websockets = o.mode == "hold";
  std::vector<std::unique_ptr<WebSocket>> sockets;
  std::vector<std::unique_ptr<beast::tcp_stream>> streams;
  if (websockets) {
    sockets.resize(static_cast<std::size_t>(o.count));
  } else {
    streams.resize(static_cast<std::size_t>(o.count));
  }
  HoldState state;
  // A few openers pull connection numbers until all are open or one fails.
  auto opener = [&]() -> asio::awaitable<void> {
    while (!state.error && state.next < o.count) {
      const auto i = static_cast<std::size_t>(state.next++);
      std::optional<OpenError> error;
      if (websockets) {
        sockets[i] = std::make_unique<WebSocket>(ioc);
        error = co_await open_websocket(*sockets[i], o, endpoints);
      } else {
        streams[i] = std::make_unique<beast::tcp_stream>(ioc);
        error = co_await open_http(*streams[i], o, endpoints);
      }
      if (error) {
        if (!state.error) state.error = error->message;
        break;
      }
      ++state.opened;
    }
    if (--state.openers == 0) ioc.stop();  // pending stream timers would keep run() going
  };
  state.openers = std::min(o.count, kOpenersInFlight);
  for (int i = 0; i < state.openers; ++i) asio::co_spawn(ioc, opener(), asio::detached);
  ioc.run();
  if (state.error) {
    fail(o.url->host + ":" + o.url->port + o.url->target + ": " + *state.error + " (after " +
         std::to_string(state.opened) + " opened)");
  }

  for (auto& ws : sockets) {
    beast::get_lowest_layer(*ws).expires_never();
    asio::co_spawn(ioc, watch(beast::get_lowest_layer(*ws).socket(), state), asio::detached);
  }
  for (auto& stream : streams) asio::co_spawn(ioc, watch(stream->socket(), state), asio::detached);
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) { ioc.stop(); });
  // Until standard input closes, when it is a pipe, socket or terminal. Not /dev/null or a file:
  // those read as closed at once (and a background job in a script gets /dev/null).
  asio::posix::stream_descriptor input(ioc);
  boost::system::error_code assign_ec = asio::error::not_socket;
  struct stat in_stat {};
  if (fstat(STDIN_FILENO, &in_stat) == 0 &&
      (S_ISFIFO(in_stat.st_mode) || S_ISSOCK(in_stat.st_mode) || isatty(STDIN_FILENO))) {
    input.assign(::dup(STDIN_FILENO), assign_ec);
  }
  std::array<char, 256> discard{};
  std::function<void(boost::system::error_code, std::size_t)> on_input =
      [&](boost::system::error_code ec, std::size_t) {
        if (ec) {
          ioc.stop();
          return;
        }
        input.async_read_some(asio::buffer(discard), on_input);
      };
  if (!assign_ec) input.async_read_some(asio::buffer(discard), on_input);

  std::printf("ready %d\n", state.opened);
  std::fflush(stdout);
  ioc.restart();
  ioc.run();
  std::printf("held %d, closed by peer %d\n", state.opened, state.closed_by_peer);
  std::fflush(stdout);
  std::_Exit(0);  // the kernel closes the sockets faster than 10k destructors
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse_options(argc, argv);
  raise_fd_limit();
  if (options.mode == "echo") return run_echo(options);
  if (options.mode == "load") return run_load(options);
  return run_hold(options);  // hold or idle
}
