#include "net/listen.h"

namespace jotgate::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string host_port(std::string_view host, std::uint16_t port) {
  std::string out;
  if (host.find(':') != std::string_view::npos) {
    out.append("[").append(host).append("]");
  } else {
    out.append(host);
  }
  return out + ":" + std::to_string(port);
}

Result<std::unique_ptr<tcp::acceptor>> listen_tcp(asio::io_context& ioc, const std::string& host,
                                                  std::uint16_t port, std::string_view role) {
  const std::string where = "cannot listen on " + host_port(host, port) + std::string(role) + ": ";
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return make_error(Reason::kListenFailed, where + "bad address");
  const tcp::endpoint endpoint(address, port);
  auto acceptor = std::make_unique<tcp::acceptor>(ioc);
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(Reason::kListenFailed,
                      where + ec.message() +
                          (ec == asio::error::address_in_use
                               ? " (is another jotgate or server running on this port?)"
                               : ""));
  }
  return acceptor;
}

}  // namespace jotgate::net
