#include "base/clock.h"

#include <chrono>

namespace jotgate {

UnixSeconds SystemClock::now_seconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace jotgate
