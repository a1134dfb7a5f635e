#include "auth/credentials.h"

#include <algorithm>
#include <cctype>

namespace jotgate::auth {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::optional<std::string_view> bearer_token(std::optional<std::string_view> authorization) {
  if (!authorization) return std::nullopt;
  std::string_view value = *authorization;
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (value.size() < 6 || !iequals(value.substr(0, 6), "bearer")) return std::nullopt;
  if (value.size() > 6 && value[6] != ' ') return std::nullopt;  // "Bearerx"
  value.remove_prefix(6);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  return value;
}

}  // namespace jotgate::auth
