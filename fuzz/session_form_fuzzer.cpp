// The form of POST .auth/session (and the query of GET .auth/logout): the input is the query,
// a newline, then the form body. Besides not crashing, a 303 must never lead to another host
// than this one or an allowed origin (no open redirect).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/gateway_config.h"
#include "proxy/auth_endpoints.h"
#include "stub_gate.h"

namespace {

using namespace jotgate;

class FormRequest final : public auth::RequestView {
 public:
  explicit FormRequest(std::string_view method) : method_(method) {}
  std::string_view method() const override { return method_; }
  std::optional<std::string_view> header(std::string_view name) const override {
    if (name == "Host") return "gw.test";
    if (name == "Content-Type") return "application/x-www-form-urlencoded";
    return std::nullopt;
  }
  std::vector<std::string_view> headers(std::string_view name) const override {
    auto value = header(name);
    if (!value) return {};
    return {*value};
  }
  bool is_tls() const override { return true; }

 private:
  std::string_view method_;
};

// Signs everyone in: the fuzzer is after the endpoint's parsing, not the gate's decision.
class SignInEveryone final : public proxy::StubGate {
 public:
  SignInEveryone() : StubGate({}) {}
  auth::Decision check(const auth::RequestView&) override {
    auth::Decision decision;
    decision.allowed = true;
    decision.set_cookie = "X-Jotgate-Session-jwt=s; Path=/jwt";
    return decision;
  }
};

struct Fixture {
  SignInEveryone gate;
  config::VirtualProxy vp = [] {
    config::VirtualProxy v;
    v.prefix = "jwt";
    v.cors_allowed_origins = {"https://app.test"};
    return v;
  }();
};

// A Location the endpoints may send: a path on this host, or a URL of this origin or of an
// allowed one (followed by nothing, '/', '?' or '#').
bool safe_location(std::string_view location) {
  for (char c : location) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '\\') return false;
  }
  if (location.starts_with("/")) return !location.starts_with("//");
  for (std::string_view origin : {"https://gw.test", "https://app.test"}) {
    if (location.starts_with(origin)) {
      std::string_view rest = location.substr(origin.size());
      return rest.empty() || rest[0] == '/' || rest[0] == '?' || rest[0] == '#';
    }
  }
  return false;
}

void check(const Answer& reply) {
  if (reply.status != 303) return;
  for (const auto& [name, value] : reply.headers) {
    if (name == "Location" && !safe_location(value)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  const std::string_view query = input.substr(0, newline);
  const std::string_view form =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  check(proxy::serve_auth_endpoint(fixture.gate, FormRequest("POST"), "session", query, form,
                                   fixture.vp));
  check(proxy::serve_auth_endpoint(fixture.gate, FormRequest("GET"), "logout", query, {},
                                   fixture.vp));
  return 0;
}
