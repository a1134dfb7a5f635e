// service_notify: the exact datagrams systemd receives, read from a real unix datagram socket
// named by NOTIFY_SOCKET (as systemd sets it), and nothing sent without it.
#include "base/service_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>

namespace jotgate {
namespace {

class ServiceNotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("jotgate-notify-" + std::to_string(::getpid()) + ".sock");
    std::filesystem::remove(path_);
    socket_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    ASSERT_GE(socket_, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    ASSERT_LT(path_.string().size(), sizeof(address.sun_path));
    path_.string().copy(address.sun_path, sizeof(address.sun_path) - 1);
    ASSERT_EQ(::bind(socket_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(socket_);
    std::filesystem::remove(path_);
  }
  // The next datagram, "" when none is waiting (sd_notify has sent it before returning).
  std::string received() {
    char buffer[4096];
    const ssize_t size = ::recv(socket_, buffer, sizeof(buffer), 0);
    return size < 0 ? std::string() : std::string(buffer, static_cast<std::size_t>(size));
  }
  static unsigned long long monotonic_usec() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<unsigned long long>(now.tv_sec) * 1000000ULL +
           static_cast<unsigned long long>(now.tv_nsec) / 1000ULL;
  }

  std::filesystem::path path_;
  int socket_ = -1;
};

TEST_F(ServiceNotifyTest, ReadyAndStopping) {
  notify_ready();
  EXPECT_EQ(received(), "READY=1");
  notify_stopping();
  EXPECT_EQ(received(), "STOPPING=1");
  EXPECT_EQ(received(), "");
}

TEST_F(ServiceNotifyTest, ReloadingCarriesTheMonotonicTimeOfTheReload) {
  const unsigned long long before = monotonic_usec();
  notify_reloading();
  const unsigned long long after = monotonic_usec();
  const std::string message = received();
  const std::string prefix = "RELOADING=1\nMONOTONIC_USEC=";
  ASSERT_TRUE(message.starts_with(prefix)) << message;
  const unsigned long long usec = std::stoull(message.substr(prefix.size()));
  EXPECT_GE(usec, before);
  EXPECT_LE(usec, after);
}

TEST_F(ServiceNotifyTest, StatusIsOneFieldOnOneLine) {
  notify_status("serving 2 listeners\nREADY=1");
  EXPECT_EQ(received(), "STATUS=serving 2 listeners READY=1");
}

TEST_F(ServiceNotifyTest, NothingIsSentWithoutNotifySocket) {
  ::unsetenv("NOTIFY_SOCKET");
  notify_ready();
  notify_status("x");
  EXPECT_EQ(received(), "");
}

}  // namespace
}  // namespace jotgate
