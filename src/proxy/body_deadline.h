// When reading a request body must give up (limits.body_timeout, limits.body_min_rate): each
// read within `timeout`, and the whole body by start + timeout + bytes / min_rate, so a body
// trickled a byte at a time is cut while a large upload at a sane rate is not (the rule of
// Apache's mod_reqtimeout).
//   BodyDeadline deadline(30s, 1024, now);
//   stream.expires_at(deadline.next(now));  ...  deadline.received(n);
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace jotgate::proxy {

class BodyDeadline {
 public:
  using Clock = std::chrono::steady_clock;

  BodyDeadline(std::chrono::milliseconds timeout, std::uint64_t min_rate,
               Clock::time_point start = Clock::now())
      : start_(start), timeout_(timeout), min_rate_(min_rate) {}

  void received(std::uint64_t bytes) { bytes_ += bytes; }

  Clock::time_point next(Clock::time_point now = Clock::now()) const {
    const Clock::time_point idle = now + timeout_;
    if (min_rate_ == 0) return idle;
    const auto earned = std::chrono::microseconds(bytes_ * 1'000'000 / min_rate_);
    return std::min(idle, start_ + timeout_ + std::chrono::duration_cast<Clock::duration>(earned));
  }

 private:
  Clock::time_point start_;
  std::chrono::milliseconds timeout_;
  std::uint64_t min_rate_;
  std::uint64_t bytes_ = 0;
};

}  // namespace jotgate::proxy
