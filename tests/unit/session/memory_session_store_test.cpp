// MemorySessionStore: create/lookup/touch, sliding inactivity expiry and max lifetime with pinned
// time, expiry without lookups, removal by user, ids that are never guessable.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "session/memory_session_store.h"

namespace jotgate::session {
namespace {

const UserIdentity kAlice{"ACME", "alice"};
const UserIdentity kBob{"ACME", "bob"};

TEST(MemorySessionStore, CreateThenLookupFindsTheUserAndAttributes) {
  MemorySessionStore store(SessionLimits{60, 0});
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

TEST(MemorySessionStore, SomeSessionsListsLiveSessionsUpToTheLimit) {
  MemorySessionStore store(SessionLimits{60, 0});
  auto alice = store.create({"ACME", "alice"}, {{"X-Team", "red"}}, 1000);
  auto bob = store.create({"ACME", "bob"}, {}, 1000);
  store.create({"ACME", "old"}, {}, 900);  // idle past its 60 s at 1000
  auto listed = store.some_sessions(1000, 10);
  ASSERT_EQ(listed.size(), 2u);
  std::map<std::string, std::string> users;
  for (const auto& [id, view] : listed) users[id] = view.user.qualified();
  EXPECT_EQ(users, (std::map<std::string, std::string>{{alice.cookie_value, "ACME\\alice"},
                                                       {bob.cookie_value, "ACME\\bob"}}));
  EXPECT_EQ(store.some_sessions(1000, 1).size(), 1u);
  EXPECT_EQ(store.sessions_of({"ACME", "bob"}, 1000).size(), 1u);
}

TEST(MemorySessionStore, UnknownForgedAndNearMissIdsAreNotFound) {
  MemorySessionStore store(SessionLimits{});
  auto created = store.create(kAlice, {}, 1000);
  EXPECT_EQ(store.lookup("", 1000).status, LookupStatus::kUnknown);
  EXPECT_EQ(store.lookup("abc", 1000).status, LookupStatus::kUnknown);
  EXPECT_EQ(store.lookup(std::string(43, 'A'), 1000).status, LookupStatus::kUnknown);
  std::string near = created.cookie_value;
  near.back() = near.back() == 'A' ? 'B' : 'A';  // same map key, different id
  EXPECT_EQ(store.lookup(near, 1000).status, LookupStatus::kUnknown);
  EXPECT_EQ(store.lookup(created.cookie_value + "x", 1000).status, LookupStatus::kUnknown);
}

TEST(MemorySessionStore, IdsAreDistinct) {
  MemorySessionStore store(SessionLimits{});
  std::set<std::string> ids;
  for (int i = 0; i < 2000; ++i) ids.insert(store.create(kAlice, {}, 0).cookie_value);
  EXPECT_EQ(ids.size(), 2000u);
  EXPECT_EQ(store.size(), 2000u);
}

TEST(MemorySessionStore, InactivityExpirySlides) {
  MemorySessionStore store(SessionLimits{60, 0});
  auto created = store.create(kAlice, {}, 1000);
  EXPECT_EQ(store.lookup(created.cookie_value, 1059).status, LookupStatus::kFound);
  EXPECT_EQ(store.lookup(created.cookie_value, 1118).status, LookupStatus::kFound);  // slid
  auto expired = store.lookup(created.cookie_value, 1178);
  EXPECT_EQ(expired.status, LookupStatus::kExpired);
  EXPECT_EQ(expired.session.user, kAlice);
  EXPECT_EQ(store.lookup(created.cookie_value, 1178).status, LookupStatus::kUnknown);
  EXPECT_EQ(store.size(), 0u);
}

TEST(MemorySessionStore, TouchKeepsASessionAlive) {
  MemorySessionStore store(SessionLimits{60, 0});
  auto created = store.create(kAlice, {}, 1000);
  EXPECT_TRUE(store.touch(created.handle, 1050));
  EXPECT_TRUE(store.touch(created.handle, 1100));
  EXPECT_EQ(store.expire(1140), 0u);
  EXPECT_EQ(store.lookup(created.cookie_value, 1150).status, LookupStatus::kFound);
  EXPECT_FALSE(store.touch(created.handle, 1300));
  EXPECT_FALSE(store.touch(12345, 1000));
}

TEST(MemorySessionStore, MaxLifetimeEndsEvenAnActiveSession) {
  MemorySessionStore store(SessionLimits{60, 100});
  auto created = store.create(kAlice, {}, 1000);
  EXPECT_EQ(store.lookup(created.cookie_value, 1050).status, LookupStatus::kFound);
  EXPECT_EQ(store.lookup(created.cookie_value, 1099).status, LookupStatus::kFound);
  EXPECT_EQ(store.lookup(created.cookie_value, 1100).status, LookupStatus::kExpired);
}

TEST(MemorySessionStore, ExpireRemovesOnlyWhatIsDueAndReportsUsers) {
  MemorySessionStore store(SessionLimits{60, 0});
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

TEST(MemorySessionStore, RemoveUserEndsAllTheirSessions) {
  MemorySessionStore store(SessionLimits{});
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

TEST(MemorySessionStore, AttributesOfAnySizeComeBackExactly) {
  MemorySessionStore store(SessionLimits{});
  const UserIdentity long_user{std::string(300, 'D'), std::string(70000, 'u')};
  const Attributes attributes{{"X-Empty", ""},
                              {"X-Long", std::string(200, 'v')},
                              {"", "no name"},
                              {"X-Bytes", std::string("a\0b", 3)}};
  auto created = store.create(long_user, attributes, 0);
  auto found = store.lookup(created.cookie_value, 1);
  ASSERT_EQ(found.status, LookupStatus::kFound);
  EXPECT_EQ(found.session.user, long_user);
  EXPECT_EQ(found.session.attributes, attributes);
  auto plain = store.create(UserIdentity{"", ""}, {}, 0);
  found = store.lookup(plain.cookie_value, 1);
  ASSERT_EQ(found.status, LookupStatus::kFound);
  EXPECT_EQ(found.session.user, (UserIdentity{"", ""}));
  EXPECT_TRUE(found.session.attributes.empty());
}

TEST(MemorySessionStore, NonCanonicalAndMalformedCookiesAreNotFound) {
  MemorySessionStore store(SessionLimits{});
  auto created = store.create(kAlice, {}, 0);
  const std::string& cookie = created.cookie_value;
  // The last character carries 4 bits and 2 unused ones: any other spelling is refused.
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const std::size_t last = kAlphabet.find(cookie.back());
  ASSERT_EQ(last % 4, 0u);
  for (std::size_t bits = 1; bits < 4; ++bits) {
    std::string other = cookie;
    other.back() = kAlphabet[last + bits];
    EXPECT_EQ(store.lookup(other, 1).status, LookupStatus::kUnknown);
  }
  for (char bad : {'=', '+', '/', ' ', '\0', '\xff'}) {
    for (std::size_t at : {std::size_t{0}, std::size_t{20}, std::size_t{42}}) {
      std::string other = cookie;
      other[at] = bad;
      EXPECT_EQ(store.lookup(other, 1).status, LookupStatus::kUnknown);
    }
  }
  EXPECT_EQ(store.lookup(cookie.substr(0, 42), 1).status, LookupStatus::kUnknown);
  EXPECT_EQ(store.lookup(cookie, 1).status, LookupStatus::kFound);
}

TEST(MemorySessionStore, ManySessionsSurviveGrowthRemovalAndExpiry) {
  // Enough sessions for every shard's table to grow, then removals that shift probe runs.
  MemorySessionStore store(SessionLimits{100, 0});
  std::vector<SessionStore::Created> sessions;
  for (int i = 0; i < 20000; ++i) {
    sessions.push_back(store.create({"ACME", "user" + std::to_string(i)}, {}, i < 10000 ? 0 : 50));
  }
  EXPECT_EQ(store.size(), 20000u);
  for (std::size_t i = 0; i < sessions.size(); i += 3)
    EXPECT_TRUE(store.remove(sessions[i].handle));
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    auto found = store.lookup(sessions[i].cookie_value, 60);
    if (i % 3 == 0) {
      EXPECT_EQ(found.status, LookupStatus::kUnknown) << i;
    } else {
      ASSERT_EQ(found.status, LookupStatus::kFound) << i;
      EXPECT_EQ(found.session.user.id, "user" + std::to_string(i));
      EXPECT_EQ(found.session.handle, sessions[i].handle);
    }
  }
  // All were touched at 60: none is due at 159, all at 160.
  EXPECT_EQ(store.expire(159), 0u);
  const std::size_t live = store.size();
  std::size_t reported = 0;
  EXPECT_EQ(store.expire(160, [&](const UserIdentity&) { ++reported; }), live);
  EXPECT_EQ(reported, live);
  EXPECT_EQ(store.size(), 0u);
  // The store works as new after shrinking.
  auto again = store.create(kAlice, {}, 200);
  EXPECT_EQ(store.lookup(again.cookie_value, 201).status, LookupStatus::kFound);
}

TEST(MemorySessionStore, RemoveUserAmongManyUsers) {
  MemorySessionStore store(SessionLimits{});
  std::vector<SessionStore::Created> alice;
  std::vector<SessionStore::Created> others;
  for (int i = 0; i < 5000; ++i) {
    others.push_back(store.create({"ACME", "user" + std::to_string(i)}, {}, 0));
    if (i % 50 == 0) alice.push_back(store.create(kAlice, {{"X-Groups", "a"}}, 0));
  }
  // Same id in another directory, and a directory/id split differently, are other users.
  auto other_dir = store.create({"OTHER", "alice"}, {}, 0);
  auto split = store.create({"ACMEa", "lice"}, {}, 0);
  EXPECT_EQ(store.remove_user(kAlice), alice.size());
  for (const auto& s : alice)
    EXPECT_EQ(store.lookup(s.cookie_value, 1).status, LookupStatus::kUnknown);
  for (const auto& s : others)
    ASSERT_EQ(store.lookup(s.cookie_value, 1).status, LookupStatus::kFound);
  EXPECT_EQ(store.lookup(other_dir.cookie_value, 1).status, LookupStatus::kFound);
  EXPECT_EQ(store.lookup(split.cookie_value, 1).status, LookupStatus::kFound);
  EXPECT_EQ(store.remove_user(kAlice), 0u);
}

TEST(MemorySessionStore, RandomOperationsMatchASimpleModel) {
  // The store against a std::map doing the same create/lookup/touch/remove/expire steps.
  struct Model {
    std::string cookie;
    UserIdentity user;
    UnixSeconds created_at;
    UnixSeconds last_seen;
  };
  const SessionLimits limits{40, 300};
  MemorySessionStore store(limits);
  std::map<std::uint64_t, Model> model;
  std::mt19937 rng(7);
  UnixSeconds now = 1000;
  auto due = [&](const Model& m) {
    return std::min(m.last_seen + limits.inactivity_timeout_seconds,
                    m.created_at + limits.max_lifetime_seconds) <= now;
  };
  auto pick = [&]() {
    auto it = model.begin();
    std::advance(it, static_cast<long>(rng() % model.size()));
    return it;
  };
  for (int step = 0; step < 30000; ++step) {
    now += static_cast<UnixSeconds>(rng() % 3 == 0);
    const unsigned op = rng() % 10;
    if (op < 4 || model.empty()) {
      UserIdentity user{"ACME", "u" + std::to_string(rng() % 500)};
      auto created = store.create(user, {}, now);
      ASSERT_FALSE(model.contains(created.handle));
      model[created.handle] = {created.cookie_value, user, now, now};
    } else if (op < 7) {
      auto it = pick();
      auto found = store.lookup(it->second.cookie, now);
      if (due(it->second)) {
        ASSERT_EQ(found.status, LookupStatus::kExpired);
        EXPECT_EQ(found.session.user, it->second.user);
        model.erase(it);
      } else {
        ASSERT_EQ(found.status, LookupStatus::kFound);
        EXPECT_EQ(found.session.user, it->second.user);
        it->second.last_seen = now;
      }
    } else if (op == 7) {
      auto it = pick();
      const bool alive = !due(it->second);
      ASSERT_EQ(store.touch(it->first, now), alive);
      if (alive) it->second.last_seen = now;
    } else if (op == 8) {
      auto it = pick();
      ASSERT_TRUE(store.remove(it->first));
      model.erase(it);
    } else {
      std::size_t expected = 0;
      for (auto it = model.begin(); it != model.end();) {
        if (due(it->second)) {
          it = model.erase(it);
          ++expected;
        } else {
          ++it;
        }
      }
      ASSERT_EQ(store.expire(now), expected);
    }
    ASSERT_EQ(store.size(), model.size());
  }
  for (const auto& [handle, m] : model) {
    EXPECT_EQ(store.lookup(m.cookie, now).status,
              due(m) ? LookupStatus::kExpired : LookupStatus::kFound);
  }
}

TEST(MemorySessionStore, ExportedSessionsComeBackWholeInAnotherStore) {
  MemorySessionStore store(SessionLimits{60, 1000});
  auto alice = store.create(kAlice, {{"X-Groups", "a,b"}, {"X-Email", "a@example.test"}}, 1000);
  auto bob = store.create(kBob, {}, 1010);
  ASSERT_EQ(store.lookup(alice.cookie_value, 1030).status, LookupStatus::kFound);
  auto saved = store.export_sessions(1040);
  ASSERT_EQ(saved.size(), 2u);

  MemorySessionStore restored(SessionLimits{60, 1000});
  auto counts = restored.import_sessions(std::move(saved), 1050);
  EXPECT_EQ(counts.restored, 2u);
  EXPECT_EQ(counts.expired, 0u);
  auto found = restored.lookup(alice.cookie_value, 1050, Refresh::kNo);
  ASSERT_EQ(found.status, LookupStatus::kFound);
  EXPECT_EQ(found.session.user, kAlice);
  EXPECT_EQ(found.session.handle, alice.handle);
  EXPECT_EQ(found.session.attributes,
            (Attributes{{"X-Groups", "a,b"}, {"X-Email", "a@example.test"}}));
  EXPECT_EQ(found.session.expires_at, 1090);  // last use at 1030 + 60
  EXPECT_EQ(restored.lookup(bob.cookie_value, 1050).session.user, kBob);
  // The inactivity timer and the lifetime deadline came along: expiry without lookups sees them.
  EXPECT_EQ(restored.expire(1089), 0u);
  EXPECT_EQ(restored.expire(1091), 1u);  // alice; bob was used at 1050
  EXPECT_EQ(restored.size(), 1u);
}

TEST(MemorySessionStore, ImportDropsSessionsExpiredUnderTheNewLimits) {
  MemorySessionStore store(SessionLimits{600, 0});
  store.create(kAlice, {}, 1000);
  auto recent = store.create(kBob, {}, 1500);
  auto saved = store.export_sessions(1500);
  ASSERT_EQ(saved.size(), 2u);

  // Shorter settings after the restart: alice's last use is too old, bob's is not.
  MemorySessionStore restored(SessionLimits{300, 0});
  auto counts = restored.import_sessions(saved, 1600);
  EXPECT_EQ(counts.restored, 1u);
  EXPECT_EQ(counts.expired, 1u);
  EXPECT_EQ(restored.lookup(recent.cookie_value, 1600).status, LookupStatus::kFound);

  MemorySessionStore lifetime(SessionLimits{0, 550});  // alice was created more than 550 s ago
  counts = lifetime.import_sessions(saved, 1600);
  EXPECT_EQ(counts.restored, 1u);
  EXPECT_EQ(counts.expired, 1u);
  // An id already present is not imported twice.
  EXPECT_EQ(lifetime.import_sessions(saved, 1600).restored, 0u);
  EXPECT_EQ(lifetime.size(), 1u);
}

TEST(MemorySessionStore, ExportSkipsExpiredSessions) {
  MemorySessionStore store(SessionLimits{60, 0});
  store.create(kAlice, {}, 1000);
  store.create(kBob, {}, 1100);
  auto saved = store.export_sessions(1100);
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].user, kBob);
  EXPECT_EQ(saved[0].created_at, 1100);
  EXPECT_EQ(saved[0].last_seen, 1100);
}

TEST(MemorySessionStore, RemoveUserUpToATimeKeepsLaterSessions) {
  MemorySessionStore store(SessionLimits{0, 0});
  auto before = store.create(kAlice, {}, 100);
  auto same_second = store.create(kAlice, {}, 110);
  auto after = store.create(kAlice, {}, 111);
  EXPECT_EQ(store.remove_user(kAlice, 110), 2u);
  EXPECT_EQ(store.lookup(before.cookie_value, 120).status, LookupStatus::kUnknown);
  EXPECT_EQ(store.lookup(same_second.cookie_value, 120).status, LookupStatus::kUnknown);
  EXPECT_EQ(store.lookup(after.cookie_value, 120).status, LookupStatus::kFound);
}

TEST(MemorySessionStore, MaxPerUserEndsTheOldestSessionsOfThatUserOnly) {
  MemorySessionStore store(SessionLimits{.inactivity_timeout_seconds = 0, .max_per_user = 2});
  auto first = store.create(kAlice, {}, 100);
  auto second = store.create(kAlice, {}, 101);
  auto bobs = store.create(kBob, {}, 102);
  EXPECT_EQ(first.evicted, 0u);
  EXPECT_EQ(second.evicted, 0u);
  auto third = store.create(kAlice, {}, 103);
  EXPECT_EQ(third.evicted, 1u);
  EXPECT_EQ(store.lookup(first.cookie_value, 104).status, LookupStatus::kUnknown);
  EXPECT_EQ(store.lookup(second.cookie_value, 104).status, LookupStatus::kFound);
  EXPECT_EQ(store.lookup(third.cookie_value, 104).status, LookupStatus::kFound);
  EXPECT_EQ(store.lookup(bobs.cookie_value, 104).status, LookupStatus::kFound);
  EXPECT_EQ(store.size(), 3u);
}

TEST(MemorySessionStore, MaxPerUserCountsOnlyLiveSessions) {
  MemorySessionStore store(SessionLimits{.inactivity_timeout_seconds = 10, .max_per_user = 2});
  auto ended = store.create(kAlice, {}, 100);
  auto expired = store.create(kAlice, {}, 100);
  auto kept = store.create(kBob, {}, 100);
  ASSERT_TRUE(store.remove(ended.handle));
  EXPECT_EQ(store.lookup(expired.cookie_value, 200).status, LookupStatus::kExpired);
  auto a = store.create(kAlice, {}, 200);
  auto b = store.create(kAlice, {}, 201);
  EXPECT_EQ(a.evicted + b.evicted, 0u);  // the ended and the expired ones no longer count
  EXPECT_EQ(store.lookup(a.cookie_value, 202).status, LookupStatus::kFound);
  store.expire(1000);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.create(kAlice, {}, 1000).evicted, 0u);
  EXPECT_EQ(store.create(kAlice, {}, 1000).evicted, 0u);
  EXPECT_EQ(store.remove_user(kAlice), 2u);
  EXPECT_EQ(store.create(kAlice, {}, 1000).evicted, 0u);
  (void)kept;
}

TEST(MemorySessionStore, MaxPerUserSetByAReloadCountsTheSessionsAlreadyOpen) {
  MemorySessionStore store(SessionLimits{.inactivity_timeout_seconds = 0});
  std::vector<SessionStore::Created> open;
  for (int i = 0; i < 4; ++i) open.push_back(store.create(kAlice, {}, 100 + i));
  EXPECT_EQ(store.create(kBob, {}, 100).evicted, 0u);  // no limit yet
  store.set_limits({.inactivity_timeout_seconds = 0, .max_per_user = 2});
  EXPECT_EQ(store.limits().max_per_user, 2);
  auto newest = store.create(kAlice, {}, 200);
  EXPECT_EQ(newest.evicted, 3u);  // the three oldest of five
  EXPECT_EQ(store.lookup(open[3].cookie_value, 201).status, LookupStatus::kFound);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(store.lookup(open[i].cookie_value, 201).status, LookupStatus::kUnknown) << i;
  }
  store.set_limits({.inactivity_timeout_seconds = 0, .max_per_user = 0});
  EXPECT_EQ(store.create(kAlice, {}, 300).evicted, 0u);
  EXPECT_EQ(store.create(kAlice, {}, 300).evicted, 0u);
}

}  // namespace
}  // namespace jotgate::session
