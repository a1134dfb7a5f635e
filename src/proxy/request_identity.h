// The identity of a request as it crosses the gateway: its request id (X-Request-Id) and its W3C
// trace context (traceparent, tracestate). No Beast: built from a RequestView, tested alone.
//   RequestIdSource ids;                                  // one per worker thread
//   ids.identify(view, identity);                         // per request, before admission
//   upstream: X-Request-Id: identity.request_id, traceparent: identity.traceparent
//
// Request id: a client's X-Request-Id is kept only on a listener marked `trusted`, when it is
// the only one and sane (1 to kMaxRequestIdLength visible ASCII characters); otherwise a new one,
// "<16 hex digits random per worker>-<counter in hex>": unique, and without a CSPRNG call per
// request.
// Trace context (W3C Trace Context, version 00): a valid traceparent is forwarded unchanged with
// its tracestate, as a pass-through proxy does (the gateway records no span of its own, so a span
// id of its own would name a parent no tracer knows). Absent, repeated or invalid: a new trace
// id and span id, flags 01 (the access log records the request), and tracestate is dropped.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "auth/request_view.h"
#include "base/log_line.h"

namespace jotgate::proxy {

inline constexpr std::size_t kMaxRequestIdLength = 128;

// 1 to kMaxRequestIdLength characters, each visible ASCII (0x21-0x7e).
bool sane_request_id(std::string_view id);

// The trace id of a valid version-00 traceparent ("00-<32 hex>-<16 hex>-<2 hex>", lowercase,
// trace id and parent id not all zeros); nullopt for anything else.
std::optional<std::string_view> traceparent_trace_id(std::string_view traceparent);

struct RequestIdentity {
  std::string request_id;
  std::string traceparent;          // what goes upstream
  bool forward_tracestate = false;  // the client's traceparent was valid: its tracestate goes too
  RequestIds ids() const;           // the request id and the traceparent's trace id
};

class RequestIdSource {
 public:
  RequestIdSource();
  // Fills `out` (its strings keep their capacity from request to request).
  void identify(const auth::RequestView& request, RequestIdentity& out);

 private:
  void new_request_id(std::string& out);
  void new_traceparent(std::string& out);

  std::array<char, 16> prefix_{};
  std::uint64_t counter_ = 0;
  std::mt19937_64 random_;  // trace and span ids: seeded once from the CSPRNG
};

}  // namespace jotgate::proxy
