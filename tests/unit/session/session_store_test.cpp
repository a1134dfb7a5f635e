// SessionStore: create/lookup/touch, sliding inactivity expiry and max lifetime with pinned
// time, expiry without lookups, removal by user, ids that are never guessable.
#include <gtest/gtest.h>

#include <set>

#include "session/session_store.h"

namespace jotgate::session {
namespace {

const UserIdentity kAlice{"ACME", "alice"};
const UserIdentity kBob{"ACME", "bob"};

TEST(SessionStore, CreateThenLookupFindsTheUserAndAttributes) {
  SessionStore store(SessionLimits{60, 0});
  auto created = store.create(kAlice, {{"X-Groups", "a,b"}}, 1000);
  EXPECT_EQ(created.cookie_value.size(), 43u);  // 256 bits, base64url
  EXPECT_NE(created.handle, 0u);
  auto found = store.lookup(created.cookie_value, 1001);
  ASSERT_EQ(found.status, LookupStatus::kFound);
  EXPECT_EQ(found.session.user, kAlice);
  EXPECT_EQ(found.session.handle, created.handle);
  EXPECT_EQ(found.session.attributes.at(0).second, "a,b");
  EXPECT_EQ(store.size(), 1u);
}

TEST(SessionStore, UnknownForgedAndNearMissIdsAreNotFound) {
  SessionStore store(SessionLimits{});
  auto created = store.create(kAlice, {}, 1000);
  EXPECT_EQ(store.lookup("", 1000).status, LookupStatus::kUnknown);
  EXPECT_EQ(store.lookup("abc", 1000).status, LookupStatus::kUnknown);
  EXPECT_EQ(store.lookup(std::string(43, 'A'), 1000).status, LookupStatus::kUnknown);
  std::string near = created.cookie_value;
  near.back() = near.back() == 'A' ? 'B' : 'A';  // same map key, different id
  EXPECT_EQ(store.lookup(near, 1000).status, LookupStatus::kUnknown);
  EXPECT_EQ(store.lookup(created.cookie_value + "x", 1000).status, LookupStatus::kUnknown);
}

TEST(SessionStore, IdsAreDistinct) {
  SessionStore store(SessionLimits{});
  std::set<std::string> ids;
  for (int i = 0; i < 2000; ++i) ids.insert(store.create(kAlice, {}, 0).cookie_value);
  EXPECT_EQ(ids.size(), 2000u);
  EXPECT_EQ(store.size(), 2000u);
}

TEST(SessionStore, InactivityExpirySlides) {
  SessionStore store(SessionLimits{60, 0});
  auto created = store.create(kAlice, {}, 1000);
  EXPECT_EQ(store.lookup(created.cookie_value, 1059).status, LookupStatus::kFound);
  EXPECT_EQ(store.lookup(created.cookie_value, 1118).status, LookupStatus::kFound);  // slid
  auto expired = store.lookup(created.cookie_value, 1178);
  EXPECT_EQ(expired.status, LookupStatus::kExpired);
  EXPECT_EQ(expired.session.user, kAlice);
  EXPECT_EQ(store.lookup(created.cookie_value, 1178).status, LookupStatus::kUnknown);
  EXPECT_EQ(store.size(), 0u);
}

TEST(SessionStore, TouchKeepsASessionAlive) {
  SessionStore store(SessionLimits{60, 0});
  auto created = store.create(kAlice, {}, 1000);
  EXPECT_TRUE(store.touch(created.handle, 1050));
  EXPECT_TRUE(store.touch(created.handle, 1100));
  EXPECT_EQ(store.expire(1140), 0u);
  EXPECT_EQ(store.lookup(created.cookie_value, 1150).status, LookupStatus::kFound);
  EXPECT_FALSE(store.touch(created.handle, 1300));
  EXPECT_FALSE(store.touch(12345, 1000));
}

TEST(SessionStore, MaxLifetimeEndsEvenAnActiveSession) {
  SessionStore store(SessionLimits{60, 100});
  auto created = store.create(kAlice, {}, 1000);
  EXPECT_EQ(store.lookup(created.cookie_value, 1050).status, LookupStatus::kFound);
  EXPECT_EQ(store.lookup(created.cookie_value, 1099).status, LookupStatus::kFound);
  EXPECT_EQ(store.lookup(created.cookie_value, 1100).status, LookupStatus::kExpired);
}

TEST(SessionStore, ExpireRemovesOnlyWhatIsDueAndReportsUsers) {
  SessionStore store(SessionLimits{60, 0});
  auto a = store.create(kAlice, {}, 1000);
  auto b = store.create(kBob, {}, 1030);
  std::vector<UserIdentity> expired;
  EXPECT_EQ(store.expire(1060, [&](const UserIdentity& u) { expired.push_back(u); }), 1u);
  EXPECT_EQ(expired, std::vector<UserIdentity>{kAlice});
  EXPECT_EQ(store.size(), 1u);
  EXPECT_EQ(store.lookup(b.cookie_value, 1061).status, LookupStatus::kFound);
  EXPECT_EQ(store.expire(1120), 0u);  // touched at 1061: due at 1121
  EXPECT_EQ(store.expire(1121), 1u);
  EXPECT_EQ(store.size(), 0u);
  (void)a;
}

TEST(SessionStore, RemoveUserEndsAllTheirSessions) {
  SessionStore store(SessionLimits{});
  auto a1 = store.create(kAlice, {}, 0);
  auto a2 = store.create(kAlice, {}, 0);
  auto b = store.create(kBob, {}, 0);
  EXPECT_EQ(store.remove_user(kAlice), 2u);
  EXPECT_EQ(store.lookup(a1.cookie_value, 1).status, LookupStatus::kUnknown);
  EXPECT_EQ(store.lookup(a2.cookie_value, 1).status, LookupStatus::kUnknown);
  EXPECT_EQ(store.lookup(b.cookie_value, 1).status, LookupStatus::kFound);
  EXPECT_TRUE(store.remove(b.handle));
  EXPECT_FALSE(store.remove(b.handle));
}

}  // namespace
}  // namespace jotgate::session
