#include "metrics/decision_history.h"

namespace jotgate::metrics {

namespace {

UnixSeconds minute_of(UnixSeconds t) {
  return t - ((t % DecisionHistory::kBucketSeconds) + DecisionHistory::kBucketSeconds) %
                 DecisionHistory::kBucketSeconds;
}

std::uint64_t count_of(const DecisionHistory::Totals& totals, const std::string& label) {
  auto it = totals.find(label);
  return it == totals.end() ? 0 : it->second;
}

}  // namespace

void DecisionHistory::sample(UnixSeconds now, const Totals& totals) {
  const UnixSeconds minute = minute_of(now);
  std::lock_guard lock(mutex_);
  if (!minutes_.empty() && minutes_.back().first >= minute) return;
  minutes_.emplace_back(minute, totals);
  // One more than the chart shows: the oldest bucket needs the totals at its start.
  while (minutes_.size() > kBuckets + 1) minutes_.pop_front();
}

DecisionHistory::Chart DecisionHistory::chart(UnixSeconds now, const Totals& totals) const {
  Chart chart;
  const UnixSeconds current = minute_of(now);
  chart.start = current - static_cast<UnixSeconds>(kBuckets - 1) * kBucketSeconds;
  std::lock_guard lock(mutex_);
  // The totals at the start of bucket b: the latest sample taken at or before it (none: zero,
  // the counters start at zero with the process).
  std::vector<const Totals*> at_start(kBuckets + 1, nullptr);
  std::size_t next = 0;
  const Totals* latest = nullptr;
  for (std::size_t b = 0; b < kBuckets; ++b) {
    const UnixSeconds begins = chart.start + static_cast<UnixSeconds>(b) * kBucketSeconds;
    while (next < minutes_.size() && minutes_[next].first <= begins)
      latest = &minutes_[next++].second;
    at_start[b] = latest;
  }
  at_start[kBuckets] = &totals;
  for (const auto& [label, total] : totals) {
    std::vector<std::uint64_t> counts(kBuckets, 0);
    bool any = false;
    for (std::size_t b = 0; b < kBuckets; ++b) {
      const std::uint64_t from = at_start[b] ? count_of(*at_start[b], label) : 0;
      const std::uint64_t to = at_start[b + 1] ? count_of(*at_start[b + 1], label) : 0;
      counts[b] = to > from ? to - from : 0;
      any = any || counts[b] != 0;
    }
    if (any) chart.reasons.emplace(label, std::move(counts));
  }
  return chart;
}

}  // namespace jotgate::metrics
