#include "base/result.h"

#include <memory>

#include <gtest/gtest.h>

namespace jotgate {
namespace {

Result<int> parse_positive(int value) {
  if (value <= 0) return make_error(Reason::kBadRequest, "not positive");
  return value;
}

TEST(Result, HoldsAValue) {
  auto r = parse_positive(4);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(*r, 4);
  EXPECT_EQ(r.value(), 4);
}

TEST(Result, HoldsAnErrorWithDetail) {
  auto r = parse_positive(-1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, Reason::kBadRequest);
  EXPECT_EQ(r.error().message(), "bad request: not positive");
  EXPECT_EQ(r.error().describe(), "BAD_REQUEST: bad request: not positive");
}

TEST(Result, MessageWithoutDetail) {
  const Error error = make_error(Reason::kTokenExpired);
  EXPECT_EQ(error.message(), "the token has expired");
  EXPECT_EQ(error.describe(), "TOKEN_EXPIRED: the token has expired");
}

TEST(Result, MovesOutMoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(7));
  ASSERT_TRUE(r);
  r->reset(new int(8));
  std::unique_ptr<int> owned = std::move(r).value();
  EXPECT_EQ(*owned, 8);
}

TEST(Result, VoidSuccessAndFailure) {
  Result<void> ok;
  EXPECT_TRUE(ok);
  Result<void> failed = make_error(Reason::kAccessDenied, "x");
  EXPECT_FALSE(failed);
  EXPECT_EQ(failed.error().reason, Reason::kAccessDenied);
  EXPECT_EQ(failed.error().detail, "x");
}

}  // namespace
}  // namespace jotgate
