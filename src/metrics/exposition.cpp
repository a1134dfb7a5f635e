#include "metrics/exposition.h"

#include <charconv>
#include <cmath>

namespace jotgate::metrics {

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Whole numbers (timestamps, byte counts) in full rather than as 1.7e+09.
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<std::int64_t>(value));
  }
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof(buffer), value).ptr;
  return std::string(buffer, end);
}

void TextWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  text_ += "# HELP ";
  text_ += name;
  text_.push_back(' ');
  for (char c : help) {
    if (c == '\\') {
      text_ += "\\\\";
    } else if (c == '\n') {
      text_ += "\\n";
    } else {
      text_.push_back(c);
    }
  }
  text_ += "\n# TYPE ";
  text_ += name;
  text_.push_back(' ');
  text_ += type;
  text_.push_back('\n');
}

void TextWriter::begin_sample(std::string_view name, std::initializer_list<Label> labels) {
  text_ += name;
  if (labels.size() == 0) return;
  text_.push_back('{');
  bool first = true;
  for (const auto& [label, value] : labels) {
    if (!first) text_.push_back(',');
    first = false;
    text_ += label;
    text_ += "=\"";
    text_ += escape_label_value(value);
    text_.push_back('"');
  }
  text_.push_back('}');
}

void TextWriter::sample(std::string_view name, std::initializer_list<Label> labels, double value) {
  begin_sample(name, labels);
  text_.push_back(' ');
  text_ += format_value(value);
  text_.push_back('\n');
}

void TextWriter::sample(std::string_view name, std::initializer_list<Label> labels,
                        std::uint64_t value) {
  begin_sample(name, labels);
  text_.push_back(' ');
  text_ += std::to_string(value);
  text_.push_back('\n');
}

}  // namespace jotgate::metrics
