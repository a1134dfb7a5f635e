// AuditCaptureTest: a fixture whose "audit" logger writes bare lines (no time, no level) into
// audit_, for tests that check the exact audit lines.
#pragma once

#include <memory>
#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

namespace jotgate::auth {

class AuditCaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::drop("audit");
    auto logger = std::make_shared<spdlog::logger>(
        "audit", std::make_shared<spdlog::sinks::ostream_sink_mt>(audit_));
    logger->set_pattern("%v");
    spdlog::register_logger(logger);
  }
  void TearDown() override { spdlog::drop("audit"); }

  std::ostringstream audit_;
};

}  // namespace jotgate::auth
