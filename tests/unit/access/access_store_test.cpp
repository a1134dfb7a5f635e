// AccessStore on a real SQLite file in a temporary folder: grant, revoke, seats, last use,
// persistence across connections, and data_version seeing another connection's commits.
#include <gtest/gtest.h>

#include <filesystem>

#include "access/access_store.h"
#include "access/virtual_proxy_store.h"

namespace jotgate::access {
namespace {

namespace fs = std::filesystem;
const UserIdentity kAlice{"ACME", "alice"};
const UserIdentity kBob{"ACME", "bob"};

class AccessStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("jotgate-access-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<AccessStore> open() {
    auto store = AccessStore::open((dir_ / "data").string());
    EXPECT_TRUE(store.ok()) << store.error().message();
    return std::move(*store);
  }
  fs::path dir_;
};

TEST_F(AccessStoreTest, GrantListRevoke) {
  auto store = open();
  EXPECT_TRUE(fs::exists(dir_ / "data" / "jotgate.db"));
  EXPECT_TRUE(*store->grant(kAlice, 100));
  EXPECT_FALSE(*store->grant(kAlice, 200));  // already there
  auto list = store->list();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].user, kAlice);
  EXPECT_EQ((*list)[0].created_at, 100);
  EXPECT_FALSE((*list)[0].last_used_at);
  EXPECT_TRUE(*store->revoke(kAlice));
  EXPECT_FALSE(*store->revoke(kAlice));
  EXPECT_TRUE(store->list()->empty());
}

TEST_F(AccessStoreTest, PersistsAcrossReopen) {
  {
    auto store = open();
    ASSERT_TRUE(*store->grant(kAlice, 100));
    ASSERT_TRUE(store->record_last_use({{kAlice, 150}}).ok());
  }
  auto store = open();
  auto list = store->list();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].last_used_at, std::optional<UnixSeconds>(150));
  ASSERT_TRUE(store->record_last_use({{kAlice, 120}, {kBob, 1}}).ok());  // never goes back
  EXPECT_EQ((*store->list())[0].last_used_at, std::optional<UnixSeconds>(150));
}

TEST_F(AccessStoreTest, SeatsAreHandedOutOncePerUserUpToTheLimit) {
  auto store = open();
  EXPECT_TRUE(*store->take_seat(kAlice, 1, 100));
  EXPECT_FALSE(*store->take_seat(kBob, 1, 100));  // used up
  EXPECT_EQ(*store->seats_used(), 1);
  EXPECT_TRUE((*store->list())[0].by_seat);
  // A revoked seat holder does not get a seat back, and the seat stays counted.
  EXPECT_TRUE(*store->revoke(kAlice));
  EXPECT_FALSE(*store->take_seat(kAlice, 5, 100));
  EXPECT_EQ(*store->seats_used(), 1);
  EXPECT_TRUE(*store->take_seat(kBob, 2, 100));
  auto reopened = open();
  EXPECT_EQ(*reopened->seats_used(), 2);
}

TEST_F(AccessStoreTest, DataVersionChangesWithAnotherConnectionsCommit) {
  auto gateway = open();
  auto cli = open();
  auto before = gateway->data_version();
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(*gateway->grant(kBob, 1));  // own commits do not count
  EXPECT_EQ(*gateway->data_version(), *before);
  ASSERT_TRUE(*cli->grant(kAlice, 1));
  EXPECT_NE(*gateway->data_version(), *before);
}

TEST_F(AccessStoreTest, RevocationsAddListLiftPrune) {
  auto store = open();
  Revocation by_token;
  by_token.jti = "token-1";
  by_token.revoked_at = 100;
  by_token.until = 500;
  auto first = store->add_revocation(by_token);
  ASSERT_TRUE(first.ok()) << first.error().message();
  Revocation by_user;
  by_user.kind = Revocation::Kind::kUser;
  by_user.user = kAlice;
  by_user.revoked_at = 110;
  auto second = store->add_revocation(by_user);
  ASSERT_TRUE(second.ok());
  EXPECT_GT(second->id, first->id);

  auto list = store->revocations();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, first->id);
  EXPECT_EQ((*list)[0].kind, Revocation::Kind::kTokenId);
  EXPECT_EQ((*list)[0].jti, "token-1");
  EXPECT_EQ((*list)[0].until, std::optional<UnixSeconds>(500));
  EXPECT_EQ((*list)[1].kind, Revocation::Kind::kUser);
  EXPECT_EQ((*list)[1].user, kAlice);
  EXPECT_EQ((*list)[1].revoked_at, 110);
  EXPECT_FALSE((*list)[1].until);

  EXPECT_EQ(*store->prune_revocations(499), 0);
  EXPECT_EQ(*store->prune_revocations(500), 1);  // the token has expired: its entry goes
  ASSERT_EQ(store->revocations()->size(), 1u);   // the one without until stays
  EXPECT_TRUE(*store->lift_revocation(second->id));
  EXPECT_FALSE(*store->lift_revocation(second->id));
  EXPECT_TRUE(store->revocations()->empty());
  // Ids are never reused, so a lifted entry is never mistaken for a new one.
  EXPECT_GT(store->add_revocation(by_token)->id, second->id);
}

TEST_F(AccessStoreTest, RevocationsChangeAnotherConnectionsDataVersion) {
  auto gateway = open();
  auto command = open();
  const auto before = *gateway->data_version();
  Revocation revocation;
  revocation.jti = "t";
  ASSERT_TRUE(command->add_revocation(revocation).ok());
  EXPECT_NE(*gateway->data_version(), before);
  EXPECT_EQ(gateway->revocations()->size(), 1u);
}

TEST_F(AccessStoreTest, VirtualProxiesCreateReplaceRemoveAndPersist) {
  {
    auto opened = VirtualProxyStore::open(config::DatabaseSettings{}, (dir_ / "data").string());
    ASSERT_TRUE(opened.ok()) << opened.error().message();
    VirtualProxyStore& store = **opened;
    EXPECT_TRUE(store.list_virtual_proxies()->empty());
    const StoredVirtualProxy sales{"sales", R"({"name":"Sales"})", 100, "token"};
    EXPECT_TRUE(*store.create_virtual_proxy(sales));
    EXPECT_FALSE(*store.create_virtual_proxy({"sales", "{}", 150, "other"}));  // taken
    EXPECT_TRUE(*store.create_virtual_proxy({"", R"({"name":"Root"})", 120, "admin-cn"}));
    EXPECT_EQ(
        *store.list_virtual_proxies(),
        (std::vector<StoredVirtualProxy>{{"", R"({"name":"Root"})", 120, "admin-cn"}, sales}));
    EXPECT_TRUE(*store.replace_virtual_proxy({"sales", R"({"name":"Sales 2"})", 200, "token"}));
    EXPECT_FALSE(*store.replace_virtual_proxy({"nobody", "{}", 200, "token"}));
    EXPECT_TRUE(*store.remove_virtual_proxy(""));
    EXPECT_FALSE(*store.remove_virtual_proxy(""));
  }
  // Another connection (the next start) finds what was stored.
  auto again = VirtualProxyStore::open(config::DatabaseSettings{}, (dir_ / "data").string());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*(*again)->list_virtual_proxies(),
            (std::vector<StoredVirtualProxy>{{"sales", R"({"name":"Sales 2"})", 200, "token"}}));
  // Beside the access data, which keeps working.
  EXPECT_TRUE(*open()->grant(kAlice, 100));
}

}  // namespace
}  // namespace jotgate::access
