#include "auth/credentials.h"

#include "base/text.h"

namespace jotgate::auth {

std::optional<std::string_view> bearer_token(std::optional<std::string_view> authorization) {
  if (!authorization) return std::nullopt;
  std::string_view value = trim_ows(*authorization);
  if (!istarts_with(value, "bearer")) return std::nullopt;
  if (value.size() > 6 && value[6] != ' ') return std::nullopt;  // "Bearerx"
  return trim_ows(value.substr(6));
}

}  // namespace jotgate::auth
