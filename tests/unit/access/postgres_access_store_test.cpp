// PostgresAccessStore against a real PostgreSQL 15 started for these tests (PostgresServer):
// migrations from empty, again and from two nodes at once; grants, seats raced for by 8
// connections, revocations; changes seen by another node within a second (and last use not);
// the server stopped and started again; a password from password_file.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "access/postgres_access_store.h"
#include "auth/access_cache.h"
#include "postgres/connection.h"
#include "postgres_server.h"

namespace jotgate::access {
namespace {

using namespace std::chrono_literals;
using jotgate::testing::PostgresServer;

class PostgresAccessStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new PostgresServer(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    if (!server_->available()) GTEST_SKIP() << server_->why_unavailable();
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    url_ = server_->create_database(name);
  }

  std::unique_ptr<PostgresAccessStore> open() {
    auto store = PostgresAccessStore::open({url_, ""});
    EXPECT_TRUE(store.ok()) << store.error().message();
    return store ? std::move(*store) : nullptr;
  }
  // The rows of the migrations table, "version" each.
  std::vector<std::int64_t> migrations() {
    auto db = postgres::Connection::connect({url_, ""});
    EXPECT_TRUE(db.ok()) << db.error().message();
    auto rows = (*db)->exec("SELECT version FROM jotgate_schema_migrations ORDER BY version");
    EXPECT_TRUE(rows.ok()) << rows.error().message();
    std::vector<std::int64_t> out;
    for (int r = 0; rows && r < rows->size(); ++r) out.push_back(rows->integer(r, 0));
    return out;
  }
  // Waits up to `limit` for data_version() to differ from `before`.
  static bool changes_within(AccessStore& store, std::int64_t before,
                             std::chrono::milliseconds limit) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (*store.data_version() != before) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  static PostgresServer* server_;
  std::string url_;
};

PostgresServer* PostgresAccessStoreTest::server_ = nullptr;

TEST_F(PostgresAccessStoreTest, MigratesAnEmptyDatabaseOnceAndReopensWithoutChange) {
  {
    auto store = open();
    ASSERT_TRUE(store);
    EXPECT_EQ(migrations(), (std::vector<std::int64_t>{1, 2}));
    ASSERT_TRUE(*store->grant({"ACME", "alice"}, 100));
  }
  auto again = open();
  ASSERT_TRUE(again);
  EXPECT_EQ(migrations(), (std::vector<std::int64_t>{1, 2}));
  auto list = again->list();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);  // the data survived the second open
  EXPECT_EQ(list->at(0).user.qualified(), "ACME\\alice");
}

TEST_F(PostgresAccessStoreTest, TwoNodesStartingAtOnceMigrateOnce) {
  std::vector<std::unique_ptr<PostgresAccessStore>> stores(4);
  std::vector<std::string> errors(stores.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < stores.size(); ++i) {
    threads.emplace_back([&, i] {
      auto store = PostgresAccessStore::open({url_, ""});
      if (store) {
        stores[i] = std::move(*store);
      } else {
        errors[i] = store.error().message();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < stores.size(); ++i) EXPECT_TRUE(stores[i]) << errors[i];
  EXPECT_EQ(migrations(), (std::vector<std::int64_t>{1, 2}));
}

TEST_F(PostgresAccessStoreTest, GrantListRevoke) {
  auto store = open();
  ASSERT_TRUE(store);
  EXPECT_TRUE(*store->grant({"ACME", "bob"}, 100));
  EXPECT_TRUE(*store->grant({"ACME", "alice"}, 200));
  EXPECT_FALSE(*store->grant({"ACME", "alice"}, 300));  // already allocated
  ASSERT_TRUE(store->record_last_use({{{"ACME", "alice"}, 500}, {{"ACME", "nobody"}, 500}}).ok());
  ASSERT_TRUE(store->record_last_use({{{"ACME", "alice"}, 400}}).ok());  // never goes back
  auto list = store->list();
  ASSERT_TRUE(list.ok()) << list.error().message();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(list->at(0).user.qualified(), "ACME\\alice");
  EXPECT_EQ(list->at(0).created_at, 200);
  EXPECT_EQ(list->at(0).last_used_at, 500);
  EXPECT_FALSE(list->at(0).by_seat);
  EXPECT_EQ(list->at(1).user.qualified(), "ACME\\bob");
  EXPECT_FALSE(list->at(1).last_used_at);
  EXPECT_TRUE(*store->revoke({"ACME", "bob"}));
  EXPECT_FALSE(*store->revoke({"ACME", "bob"}));
  EXPECT_EQ(store->list()->size(), 1u);
}

TEST_F(PostgresAccessStoreTest, EightConnectionsRacingForThreeSeatsGetExactlyThree) {
  auto first = open();  // migrated before the race
  ASSERT_TRUE(first);
  constexpr int kThreads = 8;
  constexpr int kUsers = 50;
  std::vector<std::unique_ptr<PostgresAccessStore>> stores;
  for (int t = 0; t < kThreads; ++t) stores.push_back(open());
  std::atomic<int> granted{0};
  std::atomic<int> failed{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      for (int u = 0; u < kUsers; ++u) {
        // Every thread asks for every user, in a different order.
        const int user = (u * 7 + t * 13) % kUsers;
        auto taken = stores[t]->take_seat({"ACME", "u" + std::to_string(user)}, 3, 100);
        if (!taken) ++failed;
        if (taken && *taken) ++granted;
      }
    });
  }
  go.store(true);
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(granted.load(), 3);
  EXPECT_EQ(*first->seats_used(), 3);
  auto list = first->list();
  ASSERT_EQ(list->size(), 3u);
  for (const Allocation& a : *list) EXPECT_TRUE(a.by_seat);
  // A seat is handed out once: revoked, the user does not get another.
  EXPECT_TRUE(*first->revoke(list->at(0).user));
  EXPECT_FALSE(*first->take_seat(list->at(0).user, 10, 200));
  EXPECT_EQ(*first->seats_used(), 3);
}

TEST_F(PostgresAccessStoreTest, RevocationsAddListLiftPrune) {
  auto store = open();
  ASSERT_TRUE(store);
  Revocation by_jti;
  by_jti.jti = "5f1c2a";
  by_jti.revoked_at = 100;
  by_jti.until = 150;
  Revocation by_user;
  by_user.kind = Revocation::Kind::kUser;
  by_user.user = {"ACME", "alice"};
  by_user.revoked_at = 120;
  auto first = store->add_revocation(by_jti);
  auto second = store->add_revocation(by_user);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_LT(first->id, second->id);
  auto all = store->revocations();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(all->at(0).kind, Revocation::Kind::kTokenId);
  EXPECT_EQ(all->at(0).jti, "5f1c2a");
  EXPECT_EQ(all->at(0).until, 150);
  EXPECT_EQ(all->at(1).kind, Revocation::Kind::kUser);
  EXPECT_EQ(all->at(1).user.qualified(), "ACME\\alice");
  EXPECT_EQ(all->at(1).revoked_at, 120);
  EXPECT_FALSE(all->at(1).until);
  EXPECT_EQ(*store->prune_revocations(149), 0);
  EXPECT_EQ(*store->prune_revocations(150), 1);
  EXPECT_TRUE(*store->lift_revocation(second->id));
  EXPECT_FALSE(*store->lift_revocation(second->id));
  EXPECT_TRUE(store->revocations()->empty());
}

TEST_F(PostgresAccessStoreTest, AnotherNodesChangeIsSeenWithinASecondAndLastUseIsNot) {
  auto node_a = open();
  auto node_b = open();
  ASSERT_TRUE(node_a && node_b);
  std::atomic<int> wakes{0};
  node_b->on_change([&] { ++wakes; });
  std::int64_t before = *node_b->data_version();
  ASSERT_TRUE(*node_a->grant({"ACME", "alice"}, 100));
  EXPECT_TRUE(changes_within(*node_b, before, 1000ms)) << "a grant on node A";
  EXPECT_GE(wakes.load(), 1);

  before = *node_b->data_version();
  ASSERT_TRUE(node_a->record_last_use({{{"ACME", "alice"}, 200}}).ok());
  EXPECT_FALSE(changes_within(*node_b, before, 1500ms)) << "last use must not wake other nodes";

  Revocation revocation;
  revocation.jti = "abc";
  revocation.revoked_at = 100;
  ASSERT_TRUE(node_a->add_revocation(revocation).ok());
  EXPECT_TRUE(changes_within(*node_b, before, 1000ms)) << "a revocation on node A";
  before = *node_b->data_version();
  ASSERT_TRUE(*node_a->take_seat({"ACME", "carol"}, 5, 100));
  EXPECT_TRUE(changes_within(*node_b, before, 1000ms)) << "a seat taken on node A";
  before = *node_b->data_version();
  ASSERT_TRUE(*node_a->revoke({"ACME", "alice"}));
  EXPECT_TRUE(changes_within(*node_b, before, 1000ms)) << "an allocation revoked on node A";
}

TEST_F(PostgresAccessStoreTest, VirtualProxiesAreSharedAndAnotherNodeIsWokenWithinASecond) {
  auto node_a = open();
  auto node_b = open();
  ASSERT_TRUE(node_a && node_b);
  std::atomic<int> access_wakes{0};
  std::atomic<int> proxy_wakes{0};
  node_b->on_change([&] { ++access_wakes; });
  node_b->on_virtual_proxies_change([&] { ++proxy_wakes; });
  const auto woken_within = [&](std::chrono::milliseconds limit, int wakes) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until && proxy_wakes.load() < wakes) {
      std::this_thread::sleep_for(10ms);
    }
    return proxy_wakes.load() >= wakes;
  };

  const StoredVirtualProxy sales{"sales", R"({"name":"Sales"})", 100, "token"};
  ASSERT_TRUE(*node_a->create_virtual_proxy(sales));
  EXPECT_TRUE(woken_within(1000ms, 1)) << "a virtual proxy created on node A";
  EXPECT_EQ(*node_b->list_virtual_proxies(), std::vector<StoredVirtualProxy>{sales});
  EXPECT_FALSE(*node_b->create_virtual_proxy({"sales", "{}", 101, "other"}));

  ASSERT_TRUE(*node_a->replace_virtual_proxy({"sales", R"({"name":"S"})", 200, "cn-admin"}));
  EXPECT_TRUE(woken_within(1000ms, 2)) << "a virtual proxy replaced on node A";
  EXPECT_EQ(*node_b->list_virtual_proxies(),
            (std::vector<StoredVirtualProxy>{{"sales", R"({"name":"S"})", 200, "cn-admin"}}));
  EXPECT_FALSE(*node_a->replace_virtual_proxy({"nobody", "{}", 200, "token"}));

  ASSERT_TRUE(*node_a->remove_virtual_proxy("sales"));
  EXPECT_TRUE(woken_within(1000ms, 3)) << "a virtual proxy removed on node A";
  EXPECT_TRUE(node_b->list_virtual_proxies()->empty());
  EXPECT_FALSE(*node_a->remove_virtual_proxy("sales"));
  // The access data has its own channel: no virtual proxy change woke it.
  EXPECT_EQ(access_wakes.load(), 0);
  const int before = proxy_wakes.load();
  ASSERT_TRUE(*node_a->grant({"ACME", "alice"}, 100));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(proxy_wakes.load(), before) << "an access change is not a virtual proxy change";
}

TEST_F(PostgresAccessStoreTest, PasswordFromThePasswordFileIsUsedAndNeverShown) {
  const std::string database = "passwordfromthepasswordfileisusedandnevershown";
  auto store =
      PostgresAccessStore::open({server_->password_url(database), PostgresServer::kPassword});
  ASSERT_TRUE(store.ok()) << store.error().message();
  EXPECT_TRUE(*(*store)->grant({"ACME", "alice"}, 1));
  auto refused = PostgresAccessStore::open({server_->password_url(database), "wrong-secret"});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().reason, Reason::kDatabaseUnavailable);
  const std::string message = refused.error().message();
  EXPECT_TRUE(message.starts_with("database unavailable: ")) << message;
  EXPECT_NE(message.find("password authentication failed"), std::string::npos) << message;
  EXPECT_EQ(message.find("wrong-secret"), std::string::npos) << message;
}

// The gateway's cache never asks PostgreSQL for a seat on the request thread: check() answers
// kPending, seat_wait() calls back once the seat was handed out, and check() then decides.
TEST_F(PostgresAccessStoreTest, GatewayAsksForASeatWithoutWaitingOnTheRequestThread) {
  config::AccessSettings settings;
  settings.auto_allocate_seats = 1;
  config::DatabaseSettings database;
  database.type = config::DatabaseType::kPostgresql;
  database.url = url_;
  auto cache = auth::AccessCache::create(settings, database, "/nonexistent", 100);
  ASSERT_TRUE(cache.ok()) << cache.error().message();
  using Admit = auth::AccessCache::Admit;
  const UserIdentity alice{"ACME", "alice"};
  ASSERT_EQ((*cache)->check(alice, 100), Admit::kPending);
  std::promise<void> answered;
  (*cache)->seat_wait(alice)([&] { answered.set_value(); });
  ASSERT_EQ(answered.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_EQ((*cache)->check(alice, 101), Admit::kAllowed);
  // The one seat is gone: bob is asked for once, then refused without waiting again.
  const UserIdentity bob{"ACME", "bob"};
  if ((*cache)->check(bob, 102) == Admit::kPending) {
    std::promise<void> done;
    (*cache)->seat_wait(bob)([&] { done.set_value(); });
    ASSERT_EQ(done.get_future().wait_for(5s), std::future_status::ready);
  }
  EXPECT_EQ((*cache)->check(bob, 103), Admit::kDenied);
  auto store = open();
  EXPECT_EQ(*store->seats_used(), 1);
}

// Last: stops and starts the suite's server.
TEST_F(PostgresAccessStoreTest, ZServerStoppedCallsFailClearlyAndWorkAgainOnceItIsBack) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(*store->grant({"ACME", "alice"}, 1));
  const std::int64_t before = *store->data_version();
  ASSERT_TRUE(server_->stop());
  auto failed = store->grant({"ACME", "bob"}, 2);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().reason, Reason::kDatabaseUnavailable);
  EXPECT_TRUE(failed.error().message().starts_with("database unavailable: "))
      << failed.error().message();
  auto again = store->list();  // within the backoff: at once, the same clear error
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.error().message().starts_with("database unavailable: "))
      << again.error().message();
  EXPECT_TRUE(store->unreachable().starts_with("database unavailable: ")) << store->unreachable();
  ASSERT_TRUE(server_->start());
  Result<bool> granted = make_error(Reason::kDatabaseUnavailable);
  for (int i = 0; i < 100 && !granted.ok(); ++i) {
    std::this_thread::sleep_for(100ms);
    granted = store->grant({"ACME", "bob"}, 2);
  }
  ASSERT_TRUE(granted.ok()) << granted.error().message();
  EXPECT_TRUE(*granted);
  EXPECT_EQ(store->list()->size(), 2u);
  // The listener is back too: the version moved (changes may have been missed meanwhile).
  EXPECT_TRUE(changes_within(*store, before, 10000ms));
  for (int i = 0; i < 100 && !store->unreachable().empty(); ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(store->unreachable(), "");
}

}  // namespace
}  // namespace jotgate::access
