// Durations as people write them in configs and flags: "250ms", "90s", "30m", "8h", "2d", or
// plain seconds. Timeouts take milliseconds; what counts in whole seconds (session and token
// lifetimes, leeway) takes no "ms".
//   parse_duration("250ms") -> 250ms;  parse_duration("2s") -> 2000ms
//   parse_duration_seconds("30m") -> 1800;  parse_duration_seconds("250ms") -> nullopt
//   format_duration_seconds(1800) -> "30m";  format_duration(1500ms) -> "1500ms"
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jotgate {

// Seconds, or nullopt when the text is not a non-negative whole number with an optional unit
// s, m, h or d.
std::optional<std::int64_t> parse_duration_seconds(std::string_view text);

// As parse_duration_seconds, and also a whole number of milliseconds with the unit ms.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

// The reverse, in the largest unit that holds the value whole ("2d", "90s", "0s"); what the
// parse functions read back to the same value.
std::string format_duration_seconds(std::int64_t seconds);
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace jotgate
