#include "base/clock.h"

#include <gtest/gtest.h>

namespace jotgate {
namespace {

TEST(Clock, FixedClockSaysWhatItIsTold) {
  FixedClock clock(1'700'000'000);
  EXPECT_EQ(clock.now_seconds(), 1'700'000'000);
  clock.set(42);
  const Clock& as_base = clock;
  EXPECT_EQ(as_base.now_seconds(), 42);
}

TEST(Clock, SystemClockIsAfter2024) { EXPECT_GT(SystemClock().now_seconds(), 1'704'067'200); }

}  // namespace
}  // namespace jotgate
