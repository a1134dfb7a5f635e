// Redis URLs: every part read, and every bad form refused with its exact words, never quoting
// the user or password.
#include "redis/redis_url.h"

#include <gtest/gtest.h>

namespace jotgate::redis {
namespace {

TEST(RedisUrl, ReadsEveryPartAndLeavesUserAndPasswordOutOfTheAddress) {
  const struct {
    const char* text;
    RedisUrl expected;
  } cases[] = {
      // Port 6379 and database 0 by default.
      {"redis://127.0.0.1", {false, "127.0.0.1", 6379, "", "", 0, "redis://127.0.0.1"}},
      {"rediss://app:p%40ss:word@cache.internal:6380/2",
       {true, "cache.internal", 6380, "app", "p@ss:word", 2, "rediss://cache.internal:6380/2"}},
      {"REDIS://:secret@[::1]:7000/", {false, "::1", 7000, "", "secret", 0, "REDIS://[::1]:7000/"}},
      {"redis://[::1]/15", {false, "::1", 6379, "", "", 15, "redis://[::1]/15"}},
  };
  for (const auto& [text, expected] : cases) {
    auto url = parse_redis_url(text);
    ASSERT_TRUE(url.ok()) << text << ": " << url.error().describe();
    EXPECT_EQ(url->tls, expected.tls) << text;
    EXPECT_EQ(url->host, expected.host) << text;
    EXPECT_EQ(url->port, expected.port) << text;
    EXPECT_EQ(url->user, expected.user) << text;
    EXPECT_EQ(url->password, expected.password) << text;
    EXPECT_EQ(url->db, expected.db) << text;
    EXPECT_EQ(url->address, expected.address) << text;
  }
}

struct BadUrl {
  const char* url;
  const char* message;
};

TEST(RedisUrl, RefusesEveryBadFormWithItsWords) {
  const BadUrl cases[] = {
      {"", "the Redis URL must start with redis:// or rediss:// (rediss:// for TLS)"},
      {"http://:secret@host",
       "the Redis URL must start with redis:// or rediss:// (rediss:// for TLS)"},
      {"127.0.0.1:6379", "the Redis URL must start with redis:// or rediss:// (rediss:// for TLS)"},
      {"redis://", "Redis URL redis://: the host is missing"},
      {"redis://:secret@", "Redis URL redis://: the host is missing"},
      {"redis://:6379/0", "Redis URL redis://:6379/0: the host is missing"},
      {"redis://host:", "Redis URL redis://host:: the port must be a number from 1 to 65535"},
      {"redis://host:0", "Redis URL redis://host:0: the port must be a number from 1 to 65535"},
      {"redis://host:65536",
       "Redis URL redis://host:65536: the port must be a number from 1 to 65535"},
      {"redis://host:63x", "Redis URL redis://host:63x: the port must be a number from 1 to 65535"},
      {"redis://host:-1", "Redis URL redis://host:-1: the port must be a number from 1 to 65535"},
      {"redis://[::1]:", "Redis URL redis://[::1]:: the port must be a number from 1 to 65535"},
      {"redis://[::1", "Redis URL redis://[::1: the IPv6 address lacks its closing ']'"},
      {"redis://[::1]6379",
       "Redis URL redis://[::1]6379: the IPv6 address in brackets must be followed by nothing or "
       ":port"},
      {"redis://[]:6379", "Redis URL redis://[]:6379: the host is missing"},
      {"redis://host/x",
       "Redis URL redis://host/x: the database after '/' must be a number (0, 1, ...)"},
      {"redis://host/-1",
       "Redis URL redis://host/-1: the database after '/' must be a number (0, 1, ...)"},
      {"redis://host/0/1",
       "Redis URL redis://host/0/1: the database after '/' must be a number (0, 1, ...)"},
      {"redis://host/99999999999",
       "Redis URL redis://host/99999999999: the database after '/' must be a number (0, 1, ...)"},
      {"redis://host/0?timeout=1",
       "Redis URL redis://host/0?timeout=1: a query (?...) or fragment (#...) is not accepted"},
      {"redis://host#x",
       "Redis URL redis://host#x: a query (?...) or fragment (#...) is not accepted"},
      {"redis://u:%zzsecret@host",
       "Redis URL redis://host: the user or password has a '%' not followed by two hex digits"},
      {"redis://host /0",
       "Redis URL redis://host /0: spaces and control characters must be percent-encoded"},
      {"redis://:se cret@host",
       "Redis URL redis://host: spaces and control characters must be percent-encoded"},
  };
  for (const auto& [text, message] : cases) {
    auto url = parse_redis_url(text);
    ASSERT_FALSE(url.ok()) << text;
    EXPECT_EQ(url.error().reason, Reason::kConfigInvalid) << text;
    EXPECT_EQ(url.error().detail, message) << text;
    EXPECT_EQ(url.error().detail.find("secret"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace jotgate::redis
