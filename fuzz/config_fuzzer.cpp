// The configuration loader on arbitrary YAML text: parse_config must answer every input with a
// config or an error naming the place, never throw or crash. Relative paths resolve in
// tests/data/keys, so `key: rsa_cert.pem` loads a real certificate.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/gateway_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string yaml(reinterpret_cast<const char*>(data), size);
  // The loader reads the key files a config names; device and kernel files (/dev/zero,
  // /proc/self/mem) would have it read forever or fault, which is no bug of the parser.
  for (const char* special : {"/dev", "/proc", "/sys"}) {
    if (yaml.find(special) != std::string::npos) return -1;
  }
  auto config = jotgate::config::parse_config(yaml, "fuzz.yaml", JOTGATE_TEST_DATA "/keys");
  if (!config) (void)jotgate::config::error_lines(config.error());
  return 0;
}
