// AdminServer over real sockets with a fake SessionAdmin: TLS with a generated certificate, the
// bearer token, keep-alive, plain HTTP told to use TLS, the size limits, and stop().
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

#include "admin/admin_server.h"
#include "fake_session_admin.h"

namespace jotgate::admin {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

constexpr std::string_view kToken = "unit-admin-token";

// One TLS connection to the server (the certificate is not verified: it is generated).
class Client {
 public:
  explicit Client(std::uint16_t port) {
    tls_.set_verify_mode(asio::ssl::verify_none);
    beast::get_lowest_layer(stream_).connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    stream_.handshake(asio::ssl::stream_base::client);
  }
  http::response<http::string_body> call(http::verb method, const std::string& target,
                                         const std::string& body = "",
                                         std::string_view token = kToken) {
    http::request<http::string_body> request{method, target, 11};
    request.set(http::field::host, "127.0.0.1");
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + std::string(token));
    if (!body.empty()) request.set(http::field::content_type, "application/json");
    request.body() = body;
    request.prepare_payload();
    http::write(stream_, request);
    http::response<http::string_body> response;
    http::read(stream_, buffer_, response);
    return response;
  }

 private:
  asio::io_context ioc_;
  asio::ssl::context tls_{asio::ssl::context::tls_client};
  beast::ssl_stream<beast::tcp_stream> stream_{ioc_, tls_};
  beast::flat_buffer buffer_;
};

class AdminServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("jotgate-admin-server-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    settings_.port = 0;
    settings_.tls = {(dir_ / "admin.pem").string(), (dir_ / "admin_key.pem").string(), true};
    settings_.token_file = (dir_ / "admin.token").string();
    std::ofstream(settings_.token_file) << kToken << "\n";
    auto server = AdminServer::create(settings_, limits_, backend_);
    ASSERT_TRUE(server.ok()) << server.error().detail;
    server_ = std::move(*server);
    const std::string address = server_->address();
    ASSERT_TRUE(address.starts_with("https://127.0.0.1:")) << address;
    port_ = static_cast<std::uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
    server_->start();
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  config::AdminSettings settings_;
  config::Limits limits_;
  FakeSessionAdmin fake_;
  FakeBackend backend_{fake_};
  std::unique_ptr<AdminServer> server_;
  std::uint16_t port_ = 0;
};

TEST_F(AdminServerTest, ServesSeveralCallsOnOneTlsConnection) {
  Client client(port_);
  auto created = client.call(http::verb::post, "/api/v1/virtual-proxies/sales/sessions",
                             R"({"userDirectory":"ACME","userId":"alice"})");
  ASSERT_EQ(created.result_int(), 201) << created.body();
  EXPECT_EQ(created[http::field::content_type], "application/json");
  EXPECT_EQ(created[http::field::cache_control], "no-store");
  EXPECT_TRUE(created.keep_alive());
  const std::string id = json::parse(created.body())["sessionId"];
  auto found = client.call(http::verb::get, "/api/v1/virtual-proxies/sales/sessions/" + id);
  EXPECT_EQ(found.result_int(), 200);
  auto ended = client.call(http::verb::delete_, "/api/v1/virtual-proxies/sales/sessions/" + id);
  EXPECT_EQ(ended.result_int(), 204);
  EXPECT_TRUE(fake_.sessions.empty());
}

TEST_F(AdminServerTest, WithoutTheTokenNothingIsDone) {
  Client client(port_);
  auto refused = client.call(http::verb::post, "/api/v1/virtual-proxies/sales/sessions",
                             R"({"userDirectory":"ACME","userId":"alice"})", "");
  EXPECT_EQ(refused.result_int(), 401);
  EXPECT_EQ(refused[http::field::www_authenticate], "Bearer realm=\"jotgate-admin\"");
  EXPECT_FALSE(refused.keep_alive());  // its body was not read
  EXPECT_TRUE(fake_.sessions.empty());
  Client other(port_);
  EXPECT_EQ(other.call(http::verb::get, "/api/v1/users/A/b/sessions", "", "wrong").result_int(),
            401);
}

TEST_F(AdminServerTest, PlainHttpIsToldToUseTls) {
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
  asio::write(socket, asio::buffer(std::string_view("GET /api/v1/ HTTP/1.1\r\nHost: x\r\n\r\n")));
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response);
  EXPECT_EQ(response.result_int(), 400);
  EXPECT_EQ(json::parse(response.body())["error"], "TLS_REQUIRED");
}

TEST_F(AdminServerTest, LargeBodiesAndHeadersAreRefused) {
  Client client(port_);
  const std::string big = R"({"userDirectory":"ACME","userId":")" + std::string(70000, 'a') + "\"}";
  auto too_large = client.call(http::verb::post, "/api/v1/virtual-proxies/sales/tickets", big);
  EXPECT_EQ(too_large.result_int(), 413);
  EXPECT_FALSE(too_large.keep_alive());
  EXPECT_FALSE(fake_.last_ticket);

  Client another(port_);
  auto headers =
      another.call(http::verb::get, "/api/v1/users/A/b/sessions?" + std::string(20000, 'q'));
  EXPECT_EQ(headers.result_int(), 431);
}

TEST_F(AdminServerTest, StopEndsIdleConnectionsAndReturns) {
  Client idle(port_);
  EXPECT_EQ(idle.call(http::verb::get, "/api/v1/users/A/b/sessions").result_int(), 200);
  server_->stop();  // returns although `idle` is still open
  EXPECT_THROW(idle.call(http::verb::get, "/api/v1/users/A/b/sessions"),
               boost::system::system_error);
}

TEST_F(AdminServerTest, StartErrorsNameTheirCause) {
  config::AdminSettings busy = settings_;
  busy.port = port_;
  auto taken = AdminServer::create(busy, limits_, backend_);
  ASSERT_FALSE(taken.ok());
  EXPECT_TRUE(taken.error().detail.starts_with(
      "cannot listen on 127.0.0.1:" + std::to_string(port_) + " (admin listener): "))
      << taken.error().detail;

  config::AdminSettings bad_ca = settings_;
  bad_ca.port = 0;
  bad_ca.client_ca = settings_.token_file;
  auto not_a_ca = AdminServer::create(bad_ca, limits_, backend_);
  ASSERT_FALSE(not_a_ca.ok());
  EXPECT_EQ(not_a_ca.error().detail,
            "admin.client_ca: " + settings_.token_file + ": not a PEM CA certificate");
}

}  // namespace
}  // namespace jotgate::admin
