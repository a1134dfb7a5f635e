// FailureLimiter: auth.failure_limit of one virtual proxy. Counts refused sign-ins (a credential
// presented and refused) per client address and says when an address is past its limit, so
// guessing tokens, tickets or trusted headers from one address is slowed to the limit's rate.
// Successful requests never pass through it. Thread-safe; memory bounded by kMaxAddresses.
//   FailureLimiter limiter({.failures = 3, .window_seconds = 60});
//   if (auto wait = limiter.count_failure("10.0.0.7", now); wait > 0) answer_429(wait);
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "base/clock.h"
#include "config/gateway_config.h"

namespace jotgate::auth {

// A bucket of `failures` per address, refilled at `failures` per `window_seconds` (the generic
// cell rate algorithm: one number per address). A burst of `failures` is allowed, then one more
// each window_seconds / failures; a failure past the limit is refused and not counted, so
// Retry-After is the time until the bucket has room again.
class FailureLimiter {
 public:
  // Addresses tracked at once. Past it, the address that failed least recently is forgotten
  // (an attacker with more addresses than this gains, at most, that address's bucket again).
  static constexpr std::size_t kMaxAddresses = 100'000;

  explicit FailureLimiter(config::FailureLimit limit, std::size_t max_addresses = kMaxAddresses)
      : limit_(limit), max_addresses_(max_addresses) {}

  // A refused sign-in from `client` at `now`: 0 when it is within the limit (counted), else
  // the whole seconds (>= 1) until the address may fail again. Always 0 when the limit is off.
  std::int64_t count_failure(std::string_view client, UnixSeconds now);

  const config::FailureLimit& limit() const { return limit_; }
  std::size_t tracked() const;

 private:
  struct Entry {
    // When the address's bucket is empty again ("theoretical arrival time"), in units of
    // 1/failures of a second, so every step is a whole number.
    std::int64_t full_at = 0;
    std::list<std::string>::iterator recent;  // its place in recent_
  };

  const config::FailureLimit limit_;
  const std::size_t max_addresses_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> recent_;  // addresses, the latest failure first
};

}  // namespace jotgate::auth
