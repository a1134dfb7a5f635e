// The stored virtual proxies added to the file's: after them, marked as from the database; one
// whose prefix or name the file took, or that no longer reads, is left out with a warning.
#include "gateway/stored_virtual_proxies.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace jotgate::gateway {
namespace {

namespace fs = std::filesystem;

class StoredVirtualProxiesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("jotgate-stored-vps-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::create_directories(dir_);
    fs::copy_file(std::string(JOTGATE_TEST_DATA) + "/keys/rsa_cert.pem", dir_ / "signer.pem",
                  fs::copy_options::overwrite_existing);
    std::ofstream(dir_ / "jotgate.yaml")
        << "listeners:\n  - name: http\n    address: 127.0.0.1:0\n"
           "virtual_proxies:\n  - name: File\n    prefix: file\n    listeners: [http]\n"
           "    auth: {method: jwt, jwt: {key: signer.pem}}\n";
    auto loaded = config::load_config_file((dir_ / "jotgate.yaml").string());
    ASSERT_TRUE(loaded.ok()) << loaded.error().detail;
    config_ = std::move(*loaded);
  }
  void TearDown() override { fs::remove_all(dir_); }
  static access::StoredVirtualProxy stored(const std::string& name, const std::string& prefix,
                                           const std::string& extra = "") {
    return {prefix,
            R"({"name": ")" + name + R"(", "prefix": ")" + prefix +
                R"(", "listeners": ["http"], "auth": {"method": "ticket"})" + extra + "}",
            100, "token"};
  }
  fs::path dir_;
  config::GatewayConfig config_;
};

TEST_F(StoredVirtualProxiesTest, AddedAfterTheFilesAndMarked) {
  auto warnings = add_stored_virtual_proxies(
      config_, {stored("Root", ""), stored("Sales", "sales")}, config::KeyFiles::kMayFail);
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(config_.virtual_proxies.size(), 3u);
  EXPECT_FALSE(config_.virtual_proxies[0].from_database);
  EXPECT_EQ(config_.virtual_proxies[1].prefix, "");
  EXPECT_TRUE(config_.virtual_proxies[1].from_database);
  EXPECT_EQ(config_.virtual_proxies[2].name, "Sales");
  EXPECT_NE(find_virtual_proxy(config_, "sales"), nullptr);
  EXPECT_EQ(find_virtual_proxy(config_, "nope"), nullptr);
}

TEST_F(StoredVirtualProxiesTest, WhatCannotBeServedIsLeftOutWithAWarning) {
  auto warnings = add_stored_virtual_proxies(
      config_,
      {stored("Clash", "file"), stored("File", "other"),
       stored("Bad", "bad", R"(, "session": {"inactivity_timeout": "soon"})"),
       stored("Good", "good")},
      config::KeyFiles::kMayFail);
  EXPECT_EQ(warnings,
            (std::vector<std::string>{
                "virtual proxy \"file\" (database) is left out: its prefix is used by the "
                "configuration file's \"File\"",
                "virtual proxy \"other\" (database) is left out: its name \"File\" is used by the "
                "configuration file",
                "virtual proxy \"bad\" (database) is left out: session.inactivity_timeout: "
                "expected a duration such as 90s, 30m, 8h, 2d or whole seconds"}));
  ASSERT_EQ(config_.virtual_proxies.size(), 2u);
  EXPECT_EQ(config_.virtual_proxies[0].name, "File");
  EXPECT_FALSE(config_.virtual_proxies[0].from_database);
  EXPECT_EQ(config_.virtual_proxies[1].name, "Good");
}

}  // namespace
}  // namespace jotgate::gateway
