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

TEST(AccessLog, JsonLineHasTheFixedKeysThenTheRequest) {
  AccessLog log(stdout, false, config::LogFormat::kJson);
  AccessRecord r = record();
  r.ids = {"5f0c2d9e81b3a7c4-2a", "4bf92f3577b34da6a3ce929d0e0e4736"};
  std::string line = log.format(r, "2026-01-01T00:00:00.000Z");
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_EQ(line,
            R"({"ts":"2026-01-01T00:00:00.000Z","level":"info","event":"request",)"
            R"("vp":"Embedded analytics","user":"ACME\\alice","reason":null,"client":"127.0.0.1",)"
            R"("request_id":"5f0c2d9e81b3a7c4-2a","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736",)"
            R"("method":"GET","path":"/jwt/a b\n","status":200,"bytes":42,"duration_ms":1.5})"
            "\n");
}

TEST(AccessLog, JsonLineOfAnUnreadHeadHasNullIdsAndUser) {
  AccessLog log(stdout, false, config::LogFormat::kJson);
  AccessRecord r;
  r.client_ip = "127.0.0.1";
  r.status = 431;
  auto json = nlohmann::json::parse(log.format(r, "t"));
  for (auto key : {"vp", "user", "reason", "request_id", "trace_id"}) {
    EXPECT_TRUE(json[key].is_null()) << key;
  }
  EXPECT_EQ(json["status"], 431);
}

}  // namespace
}  // namespace jotgate::proxy
