// TLS connections: the one instantiation of HttpConnection<ssl::stream<beast::tcp_stream>>.
#include "proxy/http_connection.h"

namespace jotgate::proxy {

void start_tls_connection(Worker& worker, std::uint64_t listener_id, asio::ip::tcp::socket socket,
                          ConnectionSlot slot) {
  boost::system::error_code ec;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  using Stream = asio::ssl::stream<beast::tcp_stream>;
  using Connection = HttpConnection<Stream>;
  // New handshakes use the TLS context of the worker's current snapshot.
  const ListenerRuntime* listener = worker.runtime->find_listener(listener_id);
  if (listener == nullptr || !listener->tls) return;  // removed by a reload meanwhile: closed
  auto connection = std::make_shared<Connection>(
      worker, listener_id, Stream(beast::tcp_stream(std::move(socket)), *listener->tls),
      std::move(slot));
  asio::co_spawn(worker.ioc, connection->run(connection), asio::detached);
}

}  // namespace jotgate::proxy
