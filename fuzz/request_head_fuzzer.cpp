// The HTTP request head as the gateway reads it: Beast's request parser with the gateway's
// limits (16 KiB of header, no body limit) fed the bytes in two reads, then the target through
// the framing checks (obs-fold on the raw head, check_request_head), parse_request_target and
// the route table, as proxy/admission.cpp does.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include "config/gateway_config.h"
#include "proxy/request_framing.h"
#include "proxy/request_path.h"

namespace {

namespace http = boost::beast::http;
using namespace jotgate;

// Feeds the parser as the gateway's read_head does: each read appends to a buffer, the parser
// consumes what it can of it, the rest waits for the next read. The raw head goes to `head`.
void read_header(http::request_parser<http::empty_body>& parser,
                 std::initializer_list<std::string_view> reads, boost::beast::error_code& ec,
                 std::string& head) {
  std::string buffer;
  for (std::string_view read : reads) {
    buffer.append(read);
    while (!buffer.empty() && !parser.is_header_done()) {
      const std::size_t used = parser.put(boost::asio::buffer(buffer), ec);
      head.append(buffer, 0, used);
      buffer.erase(0, used);
      if (ec == http::error::need_more) {
        ec = {};
        break;
      }
      if (ec || used == 0) return;
    }
  }
  // What follows the head is the body: the gateway looks for bare LFs in a chunk line.
  (void)proxy::has_bare_lf(buffer);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const proxy::RouteTable routes = [] {
    proxy::RouteTable table;
    table.add("jwt", 0);
    table.add("", 1);
    return table;
  }();
  if (size < 1) return 0;
  // The first byte says where the bytes are split, as a TCP read might.
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t split = input.empty() ? 0 : data[0] % (input.size() + 1);

  http::request_parser<http::empty_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(config::Limits{}.max_header_bytes));
  parser.body_limit(boost::none);
  parser.eager(false);
  boost::beast::error_code ec;
  std::string head;
  read_header(parser, {input.substr(0, split), input.substr(split)}, ec, head);
  if (ec || !parser.is_header_done()) return 0;
  if (proxy::has_obs_fold(head)) return 0;

  const auto& request = parser.get();
  if (auto host = request.find(http::field::host); host != request.end()) {
    (void)proxy::valid_host(host->value());
  }
  if (proxy::check_request_head(request)) return 0;
  (void)request.keep_alive();
  (void)request.chunked();
  (void)parser.content_length();
  std::size_t count = 0;
  for (auto it = request.begin(); it != request.end(); ++it) ++count;
  (void)count;
  auto target = proxy::parse_request_target(request.target());
  if (target) (void)routes.match(target->path);
  return 0;
}
