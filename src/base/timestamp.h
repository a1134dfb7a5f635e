// Timestamps as people and scripts write them: RFC 3339 in UTC or with an offset
// ("2030-01-31T12:00:00Z", "2030-01-31T13:00:00.5+01:00") or whole Unix seconds ("1900000000").
//   parse_timestamp("2030-01-31T12:00:00Z") -> 1896091200
//   format_timestamp(1896091200)            -> "2030-01-31T12:00:00Z"
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"

namespace jotgate {

// nullopt unless the whole text is one of the two forms, between 1970 and the end of 9999
// (fractions of a second are dropped).
std::optional<UnixSeconds> parse_timestamp(std::string_view text);

// RFC 3339 in UTC, whole seconds.
std::string format_timestamp(UnixSeconds t);

}  // namespace jotgate
