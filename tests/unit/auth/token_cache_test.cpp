// TokenCache alone: keyed by SHA-256, bounded, never past expires_at.
#include <gtest/gtest.h>

#include <string>

#include "auth/token_cache.h"

namespace jotgate::auth {
namespace {

TokenCache::Entry entry(std::string id, UnixSeconds expires_at) {
  return TokenCache::Entry{
      {"ACME", std::move(id)}, {{"X-Groups", "a,b"}}, expires_at, 0, {}, {}, {}};
}

TEST(TokenCacheTest, FindsWhatWasInsertedUntilExpiry) {
  TokenCache cache(100);
  auto key = TokenCache::digest("token-a");
  EXPECT_FALSE(cache.find(key, 1000));
  cache.insert(key, entry("alice", 2000));
  auto hit = cache.find(key, 1999);
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->user.id, "alice");
  EXPECT_EQ(hit->attributes.at(0).second, "a,b");
  EXPECT_FALSE(cache.find(key, 2000));  // at exp: gone
  EXPECT_FALSE(cache.find(TokenCache::digest("token-b"), 1000));
}

TEST(TokenCacheTest, DigestIsSha256OfTheToken) {
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  auto d = TokenCache::digest("abc");
  EXPECT_EQ(d[0], 0xba);
  EXPECT_EQ(d[1], 0x78);
  EXPECT_EQ(d[31], 0xad);
}

TEST(TokenCacheTest, StaysWithinItsCapacityAndKeepsTheNewest) {
  TokenCache cache(64);
  for (int i = 0; i < 10000; ++i) {
    cache.insert(TokenCache::digest("t" + std::to_string(i)), entry("u", 5000));
  }
  EXPECT_LE(cache.size(), 64u);
  EXPECT_GT(cache.size(), 0u);
  EXPECT_TRUE(cache.find(TokenCache::digest("t9999"), 1000));
  EXPECT_FALSE(cache.find(TokenCache::digest("t0"), 1000));
}

TEST(TokenCacheTest, RemembersTheSessionATokenSignedIn) {
  TokenCache cache(10);
  auto key = TokenCache::digest("token");
  cache.insert(key, entry("alice", 2000));
  cache.set_session(key, 42, "cookie-value");
  EXPECT_EQ(cache.find(key, 1000)->session_handle, 42u);
  EXPECT_EQ(cache.find(key, 1000)->session_cookie, "cookie-value");
  cache.set_session(TokenCache::digest("other"), 7, "x");  // absent: ignored
  EXPECT_EQ(cache.size(), 1u);
  cache.insert(key, entry("alice", 3000));  // replaced, not duplicated
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.find(key, 2500)->session_handle, 0u);
}

TEST(TokenCacheTest, SessionsOfATokenIdAreFoundForRevocation) {
  TokenCache cache(100);
  for (const auto& [token, jti] : std::vector<std::pair<std::string, std::string>>{
           {"token-a", "j-1"}, {"token-b", "j-1"}, {"token-c", "j-2"}, {"token-d", ""}}) {
    auto e = entry("alice", 2000);
    e.token_id = jti;
    cache.insert(TokenCache::digest(token), e);
  }
  EXPECT_TRUE(cache.sessions_of_token_id("j-1").empty());  // no session signed in yet
  cache.set_session(TokenCache::digest("token-a"), 11, "cookie-a");
  cache.set_session(TokenCache::digest("token-c"), 33, "cookie-c");
  cache.set_session(TokenCache::digest("token-d"), 44, "cookie-d");
  EXPECT_EQ(cache.sessions_of_token_id("j-1"), std::vector<std::uint64_t>{11});
  EXPECT_EQ(cache.sessions_of_token_id("j-2"), std::vector<std::uint64_t>{33});
  EXPECT_TRUE(cache.sessions_of_token_id("j-3").empty());
}

}  // namespace
}  // namespace jotgate::auth
