// Plain HTTP connections: the one instantiation of HttpConnection<beast::tcp_stream>.
#include "proxy/http_connection.h"

namespace jotgate::proxy {

void start_plain_connection(Worker& worker, std::uint64_t listener_id, asio::ip::tcp::socket socket,
                            ConnectionSlot slot) {
  boost::system::error_code ec;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  using Connection = HttpConnection<beast::tcp_stream>;
  auto connection = std::make_shared<Connection>(
      worker, listener_id, beast::tcp_stream(std::move(socket)), std::move(slot));
  asio::co_spawn(worker.ioc, connection->run(connection), asio::detached);
}

}  // namespace jotgate::proxy
