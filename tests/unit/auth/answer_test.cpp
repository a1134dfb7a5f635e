// The outcome -> HTTP mapping: statuses, headers that cannot be broken out of, JSON bodies.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "auth/answer.h"

namespace jotgate::auth {
namespace {

TEST(Answer, WantsJson) {
  EXPECT_FALSE(wants_json(std::nullopt));
  EXPECT_FALSE(wants_json("text/html"));
  EXPECT_TRUE(wants_json("application/json"));
  EXPECT_TRUE(wants_json("text/html, Application/JSON; q=0.5"));
  EXPECT_FALSE(wants_json("application/json;q=0"));
  EXPECT_FALSE(wants_json("application/jsonx"));
}

TEST(Answer, InvalidTokenDescriptionHasNoQuotes) {
  auto d = refuse(Reason::kAlgMissing, {"jwt", false, nullptr});  // its message has quotes
  ASSERT_EQ(d.response_headers.at(0).first, "WWW-Authenticate");
  const std::string& www = d.response_headers[0].second;
  const std::string inner = www.substr(www.find("error_description=\"") + 19);
  EXPECT_EQ(inner.find('"'), inner.size() - 1) << www;
  EXPECT_EQ(www.find('\r'), std::string::npos);
}

TEST(Answer, AccessDeniedIs403WithTheUser) {
  UserIdentity user{"ACME", "alice"};
  auto d = refuse(Reason::kAccessDenied, {"jwt", true, &user});
  EXPECT_EQ(d.status, 403);
  auto body = nlohmann::json::parse(d.body);
  EXPECT_EQ(body["error"], "ACCESS_DENIED");
  EXPECT_EQ(body["message"], "Access denied: ACME\\alice has no access allocation");
}

}  // namespace
}  // namespace jotgate::auth
