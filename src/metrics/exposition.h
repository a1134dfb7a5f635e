// The Prometheus text exposition format 0.0.4: metric families (# HELP, # TYPE) and their
// samples, label values escaped as the format says (backslash, double quote, line feed).
//   TextWriter out;
//   out.family("jotgate_requests_total", "counter", "Requests answered.");
//   out.sample("jotgate_requests_total", {{"vp", "jwt"}, {"code", "200"}}, 3);
//   std::string text = out.take();
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace jotgate::metrics {

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

using Label = std::pair<std::string_view, std::string_view>;  // name, value

// A label value as written between the double quotes.
std::string escape_label_value(std::string_view value);
// A sample value: whole numbers in full, others in the shortest text that reads back as the
// same double; +Inf, -Inf, NaN.
std::string format_value(double value);

class TextWriter {
 public:
  // `type`: counter, gauge or histogram. `help` is escaped (backslash, line feed).
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, std::initializer_list<Label> labels, double value);
  void sample(std::string_view name, std::initializer_list<Label> labels, std::uint64_t value);
  std::string take() { return std::move(text_); }

 private:
  void begin_sample(std::string_view name, std::initializer_list<Label> labels);
  std::string text_;
};

}  // namespace jotgate::metrics
