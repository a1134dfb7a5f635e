// The audit writer (every line handed over is written, in order, before stop() returns; none
// dropped when the queue is full) and GateAudit's wording of the gate's events.
#include "auth/audit.h"

#include <cstdio>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

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

TEST_F(AuditTest, WithoutAWriterALineIsWrittenAtOnce) {
  audit("logout", {{"vp", "jwt"}, {"user", "ACME\\a b"}});
  EXPECT_EQ(lines(), (std::vector<std::string>{"event=logout vp=jwt user=\"ACME\\\\a b\""}));
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
