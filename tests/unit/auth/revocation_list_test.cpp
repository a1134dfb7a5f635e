// RevocationList alone: by jti, by user with the issue time, terms that end with `until`.
#include <gtest/gtest.h>

#include "auth/revocation_list.h"

namespace jotgate::auth {
namespace {

const UserIdentity kAlice{"ACME", "alice"};
const UserIdentity kBob{"ACME", "bob"};

access::Revocation by_token(std::string jti, std::optional<UnixSeconds> until = {}) {
  access::Revocation r;
  r.jti = std::move(jti);
  r.revoked_at = 100;
  r.until = until;
  return r;
}

access::Revocation by_user(UserIdentity user, UnixSeconds at,
                           std::optional<UnixSeconds> until = {}) {
  access::Revocation r;
  r.kind = access::Revocation::Kind::kUser;
  r.user = std::move(user);
  r.revoked_at = at;
  r.until = until;
  return r;
}

TEST(RevocationList, EmptyRefusesNothing) {
  const RevocationList none;
  EXPECT_FALSE(none.refuses("t", 1, kAlice, 100));
  EXPECT_FALSE(none.refuses("", std::nullopt, kAlice, 100));
  EXPECT_FALSE(none.has_expired(1'000'000));
}

TEST(RevocationList, ByTokenIdForEveryUserUntilItsUntil) {
  const RevocationList list({by_token("t-1", 200), by_token("t-2")});
  EXPECT_TRUE(list.refuses("t-1", 50, kAlice, 199));
  EXPECT_TRUE(list.refuses("t-1", std::nullopt, kBob, 150));
  EXPECT_FALSE(list.refuses("t-1", 50, kAlice, 200));  // the token has expired by then
  EXPECT_TRUE(list.refuses("t-2", 50, kAlice, 1'000'000));
  EXPECT_FALSE(list.refuses("t-3", 50, kAlice, 150));
  EXPECT_FALSE(list.refuses("", 50, kAlice, 150));  // no jti: no jti revocation applies
  EXPECT_FALSE(list.has_expired(199));
  EXPECT_TRUE(list.has_expired(200));
}

TEST(RevocationList, ByUserRefusesTokensIssuedUpToTheRevocationSecond) {
  const RevocationList list({by_user(kAlice, 1000)});
  EXPECT_TRUE(list.refuses("", 999, kAlice, 1001));
  EXPECT_TRUE(list.refuses("", 1000, kAlice, 1001));          // the same second
  EXPECT_TRUE(list.refuses("", std::nullopt, kAlice, 1001));  // no iat: issued before
  EXPECT_FALSE(list.refuses("", 1001, kAlice, 1001));         // issued after
  EXPECT_FALSE(list.refuses("", 999, kBob, 1001));
  EXPECT_FALSE(list.refuses("", 999, UserIdentity{"OTHER", "alice"}, 1001));
}

TEST(RevocationList, ALaterUserRevocationCoversMoreTokens) {
  const RevocationList list({by_user(kAlice, 1000, 1500), by_user(kAlice, 2000)});
  EXPECT_TRUE(list.refuses("", 1999, kAlice, 2001));
  EXPECT_FALSE(list.refuses("", 2001, kAlice, 2001));
  EXPECT_EQ(list.entries().size(), 2u);
}

}  // namespace
}  // namespace jotgate::auth
