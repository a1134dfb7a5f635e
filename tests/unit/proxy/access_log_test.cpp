// Access log lines: one line per request, no query string, text fields quoted when they hold
// spaces or other bytes that could break the line or add fields.
#include "proxy/access_log.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace jotgate::proxy {
namespace {

AccessRecord record() {
  AccessRecord r;
  r.client_ip = "127.0.0.1";
  r.method = "GET";
  r.path = "/jwt/a b\n";
  r.status = 200;
  r.bytes = 42;
  r.duration_ms = 1.5;
  r.virtual_proxy = "Embedded analytics";
  r.user = "ACME\\alice";
  return r;
}

TEST(AccessLog, TextLineIsOneLine) {
  AccessLog log(stdout, false, config::LogFormat::kText);
  std::string line = log.format(record(), "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(line,
            "2026-01-01T00:00:00.000Z 127.0.0.1 GET \"/jwt/a b\\n\" 200 42 1.500ms "
            "vp=\"Embedded analytics\" user=ACME\\alice\n");
}

TEST(AccessLog, JsonLineParses) {
  AccessLog log(stdout, false, config::LogFormat::kJson);
  std::string line = log.format(record(), "t");
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto json = nlohmann::json::parse(line);
  EXPECT_EQ(json["status"], 200);
  EXPECT_EQ(json["path"], "/jwt/a b\n");
  EXPECT_EQ(json["user"], "ACME\\alice");
  EXPECT_EQ(json["vp"], "Embedded analytics");
}

}  // namespace
}  // namespace jotgate::proxy
