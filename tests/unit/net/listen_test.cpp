#include "net/listen.h"

#include <gtest/gtest.h>

namespace jotgate::net {
namespace {

TEST(HostPort, BracketsIpv6Hosts) {
  EXPECT_EQ(host_port("127.0.0.1", 8443), "127.0.0.1:8443");
  EXPECT_EQ(host_port("::1", 80), "[::1]:80");
  EXPECT_EQ(host_port("localhost", 0), "localhost:0");
}

TEST(ListenTcp, PortZeroListensOnAFreePort) {
  boost::asio::io_context ioc;
  auto acceptor = listen_tcp(ioc, "127.0.0.1", 0, "");
  ASSERT_TRUE(acceptor) << acceptor.error().describe();
  EXPECT_TRUE((*acceptor)->is_open());
  EXPECT_NE((*acceptor)->local_endpoint().port(), 0);
  // It listens: a client connects.
  boost::asio::ip::tcp::socket client(ioc);
  boost::system::error_code ec;
  client.connect((*acceptor)->local_endpoint(), ec);
  EXPECT_FALSE(ec) << ec.message();
}

TEST(ListenTcp, ATakenPortNamesTheAddressTheRoleAndAHint) {
  boost::asio::io_context ioc;
  auto first = listen_tcp(ioc, "127.0.0.1", 0, "");
  ASSERT_TRUE(first);
  const std::uint16_t port = (*first)->local_endpoint().port();
  auto second = listen_tcp(ioc, "127.0.0.1", port, " (admin listener)");
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().reason, Reason::kListenFailed);
  EXPECT_EQ(second.error().detail, "cannot listen on 127.0.0.1:" + std::to_string(port) +
                                       " (admin listener): Address already in use (is another "
                                       "jotgate or server running on this port?)");
}

TEST(ListenTcp, AHostThatIsNotAnAddressIsRefused) {
  boost::asio::io_context ioc;
  auto acceptor = listen_tcp(ioc, "not-an-ip", 8080, "");
  ASSERT_FALSE(acceptor);
  EXPECT_EQ(acceptor.error().detail, "cannot listen on not-an-ip:8080: bad address");
}

TEST(ListenTcp, AnAddressOfNoInterfaceIsRefusedWithTheSystemReason) {
  boost::asio::io_context ioc;
  auto acceptor = listen_tcp(ioc, "192.0.2.1", 0, "");  // TEST-NET-1: not on this host
  ASSERT_FALSE(acceptor);
  EXPECT_EQ(acceptor.error().detail,
            "cannot listen on 192.0.2.1:0: Cannot assign requested address");
}

}  // namespace
}  // namespace jotgate::net
