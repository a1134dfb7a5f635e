// The one body relay: a message body from a reader to a writer through a fixed buffer, framed
// anew (BodyFramer), for requests (client -> upstream) and answers (upstream -> client) alike.
// Memory does not grow with the body: each piece read is written before the next is read.
//   ClientBodyReader reader(...);                     // done(), buffered(), read(data, size)
//   auto end = co_await relay_body(head, framer, buffer, size, reader, write, HeadFirst::kNo);
//   if (end.failed == RelayFailure::kRead) ...
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include "proxy/body_framing.h"

namespace jotgate::proxy {

enum class RelayFailure { kNone, kRead, kWrite };

struct RelayEnd {
  RelayFailure failed = RelayFailure::kNone;
  boost::system::error_code ec;  // why, when failed
  std::uint64_t bytes = 0;       // body bytes written
};

// Whether the header block may leave before body bytes are there: yes for answers (a stream
// that starts late shows its status at once), no for requests (one write for a small request).
enum class HeadFirst { kNo, kYes };

// `reader`: done() (the body was read whole), buffered() (bytes are read and waiting), and
// read(data, size, n) -> awaitable<error_code>, which may set n = 0 when it only parsed framing
// (a chunk header). `write(buffers)` -> awaitable<error_code>. The header block `head` leaves
// with the first piece (or at once with HeadFirst::kYes when nothing is waiting).
template <class Reader, class Write>
boost::asio::awaitable<RelayEnd> relay_body(std::string_view head, BodyFramer framer, char* buffer,
                                            std::size_t size, Reader& reader, Write& write,
                                            HeadFirst head_first) {
  RelayEnd end;
  for (;;) {
    std::size_t n = 0;
    const bool wait_for_body = head_first == HeadFirst::kNo || head.empty();
    if (!reader.done() && (wait_for_body || reader.buffered())) {
      if (auto ec = co_await reader.read(buffer, size, n)) {
        end.failed = RelayFailure::kRead;
        end.ec = ec;
        co_return end;
      }
      if (n == 0 && !reader.done() && wait_for_body) continue;  // only framing was parsed
    }
    const bool last = reader.done();
    if (auto ec = co_await write(framer.frame(head, n == 0 ? nullptr : buffer, n, last))) {
      end.failed = RelayFailure::kWrite;
      end.ec = ec;
      co_return end;
    }
    head = {};
    end.bytes += n;
    if (last) co_return end;
  }
}

}  // namespace jotgate::proxy
