// The answers of the ops listener, without a socket. The gateway shows what it serves through
// an OpsSource (called on the ops listener's thread: implementations must be thread-safe).
//   GET /healthz  200 "ok\n" while the process serves
//   GET /readyz   200 "ready\n", or 503 {"ready":false,"problems":[{"component":"virtual_proxy",
//                 "name":"jwt","problem":"no usable verification key"}]}
//   GET /metrics  the Prometheus text exposition (version 0.0.4)
// HEAD as GET without the body; another method on these paths 405, any other path 404.
//   Answer a = answer_ops_request("GET", "/readyz", source);
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/answer.h"
#include "metrics/readiness.h"

namespace jotgate::ops {

class OpsSource {
 public:
  virtual ~OpsSource() = default;
  virtual std::string metrics_text() = 0;
  virtual std::vector<metrics::ReadinessProblem> readiness() = 0;
};

// The answer to `method` on `target` (a query string is ignored). For HEAD the body is the one
// of GET: the server sends its length and not the body.
Answer answer_ops_request(std::string_view method, std::string_view target, OpsSource& source);

}  // namespace jotgate::ops
