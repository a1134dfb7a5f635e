// FileWatch: a change is seen once, whether the file is rewritten, replaced by a rename, removed
// or created; an unchanged file is never a change.
#include "gateway/file_watch.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace jotgate::gateway {
namespace {

namespace fs = std::filesystem;

class FileWatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("jotgate-watch-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }
  fs::path dir_;
};

TEST_F(FileWatchTest, UnchangedFilesAreNoChange) {
  write(dir_ / "a", "one");
  FileWatch watch({(dir_ / "a").string(), (dir_ / "missing").string()});
  EXPECT_FALSE(watch.changed());
  EXPECT_FALSE(watch.changed());
}

TEST_F(FileWatchTest, ARewriteIsSeenOnce) {
  write(dir_ / "a", "one");
  FileWatch watch({(dir_ / "a").string()});
  write(dir_ / "a", "three");  // another size: seen whatever the clock's granularity
  EXPECT_TRUE(watch.changed());
  EXPECT_FALSE(watch.changed());
}

TEST_F(FileWatchTest, ARenameOverTheFileIsSeen) {
  write(dir_ / "a", "one");
  FileWatch watch({(dir_ / "a").string()});
  write(dir_ / "b", "one");  // same size, another inode
  fs::rename(dir_ / "b", dir_ / "a");
  EXPECT_TRUE(watch.changed());
}

TEST_F(FileWatchTest, RemovedAndCreatedFilesAreSeen) {
  write(dir_ / "a", "one");
  FileWatch watch({(dir_ / "a").string(), (dir_ / "later").string()});
  fs::remove(dir_ / "a");
  EXPECT_TRUE(watch.changed());
  write(dir_ / "later", "x");
  EXPECT_TRUE(watch.changed());
  EXPECT_FALSE(watch.changed());
}

TEST_F(FileWatchTest, ASymbolicLinkSwapIsSeen) {
  write(dir_ / "v1", "one");
  write(dir_ / "v2", "one");
  fs::create_symlink(dir_ / "v1", dir_ / "current");
  FileWatch watch({(dir_ / "current").string()});
  fs::create_symlink(dir_ / "v2", dir_ / "next");
  fs::rename(dir_ / "next", dir_ / "current");  // how a Kubernetes ConfigMap is updated
  EXPECT_TRUE(watch.changed());
}

}  // namespace
}  // namespace jotgate::gateway
