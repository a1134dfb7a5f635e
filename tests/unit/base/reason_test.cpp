#include "base/reason.h"

#include <cctype>
#include <set>
#include <string>

#include <gtest/gtest.h>

namespace jotgate {
namespace {

// Every enumerator, walking the enum until reason_message reports an unknown value.
std::vector<Reason> all_reasons() {
  std::vector<Reason> reasons;
  for (int i = 0; i < 1000; ++i) {
    const auto reason = static_cast<Reason>(i);
    if (reason_code(reason) == "UNKNOWN") break;
    reasons.push_back(reason);
  }
  return reasons;
}

TEST(Reason, CoversEveryEnumeratorUpToTheLast) {
  const auto reasons = all_reasons();
  ASSERT_FALSE(reasons.empty());
  EXPECT_GE(static_cast<int>(reasons.size()), static_cast<int>(Reason::kAuthorizationRepeated) + 1);
}

TEST(Reason, CodesAreUniqueUpperSnakeCaseAndMessagesPresent) {
  std::set<std::string_view> codes;
  std::set<std::string_view> messages;
  for (const Reason reason : all_reasons()) {
    const auto code = reason_code(reason);
    EXPECT_TRUE(codes.insert(code).second) << "duplicate code " << code;
    EXPECT_TRUE(messages.insert(reason_message(reason)).second) << "duplicate message for " << code;
    ASSERT_FALSE(code.empty());
    for (const char c : code) {
      EXPECT_TRUE(std::isupper(static_cast<unsigned char>(c)) || c == '_' ||
                  std::isdigit(static_cast<unsigned char>(c)))
          << code;
    }
    EXPECT_FALSE(reason_message(reason).empty()) << code;
  }
}

TEST(Reason, StableCodesScriptsMatchOn) {
  EXPECT_EQ(reason_code(Reason::kTokenExpired), "TOKEN_EXPIRED");
  EXPECT_EQ(reason_code(Reason::kAlgNone), "ALG_NONE");
  EXPECT_EQ(reason_code(Reason::kTokenEncrypted), "TOKEN_ENCRYPTED");
  EXPECT_NE(reason_message(Reason::kTokenEncrypted).find("encrypted tokens"),
            std::string_view::npos);
  EXPECT_EQ(reason_message(Reason::kTokenExpired), "the token has expired");
  EXPECT_EQ(reason_code(Reason::kTicketInvalid), "TICKET_INVALID");
  EXPECT_EQ(reason_code(Reason::kCredentialsNotAccepted), "CREDENTIALS_NOT_ACCEPTED");
  EXPECT_EQ(reason_code(Reason::kHeaderUntrusted), "HEADER_UNTRUSTED");
  EXPECT_EQ(reason_code(Reason::kAuthorizationRepeated), "AUTHORIZATION_REPEATED");
  EXPECT_EQ(reason_code(Reason::kTokenRevoked), "TOKEN_REVOKED");
  EXPECT_EQ(reason_code(Reason::kSessionStoreUnavailable), "SESSION_STORE_UNAVAILABLE");
}

}  // namespace
}  // namespace jotgate
