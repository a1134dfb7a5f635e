// TLS sessions: the one instantiation of HttpSession<ssl::stream<beast::tcp_stream>>.
#include "proxy/session_impl.h"

namespace jotgate::proxy {

void start_tls_session(Worker& worker, const ListenerRuntime& listener,
                       asio::ip::tcp::socket socket, ConnectionSlot slot) {
  boost::system::error_code ec;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  using Stream = asio::ssl::stream<beast::tcp_stream>;
  using Session = HttpSession<Stream>;
  auto session = std::make_shared<Session>(
      worker, listener, Stream(beast::tcp_stream(std::move(socket)), *listener.tls),
      std::move(slot));
  asio::co_spawn(worker.ioc, session->run(session), asio::detached);
}

}  // namespace jotgate::proxy
