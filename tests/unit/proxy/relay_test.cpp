// Streaming and upstream behaviour over real sockets: a scripted upstream (one thread per
// connection) answers the way each test needs; the gateway sits between it and a raw client.
#include <chrono>
#include <functional>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "proxy/server.h"
#include "running_server.h"
#include "stub_gate.h"

namespace jotgate::proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

class AllowGate final : public StubGate {
 public:
  AllowGate() : StubGate({"x-jotgate-user"}) {}
  auth::Decision check(const auth::RequestView&) override {
    auth::Decision decision;
    decision.allowed = true;
    decision.user = {"ACME", "alice"};
    decision.upstream_headers = {{"X-Jotgate-User", "UserDirectory=ACME; UserId=alice"}};
    decision.session_handle = 7;
    return decision;
  }
  void touch(std::uint64_t handle) override { touched = handle; }
  std::atomic<std::uint64_t> touched{0};
};

// Accepts connections and hands each (with the request head already read) to `handler`.
class ScriptedUpstream {
 public:
  using Handler = std::function<void(tcp::socket&, std::string head, asio::streambuf& rest)>;
  explicit ScriptedUpstream(Handler handler)
      : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        handler_(std::move(handler)) {
    thread_ = std::thread([this] {
      for (;;) {
        tcp::socket socket(ioc_);
        boost::system::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec || stopping_) return;
        connections_.emplace_back([this, s = std::move(socket)]() mutable {
          // One exchange per connection, then close: a pooled connection must not keep the
          // test's threads waiting.
          asio::streambuf buffer;
          boost::system::error_code read_ec;
          std::size_t n = asio::read_until(s, buffer, "\r\n\r\n", read_ec);
          if (read_ec) return;
          std::string head(asio::buffers_begin(buffer.data()),
                           asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(n));
          buffer.consume(n);
          handler_(s, head, buffer);
          s.close(read_ec);
        });
      }
    });
  }
  ~ScriptedUpstream() {
    stopping_ = true;
    boost::system::error_code ec;
    tcp::socket poke(ioc_);
    poke.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
    for (auto& t : connections_) t.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  Handler handler_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::vector<std::thread> connections_;
};

class RelayTest : public ::testing::Test {
 protected:
  void start(std::uint16_t upstream_port, std::chrono::milliseconds read_timeout = 5s) {
    config_.source = "<test>";
    config_.access_log = "/dev/null";
    config_.limits.shutdown_grace = 5s;
    config::Listener listener;
    listener.name = "http";
    listener.host = "127.0.0.1";
    config_.listeners.push_back(listener);
    config::VirtualProxy vp;
    vp.name = "relay";
    vp.prefix = "jwt";
    config::Upstream up;
    up.url = "http://127.0.0.1:" + std::to_string(upstream_port);
    up.host = "127.0.0.1";
    up.port = upstream_port;
    vp.upstreams.push_back(up);
    vp.read_timeout = read_timeout;
    config_.virtual_proxies.push_back(vp);
    server_.start(config_, gates_);
  }
  tcp::socket connect() {
    tcp::socket socket(ioc_);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_.port()));
    // Never hang a test: a relay that buffers shows up as a read timing out.
    struct timeval tv {
      5, 0
    };
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return socket;
  }

  asio::io_context ioc_;
  config::GatewayConfig config_;
  StubGateSet<AllowGate> gates_;
  RunningServer server_;
};

TEST_F(RelayTest, SilentUpstreamIs504) {
  ScriptedUpstream upstream([](tcp::socket& s, std::string, asio::streambuf&) {
    std::this_thread::sleep_for(1500ms);
    s.close();
  });
  start(upstream.port(), /*read_timeout=*/300ms);
  auto socket = connect();
  asio::write(socket, asio::buffer(std::string("GET /jwt/ HTTP/1.1\r\nHost: x\r\n\r\n")));
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  EXPECT_EQ(response.result_int(), 504);
  EXPECT_EQ(response.body(), "Gateway Timeout: the upstream server did not answer in time\n");
}

TEST_F(RelayTest, ServerSentEventsArriveOneByOne) {
  std::promise<void> first_seen;
  auto seen = first_seen.get_future().share();
  ScriptedUpstream upstream([seen](tcp::socket& s, std::string, asio::streambuf&) {
    asio::write(
        s, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                    "Transfer-Encoding: chunked\r\n\r\n9\r\ndata: 1\n\n\r\n")));
    // The second event only after the client saw the first: buffering would deadlock.
    seen.wait_for(5s);
    asio::write(s, asio::buffer(std::string("9\r\ndata: 2\n\n\r\n0\r\n\r\n")));
  });
  start(upstream.port());
  auto socket = connect();
  asio::write(socket, asio::buffer(std::string("GET /jwt/events HTTP/1.1\r\nHost: x\r\n\r\n")));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  http::read_header(socket, buffer, parser);
  EXPECT_EQ(parser.get()[http::field::content_type], "text/event-stream");
  boost::system::error_code ec;
  while (parser.get().body().find("data: 1") == std::string::npos && !ec) {
    http::read_some(socket, buffer, parser, ec);
  }
  ASSERT_FALSE(ec) << ec.message();
  first_seen.set_value();
  http::read(socket, buffer, parser, ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(parser.get().body(), "data: 1\n\ndata: 2\n\n");
}

TEST_F(RelayTest, ChunkedUploadStreamsThrough) {
  ScriptedUpstream upstream([](tcp::socket& s, std::string head, asio::streambuf& rest) {
    // Re-parse head + body with Beast, then answer with what arrived.
    http::request_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    beast::flat_buffer buffer;
    auto prepared = buffer.prepare(head.size() + rest.size());
    asio::buffer_copy(prepared, asio::buffer(head));
    asio::buffer_copy(prepared + head.size(), rest.data());
    buffer.commit(head.size() + rest.size());
    rest.consume(rest.size());
    http::read(s, buffer, parser);
    std::string answer = "received " + std::to_string(parser.get().body().size()) +
                         (parser.get().chunked() ? " chunked" : " sized") + " at " +
                         std::string(parser.get().target());
    http::response<http::string_body> response{http::status::ok, 11};
    response.body() = answer;
    response.prepare_payload();
    http::write(s, response);
  });
  start(upstream.port());
  auto socket = connect();
  http::request<http::empty_body> request{http::verb::post, "/jwt/upload?x=1", 11};
  request.set(http::field::host, "x");
  request.chunked(true);
  http::request_serializer<http::empty_body> head(request);
  http::write_header(socket, head);
  std::string chunk(1 << 20, 'z');
  for (int i = 0; i < 8; ++i) {
    asio::write(socket, http::make_chunk(asio::buffer(chunk)));
  }
  asio::write(socket, http::make_chunk_last());
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  EXPECT_EQ(response.body(), "received 8388608 chunked at /upload?x=1");
}

TEST_F(RelayTest, LargeSizedUploadIsAccepted) {
  // Beast's default request body limit (1 MB) must not apply: bodies are streamed.
  ScriptedUpstream upstream([](tcp::socket& s, std::string head, asio::streambuf& rest) {
    std::size_t length = std::stoull(head.substr(head.find("Content-Length: ") + 16));
    std::size_t received = rest.size();
    rest.consume(rest.size());
    std::vector<char> data(1 << 16);
    while (received < length) received += s.read_some(asio::buffer(data));
    std::string body = "received " + std::to_string(received);
    asio::write(s, asio::buffer("HTTP/1.1 200 OK\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body));
  });
  start(upstream.port());
  auto socket = connect();
  const std::size_t size = 24 << 20;
  asio::write(socket, asio::buffer("POST /jwt/up HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                   std::to_string(size) + "\r\n\r\n"));
  std::string chunk(1 << 20, 'u');
  for (std::size_t sent = 0; sent < size; sent += chunk.size()) {
    asio::write(socket, asio::buffer(chunk));
  }
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  EXPECT_EQ(response.body(), "received " + std::to_string(size));
}

TEST_F(RelayTest, BodyUntilCloseIsChunkedForTheClient) {
  ScriptedUpstream upstream([](tcp::socket& s, std::string, asio::streambuf&) {
    asio::write(s, asio::buffer(std::string("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc")));
    s.close();
  });
  start(upstream.port());
  auto socket = connect();
  asio::write(socket, asio::buffer(std::string("GET /jwt/ HTTP/1.1\r\nHost: x\r\n\r\n")));
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  EXPECT_TRUE(response.chunked());
  EXPECT_EQ(response.body(), "abc");
  EXPECT_TRUE(response.keep_alive());
}

TEST_F(RelayTest, WebSocketUpgradeBecomesAByteTunnel) {
  ScriptedUpstream upstream([](tcp::socket& s, std::string head, asio::streambuf& rest) {
    bool ok = head.find("Upgrade: websocket") != std::string::npos &&
              head.find("X-Jotgate-User: UserDirectory=ACME; UserId=alice") != std::string::npos;
    if (!ok) {
      asio::write(s, asio::buffer(std::string("HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n")));
      return;
    }
    asio::write(s, asio::buffer(std::string("HTTP/1.1 101 Switching Protocols\r\nUpgrade: "
                                            "websocket\r\nConnection: Upgrade\r\n\r\n")));
    // Echo raw bytes (no frames: the gateway must not care).
    boost::system::error_code ec;
    if (rest.size() > 0) asio::write(s, rest.data(), ec);
    char data[1024];
    for (;;) {
      std::size_t n = s.read_some(asio::buffer(data), ec);
      if (ec) break;
      asio::write(s, asio::buffer(data, n), ec);
    }
    s.close();
  });
  start(upstream.port());
  auto socket = connect();
  // The first bytes after the upgrade request travel in the same packet.
  asio::write(socket, asio::buffer(
                          std::string("GET /jwt/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                                      "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\nhello")));
  asio::streambuf buffer;
  std::size_t n = asio::read_until(socket, buffer, "\r\n\r\n");
  std::string head(asio::buffers_begin(buffer.data()),
                   asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(n));
  buffer.consume(n);
  EXPECT_EQ(head.rfind("HTTP/1.1 101 ", 0), 0u) << head;
  asio::read(socket, buffer, asio::transfer_exactly(5 - std::min<std::size_t>(5, buffer.size())));
  std::string echoed(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
  EXPECT_EQ(echoed, "hello");
  buffer.consume(buffer.size());
  asio::write(socket, asio::buffer(std::string(" world")));
  asio::read(socket, buffer, asio::transfer_exactly(6));
  std::string second(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
  EXPECT_EQ(second, " world");
}

TEST_F(RelayTest, ShutdownLetsTheRequestInFlightFinish) {
  ScriptedUpstream upstream([](tcp::socket& s, std::string, asio::streambuf&) {
    std::this_thread::sleep_for(700ms);
    asio::write(s, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ndone")));
  });
  start(upstream.port());
  auto socket = connect();
  asio::write(socket, asio::buffer(std::string("GET /jwt/ HTTP/1.1\r\nHost: x\r\n\r\n")));
  std::this_thread::sleep_for(200ms);
  server_.stop();
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  EXPECT_EQ(response.result_int(), 200);
  EXPECT_EQ(response.body(), "done");
  EXPECT_FALSE(response.keep_alive());  // shutting down: no next request on this connection
  server_.join();
}

TEST_F(RelayTest, KeepAliveUpstreamConnectionClosedMeanwhileIsRetried) {
  std::atomic<int> served{0};
  ScriptedUpstream upstream([&served](tcp::socket& s, std::string, asio::streambuf&) {
    ++served;
    asio::write(s, asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")));
    // Keep-alive announced, then closed a moment later: the pooled connection goes stale.
    std::this_thread::sleep_for(50ms);
    s.close();
  });
  start(upstream.port());
  for (int i = 0; i < 3; ++i) {
    auto socket = connect();
    asio::write(socket, asio::buffer(std::string("GET /jwt/ HTTP/1.1\r\nHost: x\r\n\r\n")));
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    EXPECT_EQ(response.result_int(), 200) << i;
    std::this_thread::sleep_for(150ms);
  }
  EXPECT_EQ(served.load(), 3);
}

}  // namespace
}  // namespace jotgate::proxy
