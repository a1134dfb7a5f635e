#include "base/file.h"

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace jotgate {
namespace {

namespace fs = std::filesystem;

class ReadFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("jotgate-read-file-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& content) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  fs::path dir_;
};

TEST_F(ReadFileTest, ReadsEveryByte) {
  std::string content("line 1\r\nline 2\n\0binary\xff", 23);
  content += std::string(100000, 'x');  // more than one read
  auto text = read_file(write("data", content));
  ASSERT_TRUE(text) << text.error().describe();
  EXPECT_EQ(*text, content);
}

TEST_F(ReadFileTest, ReadsAnEmptyFile) {
  auto text = read_file(write("empty", ""));
  ASSERT_TRUE(text);
  EXPECT_EQ(*text, "");
}

TEST_F(ReadFileTest, ReadsFilesThatReportNoSize) {
  auto text = read_file("/proc/self/cmdline");  // st_size 0, content not empty
  ASSERT_TRUE(text);
  EXPECT_FALSE(text->empty());
}

TEST_F(ReadFileTest, AMissingFileGivesTheSystemReason) {
  auto text = read_file((dir_ / "none").string());
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().reason, Reason::kFileUnreadable);
  EXPECT_EQ(text.error().detail, "No such file or directory");
}

TEST_F(ReadFileTest, ADirectoryIsRefused) {
  auto text = read_file(dir_.string());
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().reason, Reason::kFileUnreadable);
  EXPECT_EQ(text.error().detail, "Is a directory");
}

// The system's reason, whoever runs the test (root ignores permissions, not path syntax).
TEST_F(ReadFileTest, APathThroughAFileIsRefusedWithTheSystemsReason) {
  const std::string path = write("plain", "s") + "/child";
  auto text = read_file(path);
  ASSERT_FALSE(text);
  EXPECT_EQ(text.error().reason, Reason::kFileUnreadable);
  EXPECT_EQ(text.error().detail, "Not a directory");
}

}  // namespace
}  // namespace jotgate
