// Audit lines: written before audit() returns without a writer; with one, every line appended
// is written, in order, by stop(); JSON lines carry the request's ids; GateAudit's wording.
#include "auth/audit.h"

#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "audit_capture.h"
#include "auth/gate_audit.h"

namespace jotgate::auth {
namespace {

class AuditTest : public AuditCaptureTest {
 protected:
  // The lines that reached the logger.
  std::vector<std::string> lines() const {
    std::vector<std::string> out;
    std::istringstream in(audit_.str());
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
};

TEST_F(AuditTest, WithoutAWriterALineIsWrittenBeforeAuditReturns) {
  audit("logout", {{"vp", "jwt"}, {"user", "ACME\\a b"}}, {"5f0c2d9e81b3a7c4-1", "4bf9"});
  // The text line keeps its fields: the ids are for JSON lines.
  EXPECT_EQ(lines(), (std::vector<std::string>{"event=logout vp=jwt user=\"ACME\\\\a b\""}));
}

TEST_F(AuditTest, JsonLinesHaveTheFixedKeysAndTheRequestsIds) {
  set_audit_format(config::LogFormat::kJson);
  audit("sign_in", {{"vp", "jwt"}, {"user", "ACME\\alice"}, {"method", "jwt"}},
        {"5f0c2d9e81b3a7c4-1", "4bf92f3577b34da6a3ce929d0e0e4736"});
  audit("admin_call", {{"method", "GET"}, {"vp", ""}, {"client", "token"}, {"status", "200"}});
  set_audit_format(config::LogFormat::kText);
  const auto written = lines();
  ASSERT_EQ(written.size(), 2u);
  const auto sign_in = nlohmann::ordered_json::parse(written[0]);
  const std::string ts = sign_in["ts"];
  EXPECT_EQ(written[0], R"({"ts":")" + ts +
                            R"(","level":"info","event":"sign_in","vp":"jwt","user":"ACME\\alice",)"
                            R"("reason":null,"client":null,"request_id":"5f0c2d9e81b3a7c4-1",)"
                            R"("trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","method":"jwt"})");
  EXPECT_EQ(ts.size(), 24u);
  EXPECT_EQ(ts.back(), 'Z');
  const auto admin_call = nlohmann::json::parse(written[1]);
  EXPECT_TRUE(admin_call["vp"].is_null());
  EXPECT_EQ(admin_call["client"], "token");
  EXPECT_TRUE(admin_call["request_id"].is_null());
  EXPECT_EQ(admin_call["status"], "200");
}

TEST_F(AuditTest, TheWriterWritesEveryLineInOrderBeforeStopReturns) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 3 * static_cast<int>(AuditWriter::kCapacity) / kThreads;
  AuditWriter writer;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kPerThread; ++i) {
        audit("sign_in", {{"thread", std::to_string(t)}, {"n", std::to_string(i)}});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  writer.stop();
  const auto written = lines();
  ASSERT_EQ(written.size(), static_cast<std::size_t>(kThreads * kPerThread));
  std::vector<int> next(kThreads, 0);
  for (const std::string& line : written) {
    int t = -1;
    int n = -1;
    ASSERT_EQ(std::sscanf(line.c_str(), "event=sign_in thread=%d n=%d", &t, &n), 2) << line;
    ASSERT_EQ(n, next.at(t)) << line;  // each thread's lines in the order it wrote them
    ++next[t];
  }
  // After stop, lines are written on the caller's thread again.
  audit("logout", {{"vp", "jwt"}});
  EXPECT_EQ(lines().back(), "event=logout vp=jwt");
}

// Lines kept under the sink's lock, so a test may read them while the writer writes.
class LockedLines final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};

TEST_F(AuditTest, TheWriterWritesALineSoonWithoutBeingAskedPerLine) {
  auto sink = std::make_shared<LockedLines>();
  spdlog::drop("audit");
  spdlog::register_logger(std::make_shared<spdlog::logger>("audit", sink));
  auto wait_for = [&](std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (sink->lines().size() < count && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return sink->lines();
  };
  AuditWriter writer;
  audit("logout", {{"vp", "jwt"}});
  EXPECT_EQ(wait_for(1), (std::vector<std::string>{"event=logout vp=jwt"}));
  // A quiet writer sleeps; the next line wakes it again.
  std::this_thread::sleep_for(4 * AuditWriter::kInterval);
  audit("logout", {{"vp", "sales"}});
  EXPECT_EQ(wait_for(2),
            (std::vector<std::string>{"event=logout vp=jwt", "event=logout vp=sales"}));
}

TEST_F(AuditTest, GateAuditWordsTheGatesEvents) {
  RejectionAudit rejections;
  GateAudit gate("sales", rejections);
  gate.signed_in({"ACME", "alice"}, "header");
  gate.user_event("access_denied", {"ACME", "bob"});
  gate.refused("ticket_rejected", Reason::kTicketInvalid, "10.0.0.7", 1000);
  gate.refused("ticket_rejected", Reason::kTicketInvalid, "10.0.0.7", 1001);  // a repeat
  rejections.flush(1000 + RejectionAudit::kInterval);
  EXPECT_EQ(lines(), (std::vector<std::string>{
                         "event=sign_in vp=sales user=ACME\\alice method=header",
                         "event=access_denied vp=sales user=ACME\\bob",
                         "event=ticket_rejected vp=sales reason=TICKET_INVALID client=10.0.0.7",
                         "event=ticket_rejected_repeated vp=sales reason=TICKET_INVALID "
                         "client=10.0.0.7 count=1 interval=10s"}));
}

}  // namespace
}  // namespace jotgate::auth
