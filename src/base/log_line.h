// JSON log lines (`log_format: json`): one object a line, the same fixed keys first on every
// line the gateway writes (access, audit, diagnostics, start and stop), null where a key does not
// apply, then the line's own fields. Bytes that are not UTF-8 become U+FFFD, and control
// characters and everything outside ASCII are escaped: no value can break a line or add one.
//   std::string line = json_log_line(utc_timestamp(now), "info", "sign_in", {{"vp", "jwt"}});
//   // {"ts":"2026-12-01T19:50:31.123Z","level":"info","event":"sign_in","vp":"jwt",
//   //  "user":null,"reason":null,"client":null,"request_id":null,"trace_id":null}\n
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace jotgate {

// The request a line belongs to; empty outside a request (maintenance, the admin API).
struct RequestIds {
  std::string_view request_id;
  std::string_view trace_id;
};

// RFC 3339 in UTC with milliseconds: "2026-12-01T19:50:31.123Z".
std::string utc_timestamp(std::chrono::system_clock::time_point time);

// One line with its '\n'. Fields named like a fixed key (vp, user, reason, client, request_id,
// trace_id) fill that key, an empty string giving null; the others follow in their order.
std::string json_log_line(std::string_view ts, std::string_view level, std::string_view event,
                          nlohmann::ordered_json fields, const RequestIds& ids = {});

}  // namespace jotgate
