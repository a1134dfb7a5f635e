// MemoryTicketStore: one use, a lifetime, a bound on live tickets, secrets that differ.
#include "auth/memory_ticket_store.h"

#include <gtest/gtest.h>

#include <set>

namespace jotgate::auth {
namespace {

constexpr UnixSeconds kNow = 1'800'000'000;

TEST(MemoryTicketStore, RedeemedOnceWithinItsLifetime) {
  MemoryTicketStore store;
  auto ticket = store.issue({{"ACME", "alice"}, {{"X-Team", "red"}}, kNow + 60}, kNow);
  ASSERT_TRUE(ticket);
  EXPECT_EQ(ticket->size(), 43u);  // 256 bits, base64url
  auto grant = store.redeem(*ticket, kNow + 59);
  ASSERT_TRUE(grant);
  EXPECT_EQ(grant->user, (UserIdentity{"ACME", "alice"}));
  EXPECT_EQ(grant->attributes.at(0).second, "red");
  EXPECT_FALSE(store.redeem(*ticket, kNow + 59));
  EXPECT_EQ(store.size(), 0u);
}

TEST(MemoryTicketStore, ExpiredUnknownAndAlteredTicketsFindNothing) {
  MemoryTicketStore store;
  auto ticket = store.issue({{"ACME", "alice"}, {}, kNow + 60}, kNow);
  ASSERT_TRUE(ticket);
  std::string altered = *ticket;
  altered[0] = altered[0] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(store.redeem(altered, kNow));
  EXPECT_FALSE(store.redeem("", kNow));
  EXPECT_FALSE(store.redeem(*ticket, kNow + 60));  // at its deadline it is over
  EXPECT_FALSE(store.redeem(*ticket, kNow));       // and an expired one is gone for good

  auto other = store.issue({{"ACME", "bob"}, {}, kNow + 10}, kNow);
  store.expire(kNow + 10);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_FALSE(store.redeem(*other, kNow));
}

TEST(MemoryTicketStore, BoundedAndEveryTicketDifferent) {
  MemoryTicketStore store(3);
  std::set<std::string> seen;
  for (int i = 0; i < 3; ++i) {
    auto ticket = store.issue({{"ACME", "alice"}, {}, kNow + 5}, kNow);
    ASSERT_TRUE(ticket);
    EXPECT_TRUE(seen.insert(*ticket).second);
  }
  EXPECT_FALSE(store.issue({{"ACME", "alice"}, {}, kNow + 5}, kNow));
  // Expired ones make room.
  EXPECT_TRUE(store.issue({{"ACME", "alice"}, {}, kNow + 10}, kNow + 5));
}

}  // namespace
}  // namespace jotgate::auth
