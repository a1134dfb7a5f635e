// The audit history: what audit() writes is kept (newest first), bounded, and filtered by user
// (a part, any case), virtual proxy, event and reason.
#include "auth/audit_history.h"

#include <string>

#include <gtest/gtest.h>

#include "audit_capture.h"
#include "auth/audit.h"

namespace jotgate::auth {
namespace {

class AuditHistoryTest : public AuditCaptureTest {
 protected:
  void SetUp() override { audit_history().clear(); }
  void TearDown() override { audit_history().clear(); }
};

std::vector<std::string> events_of(const std::vector<AuditEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.event + " " + std::string(e.field("user")));
  return out;
}

TEST_F(AuditHistoryTest, AuditedLinesAreKeptNewestFirstWithTheirFields) {
  audit("sign_in", {{"vp", "jwt"}, {"user", "ACME\\alice"}, {"method", "jwt"}});
  audit("token_rejected", {{"vp", "jwt"}, {"reason", "TOKEN_EXPIRED"}, {"user", "ACME\\bob"}});
  auto events = audit_history().recent({});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "token_rejected");
  EXPECT_EQ(events[0].field("reason"), "TOKEN_EXPIRED");
  EXPECT_EQ(events[1].event, "sign_in");
  EXPECT_EQ(events[1].fields, (std::vector<std::pair<std::string, std::string>>{
                                  {"vp", "jwt"}, {"user", "ACME\\alice"}, {"method", "jwt"}}));
  EXPECT_EQ(events[1].field("absent"), "");
}

TEST_F(AuditHistoryTest, FiltersByUserPartVirtualProxyEventAndReason) {
  audit("sign_in", {{"vp", "jwt"}, {"user", "ACME\\Alice"}});
  audit("sign_in", {{"vp", "sales"}, {"user", "ACME\\bob"}});
  audit("token_rejected", {{"vp", "jwt"}, {"reason", "TOKEN_EXPIRED"}, {"user", "ACME\\alice"}});
  audit("token_rejected", {{"vp", "jwt"}, {"reason", "SIGNATURE_INVALID"}});
  EXPECT_EQ(events_of(audit_history().recent({.user = "alice"})),
            (std::vector<std::string>{"token_rejected ACME\\alice", "sign_in ACME\\Alice"}));
  EXPECT_EQ(events_of(audit_history().recent({.vp = "sales"})),
            (std::vector<std::string>{"sign_in ACME\\bob"}));
  EXPECT_EQ(events_of(audit_history().recent({.vp = "jwt", .event = "sign_in"})),
            (std::vector<std::string>{"sign_in ACME\\Alice"}));
  EXPECT_EQ(events_of(audit_history().recent({.reason = "SIGNATURE_INVALID"})),
            (std::vector<std::string>{"token_rejected "}));
  EXPECT_TRUE(audit_history().recent({.vp = "jw"}).empty());  // exact, unlike the user
  EXPECT_EQ(audit_history().recent({.limit = 3}).size(), 3u);
}

TEST_F(AuditHistoryTest, KeepsTheLastCapacityEvents) {
  AuditHistory history;
  for (std::size_t i = 0; i < AuditHistory::kCapacity + 5; ++i) {
    history.record({{}, "e" + std::to_string(i), {}});
  }
  auto all = history.recent({.limit = AuditHistory::kCapacity + 5});
  ASSERT_EQ(all.size(), AuditHistory::kCapacity);
  EXPECT_EQ(all.front().event, "e" + std::to_string(AuditHistory::kCapacity + 4));
  EXPECT_EQ(all.back().event, "e5");
}

TEST_F(AuditHistoryTest, LinesWrittenByTheWriterThreadAreKeptToo) {
  {
    AuditWriter writer;
    audit("logout", {{"vp", "jwt"}, {"user", "ACME\\carol"}});
  }  // stop(): every line written
  EXPECT_EQ(events_of(audit_history().recent({})),
            (std::vector<std::string>{"logout ACME\\carol"}));
}

}  // namespace
}  // namespace jotgate::auth
