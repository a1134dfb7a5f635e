#include "redis/resp.h"

#include <hiredis/hiredis.h>

#include <new>
#include <vector>

namespace jotgate::redis {

namespace {

struct ReplyFree {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};

Reply converted(const redisReply& from) {
  Reply reply;
  switch (from.type) {
    case REDIS_REPLY_STRING: reply.type = Reply::Type::kString; break;
    case REDIS_REPLY_STATUS: reply.type = Reply::Type::kStatus; break;
    case REDIS_REPLY_ERROR: reply.type = Reply::Type::kError; break;
    case REDIS_REPLY_INTEGER: reply.type = Reply::Type::kInteger; break;
    case REDIS_REPLY_ARRAY: reply.type = Reply::Type::kArray; break;
    default: reply.type = Reply::Type::kNil; break;
  }
  if (from.type == REDIS_REPLY_INTEGER) reply.integer = from.integer;
  if (from.str != nullptr) reply.text.assign(from.str, from.len);
  if (from.type == REDIS_REPLY_ARRAY) {
    reply.elements.reserve(from.elements);
    for (std::size_t i = 0; i < from.elements; ++i)
      reply.elements.push_back(converted(*from.element[i]));
  }
  return reply;
}

}  // namespace

void append_command(std::string& wire, const Command& command) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  argv.reserve(command.size());
  lengths.reserve(command.size());
  for (const std::string& argument : command) {
    argv.push_back(argument.data());
    lengths.push_back(argument.size());
  }
  char* encoded = nullptr;
  const int length =
      redisFormatCommandArgv(&encoded, static_cast<int>(argv.size()), argv.data(), lengths.data());
  if (length < 0) throw std::bad_alloc();  // hiredis fails only when out of memory
  wire.append(encoded, static_cast<std::size_t>(length));
  redisFreeCommand(encoded);
}

void ReplyReader::Free::operator()(redisReader* reader) const { redisReaderFree(reader); }

ReplyReader::ReplyReader() : reader_(redisReaderCreate()) {
  if (!reader_) throw std::bad_alloc();
}

ReplyReader::~ReplyReader() = default;

void ReplyReader::feed(std::string_view bytes) {
  // Fails only on an earlier protocol error, which next() reports.
  redisReaderFeed(reader_.get(), bytes.data(), bytes.size());
}

Result<std::optional<Reply>> ReplyReader::next() {
  void* raw = nullptr;
  if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) {
    return make_error(Reason::kSessionStoreUnavailable,
                      std::string("the server's reply is not RESP: ") + reader_->errstr);
  }
  if (raw == nullptr) return std::optional<Reply>();
  const std::unique_ptr<redisReply, ReplyFree> reply(static_cast<redisReply*>(raw));
  return std::optional<Reply>(converted(*reply));
}

}  // namespace jotgate::redis
