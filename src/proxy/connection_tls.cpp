// TLS connections: the one instantiation of HttpConnection<ssl::stream<beast::tcp_stream>>.
#include "proxy/http_connection.h"

namespace jotgate::proxy {

void start_tls_connection(Worker& worker, std::size_t listener_index, asio::ip::tcp::socket socket,
                          ConnectionSlot slot) {
  boost::system::error_code ec;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  using Stream = asio::ssl::stream<beast::tcp_stream>;
  using Connection = HttpConnection<Stream>;
  // New handshakes use the TLS context of the worker's current snapshot.
  asio::ssl::context& tls = *worker.runtime->listeners[listener_index].tls;
  auto connection = std::make_shared<Connection>(
      worker, listener_index, Stream(beast::tcp_stream(std::move(socket)), tls), std::move(slot));
  asio::co_spawn(worker.ioc, connection->run(connection), asio::detached);
}

}  // namespace jotgate::proxy
