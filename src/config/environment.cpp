#include "config/environment.h"

#include <cstdlib>

namespace jotgate::config {

namespace {

bool is_variable_name(std::string_view name) {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (name.empty() || !letter(name.front())) return false;
  for (char c : name) {
    if (!letter(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> process_environment(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

Expansion expand_environment(std::string_view text, const EnvironmentLookup& lookup) {
  Expansion result;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t dollar = text.find('$', at);
    if (dollar == std::string_view::npos) break;
    result.text.append(text.substr(at, dollar - at));
    const std::string_view rest = text.substr(dollar);
    if (rest.starts_with("$${")) {
      result.text += "${";
      at = dollar + 3;
      continue;
    }
    if (!rest.starts_with("${")) {
      result.text += '$';
      at = dollar + 1;
      continue;
    }
    const std::size_t close = rest.find('}');
    if (close == std::string_view::npos) {
      result.problems.push_back(
          {dollar, "\"${\" is not closed by \"}\" (a literal \"${\" is written \"$${\")"});
      result.text.append(rest);
      return result;
    }
    const std::string_view reference = rest.substr(0, close + 1);
    const std::string_view inside = rest.substr(2, close - 2);
    const std::size_t separator = inside.find(":-");
    const std::string name(inside.substr(0, separator));
    at = dollar + reference.size();
    if (!is_variable_name(name)) {
      result.problems.push_back(
          {dollar, "\"" + std::string(reference) +
                       "\" is not ${NAME} or ${NAME:-default} (NAME: letters, digits and _, "
                       "not starting with a digit)"});
      result.text.append(reference);
      continue;
    }
    std::optional<std::string> value = lookup(name);
    if (separator != std::string_view::npos && (!value || value->empty())) {
      value = std::string(inside.substr(separator + 2));
    }
    if (!value) {
      result.problems.push_back({dollar, "the environment variable " + name + " is not set (${" +
                                             name + ":-default} gives a default)"});
      result.text.append(reference);
      continue;
    }
    result.text += *value;
  }
  if (at < text.size()) result.text.append(text.substr(at));
  return result;
}

}  // namespace jotgate::config
