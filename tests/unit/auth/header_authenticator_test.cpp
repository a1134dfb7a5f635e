// HeaderAuthenticator alone: the three ways to name the directory, and each refusal (no header,
// untrusted listener, missing directory, identities that cannot be forwarded).
#include <gtest/gtest.h>

#include "auth/header_authenticator.h"
#include "fake_request.h"

namespace jotgate::auth {
namespace {

// auth.header: the user header, and the directory from a second header or a constant (neither:
// "DIRECTORY\id" in the user header).
HeaderAuthenticator sso_of(std::string directory_header, std::string directory) {
  return HeaderAuthenticator({"X-Sso-User", std::move(directory_header), std::move(directory)});
}

FakeRequest trusted() {
  FakeRequest request;
  request.trusted_ = true;
  return request;
}

Reason refusal(const HeaderAuthenticator& sso, const FakeRequest& request) {
  auto proven = sso.authenticate(request);
  EXPECT_FALSE(proven.ok());
  return proven ? Reason::kBadRequest : proven.error().reason;
}

TEST(HeaderAuthenticator, TheUserHeaderHoldsDirectoryAndIdByDefault) {
  HeaderAuthenticator sso = sso_of("", "");
  auto proven = sso.authenticate(trusted().with("x-sso-user", "ACME\\alice"));
  ASSERT_TRUE(proven.ok()) << proven.error().describe();
  EXPECT_EQ(proven->user, (UserIdentity{"ACME", "alice"}));
  EXPECT_TRUE(proven->attributes.empty());
  EXPECT_EQ(refusal(sso, trusted().with("X-Sso-User", "alice")), Reason::kIdentityInvalid);
  EXPECT_EQ(sso.headers(), (std::vector<std::string>{"X-Sso-User"}));
}

TEST(HeaderAuthenticator, TheDirectoryFromAConstantOrASecondHeader) {
  HeaderAuthenticator constant = sso_of("", "ACME");
  EXPECT_EQ(constant.authenticate(trusted().with("X-Sso-User", "bob"))->user,
            (UserIdentity{"ACME", "bob"}));
  HeaderAuthenticator second = sso_of("X-Sso-Dir", "");
  EXPECT_EQ(
      second.authenticate(trusted().with("X-Sso-User", "bob").with("X-Sso-Dir", "CORP"))->user,
      (UserIdentity{"CORP", "bob"}));
  // Without its directory header the user is not known.
  EXPECT_EQ(refusal(second, trusted().with("X-Sso-User", "bob")), Reason::kIdentityInvalid);
  EXPECT_EQ(second.headers(), (std::vector<std::string>{"X-Sso-User", "X-Sso-Dir"}));
}

TEST(HeaderAuthenticator, WithoutTheHeaderThereAreNoCredentials) {
  HeaderAuthenticator sso = sso_of("", "ACME");
  EXPECT_EQ(refusal(sso, trusted()), Reason::kNoCredentials);
  EXPECT_EQ(refusal(sso, FakeRequest()), Reason::kNoCredentials);
}

TEST(HeaderAuthenticator, TheHeaderIsNeverBelievedOnAnUntrustedListener) {
  HeaderAuthenticator sso = sso_of("", "ACME");
  EXPECT_EQ(refusal(sso, FakeRequest().with("X-Sso-User", "alice")), Reason::kHeaderUntrusted);
}

TEST(HeaderAuthenticator, IdentitiesThatCannotBeForwardedAreRefused) {
  HeaderAuthenticator constant = sso_of("", "ACME");
  for (const char* id : {"", "al;ice", "a\x01", "a\x7f"}) {
    EXPECT_EQ(refusal(constant, trusted().with("X-Sso-User", id)), Reason::kIdentityInvalid) << id;
  }
  HeaderAuthenticator second = sso_of("X-Sso-Dir", "");
  for (const char* directory : {"ANONYMOUS", "AC\\ME", "AC;ME", ""}) {
    EXPECT_EQ(refusal(second, trusted().with("X-Sso-User", "bob").with("X-Sso-Dir", directory)),
              Reason::kIdentityInvalid)
        << directory;
  }
  HeaderAuthenticator qualified = sso_of("", "");
  EXPECT_EQ(refusal(qualified, trusted().with("X-Sso-User", "ANONYMOUS\\anon-1")),
            Reason::kIdentityInvalid);
}

}  // namespace
}  // namespace jotgate::auth
