// Audit lines for refused credentials (tokens, tickets, trusted headers), bounded in number and
// in memory however many bad requests arrive. The first refusal of each (event, virtual proxy,
// reason, client) in an interval is written in full; repeats are only counted, and one line
// `event=<event>_repeated vp=.. reason=.. client=.. count=N interval=10s` reports them when the
// interval ends. Thread-safe.
//   RejectionAudit rejections;
//   rejections.record({"token_rejected", "jwt", "TOKEN_EXPIRED", "10.0.0.7"}, now);
//   rejections.flush(now);   // about once a second: the summaries of intervals that ended
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "base/clock.h"
#include "base/log_line.h"

namespace jotgate::auth {

class RejectionAudit {
 public:
  struct Key {
    std::string event;   // token_rejected, ticket_rejected, header_rejected
    std::string vp;      // virtual proxy prefix
    std::string reason;  // reason_code()
    std::string client;  // peer IP address
    auto operator<=>(const Key&) const = default;
  };

  static constexpr UnixSeconds kInterval = 10;
  // At most this many keys are tracked at once (about 200 bytes each). Past it, refusals with
  // a new key are not written one by one: they are counted together and reported as
  // `event=rejections_untracked count=N interval=10s` when that interval ends.
  static constexpr std::size_t kMaxKeys = 1024;

  explicit RejectionAudit(UnixSeconds interval = kInterval, std::size_t max_keys = kMaxKeys)
      : interval_(interval), max_keys_(max_keys) {}

  // The line written in full carries `ids`, the request refused first.
  void record(const Key& key, UnixSeconds now, const RequestIds& ids = {});
  // Reports and forgets every interval that has ended by `now`.
  void flush(UnixSeconds now);

 private:
  struct Window {
    UnixSeconds start = 0;
    std::uint64_t repeats = 0;  // refusals after the first one written in full
  };
  void report_repeats(const Key& key, const Window& window) const;
  void report_untracked();  // and starts counting afresh

  const UnixSeconds interval_;
  const std::size_t max_keys_;
  std::mutex mutex_;
  std::map<Key, Window> windows_;
  Window untracked_;  // refusals of keys past max_keys_
};

}  // namespace jotgate::auth
