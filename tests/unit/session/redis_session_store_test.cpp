// RedisSessionStore and RedisTicketStore against a real redis-server: what one store (node)
// writes another reads; reads and writes never block (kPending, commit); a session is known
// locally for at most kFreshFor; use extends Redis' expiry at most every tenth of the timeout;
// a ticket is taken once across stores; a stopped server is kUnavailable, never kUnknown.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <set>
#include <thread>

#include "../redis/redis_server.h"
#include "auth/redis_ticket_store.h"
#include "redis/redis_client.h"
#include "session/redis_session_store.h"

namespace jotgate::session {
namespace {

using redis::RedisServer;
using namespace std::chrono_literals;

constexpr UnixSeconds kNow = 1'800'000'000;

void wait_for(const std::shared_ptr<Pending>& pending) {
  ASSERT_TRUE(pending);
  std::promise<void> finished;
  pending->when_finished([&] { finished.set_value(); });
  ASSERT_EQ(finished.get_future().wait_for(3s), std::future_status::ready);
}

// A lookup as the gateway makes it: once, then again after the read it started.
LookupResult look_up(SessionStore& store, const std::string& cookie, UnixSeconds now,
                     Refresh refresh = Refresh::kYes) {
  auto found = store.lookup(cookie, now, refresh);
  if (found.status != LookupStatus::kPending) return found;
  wait_for(found.pending);
  return store.lookup(cookie, now, refresh);
}

class RedisStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::installed()) GTEST_SKIP() << RedisServer::kMissing;
    server_.start();
    client_ = connect();
  }
  std::shared_ptr<redis::RedisClient> connect() {
    auto client = redis::RedisClient::create({.url = server_.url()});
    EXPECT_TRUE(client.ok());
    std::shared_ptr<redis::RedisClient> shared(std::move(*client));
    for (int i = 0; i < 200 && !shared->connected(); ++i) std::this_thread::sleep_for(10ms);
    EXPECT_TRUE(shared->connected());
    return shared;
  }
  RedisSessionStore node(SessionLimits limits = {600, 0, 0}) {
    return RedisSessionStore(client_, "t:", "sales", limits);
  }
  std::vector<std::string> keys() {
    auto replies = client_->send_and_wait({{"KEYS", "*"}});
    std::vector<std::string> out;
    for (const auto& key : replies->front().elements) out.push_back(key.text);
    std::sort(out.begin(), out.end());
    return out;
  }
  RedisServer server_;
  std::shared_ptr<redis::RedisClient> client_;
};

TEST_F(RedisStoreTest, ASessionWrittenByOneNodeIsReadByAnother) {
  RedisSessionStore a(client_, "t:", "sales", {600, 0, 0});
  RedisSessionStore b(connect(), "t:", "sales", {600, 0, 0});
  auto created = a.create({"ACME", "alice"}, {{"X-Groups", "g1,g2"}}, kNow);
  ASSERT_FALSE(created.unavailable);
  wait_for(created.commit);
  EXPECT_TRUE(created.commit->ok());
  // Node a knows it at once; node b reads it (kPending first: nothing blocks).
  auto here = a.lookup(created.cookie_value, kNow);
  ASSERT_EQ(here.status, LookupStatus::kFound);
  auto first = b.lookup(created.cookie_value, kNow);
  ASSERT_EQ(first.status, LookupStatus::kPending);
  wait_for(first.pending);
  auto there = b.lookup(created.cookie_value, kNow);
  ASSERT_EQ(there.status, LookupStatus::kFound);
  EXPECT_EQ(there.session.user, (UserIdentity{"ACME", "alice"}));
  EXPECT_EQ(there.session.attributes, (Attributes{{"X-Groups", "g1,g2"}}));
  EXPECT_NE(there.session.handle, 0u);
  // No key name holds the id.
  for (const std::string& key : keys()) {
    EXPECT_EQ(key.find(created.cookie_value), std::string::npos) << key;
  }
  EXPECT_EQ(keys().size(), 3u);  // the session, the user's index, the virtual proxy's index
}

TEST_F(RedisStoreTest, UnknownForgedAndOtherVirtualProxiesSessionsAreNotFound) {
  RedisSessionStore sales = node();
  RedisSessionStore other(client_, "t:", "other", {600, 0, 0});
  auto created = sales.create({"ACME", "alice"}, {}, kNow);
  wait_for(created.commit);
  EXPECT_EQ(look_up(other, created.cookie_value, kNow).status, LookupStatus::kUnknown);
  EXPECT_EQ(look_up(sales, std::string(43, 'A'), kNow).status, LookupStatus::kUnknown);
  EXPECT_EQ(sales.lookup("not-a-cookie", kNow).status, LookupStatus::kUnknown);
  EXPECT_EQ(sales.lookup(created.cookie_value + "A", kNow).status, LookupStatus::kUnknown);
}

TEST_F(RedisStoreTest, ARemovalOnOneNodeIsSeenByAnotherWithinASecond) {
  RedisSessionStore a = node();
  RedisSessionStore b = node();
  auto created = a.create({"ACME", "alice"}, {}, kNow);
  wait_for(created.commit);
  auto there = look_up(b, created.cookie_value, kNow);
  ASSERT_EQ(there.status, LookupStatus::kFound);
  ASSERT_TRUE(a.remove(created.handle));
  EXPECT_EQ(a.lookup(created.cookie_value, kNow).status, LookupStatus::kUnknown);  // at once
  const auto removed_at = std::chrono::steady_clock::now();
  while (look_up(b, created.cookie_value, kNow).status == LookupStatus::kFound) {
    ASSERT_LT(std::chrono::steady_clock::now() - removed_at, RedisSessionStore::kFreshFor + 300ms);
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(look_up(b, created.cookie_value, kNow).status, LookupStatus::kUnknown);
  EXPECT_FALSE(b.touch(there.session.handle, kNow));
}

TEST_F(RedisStoreTest, UseExtendsTheExpiryAtMostEveryTenthOfTheTimeout) {
  RedisSessionStore store = node({600, 0, 0});
  auto created = store.create({"ACME", "alice"}, {}, kNow);
  wait_for(created.commit);
  const std::string key = keys().front();  // "t:session:sales:<digest>" sorts first
  ASSERT_EQ(key.rfind("t:session:sales:", 0), 0u) << key;
  auto ttl = [&] { return client_->send_and_wait({{"TTL", key}})->front().integer; };
  std::this_thread::sleep_for(1100ms);
  EXPECT_EQ(ttl(), 599);
  // Read again (a second passed): Redis' expiry is what this node now knows. 50 s later on the
  // gateway's clock the expiry moved by less than a tenth (60 s): no write.
  ASSERT_EQ(look_up(store, created.cookie_value, kNow).status, LookupStatus::kFound);
  ASSERT_EQ(store.lookup(created.cookie_value, kNow + 50).status, LookupStatus::kFound);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(ttl(), 599);
  // 62 s: Redis is told the session has 600 s from now again.
  ASSERT_EQ(store.lookup(created.cookie_value, kNow + 62).status, LookupStatus::kFound);
  for (int i = 0; i < 100 && ttl() < 600; ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(ttl(), 600);
}

TEST_F(RedisStoreTest, MaxLifetimeCapsTheExpiryAndExpiredSessionsAreGone) {
  RedisSessionStore store = node({600, 100, 0});
  auto created = store.create({"ACME", "alice"}, {}, kNow);
  wait_for(created.commit);
  EXPECT_LE(client_->send_and_wait({{"TTL", keys().front()}})->front().integer, 100);
  auto expired = store.lookup(created.cookie_value, kNow + 100);
  EXPECT_EQ(expired.status, LookupStatus::kExpired);
  EXPECT_EQ(expired.session.user, (UserIdentity{"ACME", "alice"}));
}

TEST_F(RedisStoreTest, UserSessionsAreListedAndRemovedOnEveryNode) {
  RedisSessionStore a = node();
  RedisSessionStore b = node();
  const UnixSeconds now = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  auto one = a.create({"ACME", "alice"}, {}, now);
  auto two = b.create({"ACME", "alice"}, {{"X-Team", "red"}}, now);
  auto bob = a.create({"ACME", "bob"}, {}, now);
  for (auto* c : {&one, &two, &bob}) wait_for(c->commit);
  auto listed = b.sessions_of({"ACME", "alice"}, now);
  ASSERT_EQ(listed.size(), 2u);
  std::set<std::string> ids{listed[0].first, listed[1].first};
  EXPECT_EQ(ids, (std::set<std::string>{one.cookie_value, two.cookie_value}));
  EXPECT_EQ(b.remove_user({"ACME", "alice"}), 2u);
  EXPECT_EQ(look_up(a, two.cookie_value, now).status, LookupStatus::kUnknown);
  EXPECT_EQ(look_up(b, one.cookie_value, now).status, LookupStatus::kUnknown);
  EXPECT_EQ(look_up(b, bob.cookie_value, now).status, LookupStatus::kFound);
}

TEST_F(RedisStoreTest, SomeSessionsListsTheVirtualProxysLiveSessionsUpToTheLimit) {
  RedisSessionStore a = node();
  RedisSessionStore other_vp(client_, "t:", "other", {600, 0, 0});
  const UnixSeconds now = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  auto alice = a.create({"ACME", "alice"}, {{"X-Team", "red"}}, now);
  auto bob = node().create({"ACME", "bob"}, {}, now);
  auto elsewhere = other_vp.create({"ACME", "carol"}, {}, now);
  for (auto* c : {&alice, &bob, &elsewhere}) wait_for(c->commit);
  auto listed = a.some_sessions(now, 10);
  ASSERT_EQ(listed.size(), 2u);
  std::map<std::string, std::string> users;
  for (const auto& [id, view] : listed) users[id] = view.user.qualified();
  EXPECT_EQ(users, (std::map<std::string, std::string>{{alice.cookie_value, "ACME\\alice"},
                                                       {bob.cookie_value, "ACME\\bob"}}));
  EXPECT_EQ(a.some_sessions(now, 1).size(), 1u);
}

TEST_F(RedisStoreTest, AStoppedServerIsUnavailableNeverUnknownAndRecovers) {
  RedisSessionStore store = node();
  auto created = store.create({"ACME", "alice"}, {}, kNow);
  wait_for(created.commit);
  server_.stop();
  for (int i = 0; i < 200 && client_->connected(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_FALSE(client_->connected());
  RedisSessionStore fresh = node();  // knows nothing: must ask Redis
  EXPECT_EQ(fresh.lookup(created.cookie_value, kNow).status, LookupStatus::kUnavailable);
  EXPECT_TRUE(fresh.create({"ACME", "bob"}, {}, kNow).unavailable);
  server_.restart();  // without persistence: the session is gone, the store works again
  for (int i = 0; i < 600 && !client_->connected(); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(client_->connected());
  auto again = fresh.create({"ACME", "bob"}, {}, kNow);
  wait_for(again.commit);
  EXPECT_TRUE(again.commit->ok());
  RedisSessionStore other = node();
  EXPECT_EQ(look_up(other, again.cookie_value, kNow).status, LookupStatus::kFound);
}

TEST_F(RedisStoreTest, ATicketIsTakenOnceAcrossNodes) {
  auth::RedisTicketStore a(client_, "t:", "sales");
  auth::RedisTicketStore b(connect(), "t:", "sales");
  auto ticket = a.issue({{"ACME", "alice"}, {{"X-Team", "red"}}, kNow + 60}, kNow);
  ASSERT_TRUE(ticket.ok());
  auto first = b.take(*ticket, kNow);
  ASSERT_EQ(first.status, auth::Redemption::Status::kPending);
  // A second request on node b for the same ticket waits on the same GETDEL; when its reply
  // came in already (the client's thread may be that quick), it finds the grant at once.
  auto taken = b.take(*ticket, kNow);
  if (taken.status == auth::Redemption::Status::kPending) {
    EXPECT_EQ(taken.pending, first.pending);
    wait_for(first.pending);
    taken = b.take(*ticket, kNow);
  }
  ASSERT_EQ(taken.status, auth::Redemption::Status::kRedeemed);
  EXPECT_EQ(taken.grant.user, (UserIdentity{"ACME", "alice"}));
  EXPECT_EQ(taken.grant.attributes,
            (std::vector<std::pair<std::string, std::string>>{{"X-Team", "red"}}));
  EXPECT_EQ(b.take(*ticket, kNow).status, auth::Redemption::Status::kInvalid);
  auto on_a = a.take(*ticket, kNow);
  ASSERT_EQ(on_a.status, auth::Redemption::Status::kPending);
  wait_for(on_a.pending);
  EXPECT_EQ(a.take(*ticket, kNow).status, auth::Redemption::Status::kInvalid);
}

TEST_F(RedisStoreTest, AnExpiredTicketIsInvalid) {
  auth::RedisTicketStore store(client_, "t:", "sales");
  auto ticket = store.issue({{"ACME", "alice"}, {}, kNow + 60}, kNow);
  ASSERT_TRUE(ticket.ok());
  auto pending = store.take(*ticket, kNow + 60);
  wait_for(pending.pending);
  EXPECT_EQ(store.take(*ticket, kNow + 60).status, auth::Redemption::Status::kInvalid);
}

}  // namespace
}  // namespace jotgate::session
