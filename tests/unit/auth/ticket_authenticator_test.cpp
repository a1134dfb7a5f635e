// TicketAuthenticator over a TicketStore: a ticket signs in once, with its attributes, within
// its lifetime; unknown, used and expired tickets are refused alike.
#include <gtest/gtest.h>

#include "auth/memory_ticket_store.h"
#include "auth/ticket_authenticator.h"

namespace jotgate::auth {
namespace {

constexpr UnixSeconds kNow = 1'800'000'000;

TEST(TicketAuthenticator, ATicketStandsForItsUserOnce) {
  MemoryTicketStore store;
  TicketAuthenticator tickets(store);
  auto ticket = store.issue({{"ACME", "alice"}, {{"X-Team", "red"}}, kNow + 60}, kNow);
  ASSERT_TRUE(ticket);
  auto proven = tickets.authenticate(*ticket, kNow + 59);
  ASSERT_TRUE(proven.ok());
  EXPECT_EQ(proven->user, (UserIdentity{"ACME", "alice"}));
  EXPECT_EQ(proven->attributes, (HeaderList{{"X-Team", "red"}}));
  auto again = tickets.authenticate(*ticket, kNow + 59);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().reason, Reason::kTicketInvalid);
}

TEST(TicketAuthenticator, UnknownAndExpiredTicketsAreRefused) {
  MemoryTicketStore store;
  TicketAuthenticator tickets(store);
  auto ticket = store.issue({{"ACME", "alice"}, {}, kNow + 60}, kNow);
  ASSERT_TRUE(ticket);
  EXPECT_EQ(tickets.authenticate(std::string(43, 'A'), kNow).error().reason,
            Reason::kTicketInvalid);
  EXPECT_EQ(tickets.authenticate("", kNow).error().reason, Reason::kTicketInvalid);
  EXPECT_EQ(tickets.authenticate(*ticket, kNow + 60).error().reason, Reason::kTicketInvalid);
}

}  // namespace
}  // namespace jotgate::auth
