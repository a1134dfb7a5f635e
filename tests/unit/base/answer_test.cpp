// The one reason -> HTTP mapping: statuses, headers that cannot be broken out of, bodies.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/answer.h"

namespace jotgate {
namespace {

std::string header_of(const Answer& a, std::string_view name) {
  for (const auto& [n, v] : a.headers) {
    if (n == name) return v;
  }
  return "";
}

TEST(Answer, WantsJson) {
  EXPECT_FALSE(wants_json(std::nullopt));
  EXPECT_FALSE(wants_json("text/html"));
  EXPECT_TRUE(wants_json("application/json"));
  EXPECT_TRUE(wants_json("text/html, Application/JSON; q=0.5"));
  EXPECT_FALSE(wants_json("application/json;q=0"));
  EXPECT_FALSE(wants_json("application/jsonx"));
}

TEST(Answer, InvalidTokenDescriptionHasNoQuotes) {
  auto a = answer_for(make_error(Reason::kAlgMissing), {"jwt", false, nullptr});  // quotes inside
  ASSERT_EQ(a.headers.at(0).first, "WWW-Authenticate");
  const std::string& www = a.headers[0].second;
  const std::string inner = www.substr(www.find("error_description=\"") + 19);
  EXPECT_EQ(inner.find('"'), inner.size() - 1) << www;
  EXPECT_EQ(www.find('\r'), std::string::npos);
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(a.body, "Could not authenticate the request: the token header has no string \"alg\"");
}

TEST(Answer, RevokedTokenIs401InvalidToken) {
  auto a = answer_for(make_error(Reason::kTokenRevoked), {"jwt", true, nullptr});
  EXPECT_EQ(a.status, 401);
  EXPECT_EQ(header_of(a, "WWW-Authenticate"),
            "Bearer error=\"invalid_token\", error_description=\"the token has been revoked\"");
  auto body = nlohmann::json::parse(a.body);
  EXPECT_EQ(body["error"], "TOKEN_REVOKED");
  EXPECT_EQ(body["message"], "Could not authenticate the request: the token has been revoked");
}

TEST(Answer, SessionStoreUnavailableIs503WithRetryAfterAndNoChallenge) {
  auto a = answer_for(make_error(Reason::kSessionStoreUnavailable, "not connected"),
                      {"jwt", true, nullptr});
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(header_of(a, "Retry-After"), "1");
  EXPECT_EQ(header_of(a, "WWW-Authenticate"), "");
  auto body = nlohmann::json::parse(a.body);
  EXPECT_EQ(body["error"], "SESSION_STORE_UNAVAILABLE");
  EXPECT_EQ(body["message"],
            "Could not authenticate the request: the session store is unavailable, try again "
            "shortly");
  auto text = answer_for(make_error(Reason::kSessionStoreUnavailable), {"jwt", false, nullptr});
  EXPECT_EQ(text.body,
            "Could not authenticate the request: the session store is unavailable, try again "
            "shortly");
}

TEST(Answer, AccessDeniedIs403WithTheUser) {
  UserIdentity user{"ACME", "alice"};
  auto a = answer_for(make_error(Reason::kAccessDenied), {"jwt", true, &user});
  EXPECT_EQ(a.status, 403);
  EXPECT_EQ(header_of(a, "Content-Type"), "application/json");
  auto body = nlohmann::json::parse(a.body);
  EXPECT_EQ(body["error"], "ACCESS_DENIED");
  EXPECT_EQ(body["message"], "Access denied: ACME\\alice has no access allocation");
}

TEST(Answer, NoCredentialsAndExpiredSessionAnswerAlike) {
  auto none = answer_for(make_error(Reason::kNoCredentials), {"sales", false, nullptr});
  auto expired = answer_for(make_error(Reason::kSessionExpired), {"sales", false, nullptr});
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(header_of(none, "WWW-Authenticate"), "Bearer realm=\"sales\"");
  EXPECT_EQ(none.body, "Could not authenticate the request: Expected an authentication header");
  EXPECT_EQ(expired.body, none.body);
  EXPECT_EQ(expired.headers, none.headers);
}

TEST(Answer, RepeatedAuthorizationIs400WithoutChallenge) {
  auto a = answer_for(make_error(Reason::kAuthorizationRepeated));
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(header_of(a, "WWW-Authenticate"), "");
  EXPECT_EQ(a.body, "Bad Request: the request has more than one Authorization header");
}

TEST(Answer, GatewayReasonsArePhraseAndMessageOrDetail) {
  struct Case {
    Error error;
    int status;
    std::string body;
  };
  const Case cases[] = {
      {make_error(Reason::kUpstreamUnavailable), 502, "Bad Gateway: no upstream server answered"},
      {make_error(Reason::kUpstreamTimeout), 504,
       "Gateway Timeout: the upstream server did not answer in time"},
      {make_error(Reason::kRequestLineTooLong), 414,
       "URI Too Long: the request line is longer than the gateway accepts"},
      {make_error(Reason::kTooManyHeaders), 431,
       "Request Header Fields Too Large: too many header fields"},
      {make_error(Reason::kRouteNotFound), 404, "Not Found: no virtual proxy serves this path"},
      {make_error(Reason::kBodyTimeout), 408,
       "Request Timeout: the request body came too slowly (limits.body_timeout, "
       "limits.body_min_rate)"},
      {make_error(Reason::kCodingNotImplemented, "unknown transfer coding"), 501,
       "Not Implemented: unknown transfer coding"},
      {make_error(Reason::kBadRequest, "dot segments are not allowed"), 400,
       "Bad Request: dot segments are not allowed"},
  };
  for (const auto& c : cases) {
    auto a = answer_for(c.error);
    EXPECT_EQ(a.status, c.status) << reason_code(c.error.reason);
    EXPECT_EQ(a.body, c.body);
    EXPECT_TRUE(a.headers.empty());
  }
}

TEST(Answer, EveryReasonHasAStatusAndACode) {
  for (int r = 0; r <= static_cast<int>(Reason::kListenFailed); ++r) {
    const auto reason = static_cast<Reason>(r);
    EXPECT_NE(reason_code(reason), "UNKNOWN") << r;
    const int status = http_status(reason);
    EXPECT_TRUE(status >= 400 && status < 600) << r;
    EXPECT_NE(status_phrase(status), "") << r;
  }
}

}  // namespace
}  // namespace jotgate
