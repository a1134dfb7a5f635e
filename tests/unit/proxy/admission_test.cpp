// Admission without sockets: each way a request head is answered by the gateway itself (with its
// exact status, body and whether the connection may be kept), read as a form, or forwarded.
#include "proxy/admission.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "proxy/auth_endpoints.h"
#include "stub_gate.h"

namespace jotgate::proxy {
namespace {

// Lets "Bearer good" through as ACME\alice; refuses everything else with NO_CREDENTIALS.
class BearerGate final : public StubGate {
 public:
  BearerGate() : StubGate({"x-jotgate-user", "authorization"}) {}
  auth::Decision check(const auth::RequestView& request) override {
    auth::Decision decision;
    if (request.header("Authorization") == std::optional<std::string_view>("Bearer good")) {
      decision.allowed = true;
      decision.user = {"ACME", "alice"};
      return decision;
    }
    decision.reason = Reason::kNoCredentials;
    decision.refusal = answer_for(make_error(Reason::kNoCredentials), {"jwt", false, nullptr});
    return decision;
  }
};

class AdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.source = "<test>";
    config_.access_log_enabled = false;
    config_.limits.max_header_count = 10;
    config_.limits.max_request_line = 200;
    config::Listener listener;
    listener.name = "http";
    listener.host = "127.0.0.1";
    config_.listeners.push_back(listener);
    config::VirtualProxy vp;
    vp.name = "jwt";
    vp.prefix = "jwt";
    vp.auth.endpoint = ".auth";
    config::Upstream up;
    up.url = "http://127.0.0.1:9";
    up.host = "127.0.0.1";
    up.port = 9;
    vp.upstreams.push_back(up);
    vp.cors_allowed_origins = {"https://app.test"};
    config_.virtual_proxies.push_back(vp);
    config::VirtualProxy hosted = vp;
    hosted.name = "hosted";
    hosted.prefix = "hosted";
    hosted.host_allow_list = {"gw.test"};
    hosted.cors_allowed_origins.clear();
    config_.virtual_proxies.push_back(hosted);
    config::VirtualProxy empty = vp;
    empty.name = "empty";
    empty.prefix = "empty";
    empty.upstreams.clear();
    config_.virtual_proxies.push_back(empty);
    std::shared_ptr<auth::GateSet> gates(std::shared_ptr<void>(), &gates_);
    auto runtime = Runtime::create(config_, gates, {});
    ASSERT_TRUE(runtime.ok()) << runtime.error().describe();
    runtime_ = std::move(*runtime);
  }

  // Parses `head` as the connection does and admits it.
  Admission admit_head(const std::string& head) {
    parser_.emplace();
    boost::beast::error_code ec;
    parser_->put(boost::asio::buffer(head), ec);
    EXPECT_TRUE(parser_->is_header_done()) << ec.message() << " for " << head;
    auto& request = parser_->get();
    target_ = std::string(request.target());
    std::optional<std::uint64_t> length;
    if (auto l = parser_->content_length()) length = *l;
    return admit({request, target_, request.keep_alive(), !parser_->is_done(), length},
                 {"192.0.2.1", false}, runtime_->listeners[0], *runtime_);
  }

  config::GatewayConfig config_;
  StubGateSet<BearerGate> gates_;
  std::shared_ptr<Runtime> runtime_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  std::string target_;
};

TEST_F(AdmissionTest, ForwardsAnAllowedRequestWithItsRouteAndUser) {
  Admission a =
      admit_head("GET /jwt/app/x?y=1 HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer good\r\n\r\n");
  ASSERT_EQ(a.action, Admission::kForward);
  ASSERT_NE(a.vp, nullptr);
  EXPECT_EQ(a.vp->config.name, "jwt");
  EXPECT_EQ(a.match.prefix, "jwt");
  EXPECT_EQ(a.match.rest, "/app/x");
  EXPECT_EQ(a.target.query, "y=1");
  EXPECT_EQ(a.decision.user.qualified(), "ACME\\alice");
  EXPECT_FALSE(a.websocket);
}

TEST_F(AdmissionTest, RefusalIsTheGatesAnswerAndKeepsTheConnection) {
  Admission a = admit_head("GET /jwt/app HTTP/1.1\r\nHost: gw\r\n\r\n");
  ASSERT_EQ(a.action, Admission::kAnswer);
  EXPECT_EQ(a.answer.status, 401);
  EXPECT_EQ(a.answer.body, "Could not authenticate the request: Expected an authentication header");
  EXPECT_TRUE(a.keep_alive);
  EXPECT_EQ(a.vp->config.name, "jwt");
}

TEST_F(AdmissionTest, ARefusalBeforeAnUnreadBodyClosesTheConnection) {
  Admission a = admit_head("POST /jwt/app HTTP/1.1\r\nHost: gw\r\nContent-Length: 5\r\n\r\n");
  ASSERT_EQ(a.action, Admission::kAnswer);
  EXPECT_EQ(a.answer.status, 401);
  EXPECT_FALSE(a.keep_alive);
}

TEST_F(AdmissionTest, UnknownPrefixIs404WithoutAVirtualProxy) {
  Admission a = admit_head("GET /other/x HTTP/1.1\r\nHost: gw\r\n\r\n");
  EXPECT_EQ(a.answer.status, 404);
  EXPECT_EQ(a.answer.body, "Not Found: no virtual proxy serves this path");
  EXPECT_EQ(a.vp, nullptr);
  EXPECT_TRUE(a.keep_alive);
}

TEST_F(AdmissionTest, HeadLimitsAndFramingCloseTheConnection) {
  Admission long_line =
      admit_head("GET /jwt/" + std::string(250, 'a') + " HTTP/1.1\r\nHost: gw\r\n\r\n");
  EXPECT_EQ(long_line.answer.status, 414);
  EXPECT_EQ(long_line.answer.body,
            "URI Too Long: the request line is longer than the gateway accepts");
  EXPECT_FALSE(long_line.keep_alive);

  std::string many = "GET /jwt/x HTTP/1.1\r\nHost: gw\r\n";
  for (int i = 0; i < 10; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  Admission too_many = admit_head(many + "\r\n");
  EXPECT_EQ(too_many.answer.status, 431);
  EXPECT_EQ(too_many.answer.body, "Request Header Fields Too Large: too many header fields");
  EXPECT_FALSE(too_many.keep_alive);

  Admission no_host = admit_head("GET /jwt/x HTTP/1.1\r\n\r\n");
  EXPECT_EQ(no_host.answer.status, 400);
  EXPECT_EQ(no_host.answer.body, "Bad Request: the Host header is missing");
  EXPECT_FALSE(no_host.keep_alive);

  Admission connect = admit_head("CONNECT /jwt/x HTTP/1.1\r\nHost: gw\r\n\r\n");
  EXPECT_EQ(connect.answer.status, 405);
  EXPECT_EQ(connect.answer.body, "Method Not Allowed: CONNECT is not served here");
}

TEST_F(AdmissionTest, PathTricksAre400AndKeepTheConnection) {
  Admission a = admit_head("GET /jwt/../admin HTTP/1.1\r\nHost: gw\r\n\r\n");
  EXPECT_EQ(a.answer.status, 400);
  EXPECT_TRUE(a.answer.body.starts_with("Bad Request: ")) << a.answer.body;
  EXPECT_TRUE(a.keep_alive);
}

TEST_F(AdmissionTest, HostAllowListRefusesOtherHostsAndWebSocketOrigins) {
  Admission wrong =
      admit_head("GET /hosted/x HTTP/1.1\r\nHost: evil.test\r\nAuthorization: Bearer good\r\n\r\n");
  EXPECT_EQ(wrong.answer.status, 403);
  EXPECT_EQ(wrong.answer.body, "Forbidden: this host name is not allowed for this virtual proxy");
  EXPECT_EQ(wrong.vp->config.name, "hosted");

  Admission origin = admit_head(
      "GET /hosted/ws HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Origin: https://evil.test\r\nAuthorization: Bearer good\r\n\r\n");
  EXPECT_EQ(origin.answer.status, 403);
  EXPECT_EQ(origin.answer.body,
            "Forbidden: the WebSocket Origin is not allowed for this virtual proxy");

  Admission right = admit_head(
      "GET /hosted/ws HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Origin: https://gw.test\r\nAuthorization: Bearer good\r\n\r\n");
  ASSERT_EQ(right.action, Admission::kForward);
  EXPECT_TRUE(right.websocket);
}

TEST_F(AdmissionTest, PreflightOfAnAllowedOriginIsAnsweredHere) {
  Admission a = admit_head(
      "OPTIONS /jwt/api HTTP/1.1\r\nHost: gw\r\nOrigin: https://app.test\r\n"
      "Access-Control-Request-Method: PUT\r\n\r\n");
  ASSERT_EQ(a.action, Admission::kAnswer);
  EXPECT_EQ(a.answer.status, 204);
  EXPECT_TRUE(a.cors_origin.empty());  // the preflight answer carries its own headers
}

TEST_F(AdmissionTest, AnAllowedOriginGetsCorsHeadersOnRefusals) {
  Admission a = admit_head("GET /jwt/api HTTP/1.1\r\nHost: gw\r\nOrigin: https://app.test\r\n\r\n");
  EXPECT_EQ(a.answer.status, 401);
  EXPECT_EQ(a.cors_origin, "https://app.test");
}

TEST_F(AdmissionTest, ForeignPagesMayNotPostToTheEndpoints) {
  Admission a = admit_head(
      "POST /jwt/.auth/logout HTTP/1.1\r\nHost: gw\r\nOrigin: https://evil.test\r\n"
      "Content-Length: 0\r\n\r\n");
  EXPECT_EQ(a.answer.status, 403);
  EXPECT_EQ(a.answer.body,
            "Forbidden: pages of this origin may not use the gateway's endpoints "
            "(cors.allowed_origins)");
}

TEST_F(AdmissionTest, AFormIsReadOnlyWhenSizedAndSmall) {
  Admission form = admit_head(
      "POST /jwt/.auth/session HTTP/1.1\r\nHost: gw\r\nContent-Type: "
      "application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\n");
  ASSERT_EQ(form.action, Admission::kReadForm);
  EXPECT_EQ(form.endpoint, "session");

  Admission chunked = admit_head(
      "POST /jwt/.auth/session HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_EQ(chunked.action, Admission::kAnswer);
  EXPECT_EQ(chunked.answer.status, 413);
  EXPECT_FALSE(chunked.keep_alive);

  Admission large = admit_head("POST /jwt/.auth/session HTTP/1.1\r\nHost: gw\r\nContent-Length: " +
                               std::to_string(kMaxFormBytes + 1) + "\r\n\r\n");
  EXPECT_EQ(large.answer.status, 413);
  EXPECT_EQ(large.answer.body,
            "Content Too Large: the gateway's endpoints take a form of at most 32 KiB with a "
            "Content-Length");
}

TEST_F(AdmissionTest, NoUpstreamIs502ForTheSignedInUser) {
  Admission a =
      admit_head("GET /empty/x HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer good\r\n\r\n");
  ASSERT_EQ(a.action, Admission::kAnswer);
  EXPECT_EQ(a.answer.status, 502);
  EXPECT_EQ(a.answer.body, "Bad Gateway: no upstream server answered");
  EXPECT_TRUE(a.decision.allowed);
}

}  // namespace
}  // namespace jotgate::proxy
