// What keeps the gateway from being ready for traffic (GET /readyz on the ops listener lists
// these): a component ("listener", "virtual_proxy", "gateway"), its name, and the problem.
//   std::vector<ReadinessProblem> problems = server.readiness();   // empty: ready
#pragma once

#include <string>

namespace jotgate::metrics {

struct ReadinessProblem {
  std::string component;
  std::string name;
  std::string problem;
};

}  // namespace jotgate::metrics
