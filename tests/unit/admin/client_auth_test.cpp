// ClientAuth: the token file read at start, and who is admitted with which credentials.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "admin/client_auth.h"

namespace jotgate::admin {
namespace {

namespace fs = std::filesystem;
using State = PresentedCertificate::State;

class ClientAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("jotgate-client-auth-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  config::AdminSettings with_token(const std::string& content) {
    config::AdminSettings settings;
    settings.token_file = (dir_ / "admin.token").string();
    std::ofstream(settings.token_file, std::ios::binary) << content;
    return settings;
  }
  fs::path dir_;
};

TEST_F(ClientAuthTest, TheTokenOfTheFileAdmitsLessItsTrailingNewline) {
  auto auth = ClientAuth::create(with_token("s3cret-token\r\n"));
  ASSERT_TRUE(auth.ok()) << auth.error().detail;
  auto verdict = auth->check({}, "Bearer s3cret-token");
  EXPECT_TRUE(verdict.admitted);
  EXPECT_EQ(verdict.client, "token");
  EXPECT_TRUE(auth->check({}, "bearer  s3cret-token ").admitted);  // scheme case, spaces
}

TEST_F(ClientAuthTest, AWrongTokenIs401InvalidToken) {
  auto auth = ClientAuth::create(with_token("s3cret-token\n"));
  ASSERT_TRUE(auth.ok());
  for (std::string_view presented :
       {"Bearer s3cret-tokeN", "Bearer s3cret-token\n", "Bearer s3cret-toke", "Bearer ",
        "Basic czNjcmV0LXRva2Vu", "s3cret-token", "Bearer s3cret-token2"}) {
    auto verdict = auth->check({}, presented);
    EXPECT_FALSE(verdict.admitted) << presented;
    EXPECT_EQ(verdict.status, 401);
    EXPECT_EQ(verdict.error, "INVALID_TOKEN");
  }
}

TEST_F(ClientAuthTest, NoCredentialsIs401) {
  auto auth = ClientAuth::create(with_token("t\n"));
  ASSERT_TRUE(auth.ok());
  auto verdict = auth->check({}, std::nullopt);
  EXPECT_FALSE(verdict.admitted);
  EXPECT_EQ(verdict.status, 401);
  EXPECT_EQ(verdict.error, "NO_CREDENTIALS");
}

TEST_F(ClientAuthTest, TrustedCertificateAdmitsByItsCommonName) {
  auto auth = ClientAuth::create({});  // no token file: certificates only
  ASSERT_TRUE(auth.ok());
  auto verdict = auth->check(PresentedCertificate{State::kTrusted, "sso-module"}, std::nullopt);
  EXPECT_TRUE(verdict.admitted);
  EXPECT_EQ(verdict.client, "sso-module");
}

TEST_F(ClientAuthTest, UntrustedCertificateIs403UnlessTheTokenIsRight) {
  auto auth = ClientAuth::create(with_token("t0ken"));
  ASSERT_TRUE(auth.ok());
  auto verdict = auth->check({State::kUntrusted, {}}, std::nullopt);
  EXPECT_FALSE(verdict.admitted);
  EXPECT_EQ(verdict.status, 403);
  EXPECT_EQ(verdict.message, "client certificate not signed by the admin CA");
  EXPECT_TRUE(auth->check({State::kUntrusted, {}}, "Bearer t0ken").admitted);
  EXPECT_EQ(auth->check({State::kUntrusted, {}}, "Bearer nope").status, 401);
}

TEST_F(ClientAuthTest, WithoutATokenFileNoBearerTokenAdmits) {
  auto auth = ClientAuth::create({});
  ASSERT_TRUE(auth.ok());
  EXPECT_FALSE(auth->check({}, "Bearer ").admitted);
  EXPECT_FALSE(auth->check({}, "Bearer anything").admitted);
}

TEST_F(ClientAuthTest, EmptyOrMissingTokenFileIsAnErrorNamingIt) {
  auto empty = ClientAuth::create(with_token("\n"));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().detail, "admin.token_file: " + (dir_ / "admin.token").string() +
                                      ": is empty (it must hold the admin token)");
  config::AdminSettings missing;
  missing.token_file = (dir_ / "none.token").string();
  auto unreadable = ClientAuth::create(missing);
  ASSERT_FALSE(unreadable.ok());
  EXPECT_EQ(unreadable.error().detail,
            "admin.token_file: " + (dir_ / "none.token").string() + ": cannot be read");
}

}  // namespace
}  // namespace jotgate::admin
