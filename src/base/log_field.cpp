#include "base/log_field.h"

#include <algorithm>

#include "base/hex.h"
#include "base/text.h"

namespace jotgate {

namespace {

// Bare values: printable ASCII without the characters a key=value reader splits or unquotes on.
bool bare_safe(char c) { return c > 0x20 && c < 0x7f && c != '"' && c != '='; }

}  // namespace

void append_log_field(std::string& out, std::string_view value) {
  if (value.empty()) {
    out.push_back('-');
    return;
  }
  if (value != "-" && std::all_of(value.begin(), value.end(), bare_safe)) {
    out.append(value);
    return;
  }
  out.push_back('"');
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (is_control(c) || u > 0x7f) {
          out += "\\x";
          append_hex(out, u);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

std::string log_field(std::string_view value) {
  std::string out;
  append_log_field(out, value);
  return out;
}

}  // namespace jotgate
