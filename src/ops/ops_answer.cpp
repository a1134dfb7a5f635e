#include "ops/ops_answer.h"

#include <nlohmann/json.hpp>

#include "metrics/exposition.h"

namespace jotgate::ops {

namespace {

Answer text(int status, std::string body) {
  return Answer{status, {{"Content-Type", "text/plain; charset=utf-8"}}, std::move(body)};
}

Answer readiness(OpsSource& source) {
  const std::vector<metrics::ReadinessProblem> problems = source.readiness();
  if (problems.empty()) return text(200, "ready\n");
  // In this order: "ready" first, each problem's fields as documented.
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& p : problems) {
    nlohmann::ordered_json problem;
    problem["component"] = p.component;
    problem["name"] = p.name;
    problem["problem"] = p.problem;
    list.push_back(std::move(problem));
  }
  nlohmann::ordered_json body;
  body["ready"] = false;
  body["problems"] = std::move(list);
  return Answer{503,
                {{"Content-Type", "application/json"}},
                body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)};
}

}  // namespace

Answer answer_ops_request(std::string_view method, std::string_view target, OpsSource& source) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (path != "/healthz" && path != "/readyz" && path != "/metrics") {
    return text(404, "Not Found: the ops listener serves /healthz, /readyz and /metrics\n");
  }
  if (method != "GET" && method != "HEAD") {
    Answer refused = text(405, "Method Not Allowed: GET or HEAD\n");
    refused.headers.emplace_back("Allow", "GET, HEAD");
    return refused;
  }
  if (path == "/healthz") return text(200, "ok\n");
  if (path == "/readyz") return readiness(source);
  return Answer{200, {{"Content-Type", std::string(metrics::kContentType)}}, source.metrics_text()};
}

}  // namespace jotgate::ops
