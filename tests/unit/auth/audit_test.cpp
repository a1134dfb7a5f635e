// Audit lines, written before audit() returns, and GateAudit's wording of the gate's events.
#include "auth/audit.h"

#include <sstream>
#include <string>
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

TEST_F(AuditTest, ALineIsWrittenBeforeAuditReturns) {
  audit("logout", {{"vp", "jwt"}, {"user", "ACME\\a b"}});
  EXPECT_EQ(lines(), (std::vector<std::string>{"event=logout vp=jwt user=\"ACME\\\\a b\""}));
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
