// Hexadecimal digits, one way everywhere: reading one digit (percent-encoding, paths, hosts)
// and writing bytes as two digits each (ids, temporary file names, escapes in log lines).
//   hex_value('b') -> 11;   hex_encode("\x01\xab") -> "01ab"
//   append_hex(out, 0x2f, HexCase::kUpper);   // out += "2F"
#pragma once

#include <string>
#include <string_view>

namespace jotgate {

// The value of a hexadecimal digit, -1 for any other character.
int hex_value(char c);

enum class HexCase { kLower, kUpper };

// Appends `byte` as two digits.
inline void append_hex(std::string& out, unsigned char byte, HexCase letters = HexCase::kLower) {
  const char* digits = letters == HexCase::kLower ? "0123456789abcdef" : "0123456789ABCDEF";
  out += {digits[byte >> 4], digits[byte & 15]};
}

// Every byte of `bytes` as two lower-case digits.
std::string hex_encode(std::string_view bytes);

}  // namespace jotgate
