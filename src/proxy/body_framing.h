// How a relayed body leaves the gateway: framed anew, never copied as the peer framed it. A
// chunked body goes out as one chunk per piece read and exactly one last chunk (trailers are
// dropped: none is forwarded), a sized or close-delimited body as its bytes. The header block
// leaves with the first piece, in one write.
//   BodyFramer framer(/*chunked=*/true);
//   co_await asio::async_write(stream, framer.frame(head, data, n, /*last=*/done));
#pragma once

#include <array>
#include <charconv>
#include <cstddef>
#include <string_view>

#include <boost/asio/buffer.hpp>

namespace jotgate::proxy {

class BodyFramer {
 public:
  explicit BodyFramer(bool chunked) : chunked_(chunked) {}

  // The buffers of one piece: `head` ("" once it has gone), the `n` bytes at `data` (a chunk
  // of their own when chunked), and after the last piece the last chunk. The returned buffers
  // point into this framer and the arguments: keep both until written.
  std::array<boost::asio::const_buffer, 5> frame(std::string_view head, const char* data,
                                                 std::size_t n, bool last) {
    std::array<boost::asio::const_buffer, 5> out{};
    out[0] = boost::asio::buffer(head);
    if (!chunked_) {
      out[2] = boost::asio::const_buffer(data, n);
      return out;
    }
    if (n > 0) {
      out[1] = boost::asio::buffer(size_line(n));
      out[2] = boost::asio::const_buffer(data, n);
      out[3] = boost::asio::buffer(kCrLf);
    }
    if (last) out[4] = boost::asio::buffer(kLastChunk);
    return out;
  }

 private:
  static constexpr std::string_view kCrLf = "\r\n";
  static constexpr std::string_view kLastChunk = "0\r\n\r\n";

  // "<hex size>\r\n" in size_line_.
  std::string_view size_line(std::size_t n) {
    char* end = std::to_chars(size_line_.data(), size_line_.data() + size_line_.size(), n, 16).ptr;
    *end++ = '\r';
    *end++ = '\n';
    return std::string_view(size_line_.data(), static_cast<std::size_t>(end - size_line_.data()));
  }

  bool chunked_;
  std::array<char, 20> size_line_{};
};

}  // namespace jotgate::proxy
