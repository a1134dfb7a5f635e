#include "redis/redis_url.h"

#include <charconv>
#include <limits>
#include <optional>

#include "base/percent_encoding.h"
#include "base/text.h"

namespace jotgate::redis {

namespace {

constexpr std::string_view kPlainScheme = "redis://";
constexpr std::string_view kTlsScheme = "rediss://";

template <class Number>
std::optional<Number> whole_number(std::string_view text, Number min, Number max) {
  Number value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
      value > max)
    return std::nullopt;
  return value;
}

}  // namespace

Result<RedisUrl> parse_redis_url(std::string_view url) {
  RedisUrl parts;
  std::string_view rest;
  if (istarts_with(url, kTlsScheme)) {
    parts.tls = true;
    rest = url.substr(kTlsScheme.size());
  } else if (istarts_with(url, kPlainScheme)) {
    rest = url.substr(kPlainScheme.size());
  } else {
    // The text may hold a password: quote none of it.
    return make_error(Reason::kConfigInvalid,
                      "the Redis URL must start with redis:// or rediss:// (rediss:// for TLS)");
  }
  const std::string_view scheme = url.substr(0, url.size() - rest.size());
  const std::size_t path_start = rest.find('/');
  std::string_view authority = rest.substr(0, path_start);
  const std::string_view path =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  std::string_view user_info;
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    user_info = authority.substr(0, at);
    authority.remove_prefix(at + 1);
  }
  parts.address = std::string(scheme) + std::string(authority) + std::string(path);
  auto refuse = [&](std::string_view what) {
    return make_error(Reason::kConfigInvalid,
                      "Redis URL " + parts.address + ": " + std::string(what));
  };
  if (has_control(url) || url.find(' ') != std::string_view::npos)
    return refuse("spaces and control characters must be percent-encoded");
  if (path.find_first_of("?#") != std::string_view::npos ||
      authority.find_first_of("?#") != std::string_view::npos)
    return refuse("a query (?...) or fragment (#...) is not accepted");

  if (!user_info.empty()) {
    const std::size_t colon = user_info.find(':');
    auto user = percent_decode(user_info.substr(0, colon));
    auto password = colon == std::string_view::npos ? std::optional<std::string>("")
                                                    : percent_decode(user_info.substr(colon + 1));
    if (!user || !password)
      return refuse("the user or password has a '%' not followed by two hex digits");
    parts.user = std::move(*user);
    parts.password = std::move(*password);
  }

  std::string_view port;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return refuse("the IPv6 address lacks its closing ']'");
    parts.host = std::string(authority.substr(1, close - 1));
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':'))
      return refuse("the IPv6 address in brackets must be followed by nothing or :port");
    if (!after.empty()) port = after.substr(1);
    if (after == ":") return refuse("the port must be a number from 1 to 65535");
  } else {
    const std::size_t colon = authority.find(':');
    parts.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return refuse("the port must be a number from 1 to 65535");
    }
  }
  if (parts.host.empty()) return refuse("the host is missing");
  if (!port.empty()) {
    const auto number = whole_number<std::uint16_t>(port, 1, 65535);
    if (!number) return refuse("the port must be a number from 1 to 65535");
    parts.port = *number;
  }
  if (path.size() > 1) {
    const auto db =
        whole_number<std::int64_t>(path.substr(1), 0, std::numeric_limits<std::int32_t>::max());
    if (!db) return refuse("the database after '/' must be a number (0, 1, ...)");
    parts.db = *db;
  }
  return parts;
}

}  // namespace jotgate::redis
