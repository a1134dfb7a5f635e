#include "console/console_sessions.h"

#include <gtest/gtest.h>

namespace jotgate::console {
namespace {

constexpr UnixSeconds kStart = 1'800'000'000;

TEST(ConsoleSessions, OpenGivesA256BitIdAndACsrfTokenThatFindReturns) {
  ConsoleSessions sessions;
  auto opened = sessions.open("token", kStart);
  EXPECT_EQ(opened.id.size(), 64u);
  EXPECT_EQ(opened.id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(opened.csrf_token.size(), 64u);
  EXPECT_NE(opened.csrf_token, opened.id);
  auto found = sessions.find(opened.id, kStart + 10);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->admin, "token");
  EXPECT_EQ(found->csrf_token, opened.csrf_token);
  EXPECT_EQ(found->expires_at, kStart + 10 + ConsoleSessions::kIdleSeconds);
  EXPECT_NE(sessions.open("token", kStart).id, opened.id);
}

TEST(ConsoleSessions, UnknownAndEmptyIdsFindNothing) {
  ConsoleSessions sessions;
  auto opened = sessions.open("token", kStart);
  EXPECT_FALSE(sessions.find("", kStart));
  EXPECT_FALSE(sessions.find(opened.csrf_token, kStart));
  EXPECT_FALSE(sessions.find(opened.id.substr(1), kStart));
}

TEST(ConsoleSessions, AnIdleSessionEndsAfterFifteenMinutesAndUseExtendsIt) {
  ConsoleSessions sessions;
  auto opened = sessions.open("ops-team", kStart);
  ASSERT_TRUE(sessions.find(opened.id, kStart + ConsoleSessions::kIdleSeconds - 1));
  // Used at start + 899: alive until start + 899 + 900.
  ASSERT_TRUE(sessions.find(opened.id, kStart + 2 * ConsoleSessions::kIdleSeconds - 2));
  EXPECT_FALSE(sessions.find(opened.id, kStart + 4 * ConsoleSessions::kIdleSeconds));
  EXPECT_EQ(sessions.size(), 0u);
}

TEST(ConsoleSessions, NoSessionOutlivesEightHoursHoweverOftenUsed) {
  ConsoleSessions sessions;
  auto opened = sessions.open("token", kStart);
  UnixSeconds now = kStart;
  for (; now < kStart + ConsoleSessions::kLifetimeSeconds - 600; now += 600) {
    ASSERT_TRUE(sessions.find(opened.id, now)) << now - kStart;
  }
  auto last = sessions.find(opened.id, now);
  ASSERT_TRUE(last);
  EXPECT_EQ(last->expires_at, kStart + ConsoleSessions::kLifetimeSeconds);
  EXPECT_FALSE(sessions.find(opened.id, kStart + ConsoleSessions::kLifetimeSeconds));
}

TEST(ConsoleSessions, TheOldestSessionGoesWhenTheTableIsFull) {
  ConsoleSessions sessions(3);
  auto first = sessions.open("a", kStart);
  auto second = sessions.open("b", kStart + 1);
  auto third = sessions.open("c", kStart + 2);
  auto fourth = sessions.open("d", kStart + 3);
  EXPECT_EQ(sessions.size(), 3u);
  EXPECT_FALSE(sessions.find(first.id, kStart + 4));
  EXPECT_EQ(sessions.find(second.id, kStart + 4)->admin, "b");
  EXPECT_EQ(sessions.find(third.id, kStart + 4)->admin, "c");
  EXPECT_EQ(sessions.find(fourth.id, kStart + 4)->admin, "d");
}

TEST(ConsoleSessions, ExpiredSessionsMakeRoomBeforeLiveOnesAreEvicted) {
  ConsoleSessions sessions(2);
  auto stale = sessions.open("a", kStart);
  auto live = sessions.open("b", kStart + ConsoleSessions::kIdleSeconds);
  sessions.open("c", kStart + ConsoleSessions::kIdleSeconds + 1);
  EXPECT_FALSE(sessions.find(stale.id, kStart + ConsoleSessions::kIdleSeconds + 1));
  EXPECT_TRUE(sessions.find(live.id, kStart + ConsoleSessions::kIdleSeconds + 1));
}

TEST(ConsoleSessions, TheCsrfTokenMatchesOnlyItsOwnSession) {
  ConsoleSessions sessions;
  auto one = sessions.open("token", kStart);
  auto other = sessions.open("token", kStart);
  EXPECT_TRUE(sessions.csrf_matches(one.id, one.csrf_token));
  EXPECT_FALSE(sessions.csrf_matches(one.id, other.csrf_token));
  EXPECT_FALSE(sessions.csrf_matches(one.id, ""));
  EXPECT_FALSE(sessions.csrf_matches(one.id, one.id));
  EXPECT_FALSE(sessions.csrf_matches("", one.csrf_token));
  std::string flipped = one.csrf_token;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  EXPECT_FALSE(sessions.csrf_matches(one.id, flipped));
  // Another process (another key) gives the same id another token.
  ConsoleSessions restarted;
  EXPECT_FALSE(restarted.csrf_matches(one.id, one.csrf_token));
}

TEST(ConsoleSessions, CloseEndsTheSession) {
  ConsoleSessions sessions;
  auto opened = sessions.open("token", kStart);
  EXPECT_TRUE(sessions.close(opened.id));
  EXPECT_FALSE(sessions.close(opened.id));
  EXPECT_FALSE(sessions.find(opened.id, kStart));
}

}  // namespace
}  // namespace jotgate::console
