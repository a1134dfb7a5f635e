// The admin API's requests, bodies above all: the input is "METHOD TARGET [REFUSAL]", a newline,
// then the JSON body (Content-Type: application/json). REFUSAL (denied, identity, target) makes
// the fake SessionAdmin refuse, to reach the mapping of its errors to field errors.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "admin/admin_api.h"
#include "fake_session_admin.h"

namespace {

using namespace jotgate;

std::string_view next_word(std::string_view& line) {
  const std::size_t space = line.find(' ');
  std::string_view word = line.substr(0, space);
  line = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  return word;
}

std::optional<Error> refusal(std::string_view name) {
  if (name == "denied") return make_error(Reason::kAccessDenied, "");
  if (name == "identity") return make_error(Reason::kIdentityInvalid, "userDirectory");
  if (name == "target") return make_error(Reason::kBadRequest, "targetUri: outside the prefix");
  if (name == "attribute") return make_error(Reason::kBadRequest, "attributes.X-Role: a newline");
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The audit log goes nowhere: a line per call would drown the fuzzer's output.
  spdlog::register_logger(
      std::make_shared<spdlog::logger>("audit", std::make_shared<spdlog::sinks::null_sink_mt>()));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static admin::FakeSessionAdmin fake;
  static admin::FakeBackend backend(fake);
  static admin::AdminApi api(backend);
  fake.sessions.clear();
  fake.sessions["live"] = {"live", "sales", "X-Jotgate-Session-sales", {"ACME", "alice"}, {}, 1};

  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  std::string_view line = input.substr(0, newline);
  const std::string_view body =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  const std::string_view method = next_word(line);
  const std::string_view target = next_word(line);
  fake.next_error = refusal(line);

  const Answer response =
      api.handle({method, target, "application/json", body, false, admin::admitted_as("fuzzer")});
  // Every answer with a body is JSON the client can parse.
  if (!response.body.empty() &&
      nlohmann::json::parse(response.body, nullptr, false).is_discarded()) {
    std::abort();
  }
  return 0;
}
