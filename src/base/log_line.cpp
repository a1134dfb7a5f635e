#include "base/log_line.h"

#include <fmt/chrono.h>
#include <nlohmann/json.hpp>

namespace jotgate {

namespace {

// After ts, level and event, in this order, on every line.
constexpr std::string_view kFixedKeys[] = {"vp",     "user",       "reason",
                                           "client", "request_id", "trace_id"};

}  // namespace

std::string utc_timestamp(std::chrono::system_clock::time_point time) {
  // fmt 9 formats a system_clock time_point in local time: format the UTC std::tm instead.
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()) % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z",
                     fmt::gmtime(std::chrono::system_clock::to_time_t(time)), millis.count());
}

std::string json_log_line(std::string_view ts, std::string_view level, std::string_view event,
                          nlohmann::ordered_json fields, const RequestIds& ids) {
  if (!ids.request_id.empty()) fields["request_id"] = ids.request_id;
  if (!ids.trace_id.empty()) fields["trace_id"] = ids.trace_id;
  nlohmann::ordered_json line = {{"ts", ts}, {"level", level}, {"event", event}};
  for (std::string_view key : kFixedKeys) {
    auto field = fields.find(key);
    if (field == fields.end()) {
      line[key] = nullptr;
      continue;
    }
    const bool empty = field->is_string() && field->get_ref<const std::string&>().empty();
    line[key] = empty ? nlohmann::ordered_json() : std::move(*field);
    fields.erase(field);
  }
  for (auto& [key, value] : fields.items()) line.emplace(key, std::move(value));
  // Values are client bytes (paths, user ids): invalid UTF-8 is replaced rather than thrown on,
  // and all but ASCII escaped (\u2028 would end a line for some readers, as would bidi tricks).
  std::string out = line.dump(-1, ' ', true, nlohmann::ordered_json::error_handler_t::replace);
  out.push_back('\n');
  return out;
}

}  // namespace jotgate
