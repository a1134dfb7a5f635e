// A Redis URL taken apart: redis://[user[:password]@]host[:port][/db], rediss:// for TLS.
// `address` is the URL as written without user and password: what logs and readyz show.
//   auto url = parse_redis_url("rediss://:secret@cache.internal:6380/2");
//   url->tls && url->host == "cache.internal" && url->port == 6380 && url->db == 2
//   url->address == "rediss://cache.internal:6380/2"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace jotgate::redis {

struct RedisUrl {
  bool tls = false;
  std::string host;  // without the brackets of an IPv6 literal
  std::uint16_t port = 6379;
  std::string user;      // percent-decoded; "" = the default user
  std::string password;  // percent-decoded; "" = none
  std::int64_t db = 0;
  std::string address;
};

// Errors are kConfigInvalid; their detail quotes the URL without its user and password.
Result<RedisUrl> parse_redis_url(std::string_view url);

}  // namespace jotgate::redis
