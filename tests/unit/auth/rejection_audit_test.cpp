// Refused-credential audit lines: the first of each (event, vp, reason, client) per interval in
// full, repeats as one counted line when the interval ends, a bounded table of keys.
#include "auth/rejection_audit.h"

#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include "audit_capture.h"

namespace jotgate::auth {
namespace {

class RejectionAuditTest : public AuditCaptureTest {
 protected:
  // The lines written since the last call.
  std::string take() {
    spdlog::get("audit")->flush();
    std::string out = audit_.str();
    audit_.str("");
    return out;
  }

  static RejectionAudit::Key key(std::string reason, std::string client = "10.0.0.7") {
    return {"token_rejected", "jwt", std::move(reason), std::move(client)};
  }

  static constexpr UnixSeconds kT = 1'800'000'000;
};

TEST_F(RejectionAuditTest, FirstInFullRepeatsCountedUntilTheIntervalEnds) {
  RejectionAudit rejections(10, 100);
  for (int i = 0; i < 500; ++i) rejections.record(key("TOKEN_EXPIRED"), kT + i % 10);
  rejections.record(key("SIGNATURE_MISMATCH"), kT + 3);
  EXPECT_EQ(take(),
            "event=token_rejected vp=jwt reason=TOKEN_EXPIRED client=10.0.0.7\n"
            "event=token_rejected vp=jwt reason=SIGNATURE_MISMATCH client=10.0.0.7\n");
  rejections.flush(kT + 9);
  EXPECT_EQ(take(), "");
  rejections.flush(kT + 10);  // the first interval ended; the second key's has not
  EXPECT_EQ(take(),
            "event=token_rejected_repeated vp=jwt reason=TOKEN_EXPIRED client=10.0.0.7 "
            "count=499 interval=10s\n");
  rejections.flush(kT + 13);  // no repeats: nothing to report
  EXPECT_EQ(take(), "");
  // Forgotten after its interval: the next one is written in full again.
  rejections.record(key("TOKEN_EXPIRED"), kT + 20);
  EXPECT_EQ(take(), "event=token_rejected vp=jwt reason=TOKEN_EXPIRED client=10.0.0.7\n");
}

TEST_F(RejectionAuditTest, ARefusalAfterTheIntervalReportsItsRepeatsWithoutAFlush) {
  RejectionAudit rejections(10, 100);
  rejections.record(key("TOKEN_EXPIRED"), kT);
  rejections.record(key("TOKEN_EXPIRED"), kT + 1);
  rejections.record(key("TOKEN_EXPIRED"), kT + 2);
  rejections.record(key("TOKEN_EXPIRED"), kT + 12);
  EXPECT_EQ(take(),
            "event=token_rejected vp=jwt reason=TOKEN_EXPIRED client=10.0.0.7\n"
            "event=token_rejected_repeated vp=jwt reason=TOKEN_EXPIRED client=10.0.0.7 "
            "count=2 interval=10s\n"
            "event=token_rejected vp=jwt reason=TOKEN_EXPIRED client=10.0.0.7\n");
}

TEST_F(RejectionAuditTest, ClientsAndReasonsAreCountedApart) {
  RejectionAudit rejections(10, 100);
  for (const char* client : {"10.0.0.1", "10.0.0.2"}) {
    for (int i = 0; i < 3; ++i) rejections.record(key("TOKEN_EXPIRED", client), kT);
  }
  rejections.flush(kT + 10);
  EXPECT_EQ(take(),
            "event=token_rejected vp=jwt reason=TOKEN_EXPIRED client=10.0.0.1\n"
            "event=token_rejected vp=jwt reason=TOKEN_EXPIRED client=10.0.0.2\n"
            "event=token_rejected_repeated vp=jwt reason=TOKEN_EXPIRED client=10.0.0.1 "
            "count=2 interval=10s\n"
            "event=token_rejected_repeated vp=jwt reason=TOKEN_EXPIRED client=10.0.0.2 "
            "count=2 interval=10s\n");
}

TEST_F(RejectionAuditTest, PastTheKeyLimitRefusalsAreCountedTogether) {
  RejectionAudit rejections(10, 2);
  for (int client = 0; client < 50; ++client) {
    rejections.record(key("TOKEN_EXPIRED", "10.0.1." + std::to_string(client)), kT);
  }
  EXPECT_EQ(take(),
            "event=token_rejected vp=jwt reason=TOKEN_EXPIRED client=10.0.1.0\n"
            "event=token_rejected vp=jwt reason=TOKEN_EXPIRED client=10.0.1.1\n");
  rejections.flush(kT + 10);
  EXPECT_EQ(take(), "event=rejections_untracked count=48 interval=10s\n");
  // The table emptied with the interval: new keys are written in full again.
  rejections.record(key("TOKEN_EXPIRED", "10.0.1.9"), kT + 10);
  EXPECT_EQ(take(), "event=token_rejected vp=jwt reason=TOKEN_EXPIRED client=10.0.1.9\n");
}

TEST_F(RejectionAuditTest, ValuesAreEscaped) {
  RejectionAudit rejections(10, 100);
  rejections.record({"header_rejected", "jwt", "IDENTITY_INVALID", "a b event=x"}, kT);
  EXPECT_EQ(take(),
            "event=header_rejected vp=jwt reason=IDENTITY_INVALID client=\"a b event=x\"\n");
}

}  // namespace
}  // namespace jotgate::auth
