// RESP, the Redis protocol, through hiredis: commands encoded with redisFormatCommandArgv and
// replies parsed with its reader. No I/O here: the connection feeds the bytes it read.
//   std::string wire;  append_command(wire, {"GET", "k"});
//   ReplyReader reader;  reader.feed(bytes);
//   while (auto reply = reader.next(); reply && *reply) use(**reply);
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "redis/redis_client.h"

struct redisReader;

namespace jotgate::redis {

// Appends the command in RESP (an array of bulk strings) to `wire`.
void append_command(std::string& wire, const Command& command);

class ReplyReader {
 public:
  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  void feed(std::string_view bytes);
  // The next complete reply, nullopt until more bytes come, or an error (the stream is not
  // RESP: the connection cannot be trusted any more).
  Result<std::optional<Reply>> next();

 private:
  struct Free {
    void operator()(redisReader* reader) const;
  };
  std::unique_ptr<redisReader, Free> reader_;
};

}  // namespace jotgate::redis
