// DecisionHistory: the auth decisions of the last hour, minute by minute and by reason, for the
// console's Overview chart. It keeps the registry's running totals (Registry::decision_totals)
// as they stood at the start of each minute; a minute's count is the difference to the next.
// Sampled by the gateway about once a second; nothing on the request path.
//   history.sample(now, registry.decision_totals());          // each second
//   auto chart = history.chart(now, registry.decision_totals());
//   chart.reasons["TOKEN_EXPIRED"][59];                        // refusals this minute
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"

namespace jotgate::metrics {

class DecisionHistory {
 public:
  static constexpr std::int64_t kBucketSeconds = 60;
  static constexpr std::size_t kBuckets = 60;
  using Totals = std::map<std::string, std::uint64_t>;  // label -> decisions so far

  struct Chart {
    UnixSeconds start = 0;  // of the oldest bucket; the last one is the minute under way
    // label -> kBuckets counts, oldest first; only labels with a decision in the hour.
    std::map<std::string, std::vector<std::uint64_t>> reasons;
  };

  // Remembers `totals` as the counts at the start of the minute `now` is in, unless that minute
  // already has them.
  void sample(UnixSeconds now, const Totals& totals);
  // The last kBuckets minutes up to `now`, whose totals are `totals`.
  Chart chart(UnixSeconds now, const Totals& totals) const;

 private:
  mutable std::mutex mutex_;
  std::deque<std::pair<UnixSeconds, Totals>> minutes_;  // minute start -> totals then; oldest first
};

}  // namespace jotgate::metrics
