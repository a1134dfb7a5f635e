// RFC 9112 framing checks on parsed request heads, and the body framing and deadline of the
// relay: each refusal with its exact status, each relayed body with its exact bytes.
#include "proxy/request_framing.h"

#include <string>

#include <gtest/gtest.h>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "base/answer.h"
#include "proxy/body_deadline.h"
#include "proxy/body_framing.h"

namespace jotgate::proxy {
namespace {

namespace beast = boost::beast;

// Parses a head as the gateway does (fails the test when Beast refuses it), and answers its
// framing problem as the gateway does.
std::optional<Answer> check(const std::string& head) {
  http::request_parser<http::empty_body> parser;
  parser.eager(false);
  beast::error_code ec;
  parser.put(boost::asio::buffer(head), ec);
  EXPECT_FALSE(ec && ec != http::error::need_more) << ec.message() << " for " << head;
  EXPECT_TRUE(parser.is_header_done()) << head;
  auto problem = check_request_head(parser.get());
  if (!problem) return std::nullopt;
  return answer_for(make_error(problem->reason, std::string(problem->detail)));
}

int status_of(const std::string& head) {
  auto problem = check(head);
  return problem ? problem->status : 0;
}

TEST(RequestFraming, AcceptsOrdinaryRequests) {
  EXPECT_EQ(status_of("GET /jwt/x HTTP/1.1\r\nHost: localhost:8080\r\n\r\n"), 0);
  EXPECT_EQ(status_of("POST /jwt/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), 0);
  EXPECT_EQ(status_of("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,Chunked\r\n\r\n"), 0);
  EXPECT_EQ(status_of("GET /x HTTP/1.0\r\n\r\n"), 0);  // HTTP/1.0 needs no Host
  EXPECT_EQ(status_of("GET /x HTTP/1.1\r\nHost: [::1]:443\r\n\r\n"), 0);
}

TEST(RequestFraming, RefusesTransferCodingsOtherThanChunked) {
  const std::string start = "POST /jwt/x HTTP/1.1\r\nHost: a\r\n";
  auto final_not_chunked = check(start + "Transfer-Encoding: chunked, identity\r\n\r\n");
  ASSERT_TRUE(final_not_chunked);
  EXPECT_EQ(final_not_chunked->status, 400);
  EXPECT_EQ(final_not_chunked->body, "Bad Request: the final transfer coding must be chunked");
  EXPECT_EQ(status_of(start + "Transfer-Encoding: gzip\r\n\r\n"), 400);
  EXPECT_EQ(status_of(start + "Transfer-Encoding: chunked, chunked\r\n\r\n"), 400);
  EXPECT_EQ(status_of(start + "Transfer-Encoding: ,\r\n\r\n"), 400);
  auto not_implemented = check(start + "Transfer-Encoding: gzip, chunked\r\n\r\n");
  ASSERT_TRUE(not_implemented);
  EXPECT_EQ(not_implemented->status, 501);
  EXPECT_EQ(not_implemented->body, "Not Implemented: the only transfer coding accepted is chunked");
  for (const char* coding : {"x-custom, chunked", "foo", "chunked, foo", "chunked;q=1"}) {
    auto unknown = check(start + "Transfer-Encoding: " + coding + "\r\n\r\n");
    ASSERT_TRUE(unknown) << coding;
    EXPECT_EQ(unknown->status, 501) << coding;
    EXPECT_EQ(unknown->body, "Not Implemented: unknown transfer coding") << coding;
  }
}

TEST(RequestFraming, RefusesTransferEncodingInHttp10) {
  auto problem = check("POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n");
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->status, 400);
  EXPECT_EQ(problem->body, "Bad Request: Transfer-Encoding is not allowed in an HTTP/1.0 request");
}

TEST(RequestFraming, RefusesMissingRepeatedOrInvalidHost) {
  EXPECT_EQ(check("GET /x HTTP/1.1\r\n\r\n")->body, "Bad Request: the Host header is missing");
  EXPECT_EQ(check("GET /x HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n")->body,
            "Bad Request: more than one Host header");
  for (const char* host : {"evil@localhost", "local host", "a/b", "a:b", "a:-1", "a:123456", "[::1",
                           "[::1]x", "a%zz", "a\\b", "a?b", "a#b", "\"a\""}) {
    auto problem = check(std::string("GET /x HTTP/1.1\r\nHost: ") + host + "\r\n\r\n");
    ASSERT_TRUE(problem) << host;
    EXPECT_EQ(problem->status, 400) << host;
    EXPECT_EQ(problem->body, "Bad Request: the Host header is not a valid host") << host;
  }
}

TEST(RequestFraming, ValidHosts) {
  for (const char* host : {"", "localhost", "localhost:", "127.0.0.1:8443", "[::1]", "[::1]:80",
                           "app.example.com", "xn--bcher-kva.example", "a%41b", "a_b~c"}) {
    EXPECT_TRUE(valid_host(host)) << host;
  }
}

TEST(RequestFraming, RefusesRepeatedContentLength) {
  auto problem =
      check("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n");
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->status, 400);
  EXPECT_EQ(problem->body, "Bad Request: more than one Content-Length header");
  EXPECT_EQ(status_of("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"), 0);
}

TEST(RequestFraming, RefusesConnect) {
  auto problem = check("CONNECT /jwt/x HTTP/1.1\r\nHost: a\r\n\r\n");
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->status, 405);
  EXPECT_EQ(status_of("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"), 405);
}

TEST(RequestFraming, ObsFoldAndBareLf) {
  EXPECT_TRUE(has_obs_fold("GET / HTTP/1.1\r\nX-A: 1\r\n  b\r\n\r\n"));
  EXPECT_TRUE(has_obs_fold("GET / HTTP/1.1\r\nX-A: 1\r\n\tb\r\n\r\n"));
  EXPECT_FALSE(has_obs_fold("GET / HTTP/1.1\r\nX-A: 1 b\r\nX-B:  2\r\n\r\n"));
  EXPECT_TRUE(has_bare_lf("5\nhello"));
  EXPECT_TRUE(has_bare_lf("\n"));
  EXPECT_TRUE(has_bare_lf("\r\n5\r\nab\n"));
  EXPECT_FALSE(has_bare_lf("\r\n5;ext=1"));
  EXPECT_FALSE(has_bare_lf("X-Trailer: 1\r\n"));
}

std::string bytes_of(const std::array<boost::asio::const_buffer, 5>& buffers) {
  std::string out;
  for (const auto& b : buffers) out.append(static_cast<const char*>(b.data()), b.size());
  return out;
}

TEST(BodyFramer, ChunkedBodyHasExactlyOneLastChunk) {
  BodyFramer framer(true);
  EXPECT_EQ(bytes_of(framer.frame("HEAD\r\n\r\n", "hello", 5, false)),
            "HEAD\r\n\r\n5\r\nhello\r\n");
  EXPECT_EQ(bytes_of(framer.frame("", nullptr, 0, true)), "0\r\n\r\n");
  std::string big(0x1a2b, 'x');
  EXPECT_EQ(bytes_of(framer.frame("", big.data(), big.size(), true)),
            "1a2b\r\n" + big + "\r\n0\r\n\r\n");
  EXPECT_EQ(bytes_of(framer.frame("H\r\n\r\n", nullptr, 0, true)), "H\r\n\r\n0\r\n\r\n");
}

TEST(BodyFramer, SizedBodyIsItsBytes) {
  BodyFramer framer(false);
  EXPECT_EQ(bytes_of(framer.frame("H\r\n\r\n", "hello", 5, false)), "H\r\n\r\nhello");
  EXPECT_EQ(bytes_of(framer.frame("", "!", 1, true)), "!");
  EXPECT_EQ(bytes_of(framer.frame("", nullptr, 0, true)), "");
}

TEST(BodyDeadline, IdleWaitAndMinimumRate) {
  using namespace std::chrono_literals;
  const auto start = BodyDeadline::Clock::time_point() + 1000s;
  BodyDeadline deadline(10s, 100, start);
  EXPECT_EQ(deadline.next(start), start + 10s);
  // A trickle: 1 byte earns 10 ms; after 9 s the total bound comes first.
  deadline.received(1);
  EXPECT_EQ(deadline.next(start + 9s), start + 10s + 10ms);
  // A sane rate keeps extending it; the wait between reads stays bounded.
  deadline.received(100'000);
  EXPECT_EQ(deadline.next(start + 60s), start + 70s);
  BodyDeadline no_rate(10s, 0, start);
  no_rate.received(1);
  EXPECT_EQ(no_rate.next(start + 500s), start + 510s);
}

}  // namespace
}  // namespace jotgate::proxy
