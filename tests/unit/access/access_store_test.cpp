// AccessStore on a real SQLite file in a temporary folder: grant, revoke, seats, last use,
// persistence across connections, and data_version seeing another connection's commits.
#include <gtest/gtest.h>

#include <filesystem>

#include "access/access_store.h"

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

}  // namespace
}  // namespace jotgate::access
