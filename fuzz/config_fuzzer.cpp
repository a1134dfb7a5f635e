// The configuration loader on arbitrary YAML text, as a whole file and as one virtual proxy
// document of the admin API: each must answer every input with a config or errors naming the
// place, never throw or crash, nor lean on the last guard (an error naming kReaderBug).
// Relative paths resolve in tests/data/keys, so `key: rsa_cert.pem` loads a real certificate.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/gateway_config.h"

namespace {

using namespace jotgate::config;

// The guard's error starts with kReaderBug (after "fuzz.yaml: " for a file); anywhere else it is
// the fuzzer's own text echoed back in a message, as in an unknown key.
bool starts_with_reader_bug(std::string_view text, std::string_view before = "") {
  return text.starts_with(before) && text.substr(before.size()).starts_with(kReaderBug);
}

// The setting a document is read in: one listener, one virtual proxy.
const GatewayConfig& document_base() {
  static const GatewayConfig base = [] {
    auto config = parse_config(
        "listeners:\n  - name: http\n    address: 127.0.0.1:8080\nvirtual_proxies:\n"
        "  - name: a\n    prefix: a\n    listeners: [http]\n    upstreams: [http://127.0.0.1:9]\n"
        "    auth: { method: jwt, jwt: { key: rsa_cert.pem } }\n",
        JOTGATE_TEST_DATA "/keys/fuzz.yaml", JOTGATE_TEST_DATA "/keys");
    if (!config) __builtin_trap();
    return *config;
  }();
  return base;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  // The loader reads the key files a config names; device and kernel files (/dev/zero,
  // /proc/self/mem) would have it read forever or fault, which is no bug of the parser.
  for (const char* special : {"/dev", "/proc", "/sys"}) {
    if (yaml.find(special) != std::string::npos) return -1;
  }
  auto config = parse_config(yaml, "fuzz.yaml", JOTGATE_TEST_DATA "/keys");
  if (!config) {
    if (starts_with_reader_bug(config.error().detail, "fuzz.yaml: ")) __builtin_trap();
    (void)error_lines(config.error());
  }
  const VirtualProxyDocument document =
      parse_virtual_proxy_document(yaml, document_base(), "<document>");
  for (const FieldProblem& problem : document.problems) {
    if (starts_with_reader_bug(problem.message)) __builtin_trap();
  }
  return 0;
}
