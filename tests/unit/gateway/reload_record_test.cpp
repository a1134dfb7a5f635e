// The pid file and reload.json: what the gateway writes, `jotgate reload` reads back exactly;
// what is missing or garbled reads as nothing.
#include "gateway/reload_record.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace jotgate::gateway {
namespace {

namespace fs = std::filesystem;

class ReloadRecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("jotgate-record-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ReloadRecordTest, PidFileRoundTripAndRemovalOfOurOwnOnly) {
  ASSERT_TRUE(write_pid_file(dir_.string(), "/etc/jotgate/jotgate.yaml").ok());
  std::ifstream in(pid_file_path(dir_.string()));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, std::to_string(::getpid()) + "\n/etc/jotgate/jotgate.yaml\n");
  auto read = read_pid_file(dir_.string());
  ASSERT_TRUE(read);
  EXPECT_EQ(read->pid, ::getpid());
  EXPECT_EQ(read->config_path, "/etc/jotgate/jotgate.yaml");

  std::ofstream(pid_file_path(dir_.string())) << "1\n/other.yaml\n";  // another gateway since
  remove_pid_file(dir_.string());
  EXPECT_TRUE(fs::exists(pid_file_path(dir_.string())));
  ASSERT_TRUE(write_pid_file(dir_.string(), "").ok());
  remove_pid_file(dir_.string());
  EXPECT_FALSE(fs::exists(pid_file_path(dir_.string())));
}

TEST_F(ReloadRecordTest, GarbledOrMissingPidFilesReadAsNone) {
  EXPECT_FALSE(read_pid_file(dir_.string()));
  for (const char* text : {"", "abc\n/x\n", "-5\n/x\n", "12\n"}) {
    std::ofstream(pid_file_path(dir_.string()), std::ios::trunc) << text;
    EXPECT_FALSE(read_pid_file(dir_.string())) << text;
  }
}

TEST_F(ReloadRecordTest, ReloadRecordRoundTrip) {
  EXPECT_FALSE(read_reload_record(dir_.string()));
  ReloadRecord record{::getpid(), 3, {false, {"a.yaml:1:2: x: bad", "a.yaml:3:4: y: worse"}, {}}};
  ASSERT_TRUE(write_reload_record(dir_.string(), record).ok());
  auto read = read_reload_record(dir_.string());
  ASSERT_TRUE(read);
  EXPECT_EQ(read->pid, ::getpid());
  EXPECT_EQ(read->number, 3u);
  EXPECT_FALSE(read->report.applied);
  EXPECT_EQ(read->report.problems, record.report.problems);
  EXPECT_TRUE(read->report.warnings.empty());
  std::ofstream(dir_ / "reload.json", std::ios::trunc) << "{\"pid\":";
  EXPECT_FALSE(read_reload_record(dir_.string()));
}

}  // namespace
}  // namespace jotgate::gateway
