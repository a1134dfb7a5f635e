// Header rewriting: hop-by-hop headers (also those named by Connection) never cross the
// gateway, spoofed identity and X-Forwarded-* headers are replaced, framing is protected.
#include "proxy/header_rewrite.h"

#include <gtest/gtest.h>

namespace jotgate::proxy {
namespace {

std::vector<std::string> values(const http::fields& fields, std::string_view name) {
  std::vector<std::string> out;
  auto range = fields.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.emplace_back(it->value());
  return out;
}

TEST(HopByHop, RemovesFixedListAndConnectionNamedHeaders) {
  http::fields fields;
  fields.insert("Connection", "keep-alive, X-Secret, x-other");
  fields.insert("Connection", "Close");
  fields.insert("Keep-Alive", "timeout=5");
  fields.insert("Proxy-Connection", "keep-alive");
  fields.insert("TE", "trailers");
  fields.insert("Trailer", "X-Checksum");
  fields.insert("Upgrade", "h2c");
  fields.insert("Proxy-Authorization", "Basic eDp5");
  fields.insert("X-Secret", "1");
  fields.insert("X-Other", "2");
  fields.insert("Close", "3");
  fields.insert("X-Kept", "4");
  remove_hop_by_hop(fields, false);
  for (auto name : {"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade",
                    "Proxy-Authorization", "X-Secret", "X-Other", "Close"}) {
    EXPECT_EQ(fields.count(name), 0u) << name;
  }
  EXPECT_EQ(values(fields, "X-Kept"), std::vector<std::string>{"4"});
}

TEST(HopByHop, ConnectionCannotStripFraming) {
  http::fields fields;
  fields.insert("Connection", "Content-Length, Transfer-Encoding, Host");
  fields.insert("Content-Length", "10");
  fields.insert("Host", "example.com");
  remove_hop_by_hop(fields, false);
  EXPECT_EQ(fields.count("Content-Length"), 1u);
  EXPECT_EQ(fields.count("Host"), 1u);
}

TEST(HopByHop, ConnectionIsReadAsAListWithEmptyElementsAndSpaces) {
  http::fields fields;
  fields.insert("Connection", " ,, close ,\tX-Secret ,");
  fields.insert("Connection", "x-other");
  fields.insert("X-Secret", "1");
  fields.insert("X-Other", "2");
  fields.insert("Close", "3");
  fields.insert("X-Kept", "4");
  remove_hop_by_hop(fields, false);
  for (auto name : {"Connection", "X-Secret", "X-Other", "Close"}) {
    EXPECT_EQ(fields.count(name), 0u) << name;
  }
  EXPECT_EQ(values(fields, "X-Kept"), std::vector<std::string>{"4"});
}

TEST(HopByHop, KeepsUpgradeForWebSocket) {
  http::fields fields;
  fields.insert("Connection", "keep-alive, Upgrade, X-Secret");
  fields.insert("Upgrade", "websocket");
  fields.insert("X-Secret", "1");
  EXPECT_TRUE(is_websocket_upgrade(fields));
  remove_hop_by_hop(fields, true);
  EXPECT_EQ(values(fields, "Upgrade"), std::vector<std::string>{"websocket"});
  EXPECT_EQ(values(fields, "Connection"), std::vector<std::string>{"Upgrade"});
  EXPECT_EQ(fields.count("X-Secret"), 0u);
}

TEST(HopByHop, DetectsWebSocketUpgradeOnlyWithBothHeaders) {
  http::fields no_connection;
  no_connection.insert("Upgrade", "websocket");
  EXPECT_FALSE(is_websocket_upgrade(no_connection));
  http::fields other;
  other.insert("Upgrade", "h2c");
  other.insert("Connection", "Upgrade");
  EXPECT_FALSE(is_websocket_upgrade(other));
  http::fields mixed_case;
  mixed_case.insert("Upgrade", "WebSocket");
  mixed_case.insert("Connection", "keep-alive, upgrade");
  EXPECT_TRUE(is_websocket_upgrade(mixed_case));
  http::fields second_line;
  second_line.insert("Upgrade", "websocket");
  second_line.insert("Connection", "keep-alive");
  second_line.insert("Connection", " ,UPGRADE");
  EXPECT_TRUE(is_websocket_upgrade(second_line));
  http::fields upgrade_as_prefix;
  upgrade_as_prefix.insert("Upgrade", "websocket");
  upgrade_as_prefix.insert("Connection", "upgraded, x-upgrade");
  EXPECT_FALSE(is_websocket_upgrade(upgrade_as_prefix));
}

HeaderPolicy policy(bool allow_underscores = false) {
  return HeaderPolicy({{"X-Jotgate-User", "x-jotgate-groups", "Authorization"},
                       {{"X-Frame-Options", "SAMEORIGIN"}},
                       "X-Jotgate-Session-jwt",
                       allow_underscores});
}

// The names of a header block, in order.
std::vector<std::string> names(const http::fields& fields) {
  std::vector<std::string> out;
  for (const auto& field : fields) out.emplace_back(field.name_string());
  return out;
}

auth::Decision alice() {
  auth::Decision decision;
  decision.allowed = true;
  decision.upstream_headers = {{"X-Jotgate-User", "UserDirectory=ACME; UserId=alice"}};
  return decision;
}

// Spellings of protected names with '_' (CGI/WSGI read them as the real header).
http::request_header<> spoofed_request() {
  http::request_header<> request;
  request.method(http::verb::get);
  request.target("/app");
  const std::string admin = "UserDirectory=ACME; UserId=admin";
  const std::pair<const char*, std::string> spoofs[] = {{"X_Jotgate_User", admin},
                                                        {"x_jotgate_user", admin},
                                                        {"X-Jotgate_User", admin},
                                                        {"X_JOTGATE-USER", admin},
                                                        {"X_Jotgate_Groups", "a"},
                                                        {"X_Forwarded_For", "6.6.6.6"},
                                                        {"x_real_ip", "6.6.6.6"},
                                                        {"True_Client_IP", "6.6.6.6"},
                                                        {"X_Original_URL", "/admin"},
                                                        {"Transfer_Encoding", "chunked"},
                                                        {"Content_Length", "5"},
                                                        {"Proxy_Connection", "close"},
                                                        {"X_Custom", "1"},
                                                        {"Accept", "*/*"}};
  for (const auto& [name, value] : spoofs) request.insert(name, value);
  return request;
}

TEST(RequestRewrite, DropsEveryUnderscoredNameByDefault) {
  auto request = spoofed_request();
  ForwardedInfo forwarded{"10.0.0.7", false, "jwt", "up:80"};
  ASSERT_TRUE(policy().rewrite_request(request, alice(), forwarded, false));
  EXPECT_EQ(names(request),
            (std::vector<std::string>{"Accept", "Host", "X-Jotgate-User", "X-Forwarded-For",
                                      "X-Forwarded-Proto", "X-Forwarded-Prefix"}));
  EXPECT_EQ(values(request, "X-Jotgate-User"),
            std::vector<std::string>{"UserDirectory=ACME; UserId=alice"});
}

TEST(RequestRewrite, AllowedUnderscoresStillNeverNameAProtectedHeader) {
  auto request = spoofed_request();
  ForwardedInfo forwarded{"10.0.0.7", false, "jwt", "up:80"};
  ASSERT_TRUE(policy(true).rewrite_request(request, alice(), forwarded, false));
  EXPECT_EQ(names(request), (std::vector<std::string>{"X_Custom", "Accept", "Host",
                                                      "X-Jotgate-User", "X-Forwarded-For",
                                                      "X-Forwarded-Proto", "X-Forwarded-Prefix"}));
  EXPECT_EQ(values(request, "X_Custom"), std::vector<std::string>{"1"});
}

TEST(RequestRewrite, RemovesClientAndUrlHeadersOfFrontingProxies) {
  http::request_header<> request;
  for (auto name : {"X-Forwarded-Port", "X-Forwarded-Server", "X-Original-URL", "X-Rewrite-URL",
                    "True-Client-IP", "X-Client-IP", "x-forwarded-port", "X-CLIENT-IP"}) {
    request.insert(name, "spoofed");
  }
  request.insert("Accept", "*/*");
  ForwardedInfo forwarded{"10.0.0.7", false, "", "up:80"};
  ASSERT_TRUE(policy().rewrite_request(request, alice(), forwarded, false));
  EXPECT_EQ(names(request), (std::vector<std::string>{"Accept", "Host", "X-Jotgate-User",
                                                      "X-Forwarded-For", "X-Forwarded-Proto"}));
}

TEST(RequestRewrite, TheClientsRequestIdAndTraceparentAreReplacedInEverySpelling) {
  for (bool allow_underscores : {false, true}) {
    http::request_header<> request;
    for (auto name : {"X-Request-Id", "x-request-id", "X_Request_Id", "X-REQUEST_ID"}) {
      request.insert(name, "spoofed");
    }
    request.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    request.insert("TRACEPARENT", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    request.insert("tracestate", "vendor=1");
    ForwardedInfo forwarded{"10.0.0.7", false, "", "up:80"};
    forwarded.request_id = "5f0c2d9e81b3a7c4-1";
    forwarded.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    ASSERT_TRUE(policy(allow_underscores).rewrite_request(request, alice(), forwarded, false));
    EXPECT_EQ(names(request),
              (std::vector<std::string>{"Host", "X-Jotgate-User", "X-Request-Id", "traceparent",
                                        "X-Forwarded-For", "X-Forwarded-Proto"}));
    EXPECT_EQ(values(request, "X-Request-Id"), std::vector<std::string>{"5f0c2d9e81b3a7c4-1"});
    EXPECT_EQ(values(request, "traceparent"),
              std::vector<std::string>{"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"});
  }
}

TEST(RequestRewrite, TracestateGoesOnOnlyWithTheClientsTraceparent) {
  http::request_header<> request;
  request.insert("tracestate", "vendor=1");
  request.insert("Tracestate", "other=2");
  ForwardedInfo forwarded{"10.0.0.7", false, "", "up:80"};
  forwarded.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  forwarded.forward_tracestate = true;
  ASSERT_TRUE(policy().rewrite_request(request, alice(), forwarded, false));
  EXPECT_EQ(values(request, "tracestate"), (std::vector<std::string>{"vendor=1", "other=2"}));
  forwarded.forward_tracestate = false;
  ASSERT_TRUE(policy().rewrite_request(request, alice(), forwarded, false));
  EXPECT_EQ(request.count("tracestate"), 0u);
}

TEST(RequestRewrite, OnlyTheAuthorizationTheDecisionCarriesGoesUpstream) {
  http::request_header<> request;
  request.insert("Authorization", "Basic YWRtaW46YWRtaW4=");
  ForwardedInfo forwarded{"10.0.0.7", false, "", "up:80"};
  ASSERT_TRUE(policy().rewrite_request(request, alice(), forwarded, false));
  EXPECT_EQ(request.count("Authorization"), 0u);

  http::request_header<> bearer;
  bearer.insert("Authorization", "Bearer verified");
  bearer.insert("Authorization", "Bearer forged");
  auto decision = alice();
  decision.upstream_headers.emplace_back("Authorization", "Bearer verified");
  ASSERT_TRUE(policy().rewrite_request(bearer, decision, forwarded, false));
  EXPECT_EQ(values(bearer, "Authorization"), std::vector<std::string>{"Bearer verified"});
}

TEST(RequestRewrite, ReplacesSpoofedIdentityAndForwardedHeaders) {
  http::request_header<> request;
  request.method(http::verb::get);
  request.target("/app");
  request.insert("Host", "gateway.example.com:8443");
  request.insert("X-Jotgate-User", "UserDirectory=ACME; UserId=admin");
  request.insert("x-jotgate-groups", "admins");
  request.insert("Authorization", "Bearer abc");
  request.insert("X-Forwarded-For", "6.6.6.6");
  request.insert("X-Forwarded-Proto", "https");
  request.insert("X-Forwarded-Host", "evil.example.com");
  request.insert("X-Forwarded-Prefix", "/admin");
  request.insert("Forwarded", "for=6.6.6.6");
  request.insert("X-Real-IP", "6.6.6.6");
  request.insert("Cookie", "X-Jotgate-Session-jwt=secret; theme=dark");
  request.insert("Cookie", "other=1");
  request.insert("Expect", "100-continue");
  request.insert("Accept", "text/html");

  auth::Decision decision;
  decision.allowed = true;
  decision.upstream_headers = {{"X-Jotgate-User", "UserDirectory=ACME; UserId=alice"}};
  decision.upstream_cookie = "theme=dark; other=1";
  ForwardedInfo forwarded{"10.0.0.7", true, "jwt", "127.0.0.1:9000"};
  ASSERT_TRUE(policy().rewrite_request(request, decision, forwarded, false));

  EXPECT_EQ(values(request, "X-Jotgate-User"),
            std::vector<std::string>{"UserDirectory=ACME; UserId=alice"});
  EXPECT_EQ(request.count("X-Jotgate-Groups"), 0u);
  EXPECT_EQ(request.count("Authorization"), 0u);
  EXPECT_EQ(values(request, "X-Forwarded-For"), std::vector<std::string>{"10.0.0.7"});
  EXPECT_EQ(values(request, "X-Forwarded-Proto"), std::vector<std::string>{"https"});
  EXPECT_EQ(values(request, "X-Forwarded-Host"),
            std::vector<std::string>{"gateway.example.com:8443"});
  EXPECT_EQ(values(request, "X-Forwarded-Prefix"), std::vector<std::string>{"/jwt"});
  EXPECT_EQ(request.count("Forwarded"), 0u);
  EXPECT_EQ(request.count("X-Real-IP"), 0u);
  EXPECT_EQ(request.count("Expect"), 0u);
  EXPECT_EQ(values(request, "Cookie"), std::vector<std::string>{"theme=dark; other=1"});
  EXPECT_EQ(values(request, "Host"), std::vector<std::string>{"127.0.0.1:9000"});
  EXPECT_EQ(values(request, "Accept"), std::vector<std::string>{"text/html"});
}

TEST(RequestRewrite, NoCookieUpstreamWhenOnlyTheSessionCookieWasSent) {
  http::request_header<> request;
  request.insert("Cookie", "X-Jotgate-Session-jwt=secret");
  auth::Decision decision;
  decision.allowed = true;
  ForwardedInfo forwarded{"127.0.0.1", false, "", "up:80"};
  ASSERT_TRUE(policy().rewrite_request(request, decision, forwarded, false));
  EXPECT_EQ(request.count("Cookie"), 0u);
  EXPECT_EQ(values(request, "X-Forwarded-Proto"), std::vector<std::string>{"http"});
  // Root prefix: no X-Forwarded-Prefix; no Host from the client: no X-Forwarded-Host.
  EXPECT_EQ(request.count("X-Forwarded-Prefix"), 0u);
  EXPECT_EQ(request.count("X-Forwarded-Host"), 0u);
}

TEST(RequestRewrite, ConnectionCannotSmuggleIdentityThroughWebSocketUpgrade) {
  http::request_header<> request;
  request.insert("Connection", "Upgrade, X-Jotgate-User");
  request.insert("Upgrade", "websocket");
  request.insert("X-Jotgate-User", "UserDirectory=ACME; UserId=admin");
  auth::Decision decision;
  decision.allowed = true;
  decision.upstream_headers = {{"X-Jotgate-User", "UserDirectory=ACME; UserId=alice"}};
  ForwardedInfo forwarded{"127.0.0.1", false, "jwt", "up:80"};
  ASSERT_TRUE(policy().rewrite_request(request, decision, forwarded, true));
  EXPECT_EQ(values(request, "X-Jotgate-User"),
            std::vector<std::string>{"UserDirectory=ACME; UserId=alice"});
  EXPECT_EQ(values(request, "Upgrade"), std::vector<std::string>{"websocket"});
  EXPECT_EQ(values(request, "Connection"), std::vector<std::string>{"Upgrade"});
}

TEST(RequestRewrite, RefusesHeaderValuesThatWouldAddLines) {
  for (std::string bad : {std::string("alice\r\nX-Admin: 1"), std::string("alice\nX-Admin: 1"),
                          std::string("a\0b", 3)}) {
    http::request_header<> request;
    request.insert("Accept", "*/*");
    auth::Decision decision;
    decision.allowed = true;
    decision.upstream_headers = {{"X-Jotgate-Groups", bad}};
    ForwardedInfo forwarded{"127.0.0.1", false, "jwt", "up:80"};
    EXPECT_FALSE(policy().rewrite_request(request, decision, forwarded, false));
    EXPECT_EQ(request.count("X-Jotgate-Groups"), 0u);
  }
}

TEST(ResponseRewrite, AddsCookieAndResponseHeadersRemovesHopByHop) {
  http::response_header<> response;
  response.insert("Connection", "keep-alive, X-Internal");
  response.insert("X-Internal", "1");
  response.insert("Keep-Alive", "timeout=5");
  response.insert("Set-Cookie", "app=1");
  response.insert("X-Frame-Options", "DENY");
  auth::Decision decision;
  decision.allowed = true;
  decision.set_cookie = "X-Jotgate-Session-jwt=abc; Path=/jwt; HttpOnly";
  policy().rewrite_response(response, decision, false);
  EXPECT_EQ(response.count("Connection"), 0u);
  EXPECT_EQ(response.count("X-Internal"), 0u);
  EXPECT_EQ(response.count("Keep-Alive"), 0u);
  EXPECT_EQ(values(response, "Set-Cookie"),
            (std::vector<std::string>{"app=1", "X-Jotgate-Session-jwt=abc; Path=/jwt; HttpOnly"}));
  EXPECT_EQ(values(response, "X-Frame-Options"), std::vector<std::string>{"SAMEORIGIN"});
}

TEST(ResponseRewrite, RemovesTheUpstreamsSetCookieForTheSessionCookie) {
  http::response_header<> response;
  for (auto value :
       {"X-Jotgate-Session-jwt=evil", "other=1", " X-Jotgate-Session-jwt =evil; Path=/jwt",
        "X-Jotgate-Session-jwt=; Max-Age=0", "x-jotgate-session-jwt=1", "X-Jotgate-Session-jwt2=1",
        "a=X-Jotgate-Session-jwt=1", "X-Jotgate-Session-jwt"}) {
    response.insert(http::field::set_cookie, value);
  }
  auth::Decision decision;
  decision.allowed = true;
  decision.set_cookie = "X-Jotgate-Session-jwt=abc; Path=/jwt; HttpOnly";
  policy().rewrite_response(response, decision, false);
  // Browsers compare cookie names exactly (case too); without '=' the cookie has no name.
  EXPECT_EQ(
      values(response, "Set-Cookie"),
      (std::vector<std::string>{"other=1", "x-jotgate-session-jwt=1", "X-Jotgate-Session-jwt2=1",
                                "a=X-Jotgate-Session-jwt=1", "X-Jotgate-Session-jwt",
                                "X-Jotgate-Session-jwt=abc; Path=/jwt; HttpOnly"}));
}

TEST(HostAllowList, ComparesHostWithoutPortAndCase) {
  std::vector<std::string> allow{"app.example.com", "localhost:8443"};
  EXPECT_TRUE(host_allowed(allow, "app.example.com"));
  EXPECT_TRUE(host_allowed(allow, "APP.example.com:443"));
  EXPECT_TRUE(host_allowed(allow, "localhost:8443"));
  EXPECT_FALSE(host_allowed(allow, "localhost:9999"));
  EXPECT_FALSE(host_allowed(allow, "evil.example.com"));
  EXPECT_FALSE(host_allowed(allow, "app.example.com.evil.net"));
  EXPECT_FALSE(host_allowed(allow, ""));
  EXPECT_EQ(origin_authority("https://app.example.com:8443"), "app.example.com:8443");
  EXPECT_EQ(origin_authority("null"), "");
  EXPECT_FALSE(host_allowed(allow, origin_authority("null")));
}

}  // namespace
}  // namespace jotgate::proxy
