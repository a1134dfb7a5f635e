#include "jose/base64url.h"

#include <array>
#include <cstdint>

namespace jotgate::jose {

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// 0..63 for alphabet characters, 0xFF for everything else (padding, '+', '/', whitespace).
constexpr std::array<std::uint8_t, 256> make_decode_table() {
  std::array<std::uint8_t, 256> table{};
  for (auto& entry : table) entry = 0xFF;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
  }
  return table;
}

constexpr auto kDecode = make_decode_table();

}  // namespace

std::string base64url_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() * 4 + 2) / 3);
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v =
        (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const std::uint32_t v = std::uint32_t{in[i]} << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
  } else if (rest == 2) {
    const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
  }
  return out;
}

bool base64url_decode_into(std::string_view text, std::span<unsigned char> out) {
  // A remainder of one character cannot carry a whole byte.
  const std::size_t rest = text.size() % 4;
  if (rest == 1) return false;
  const std::size_t full = text.size() - rest;
  if (out.size() != full / 4 * 3 + (rest == 0 ? 0 : rest - 1)) return false;
  const auto* in = reinterpret_cast<const unsigned char*>(text.data());
  unsigned char* o = out.data();
  // Groups of four characters; an invalid character sets a bit above the 24 data bits.
  std::uint32_t invalid = 0;
  for (std::size_t i = 0; i < full; i += 4) {
    const std::uint32_t a = kDecode[in[i]], b = kDecode[in[i + 1]], c = kDecode[in[i + 2]],
                        d = kDecode[in[i + 3]];
    invalid |= a | b | c | d;
    const std::uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    *o++ = static_cast<unsigned char>(v >> 16);
    *o++ = static_cast<unsigned char>(v >> 8);
    *o++ = static_cast<unsigned char>(v);
  }
  if (rest != 0) {
    const std::uint32_t a = kDecode[in[full]], b = kDecode[in[full + 1]];
    const std::uint32_t c = rest == 3 ? kDecode[in[full + 2]] : 0;
    invalid |= a | b | c;
    const std::uint32_t v = (a << 18) | (b << 12) | (c << 6);
    *o++ = static_cast<unsigned char>(v >> 16);
    if (rest == 3) *o++ = static_cast<unsigned char>(v >> 8);
    // Canonical form only: the unused trailing bits must be zero, so each value has one encoding.
    const std::uint32_t unused = rest == 2 ? (v & 0xFFFF) : (v & 0xFF);
    if (unused != 0) return false;
  }
  return (invalid & 0xC0) == 0;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  const std::size_t rest = text.size() % 4;
  if (rest == 1) return std::nullopt;
  std::string out(text.size() / 4 * 3 + (rest == 0 ? 0 : rest - 1), '\0');
  if (!base64url_decode_into(text,
                             std::span(reinterpret_cast<unsigned char*>(out.data()), out.size()))) {
    return std::nullopt;
  }
  return out;
}

}  // namespace jotgate::jose
