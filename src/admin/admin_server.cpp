#include "admin/admin_server.h"

#include <array>
#include <chrono>
#include <set>
#include <thread>

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "admin/admin_api.h"
#include "admin/client_auth.h"
#include "console/console.h"
#include "console/request_origin.h"
#include "net/listen.h"
#include "pki/server_tls.h"

namespace jotgate::admin {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
// A few clients (authentication modules) call the admin API; more connections than this are
// closed at once rather than holding memory and descriptors.
constexpr std::size_t kMaxConnections = 256;

const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

std::optional<std::string_view> header_value(const http::request<http::string_body>& request,
                                             http::field field) {
  auto found = request.find(field);
  if (found == request.end()) return std::nullopt;
  return found->value();
}

std::optional<std::string_view> header_value(const http::request<http::string_body>& request,
                                             std::string_view name) {
  auto found = request.find(name);
  if (found == request.end()) return std::nullopt;
  return found->value();
}

// Client certificates are checked against the CA, but a failed check does not end the
// handshake: the client then hears why (403) instead of seeing a bare TLS alert.
int accept_and_record(int /*preverified*/, X509_STORE_CTX* /*store*/) { return 1; }

Result<void> trust_client_ca(SSL_CTX* context, const std::string& ca_file) {
  if (SSL_CTX_load_verify_locations(context, ca_file.c_str(), nullptr) != 1) {
    return make_error(Reason::kFileUnreadable,
                      "admin.client_ca: " + ca_file + ": not a PEM CA certificate");
  }
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca_file.c_str());
  if (names != nullptr) SSL_CTX_set_client_CA_list(context, names);
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, accept_and_record);
  // Needed for session resumption with client certificates.
  static constexpr unsigned char kSessionContext[] = "jotgate-admin";
  SSL_CTX_set_session_id_context(context, kSessionContext, sizeof(kSessionContext) - 1);
  return {};
}

PresentedCertificate presented_certificate(SSL* ssl) {
  X509* peer = SSL_get0_peer_certificate(ssl);
  if (peer == nullptr) return {};
  if (SSL_get_verify_result(ssl) != X509_V_OK) return {PresentedCertificate::State::kUntrusted, {}};
  PresentedCertificate certificate{PresentedCertificate::State::kTrusted, {}};
  X509_NAME* subject = X509_get_subject_name(peer);
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index >= 0) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
    unsigned char* utf8 = nullptr;
    int length = ASN1_STRING_to_UTF8(&utf8, data);
    if (length > 0) certificate.common_name.assign(reinterpret_cast<char*>(utf8), length);
    OPENSSL_free(utf8);
  }
  return certificate;
}

}  // namespace

struct AdminServer::Impl {
  Impl(const config::Limits& l, AdminBackend& backend, ClientAuth a)
      : limits(l), api(backend), client_auth(std::move(a)), console(system_clock()) {}

  // One connection's stream and whether it is between requests, for the shutdown; its peer's
  // address, for the console's sign-in failure limit.
  struct Connection {
    beast::tcp_stream* tcp = nullptr;
    bool idle = true;
    std::string peer;
  };

  const config::Limits
      limits;  // of the start-up configuration (the admin listener is not reloaded)
  AdminApi api;
  ClientAuth client_auth;
  console::Console console;
  // Before the io_context: connections it still holds at its end use the TLS context.
  std::unique_ptr<asio::ssl::context> tls;
  asio::io_context ioc{1};
  std::unique_ptr<tcp::acceptor> acceptor;
  std::string address;
  std::set<Connection*> connections;  // touched only on the server's thread
  std::unique_ptr<asio::steady_timer> grace;
  bool stopping = false;
  std::thread thread;

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(tcp::socket socket);
  asio::awaitable<bool> serve_one(TlsStream& stream, beast::flat_buffer& buffer,
                                  const PresentedCertificate& certificate, Connection& connection);
  void begin_shutdown();
  void forget(Connection* connection) {
    connections.erase(connection);
    if (stopping && connections.empty() && grace) grace->cancel();
  }
};

asio::awaitable<void> AdminServer::Impl::accept_loop() {
  for (;;) {
    auto [ec, socket] = co_await acceptor->async_accept(kNoThrow);
    if (ec) {
      if (stopping || !acceptor->is_open()) co_return;
      spdlog::warn("accept on the admin listener {}: {}", address, ec.message());
      asio::steady_timer pause(ioc, std::chrono::milliseconds(100));
      co_await pause.async_wait(kNoThrow);
      continue;
    }
    if (connections.size() >= kMaxConnections) {
      spdlog::warn("admin listener {}: {} connections open, closing a new one", address,
                   connections.size());
      continue;  // the socket closes as it goes out of scope
    }
    asio::co_spawn(ioc, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> AdminServer::Impl::serve(tcp::socket socket) {
  TlsStream stream(std::move(socket), *tls);
  beast::tcp_stream& tcp = beast::get_lowest_layer(stream);
  Connection connection{&tcp, true, {}};
  beast::error_code peer_ec;
  const tcp::endpoint peer = tcp.socket().remote_endpoint(peer_ec);
  if (!peer_ec) connection.peer = peer.address().to_string();
  connections.insert(&connection);
  beast::flat_buffer buffer;
  tcp.expires_after(limits.handshake_timeout);
  auto [detect_ec, is_tls] = co_await beast::async_detect_ssl(tcp, buffer, kNoThrow);
  if (!detect_ec && !is_tls) {
    // Someone spoke plain HTTP to the TLS port: say so, in plain HTTP, and hang up.
    static constexpr std::string_view kAnswer =
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n"
        "Content-Length: 82\r\n\r\n"
        R"json({"error":"TLS_REQUIRED","message":"the admin API is served over TLS only (https)"})json";
    static_assert(kAnswer.size() - kAnswer.find("\r\n\r\n") - 4 == 82);
    co_await asio::async_write(tcp, asio::buffer(kAnswer), kNoThrow);
  } else if (!detect_ec) {
    auto [handshake_ec, used] =
        co_await stream.async_handshake(asio::ssl::stream_base::server, buffer.data(), kNoThrow);
    buffer.consume(used);
    if (!handshake_ec) {
      const PresentedCertificate certificate = presented_certificate(stream.native_handle());
      while (!stopping && co_await serve_one(stream, buffer, certificate, connection)) {
      }
      tcp.expires_after(std::chrono::seconds(1));
      co_await stream.async_shutdown(kNoThrow);
    } else {
      spdlog::debug("admin listener: TLS handshake failed: {}", handshake_ec.message());
    }
  }
  beast::error_code ignored;
  tcp.socket().shutdown(tcp::socket::shutdown_both, ignored);
  forget(&connection);
}

// Reads and answers one request; false when the connection is to be closed.
asio::awaitable<bool> AdminServer::Impl::serve_one(TlsStream& stream, beast::flat_buffer& buffer,
                                                   const PresentedCertificate& certificate,
                                                   Connection& connection) {
  beast::tcp_stream& tcp = beast::get_lowest_layer(stream);
  http::request_parser<http::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
  parser.body_limit(kMaxBodyBytes);
  connection.idle = true;
  tcp.expires_after(limits.header_timeout);
  auto [header_ec, header_bytes] =
      co_await http::async_read_header(stream, buffer, parser, kNoThrow);
  connection.idle = false;
  // A Content-Length over the limit ends the header read with body_limit, the header complete.
  bool too_large = header_ec == http::error::body_limit;
  if (header_ec && !too_large) {
    if (header_ec == http::error::header_limit) {
      http::response<http::string_body> refusal{http::status::request_header_fields_too_large, 11};
      refusal.set(http::field::content_type, "application/json");
      refusal.body() =
          R"({"error":"HEADERS_TOO_LARGE","message":"the request header is too large"})";
      refusal.keep_alive(false);
      refusal.prepare_payload();
      co_await http::async_write(stream, refusal, kNoThrow);
    }
    co_return false;
  }
  const auto& request = parser.get();
  const auto authorization = header_value(request, http::field::authorization);
  ClientVerdict verdict = client_auth.check(certificate, authorization);
  // A page of another site may not change anything here, whatever the browser sends with it.
  const bool cross_site =
      console::is_cross_site_change({.method = request.method_string(),
                                     .host = header_value(request, http::field::host).value_or(""),
                                     .origin = header_value(request, http::field::origin),
                                     .sec_fetch_site = header_value(request, "Sec-Fetch-Site")});
  const bool for_console = console::Console::is_console_path(request.target());
  std::vector<std::string_view> cookies;
  for (auto [field, end] = request.equal_range(http::field::cookie); field != end; ++field) {
    cookies.push_back(field->value());
  }
  const auto csrf_token = header_value(request, console::kCsrfHeader);
  if (cross_site) {
    verdict = refused(403, "CSRF_REJECTED",
                      "a change sent from another site (Origin, Sec-Fetch-Site) is refused");
  } else if (!for_console && !verdict.admitted && !authorization) {
    // A browser signed in to the console: its cookie stands for the administrator, and every
    // change must carry the session's CSRF token, which only the console's own page can read.
    if (auto admin = console.session_admin(cookies)) {
      const bool changes = console::is_unsafe_method(request.method_string());
      verdict = changes && !console.csrf_accepted(cookies, csrf_token)
                    ? refused(403, "CSRF_REJECTED",
                              "a change from the console needs the session's X-CSRF-Token header")
                    : admitted_as(*admin);
    }
  }
  const bool read_body = verdict.admitted || (for_console && !cross_site);
  if (read_body && !too_large && !parser.is_done()) {
    auto expect = request.find(http::field::expect);
    if (expect != request.end() && beast::iequals(expect->value(), "100-continue")) {
      http::response<http::empty_body> go_on{http::status::continue_, 11};
      co_await http::async_write(stream, go_on, kNoThrow);
    }
    auto [body_ec, body_bytes] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    too_large = body_ec == http::error::body_limit;
    if (body_ec && !too_large) co_return false;
  }
  // A body left unread (refused client, too large) leaves the connection unusable.
  const bool keep_alive = request.keep_alive() && parser.is_done() && !too_large && !stopping;

  const auto content_type = header_value(request, http::field::content_type);
  const std::string_view body =
      parser.is_done() ? std::string_view(request.body()) : std::string_view();
  Answer answer;
  if (for_console && cross_site) {
    answer = console::csrf_rejected(verdict.message);
    console::add_security_headers(answer);
  } else if (for_console) {
    answer = console.handle(
        {.method = request.method_string(),
         .target = request.target(),
         .content_type = content_type,
         .body = body,
         .body_too_large = too_large,
         .cookie_headers = cookies,
         .csrf_token = csrf_token,
         .if_none_match = header_value(request, http::field::if_none_match),
         .client_address = connection.peer,
         .authenticate = [&](std::optional<std::string_view> token) -> std::optional<std::string> {
           const std::string bearer = token ? "Bearer " + std::string(*token) : "";
           ClientVerdict who = client_auth.check(
               certificate, token ? std::optional<std::string_view>(bearer) : std::nullopt);
           return who.admitted ? std::optional<std::string>(who.client) : std::nullopt;
         }});
  } else {
    answer = api.handle({.method = request.method_string(),
                         .target = request.target(),
                         .content_type = content_type,
                         .body = body,
                         .body_too_large = too_large,
                         .client = std::move(verdict)});
  }

  http::response<http::string_body> response{static_cast<http::status>(answer.status),
                                             request.version()};
  for (const auto& [name, value] : answer.headers) response.set(name, value);
  response.body() = std::move(answer.body);
  response.keep_alive(keep_alive);
  response.prepare_payload();
  if (request.method() == http::verb::head) {
    // The headers a GET gets, its Content-Length included, and no body: the next answer on the
    // connection must start where the client expects it.
    const std::size_t length = response.body().size();
    response.body().clear();
    response.content_length(length);
  }
  tcp.expires_after(limits.idle_timeout);
  auto [write_ec, written] = co_await http::async_write(stream, response, kNoThrow);
  if (!write_ec && !parser.is_done()) {
    // The client may still be sending the body we refused: closing now would reset the
    // connection and could destroy the answer before it is read. Discard a little, briefly.
    tcp.expires_after(std::chrono::seconds(1));
    std::array<char, 16 * 1024> sink;
    for (std::size_t drained = 0; drained < 1024 * 1024;) {
      auto [read_ec, n] = co_await stream.async_read_some(asio::buffer(sink), kNoThrow);
      if (read_ec) break;
      drained += n;
    }
  }
  co_return !write_ec && keep_alive;
}

void AdminServer::Impl::begin_shutdown() {
  if (stopping) return;
  stopping = true;
  beast::error_code ignored;
  acceptor->close(ignored);
  // Copy: a closed connection may end at once and leave the set.
  for (Connection* connection : std::vector<Connection*>(connections.begin(), connections.end())) {
    if (connection->idle) connection->tcp->socket().close(ignored);
  }
  if (connections.empty()) return;
  grace = std::make_unique<asio::steady_timer>(ioc, limits.shutdown_grace);
  grace->async_wait([this](const beast::error_code& ec) {
    if (!ec) ioc.stop();  // requests still in flight after the grace period are cut
  });
}

AdminServer::AdminServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AdminServer::~AdminServer() { stop(); }

Result<std::unique_ptr<AdminServer>> AdminServer::create(const config::AdminSettings& settings,
                                                         const config::Limits& limits,
                                                         AdminBackend& backend) {
  auto client_auth = ClientAuth::create(settings);
  if (!client_auth) return client_auth.error();
  auto impl = std::make_unique<Impl>(limits, backend, std::move(*client_auth));

  auto loaded = pki::server_tls_context(settings.tls.certificate, settings.tls.key,
                                        settings.tls.generate_if_missing,
                                        settings.tls.min_version == config::TlsVersion::kTls13);
  if (!loaded) return make_error(loaded.error().reason, "admin.tls: " + loaded.error().message());
  if (loaded->generated) {
    spdlog::info("generated a self-signed TLS certificate for the admin listener: {}",
                 settings.tls.certificate);
  }
  if (!settings.client_ca.empty()) {
    if (auto trusted = trust_client_ca(loaded->context.get(), settings.client_ca); !trusted) {
      return trusted.error();
    }
  }
  // The certificate is checked once per connection, after the handshake: no renegotiation
  // may change the peer afterwards.
  SSL_CTX_set_options(loaded->context.get(), SSL_OP_NO_RENEGOTIATION);
  impl->tls = std::make_unique<asio::ssl::context>(loaded->context.release());

  auto acceptor = net::listen_tcp(impl->ioc, settings.host, settings.port, " (admin listener)");
  if (!acceptor) return acceptor.error();
  impl->acceptor = std::move(*acceptor);
  impl->address =
      "https://" + net::host_port(settings.host, impl->acceptor->local_endpoint().port());
  return std::unique_ptr<AdminServer>(new AdminServer(std::move(impl)));
}

std::string AdminServer::address() const { return impl_->address; }

void AdminServer::start() {
  asio::co_spawn(impl_->ioc, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([impl = impl_.get()] { impl->ioc.run(); });
}

void AdminServer::stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->ioc, [impl = impl_.get()] { impl->begin_shutdown(); });
  impl_->thread.join();
}

}  // namespace jotgate::admin
