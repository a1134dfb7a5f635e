// Plain HTTP sessions: the one instantiation of HttpSession<beast::tcp_stream>.
#include "proxy/session_impl.h"

namespace jotgate::proxy {

void start_plain_session(Worker& worker, const ListenerRuntime& listener,
                         asio::ip::tcp::socket socket, ConnectionSlot slot) {
  boost::system::error_code ec;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  using Session = HttpSession<beast::tcp_stream>;
  auto session = std::make_shared<Session>(worker, listener, beast::tcp_stream(std::move(socket)),
                                           std::move(slot));
  asio::co_spawn(worker.ioc, session->run(session), asio::detached);
}

}  // namespace jotgate::proxy
