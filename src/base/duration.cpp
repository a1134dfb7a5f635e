#include "base/duration.h"

#include <charconv>
#include <limits>
#include <utility>

namespace jotgate {

namespace {

// `number` (digits only) times `unit`; nullopt when it is not a number or overflows.
std::optional<std::int64_t> scaled(std::string_view number, std::int64_t unit) {
  if (number.empty()) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || end != number.data() + number.size() || value < 0) return std::nullopt;
  if (value > std::numeric_limits<std::int64_t>::max() / unit) return std::nullopt;
  return value * unit;
}

}  // namespace

std::optional<std::int64_t> parse_duration_seconds(std::string_view text) {
  if (text.empty() || text.ends_with("ms")) return std::nullopt;
  // The unit letter, if any: s, m, h or d (plain numbers are seconds).
  static constexpr std::string_view kLetters = "smhd";
  static constexpr std::int64_t kSeconds[] = {1, 60, 3600, 86400};
  std::int64_t unit = 1;
  if (const auto at = kLetters.find(text.back()); at != std::string_view::npos) {
    unit = kSeconds[at];
    text.remove_suffix(1);
  }
  return scaled(text, unit);
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  constexpr std::int64_t kPerSecond = 1000;
  std::optional<std::int64_t> milliseconds;
  if (text.ends_with("ms")) {
    milliseconds = scaled(text.substr(0, text.size() - 2), 1);
  } else if (auto seconds = parse_duration_seconds(text);
             seconds && *seconds <= std::numeric_limits<std::int64_t>::max() / kPerSecond) {
    milliseconds = *seconds * kPerSecond;
  }
  if (!milliseconds) return std::nullopt;
  return std::chrono::milliseconds(*milliseconds);
}

std::string format_duration_seconds(std::int64_t seconds) {
  for (auto [unit, letter] : {std::pair<std::int64_t, char>{86400, 'd'}, {3600, 'h'}, {60, 'm'}}) {
    if (seconds != 0 && seconds % unit == 0) return std::to_string(seconds / unit) + letter;
  }
  return std::to_string(seconds) + "s";
}

std::string format_duration(std::chrono::milliseconds duration) {
  if (duration.count() % 1000 != 0) return std::to_string(duration.count()) + "ms";
  return format_duration_seconds(duration.count() / 1000);
}

}  // namespace jotgate
