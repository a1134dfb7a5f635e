// AccessLog: one line per request, text or JSON lines, to standard output or a file. Never a
// token, cookie or session id: only method, path without query, status, bytes, duration, virtual
// proxy and user (JSON lines also the request id and trace id, base/log_line.h; the text line
// keeps its fields for the readers that parse it). Text values are bare, or quoted and escaped
// (base/log_field.h), so each line parses into exactly its fields. Thread-safe: each line is one
// fwrite (stdio locks the stream per call).
//   auto log = AccessLog::open(config);                   // at start-up
//   log->write({.method = "GET", .path = "/jwt/", .status = 200, ...});
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "base/log_line.h"
#include "base/result.h"
#include "config/gateway_config.h"

namespace jotgate::proxy {

struct AccessRecord {
  std::string_view client_ip;
  std::string_view method;
  std::string_view path;  // without the query
  int status = 0;
  std::uint64_t bytes = 0;  // response body bytes sent
  double duration_ms = 0;
  std::string_view virtual_proxy;  // "" when not routed
  std::string_view user;           // "" when not authenticated
  RequestIds ids;                  // empty when the head could not be read
};

class AccessLog {
 public:
  static Result<std::unique_ptr<AccessLog>> open(const config::GatewayConfig& config);
  AccessLog(std::FILE* file, bool owned, config::LogFormat format)
      : file_(file), owned_(owned), format_(format) {}
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  void write(const AccessRecord& record);
  // The formatted line (with '\n'); exposed for tests.
  std::string format(const AccessRecord& record, std::string_view timestamp) const;

 private:
  std::FILE* file_;
  bool owned_;
  config::LogFormat format_;
};

}  // namespace jotgate::proxy
