#include "ops/ops_answer.h"

#include <gtest/gtest.h>

namespace jotgate::ops {
namespace {

class FixedSource final : public OpsSource {
 public:
  std::string metrics_text() override { return "m 1\n"; }
  std::vector<metrics::ReadinessProblem> readiness() override { return problems; }
  std::vector<metrics::ReadinessProblem> problems;
};

std::string header(const Answer& answer, std::string_view name) {
  for (const auto& [n, v] : answer.headers) {
    if (n == name) return v;
  }
  return "<none>";
}

TEST(OpsAnswer, HealthzReadyzAndMetrics) {
  FixedSource source;
  Answer healthz = answer_ops_request("GET", "/healthz", source);
  EXPECT_EQ(healthz.status, 200);
  EXPECT_EQ(healthz.body, "ok\n");
  EXPECT_EQ(header(healthz, "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(answer_ops_request("GET", "/readyz?verbose", source).body, "ready\n");
  Answer scrape = answer_ops_request("HEAD", "/metrics", source);
  EXPECT_EQ(scrape.status, 200);
  EXPECT_EQ(scrape.body, "m 1\n");  // the server sends its length only
  EXPECT_EQ(header(scrape, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
}

TEST(OpsAnswer, NotReadyListsEveryProblemAsJson) {
  FixedSource source;
  source.problems = {{"virtual_proxy", "a \"b\"", "no usable verification key"},
                     {"gateway", "", "shutting down"}};
  Answer readyz = answer_ops_request("GET", "/readyz", source);
  EXPECT_EQ(readyz.status, 503);
  EXPECT_EQ(header(readyz, "Content-Type"), "application/json");
  EXPECT_EQ(readyz.body,
            R"({"ready":false,"problems":[{"component":"virtual_proxy","name":"a \"b\"",)"
            R"("problem":"no usable verification key"},{"component":"gateway","name":"",)"
            R"("problem":"shutting down"}]})");
  // Liveness does not depend on readiness.
  EXPECT_EQ(answer_ops_request("GET", "/healthz", source).status, 200);
}

TEST(OpsAnswer, OtherPathsAre404AndOtherMethods405) {
  FixedSource source;
  for (std::string_view path : {"/", "/metrics/", "/healthz/x", "/Metrics", "healthz"}) {
    Answer a = answer_ops_request("GET", path, source);
    EXPECT_EQ(a.status, 404) << path;
    EXPECT_EQ(a.body, "Not Found: the ops listener serves /healthz, /readyz and /metrics\n");
  }
  for (std::string_view method : {"POST", "PUT", "DELETE", "OPTIONS", "get"}) {
    Answer a = answer_ops_request(method, "/metrics", source);
    EXPECT_EQ(a.status, 405) << method;
    EXPECT_EQ(header(a, "Allow"), "GET, HEAD");
  }
}

}  // namespace
}  // namespace jotgate::ops
