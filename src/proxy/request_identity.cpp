#include "proxy/request_identity.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "base/hex.h"
#include "base/random.h"

namespace jotgate::proxy {

namespace {

// W3C Trace Context: lowercase only.
bool lower_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool all_zeros(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == '0'; });
}

void append_hex64(std::string& out, std::uint64_t value) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    append_hex(out, static_cast<unsigned char>(value >> shift));
  }
}

}  // namespace

bool sane_request_id(std::string_view id) {
  return !id.empty() && id.size() <= kMaxRequestIdLength &&
         std::all_of(id.begin(), id.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::optional<std::string_view> traceparent_trace_id(std::string_view traceparent) {
  // version "-" trace-id "-" parent-id "-" trace-flags
  if (traceparent.size() != 55 || traceparent[2] != '-' || traceparent[35] != '-' ||
      traceparent[52] != '-') {
    return std::nullopt;
  }
  const std::string_view version = traceparent.substr(0, 2);
  const std::string_view trace_id = traceparent.substr(3, 32);
  const std::string_view parent_id = traceparent.substr(36, 16);
  const std::string_view flags = traceparent.substr(53, 2);
  if (version != "00" || !lower_hex(trace_id) || !lower_hex(parent_id) || !lower_hex(flags) ||
      all_zeros(trace_id) || all_zeros(parent_id)) {
    return std::nullopt;
  }
  return trace_id;
}

RequestIds RequestIdentity::ids() const {
  return {request_id,
          traceparent.empty() ? std::string_view() : std::string_view(traceparent).substr(3, 32)};
}

RequestIdSource::RequestIdSource() {
  const std::string prefix = random_hex(prefix_.size() / 2);
  std::copy(prefix.begin(), prefix.end(), prefix_.begin());
  std::array<unsigned char, 32> seed_bytes{};
  random_bytes(seed_bytes);
  std::array<std::uint32_t, 8> seed{};
  std::memcpy(seed.data(), seed_bytes.data(), seed_bytes.size());
  std::seed_seq sequence(seed.begin(), seed.end());
  random_.seed(sequence);
}

void RequestIdSource::identify(const auth::RequestView& request, RequestIdentity& out) {
  const auto client_ids = request.headers("X-Request-Id");
  if (request.trusted_listener() && client_ids.size() == 1 && sane_request_id(client_ids[0])) {
    out.request_id.assign(client_ids[0]);
  } else {
    new_request_id(out.request_id);
  }
  // Several traceparent fields cannot be told apart: none is trusted.
  const auto traceparents = request.headers("traceparent");
  out.forward_tracestate = traceparents.size() == 1 && traceparent_trace_id(traceparents[0]);
  if (out.forward_tracestate) {
    out.traceparent.assign(traceparents[0]);
  } else {
    new_traceparent(out.traceparent);
  }
}

void RequestIdSource::new_request_id(std::string& out) {
  out.assign(prefix_.data(), prefix_.size());
  out.push_back('-');
  char digits[16];
  const auto end = std::to_chars(digits, digits + sizeof digits, ++counter_, 16).ptr;
  out.append(digits, end);
}

void RequestIdSource::new_traceparent(std::string& out) {
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  while (high == 0 && low == 0) {
    high = random_();
    low = random_();
  }
  std::uint64_t span = 0;
  while (span == 0) span = random_();
  out.assign("00-");
  append_hex64(out, high);
  append_hex64(out, low);
  out.push_back('-');
  append_hex64(out, span);
  out.append("-01");
}

}  // namespace jotgate::proxy
