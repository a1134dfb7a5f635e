#include "auth/failure_limiter.h"

namespace jotgate::auth {

std::int64_t FailureLimiter::count_failure(std::string_view client, UnixSeconds now) {
  if (!limit_.enabled()) return 0;
  // Time in units of 1/failures s: one failure takes window_seconds units (window / failures
  // seconds), a full bucket window * failures units.
  const std::int64_t failures = limit_.failures;
  const std::int64_t step = limit_.window_seconds;
  const std::int64_t burst = step * failures;
  const std::int64_t at = now * failures;

  const std::lock_guard lock(mutex_);
  auto it = entries_.find(std::string(client));
  if (it == entries_.end()) {
    // Room first: addresses whose buckets emptied carry nothing; else the least recent goes.
    while (!recent_.empty() &&
           (entries_.size() >= max_addresses_ || entries_.at(recent_.back()).full_at <= at)) {
      entries_.erase(recent_.back());
      recent_.pop_back();
    }
    recent_.emplace_front(client);
    it = entries_.emplace(recent_.front(), Entry{at, recent_.begin()}).first;
  }
  Entry& entry = it->second;
  const std::int64_t start = std::max(entry.full_at, at);
  if (start + step - at > burst) {
    // Past the limit: not counted. The bucket has room for one more once start - at <= burst
    // - step, that is (start + step - burst - at) units from now, rounded up to seconds.
    return (start + step - burst - at + failures - 1) / failures;
  }
  entry.full_at = start + step;
  recent_.splice(recent_.begin(), recent_, entry.recent);
  return 0;
}

std::size_t FailureLimiter::tracked() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace jotgate::auth
