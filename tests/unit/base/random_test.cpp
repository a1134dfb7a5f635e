#include "base/random.h"

#include <algorithm>
#include <array>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "base/hex.h"

namespace jotgate {
namespace {

TEST(Random, HexIdsHaveTwoDigitsPerByteAndDiffer) {
  EXPECT_EQ(random_hex(0), "");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string id = random_hex(12);
    ASSERT_EQ(id.size(), 24u);
    EXPECT_TRUE(std::all_of(id.begin(), id.end(), [](char c) {
      return hex_value(c) >= 0 && !(c >= 'A' && c <= 'F');
    })) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);  // 96 bits each: a repeat would mean no randomness
}

TEST(Random, FillsTheWholeBuffer) {
  // 64 bytes all zero after a fill has probability 2^-512: a fill that skipped the buffer fails.
  std::array<unsigned char, 64> first{};
  std::array<unsigned char, 64> second{};
  random_bytes(first);
  random_bytes(second);
  EXPECT_NE(first, (std::array<unsigned char, 64>{}));
  EXPECT_NE(first, second);
  // The last byte gets written too: it stays zero in all 64 fills with probability 2^-512.
  bool last_written = false;
  for (int i = 0; i < 64 && !last_written; ++i) {
    std::array<unsigned char, 33> buffer{};
    random_bytes(buffer);
    last_written = buffer.back() != 0;
  }
  EXPECT_TRUE(last_written);
}

}  // namespace
}  // namespace jotgate
