// The server over real sockets on 127.0.0.1 with a fake gate and the demo upstream: routing,
// refusals, forwarding with rewritten headers, upstream down, header limits.
#include "proxy/server.h"
#include "running_server.h"

#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "proxy/demo_upstream.h"
#include "stub_gate.h"

namespace jotgate::proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Lets "Bearer good" through as ACME\alice; refuses everything else with 401.
class FakeGate final : public StubGate {
 public:
  FakeGate() : StubGate({"x-jotgate-user", "authorization"}) {}
  auth::Decision check(const auth::RequestView& request) override {
    auth::Decision decision;
    auto authorization = request.header("authorization");
    if (authorization && *authorization == "Bearer good") {
      decision.allowed = true;
      decision.user = {"ACME", "alice"};
      decision.upstream_headers = {{"X-Jotgate-User", "UserDirectory=ACME; UserId=alice"}};
      decision.set_cookie = "X-Jotgate-Session-jwt=s; Path=/jwt; HttpOnly";
      return decision;
    }
    decision.refusal.status = 401;
    decision.refusal.headers = {{"WWW-Authenticate", "Bearer realm=\"jwt\""}};
    decision.refusal.body = "Could not authenticate the request: Expected an authentication header";
    return decision;
  }
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto demo = DemoUpstream::start();
    ASSERT_TRUE(demo.ok());
    demo_ = std::move(*demo);
    config_.source = "<test>";
    config_.access_log = "/dev/null";
    config_.limits.max_header_bytes = 4096;
    config::Listener listener;
    listener.name = "http";
    listener.host = "127.0.0.1";
    config_.listeners.push_back(listener);
    config::VirtualProxy vp;
    vp.name = "test";
    vp.prefix = "jwt";
    vp.listeners = {"http"};
    config::Upstream up;
    up.url = "http://127.0.0.1:" + std::to_string(demo_->port());
    up.host = "127.0.0.1";
    up.port = demo_->port();
    vp.upstreams.push_back(up);
    vp.response_headers = {{"X-Frame-Options", "SAMEORIGIN"}};
    config_.virtual_proxies.push_back(vp);
    // A virtual proxy whose upstream is down (a port nobody listens on).
    config::VirtualProxy down = vp;
    down.name = "down";
    down.prefix = "down";
    down.upstreams[0].port = unused_port();
    config_.virtual_proxies.push_back(down);
  }

  void start() { server_.start(config_, gates_); }

  static std::uint16_t unused_port() {
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return acceptor.local_endpoint().port();
  }

  http::response<http::string_body> get(const std::string& target,
                                        std::vector<std::pair<std::string, std::string>> headers) {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_.port()));
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, "gateway.test");
    for (auto& [name, value] : headers) request.insert(name, value);
    http::write(socket, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(socket, buffer, response);
    return response;
  }

  // Sends raw bytes, returns everything the server answers until it closes.
  std::string raw(const std::string& bytes) {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_.port()));
    asio::write(socket, asio::buffer(bytes));
    std::string answer;
    boost::system::error_code ec;
    asio::read(socket, asio::dynamic_buffer(answer), ec);
    return answer;
  }

  config::GatewayConfig config_;
  StubGateSet<FakeGate> gates_;
  std::unique_ptr<DemoUpstream> demo_;
  RunningServer server_;
};

TEST_F(ServerTest, ForwardsWithRewrittenHeaders) {
  start();
  auto response = get("/jwt/hello?x=1", {{"Authorization", "Bearer good"},
                                         {"X-Jotgate-User", "UserDirectory=ACME; UserId=root"},
                                         {"X-Forwarded-For", "6.6.6.6"}});
  EXPECT_EQ(response.result_int(), 200);
  const std::string& body = response.body();
  EXPECT_NE(body.find("Path: /hello?x=1"), std::string::npos) << body;
  EXPECT_NE(body.find("X-Jotgate-User: UserDirectory=ACME; UserId=alice"), std::string::npos);
  EXPECT_EQ(body.find("root"), std::string::npos) << body;
  EXPECT_EQ(body.find("6.6.6.6"), std::string::npos) << body;
  EXPECT_NE(body.find("X-Forwarded-For: 127.0.0.1"), std::string::npos) << body;
  EXPECT_NE(body.find("X-Forwarded-Host: gateway.test"), std::string::npos) << body;
  EXPECT_NE(body.find("X-Forwarded-Prefix: /jwt"), std::string::npos) << body;
  EXPECT_NE(body.find("X-Forwarded-Proto: http"), std::string::npos) << body;
  EXPECT_EQ(response[http::field::set_cookie], "X-Jotgate-Session-jwt=s; Path=/jwt; HttpOnly");
  EXPECT_EQ(response["X-Frame-Options"], "SAMEORIGIN");
}

TEST_F(ServerTest, RefusalComesFromTheGate) {
  start();
  auto response = get("/jwt/", {});
  EXPECT_EQ(response.result_int(), 401);
  EXPECT_EQ(response[http::field::www_authenticate], "Bearer realm=\"jwt\"");
  EXPECT_NE(response.body().find("Expected an authentication header"), std::string::npos);
  EXPECT_EQ(response["X-Frame-Options"], "SAMEORIGIN");
}

TEST_F(ServerTest, UnknownPrefixIs404) {
  start();
  EXPECT_EQ(get("/jwtx/", {{"Authorization", "Bearer good"}}).result_int(), 404);
  EXPECT_EQ(get("/", {{"Authorization", "Bearer good"}}).result_int(), 404);
}

TEST_F(ServerTest, PathTricksAre400) {
  start();
  for (std::string target :
       {"/jwt/../down/", "/down/..%2fjwt/", "/%6Awt/", "/jwt/a\\b", "http://127.0.0.1/jwt/"}) {
    std::string answer = raw("GET " + target +
                             " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                             "good\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0u) << target << " -> " << answer;
  }
}

TEST_F(ServerTest, UpstreamDownIs502) {
  start();
  auto response = get("/down/", {{"Authorization", "Bearer good"}});
  EXPECT_EQ(response.result_int(), 502);
  EXPECT_EQ(response.body(), "Bad Gateway: no upstream server answered\n");
}

TEST_F(ServerTest, OversizedHeaderIs431) {
  start();
  std::string answer =
      raw("GET /jwt/ HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 431 ", 0), 0u) << answer;
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  start();
  std::string one = "GET /jwt/a HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\n\r\n";
  std::string last =
      "GET /jwt/b HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nConnection: close\r\n\r\n";
  std::string answer = raw(one + one + last);
  std::size_t count = 0;
  for (std::size_t at = answer.find("HTTP/1.1 200 "); at != std::string::npos;
       at = answer.find("HTTP/1.1 200 ", at + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 3u) << answer;
  EXPECT_NE(answer.find("Path: /b"), std::string::npos);
}

TEST_F(ServerTest, PortInUseIsAClearError) {
  asio::io_context ioc;
  tcp::acceptor busy(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  config_.listeners[0].port = busy.local_endpoint().port();
  auto server =
      Server::create(config_, std::shared_ptr<auth::GateSet>(std::shared_ptr<void>(), &gates_),
                     RunningServer::options(1));
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.error().detail.find("cannot listen on 127.0.0.1:"), std::string::npos)
      << server.error().detail;
}

// The stub gates have no keys: virtual proxies of auth.method jwt are not ready.
TEST_F(ServerTest, ReadinessAndTheGaugesOfAScrape) {
  config_.virtual_proxies[1].auth.method = config::AuthMethod::kHeader;
  auto server =
      Server::create(config_, std::shared_ptr<auth::GateSet>(std::shared_ptr<void>(), &gates_),
                     RunningServer::options(1));
  ASSERT_TRUE(server.ok()) << server.error().detail;
  const auto problems = (*server)->readiness();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].component, "virtual_proxy");
  EXPECT_EQ(problems[0].name, "test");
  EXPECT_EQ(problems[0].problem, "no usable verification key");
  metrics::Scrape scrape;
  (*server)->collect(scrape);
  ASSERT_EQ(scrape.listeners.size(), 1u);
  EXPECT_EQ(scrape.listeners[0].name, "http");
  EXPECT_EQ(scrape.listeners[0].connections_open, 0u);
  ASSERT_EQ(scrape.virtual_proxies.size(), 2u);
  EXPECT_EQ(scrape.virtual_proxies[1].name, "down");
  ASSERT_EQ(scrape.virtual_proxies[1].upstreams.size(), 1u);
  EXPECT_TRUE(scrape.virtual_proxies[1].upstreams[0].healthy);  // not tried yet
}

}  // namespace
}  // namespace jotgate::proxy
