// RESP through hiredis: commands encoded byte for byte, replies of every type read, also when
// they arrive a byte at a time, and a stream that is not RESP refused.
#include "redis/resp.h"

#include <gtest/gtest.h>

namespace jotgate::redis {
namespace {

TEST(Resp, EncodesCommandsAsArraysOfBulkStrings) {
  std::string wire;
  append_command(wire, {"SET", "k", std::string("a\0b\r\n", 5)});
  append_command(wire, {"PING"});
  EXPECT_EQ(wire, std::string(
                      "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\0b\r\n\r\n*1\r\n$4\r\nPING\r\n", 45));
}

TEST(Resp, ReadsEveryReplyTypeEvenByteByByte) {
  const std::string stream =
      "+OK\r\n-ERR wrong\r\n:-42\r\n$3\r\nv\r\n\r\n$-1\r\n*2\r\n:1\r\n*1\r\n$0\r\n\r\n";
  ReplyReader reader;
  std::vector<Reply> replies;
  for (char c : stream) {
    reader.feed(std::string_view(&c, 1));
    for (;;) {
      auto next = reader.next();
      ASSERT_TRUE(next.ok());
      if (!*next) break;
      replies.push_back(std::move(**next));
    }
  }
  ASSERT_EQ(replies.size(), 6u);
  EXPECT_EQ(replies[0].type, Reply::Type::kStatus);
  EXPECT_EQ(replies[0].text, "OK");
  EXPECT_EQ(replies[1].type, Reply::Type::kError);
  EXPECT_EQ(replies[1].text, "ERR wrong");
  EXPECT_EQ(replies[2].type, Reply::Type::kInteger);
  EXPECT_EQ(replies[2].integer, -42);
  EXPECT_EQ(replies[3].type, Reply::Type::kString);
  EXPECT_EQ(replies[3].text, "v\r\n");
  EXPECT_EQ(replies[4].type, Reply::Type::kNil);
  ASSERT_EQ(replies[5].type, Reply::Type::kArray);
  ASSERT_EQ(replies[5].elements.size(), 2u);
  EXPECT_EQ(replies[5].elements[0].integer, 1);
  ASSERT_EQ(replies[5].elements[1].elements.size(), 1u);
  EXPECT_EQ(replies[5].elements[1].elements[0].type, Reply::Type::kString);
  EXPECT_EQ(replies[5].elements[1].elements[0].text, "");
}

TEST(Resp, RefusesAStreamThatIsNotResp) {
  ReplyReader reader;
  reader.feed("HTTP/1.1 400 Bad Request\r\n");
  auto next = reader.next();
  ASSERT_FALSE(next.ok());
  EXPECT_EQ(next.error().reason, Reason::kSessionStoreUnavailable);
  EXPECT_EQ(next.error().detail.rfind("the server's reply is not RESP: Protocol error", 0), 0u)
      << next.error().detail;
}

}  // namespace
}  // namespace jotgate::redis
