// AnonymousAuthenticator: its three modes, and the users it makes (unpredictable, in the
// ANONYMOUS directory that no other credential may claim).
#include <gtest/gtest.h>

#include <set>

#include "auth/anonymous_authenticator.h"

namespace jotgate::auth {
namespace {

using config::AnonymousMode;

TEST(AnonymousAuthenticator, NoneMakesNobodyAnonymous) {
  AnonymousAuthenticator none(AnonymousMode::kNone);
  auto refused = none.authenticate();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, Reason::kNoCredentials);
  EXPECT_FALSE(none.always());
  EXPECT_FALSE(none.admits_anonymous());
}

TEST(AnonymousAuthenticator, AllowAndAlwaysMakeANewUserEachTime) {
  for (AnonymousMode mode : {AnonymousMode::kAllow, AnonymousMode::kAlways}) {
    AnonymousAuthenticator anonymous(mode);
    EXPECT_EQ(anonymous.always(), mode == AnonymousMode::kAlways);
    EXPECT_TRUE(anonymous.admits_anonymous());
    std::set<std::string> ids;
    for (int i = 0; i < 100; ++i) {
      auto proven = anonymous.authenticate();
      ASSERT_TRUE(proven.ok());
      EXPECT_EQ(proven->user.directory, "ANONYMOUS");
      EXPECT_TRUE(AnonymousAuthenticator::is_anonymous(proven->user));
      EXPECT_TRUE(proven->attributes.empty());
      const std::string& id = proven->user.id;
      ASSERT_EQ(id.size(), 5u + 24u) << id;
      EXPECT_TRUE(id.starts_with("anon-")) << id;
      EXPECT_EQ(id.find_first_not_of("0123456789abcdef", 5), std::string::npos) << id;
      ids.insert(id);
    }
    EXPECT_EQ(ids.size(), 100u);
  }
}

TEST(AnonymousAuthenticator, OnlyTheAnonymousDirectoryIsAnonymous) {
  EXPECT_FALSE(AnonymousAuthenticator::is_anonymous({"ACME", "anon-1"}));
  EXPECT_FALSE(AnonymousAuthenticator::is_anonymous({"anonymous", "x"}));
  EXPECT_TRUE(AnonymousAuthenticator::is_anonymous({"ANONYMOUS", "x"}));
}

}  // namespace
}  // namespace jotgate::auth
