// Clock: where "now" comes from. The JOSE core never reads the time itself; callers pass `now`,
// so tests pin the clock and the CLI's --time can evaluate a token at any instant.
//   SystemClock clock;  auto now = clock.now_seconds();
#pragma once

#include <cstdint>

namespace jotgate {

using UnixSeconds = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixSeconds now_seconds() const = 0;
};

class SystemClock final : public Clock {
 public:
  UnixSeconds now_seconds() const override;
};

// A clock that says what it is told; for tests.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(UnixSeconds now) : now_(now) {}
  UnixSeconds now_seconds() const override { return now_; }
  void set(UnixSeconds now) { now_ = now; }

 private:
  UnixSeconds now_;
};

}  // namespace jotgate
