// The last hour's decisions: minute buckets from the running totals sampled at each minute's
// start; the minute under way counts up to now; older minutes fall out.
#include "metrics/decision_history.h"

#include <gtest/gtest.h>

namespace jotgate::metrics {
namespace {

constexpr UnixSeconds kHour = 1'700'000'000 - 1'700'000'000 % 3600;  // a minute boundary

std::vector<std::uint64_t> last(const std::vector<std::uint64_t>& counts, std::size_t n) {
  return {counts.end() - static_cast<std::ptrdiff_t>(n), counts.end()};
}

TEST(DecisionHistoryTest, EachMinuteCountsWhatHappenedInIt) {
  DecisionHistory history;
  history.sample(kHour + 5, {});  // the gateway started: nothing counted yet
  history.sample(kHour + 60, {{"accepted:jwt", 3}, {"TOKEN_EXPIRED", 1}});
  history.sample(kHour + 61, {{"accepted:jwt", 9}});  // the minute has its totals already
  auto chart = history.chart(kHour + 150, {{"accepted:jwt", 10}, {"TOKEN_EXPIRED", 4}});
  EXPECT_EQ(chart.start, kHour + 120 - 59 * 60);
  ASSERT_EQ(chart.reasons.size(), 2u);
  ASSERT_EQ(chart.reasons["accepted:jwt"].size(), DecisionHistory::kBuckets);
  // Minutes kHour, kHour+60 and kHour+120, under way. No sample was taken at kHour+120 (the
  // sampler missed that minute's start): what came after the last sample counts in the minute
  // under way, nothing is lost.
  EXPECT_EQ(last(chart.reasons["accepted:jwt"], 3), (std::vector<std::uint64_t>{3, 0, 7}));
  EXPECT_EQ(last(chart.reasons["TOKEN_EXPIRED"], 3), (std::vector<std::uint64_t>{1, 0, 3}));
}

TEST(DecisionHistoryTest, TheMinuteUnderWayCountsUpToNow) {
  DecisionHistory history;
  history.sample(kHour, {{"NO_CREDENTIALS", 2}});
  auto chart = history.chart(kHour + 30, {{"NO_CREDENTIALS", 7}});
  EXPECT_EQ(chart.reasons["NO_CREDENTIALS"].back(), 5u);
  EXPECT_EQ(chart.start, kHour - 59 * 60);
}

TEST(DecisionHistoryTest, AnHourLaterOldDecisionsAreGoneAndQuietLabelsAreLeftOut) {
  DecisionHistory history;
  history.sample(kHour, {});
  history.sample(kHour + 60, {{"TOKEN_EXPIRED", 4}});
  for (UnixSeconds t = kHour + 120; t <= kHour + 2 * 3600; t += 60) {
    history.sample(t, {{"TOKEN_EXPIRED", 4}, {"accepted:session", 1}});
  }
  auto chart =
      history.chart(kHour + 2 * 3600 + 10, {{"TOKEN_EXPIRED", 4}, {"accepted:session", 1}});
  EXPECT_TRUE(chart.reasons.empty());
}

}  // namespace
}  // namespace jotgate::metrics
