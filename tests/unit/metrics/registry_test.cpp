#include "metrics/registry.h"

#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace jotgate::metrics {
namespace {

// The lines of `text` that start with `prefix`, joined.
std::string lines_of(const std::string& text, const std::string& prefix) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    if (line.rfind(prefix, 0) == 0) out += line + "\n";
    start = end + 1;
  }
  return out;
}

TEST(Registry, SameNameGivesTheSameCountersSoAReloadKeepsThem) {
  Registry registry("1.2.3", 1000);
  auto first = registry.virtual_proxy("jwt", 2);
  auto again = registry.virtual_proxy("jwt", 2);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, registry.virtual_proxy("other", 2));
  EXPECT_EQ(first->upstream("http://a:1"), again->upstream("http://a:1"));
}

TEST(Registry, SumsTheBlocksOfEveryWorker) {
  Registry registry("1.2.3", 1000);
  constexpr std::size_t kWorkers = 4;
  constexpr int kPerWorker = 10000;
  auto vp = registry.virtual_proxy("jwt", kWorkers);
  auto upstream = vp->upstream("http://127.0.0.1:9");
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kPerWorker; ++i) {
        vp->count_request(w, 200, 0.001);
        vp->count_accepted(w, "session");
        vp->count_token_cache(w, i % 2 == 0);
        upstream->count(w, UpstreamOutcome::kAnswered);
      }
      vp->count_rejected(w, Reason::kTokenExpired);
      vp->count_session_created(w);
    });
  }
  // Scrapes while the workers count: sums never go backwards.
  std::uint64_t last = 0;
  for (int i = 0; i < 20; ++i) {
    const auto totals = vp->totals();
    const std::uint64_t now = totals.requests.empty() ? 0 : totals.requests.front().second;
    EXPECT_GE(now, last);
    last = now;
  }
  for (auto& t : threads) t.join();
  const auto totals = vp->totals();
  ASSERT_EQ(totals.requests.size(), 1u);
  EXPECT_EQ(totals.requests[0], (std::pair<int, std::uint64_t>{200, kWorkers * kPerWorker}));
  EXPECT_EQ(totals.duration_count, kWorkers * kPerWorker);
  EXPECT_EQ(totals.accepted[0], kWorkers * kPerWorker);
  EXPECT_EQ(totals.token_cache_hits, kWorkers * kPerWorker / 2);
  EXPECT_EQ(totals.token_cache_misses, kWorkers * kPerWorker / 2);
  EXPECT_EQ(totals.sessions_created, kWorkers);
  ASSERT_EQ(totals.rejected.size(), 1u);
  EXPECT_EQ(totals.rejected[0].second, kWorkers);
  EXPECT_EQ(upstream->total(UpstreamOutcome::kAnswered), kWorkers * kPerWorker);
}

TEST(Registry, AWorkerOutsideTheBlocksCountsNothing) {
  Registry registry("1", 0);
  auto vp = registry.virtual_proxy("jwt", 1);
  vp->count_request(1, 200, 0.1);
  vp->count_session_created(5);
  EXPECT_TRUE(vp->totals().requests.empty());
  EXPECT_EQ(vp->totals().sessions_created, 0u);
}

TEST(Registry, KeySourcesOfIdentityProviders) {
  Registry registry("0.1.0", 1700000000);
  Scrape live;
  live.virtual_proxies.push_back(
      {"jwt", 0, 2, {}, {{"https://idp/keys", 3, 1, 12.5}, {"https://other", 0, 2, std::nullopt}}});
  const std::string text = registry.exposition(live);
  EXPECT_EQ(
      lines_of(text, "jotgate_jwks_fetches_total{"),
      "jotgate_jwks_fetches_total{vp=\"jwt\",source=\"https://idp/keys\",result=\"ok\"} 3\n"
      "jotgate_jwks_fetches_total{vp=\"jwt\",source=\"https://idp/keys\",result=\"error\"} 1\n"
      "jotgate_jwks_fetches_total{vp=\"jwt\",source=\"https://other\",result=\"ok\"} 0\n"
      "jotgate_jwks_fetches_total{vp=\"jwt\",source=\"https://other\",result=\"error\"} 2\n");
  // No keys ever fetched: no age.
  EXPECT_EQ(lines_of(text, "jotgate_jwks_key_age_seconds{"),
            "jotgate_jwks_key_age_seconds{vp=\"jwt\",source=\"https://idp/keys\"} 12.5\n");
}

TEST(Registry, ExpositionOfAFreshGateway) {
  Registry registry("0.1.0 (g1234\"x)", 1700000000);
  registry.virtual_proxy("jwt", 1);
  Scrape live;
  live.listeners.push_back({"https", 2});
  live.virtual_proxies.push_back({"jwt", 0, 1, {{"http://127.0.0.1:8080", true}}, {}});
  const std::string text = registry.exposition(live);
  EXPECT_EQ(lines_of(text, "jotgate_build_info"),
            "jotgate_build_info{version=\"0.1.0 (g1234\\\"x)\"} 1\n");
  EXPECT_EQ(lines_of(text, "# TYPE jotgate_request_duration_seconds"),
            "# TYPE jotgate_request_duration_seconds histogram\n");
  EXPECT_EQ(lines_of(text, "jotgate_requests_total"), "");  // nothing answered yet
  EXPECT_EQ(lines_of(text, "jotgate_token_cache_lookups_total"),
            "jotgate_token_cache_lookups_total{vp=\"jwt\",result=\"hit\"} 0\n"
            "jotgate_token_cache_lookups_total{vp=\"jwt\",result=\"miss\"} 0\n");
  EXPECT_EQ(lines_of(text, "jotgate_config_"),
            "jotgate_config_reloads_total{result=\"ok\"} 0\n"
            "jotgate_config_reloads_total{result=\"error\"} 0\n"
            "jotgate_config_last_reload_success_timestamp_seconds 1700000000\n");
  EXPECT_EQ(lines_of(text, "jotgate_connections_open"),
            "jotgate_connections_open{listener=\"https\"} 2\n");
  EXPECT_EQ(lines_of(text, "jotgate_upstream_healthy"),
            "jotgate_upstream_healthy{vp=\"jwt\",upstream=\"http://127.0.0.1:8080\"} 1\n");
  EXPECT_EQ(lines_of(text, "jotgate_keys_loaded"), "jotgate_keys_loaded{vp=\"jwt\"} 1\n");
  EXPECT_EQ(lines_of(text, "process_start_time_seconds"),
            "process_start_time_seconds 1700000000\n");
}

TEST(Registry, ExpositionAfterTraffic) {
  Registry registry("1", 0);
  auto vp = registry.virtual_proxy("jwt", 2);
  auto unrouted = registry.virtual_proxy("", 2);
  vp->count_request(0, 200, 0.003);  // first bucket
  vp->count_request(1, 200, 0.005);  // le is inclusive
  vp->count_request(1, 401, 0.7);    // le="1"
  vp->count_request(0, 502, 60);     // past the last bound: +Inf only
  unrouted->count_request(0, 404, 0.001);
  vp->count_accepted(0, "jwt");
  vp->count_accepted(1, "session");
  vp->count_rejected(1, Reason::kTokenExpired);
  vp->upstream("http://u:1")->count(0, UpstreamOutcome::kAnswered);
  vp->upstream("http://u:1")->count(1, UpstreamOutcome::kTimeout);
  vp->count_websocket_opened(0);
  vp->count_websocket_opened(1);
  vp->count_websocket_closed(1);
  registry.count_reload(false, 5);
  registry.count_reload(true, 7);
  const std::string text = registry.exposition({});
  EXPECT_EQ(lines_of(text, "jotgate_requests_total"),
            "jotgate_requests_total{vp=\"\",code=\"404\"} 1\n"
            "jotgate_requests_total{vp=\"jwt\",code=\"200\"} 2\n"
            "jotgate_requests_total{vp=\"jwt\",code=\"401\"} 1\n"
            "jotgate_requests_total{vp=\"jwt\",code=\"502\"} 1\n");
  EXPECT_EQ(lines_of(text, "jotgate_request_duration_seconds_bucket{vp=\"jwt\""),
            "jotgate_request_duration_seconds_bucket{vp=\"jwt\",le=\"0.005\"} 2\n"
            "jotgate_request_duration_seconds_bucket{vp=\"jwt\",le=\"0.01\"} 2\n"
            "jotgate_request_duration_seconds_bucket{vp=\"jwt\",le=\"0.025\"} 2\n"
            "jotgate_request_duration_seconds_bucket{vp=\"jwt\",le=\"0.05\"} 2\n"
            "jotgate_request_duration_seconds_bucket{vp=\"jwt\",le=\"0.1\"} 2\n"
            "jotgate_request_duration_seconds_bucket{vp=\"jwt\",le=\"0.25\"} 2\n"
            "jotgate_request_duration_seconds_bucket{vp=\"jwt\",le=\"0.5\"} 2\n"
            "jotgate_request_duration_seconds_bucket{vp=\"jwt\",le=\"1\"} 3\n"
            "jotgate_request_duration_seconds_bucket{vp=\"jwt\",le=\"2.5\"} 3\n"
            "jotgate_request_duration_seconds_bucket{vp=\"jwt\",le=\"5\"} 3\n"
            "jotgate_request_duration_seconds_bucket{vp=\"jwt\",le=\"10\"} 3\n"
            "jotgate_request_duration_seconds_bucket{vp=\"jwt\",le=\"+Inf\"} 4\n");
  EXPECT_EQ(lines_of(text, "jotgate_request_duration_seconds_count{vp=\"jwt\"}"),
            "jotgate_request_duration_seconds_count{vp=\"jwt\"} 4\n");
  EXPECT_EQ(lines_of(text, "jotgate_request_duration_seconds_sum{vp=\"jwt\"}"),
            "jotgate_request_duration_seconds_sum{vp=\"jwt\"} 60.708\n");
  EXPECT_EQ(lines_of(text, "jotgate_auth_decisions_total"),
            "jotgate_auth_decisions_total{vp=\"jwt\",result=\"accepted\",reason=\"session\"} 1\n"
            "jotgate_auth_decisions_total{vp=\"jwt\",result=\"accepted\",reason=\"jwt\"} 1\n"
            "jotgate_auth_decisions_total{vp=\"jwt\",result=\"rejected\",reason=\"TOKEN_EXPIRED\"} "
            "1\n");
  EXPECT_EQ(
      lines_of(text, "jotgate_upstream_requests_total"),
      "jotgate_upstream_requests_total{vp=\"jwt\",upstream=\"http://u:1\",outcome=\"answered\"} "
      "1\n"
      "jotgate_upstream_requests_total{vp=\"jwt\",upstream=\"http://u:1\",outcome=\"timeout\"} "
      "1\n");
  EXPECT_EQ(lines_of(text, "jotgate_websockets_open"), "jotgate_websockets_open{vp=\"jwt\"} 1\n");
  EXPECT_EQ(lines_of(text, "jotgate_config_"),
            "jotgate_config_reloads_total{result=\"ok\"} 1\n"
            "jotgate_config_reloads_total{result=\"error\"} 1\n"
            "jotgate_config_last_reload_success_timestamp_seconds 7\n");
}

}  // namespace
}  // namespace jotgate::metrics
