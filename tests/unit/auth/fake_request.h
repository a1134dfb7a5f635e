// FakeRequest: a RequestView built from a map, for the gate's and authenticators' tests.
//   FakeRequest().with("Authorization", "Bearer " + token).with("Cookie", "a=1");
#pragma once

#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/request_view.h"

namespace jotgate::auth {

class FakeRequest final : public RequestView {
 public:
  std::multimap<std::string, std::string> headers_;  // names in lower case
  bool tls_ = false;
  bool trusted_ = false;
  std::string client_ip_ = "10.0.0.7";

  FakeRequest& with(std::string name, std::string value) {
    headers_.emplace(lower(std::move(name)), std::move(value));
    return *this;
  }
  std::string_view method() const override { return "GET"; }
  std::optional<std::string_view> header(std::string_view name) const override {
    auto all = headers(name);
    if (all.empty()) return std::nullopt;
    return all.front();
  }
  std::vector<std::string_view> headers(std::string_view name) const override {
    std::vector<std::string_view> out;
    auto [begin, end] = headers_.equal_range(lower(std::string(name)));
    for (auto it = begin; it != end; ++it) out.push_back(it->second);
    return out;
  }
  bool is_tls() const override { return tls_; }
  bool trusted_listener() const override { return trusted_; }
  std::string_view client_ip() const override { return client_ip_; }

 private:
  static std::string lower(std::string name) {
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return name;
  }
};

}  // namespace jotgate::auth
