// RedisServer: a private redis-server (Debian's /usr/bin/redis-server) for tests, on a free port
// of 127.0.0.1, in a temporary folder it removes, without persistence. It can be stopped and
// started again on the same port, or paused (SIGSTOP) to play a server that stops answering.
//   if (!RedisServer::installed()) GTEST_SKIP() << RedisServer::kMissing;
//   RedisServer redis;  redis.start({"--requirepass", "s3cret"});
//   RedisSettings settings{.url = redis.url()};
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include "../free_port.h"

namespace jotgate::redis {

class RedisServer {
 public:
  static constexpr const char* kBinary = "/usr/bin/redis-server";
  static constexpr const char* kMissing =
      "/usr/bin/redis-server is missing: install redis-server (scripts/install-deps) to run the "
      "Redis client's tests";
  static bool installed() { return ::access(kBinary, X_OK) == 0; }

  RedisServer() : port_(free_port()) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "jotgate-redis-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  ~RedisServer() {
    stop();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  const std::string& dir() const { return dir_; }
  std::uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

  // Starts redis-server with `extra` arguments; with `tls` the port speaks TLS only (the
  // arguments then name the certificate files). Waits until it accepts connections.
  void start(std::vector<std::string> extra = {}, bool tls = false) {
    extra_ = std::move(extra);
    tls_ = tls;
    std::vector<std::string> args{kBinary};
    if (tls) {
      args.insert(args.end(), {"--port", "0", "--tls-port", std::to_string(port_)});
    } else {
      args.insert(args.end(), {"--port", std::to_string(port_)});
    }
    args.insert(args.end(), {"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                             dir_, "--logfile", dir_ + "/redis.log"});
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::execv(kBinary, argv.data());
      ::_exit(127);
    }
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!accepts()) {
      int status = 0;
      ASSERT_EQ(::waitpid(pid_, &status, WNOHANG), 0) << "redis-server exited: " << log();
      ASSERT_LT(std::chrono::steady_clock::now(), give_up) << "redis-server did not start";
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  // The same server again, on the same port.
  void restart() { start(extra_, tls_); }

  void stop() {
    if (pid_ <= 0) return;
    resume();
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  void pause() { ::kill(pid_, SIGSTOP); }
  void resume() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
  }

  std::string log() const {
    std::ifstream in(dir_ + "/redis.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  static std::uint16_t free_port() { return testing::free_port(); }

 private:
  bool accepts() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port_);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool connected =
        ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return connected;
  }

  std::uint16_t port_;
  std::string dir_;
  std::vector<std::string> extra_;
  bool tls_ = false;
  pid_t pid_ = -1;
};

}  // namespace jotgate::redis
