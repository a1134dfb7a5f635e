// Durations as people write them in configs and flags: "90s", "30m", "8h", "2d", or plain seconds.
//   parse_duration_seconds("30m") -> 1800
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace jotgate {

// Seconds, or nullopt when the text is not a non-negative whole number with an optional unit
// s, m, h or d.
std::optional<std::int64_t> parse_duration_seconds(std::string_view text);

}  // namespace jotgate
