// Constant-time comparison for secrets (session ids, tickets, HMAC tags, admin tokens):
// the time taken depends only on the lengths, never on where the inputs differ.
//   if (constant_time_equal(presented, expected)) ...
#pragma once

#include <string_view>

namespace jotgate {

bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace jotgate
