// Listening TCP sockets, opened one way for the proxy's listeners and the admin listener:
// resolve the address, open, SO_REUSEADDR, bind, listen; failures name the address and the
// system's reason.
//   auto acceptor = net::listen_tcp(ioc, "127.0.0.1", 0, "");   // port 0: any free port
//   if (!acceptor) return acceptor.error();   // "cannot listen on 127.0.0.1:0: ..."
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "base/result.h"

namespace jotgate::net {

// "host:port", an IPv6 host in brackets ("[::1]:8443").
std::string host_port(std::string_view host, std::uint16_t port);

// A listening acceptor on `host` (an IP address) and `port`; else kListenFailed with the detail
// "cannot listen on HOST:PORT<role>: <reason>" (`role` such as " (admin listener)").
Result<std::unique_ptr<boost::asio::ip::tcp::acceptor>> listen_tcp(boost::asio::io_context& ioc,
                                                                   const std::string& host,
                                                                   std::uint16_t port,
                                                                   std::string_view role);

}  // namespace jotgate::net
