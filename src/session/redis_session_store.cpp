#include "session/redis_session_store.h"

#include <algorithm>
#include <array>
#include <limits>
#include <mutex>
#include <unordered_map>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "base/random.h"
#include "base/secret.h"
#include "jose/base64url.h"
#include "redis/redis_client.h"

namespace jotgate::session {

namespace {

constexpr std::size_t kShardCount = 16;
constexpr std::size_t kCookieSize = 43;  // base64url of 32 bytes, no padding
// No LIMIT to a listing: a user's sessions (ZRANGEBYSCORE ... LIMIT 0 -1 is all of them).
constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max();
constexpr UnixSeconds kNever = std::numeric_limits<UnixSeconds>::max();
constexpr int kFormat = 1;  // of the JSON value; another one is treated as no session
constexpr UnixSeconds kCountEvery = 5;

using SteadyTime = std::chrono::steady_clock::time_point;

std::string digest_of(std::string_view id) {
  const Sha256 digest = sha256(id);
  return hex_encode({reinterpret_cast<const char*>(digest.data()), digest.size()});
}

std::size_t shard_of_id(std::string_view id) {
  return static_cast<unsigned char>(id.front()) % kShardCount;
}

// Handles name their shard in their low bits, so touch() and remove() find it without a scan.
std::size_t shard_of_handle(std::uint64_t handle) { return handle % kShardCount; }

std::string milliseconds_until(UnixSeconds expires_at, UnixSeconds now) {
  return std::to_string(std::max<UnixSeconds>(expires_at - now, 1) * 1000);
}

}  // namespace

struct RedisSessionStore::Entry {
  bool exists = false;  // false: Redis said there is no such session (remembered while fresh)
  std::uint64_t handle = 0;
  std::string digest;
  UserIdentity user;
  Attributes attributes;
  UnixSeconds created_at = 0;
  UnixSeconds expires_at = kNever;   // as this node knows it
  UnixSeconds sent_expiry = kNever;  // the expiry Redis was last told (or told us)
  SteadyTime read_at;                // when this node last read or wrote it
  std::shared_ptr<Read> read;        // a read under way, or finished and not yet taken in
};

// A read of one session: filled on the client's thread before `done` finishes.
struct RedisSessionStore::Read {
  std::shared_ptr<Pending> done = std::make_shared<Pending>();
  bool found = false;
  UserIdentity user;
  Attributes attributes;
  UnixSeconds created_at = 0;
  std::int64_t ttl_ms = -2;
};

struct RedisSessionStore::Shard {
  std::mutex mutex;
  std::unordered_map<std::string, Entry> by_id;              // the 32-byte id -> entry
  std::unordered_map<std::uint64_t, std::string> by_handle;  // handle -> id
};

struct RedisSessionStore::Keys {
  std::string prefix;  // <p>
  std::string vp;      // <vp>
  std::string session(const std::string& digest) const {
    return prefix + "session:" + vp + ":" + digest;
  }
  std::string user(const UserIdentity& u) const {
    return prefix + "user:" + vp + ":" + u.directory + "\\" + u.id;
  }
  std::string all() const { return prefix + "sessions:" + vp; }
};

namespace {

std::string value_of(const std::string& cookie, const UserIdentity& user,
                     const Attributes& attributes, UnixSeconds created_at) {
  nlohmann::json attrs = nlohmann::json::array();
  for (const auto& [name, value] : attributes) attrs.push_back({name, value});
  return nlohmann::json{{"v", kFormat},    {"id", cookie},   {"dir", user.directory},
                        {"user", user.id}, {"attrs", attrs}, {"created", created_at}}
      .dump();
}

struct Parsed {
  std::string cookie;
  UserIdentity user;
  Attributes attributes;
  UnixSeconds created_at = 0;
};

std::optional<Parsed> parse_value(const std::string& text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object() || json.value("v", 0) != kFormat) return std::nullopt;
  try {
    Parsed parsed;
    parsed.cookie = json.at("id").get<std::string>();
    parsed.user = {json.at("dir").get<std::string>(), json.at("user").get<std::string>()};
    for (const auto& pair : json.at("attrs")) {
      parsed.attributes.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
    }
    parsed.created_at = json.at("created").get<UnixSeconds>();
    return parsed;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

// What a session's expiry is written as: the commands that put it on its keys.
std::vector<redis::Command> expiry_commands(const std::string& session_key,
                                            const std::string& user_key, const std::string& all_key,
                                            const std::string& digest, UnixSeconds expires_at,
                                            UnixSeconds now) {
  std::vector<redis::Command> commands;
  const std::string score = expires_at == kNever ? "+inf" : std::to_string(expires_at);
  if (expires_at == kNever) {
    commands.push_back({"PERSIST", session_key});
  } else {
    commands.push_back({"PEXPIRE", session_key, milliseconds_until(expires_at, now)});
  }
  commands.push_back({"ZADD", user_key, score, digest});
  commands.push_back({"ZADD", all_key, score, digest});
  // The user's index lives as long as the longest of their sessions: NX gives a new index its
  // first expiry, GT only ever moves it later.
  if (expires_at == kNever) {
    commands.push_back({"PERSIST", user_key});
  } else {
    const std::string at = std::to_string(expires_at);
    commands.push_back({"EXPIREAT", user_key, at, "NX"});
    commands.push_back({"EXPIREAT", user_key, at, "GT"});
  }
  return commands;
}

void log_failure(const Result<redis::Replies>& replies, std::string_view what) {
  if (!replies) spdlog::warn("session store: {} failed: {}", what, replies.error().message());
}

}  // namespace

RedisSessionStore::RedisSessionStore(std::shared_ptr<redis::RedisClient> client,
                                     std::string key_prefix,
                                     const std::string& virtual_proxy_prefix, SessionLimits limits)
    : client_(std::move(client)),
      keys_(std::make_unique<Keys>(
          Keys{std::move(key_prefix), virtual_proxy_prefix.empty() ? "~" : virtual_proxy_prefix})),
      inactivity_timeout_seconds_(limits.inactivity_timeout_seconds),
      max_lifetime_seconds_(limits.max_lifetime_seconds),
      shards_(std::make_unique<Shard[]>(kShardCount)),
      count_(std::make_shared<std::atomic<std::size_t>>(0)) {}

// Replies still under way hold only the Pending objects, never the store.
RedisSessionStore::~RedisSessionStore() = default;

SessionLimits RedisSessionStore::limits() const {
  return {inactivity_timeout_seconds_.load(std::memory_order_relaxed),
          max_lifetime_seconds_.load(std::memory_order_relaxed), 0};
}

void RedisSessionStore::set_limits(SessionLimits limits) {
  inactivity_timeout_seconds_.store(limits.inactivity_timeout_seconds);
  max_lifetime_seconds_.store(limits.max_lifetime_seconds);
}

UnixSeconds RedisSessionStore::expiry_at(UnixSeconds created_at, UnixSeconds now) const {
  const SessionLimits l = limits();
  UnixSeconds at = kNever;
  if (l.inactivity_timeout_seconds > 0) at = now + l.inactivity_timeout_seconds;
  if (l.max_lifetime_seconds > 0) at = std::min(at, created_at + l.max_lifetime_seconds);
  return at;
}

SessionStore::Created RedisSessionStore::create(const UserIdentity& user, Attributes attributes,
                                                UnixSeconds now) {
  Created created;
  if (!client_->connected()) {
    created.unavailable = true;
    return created;
  }
  std::array<unsigned char, 32> bytes{};
  random_bytes(bytes);
  const std::string id(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  created.cookie_value = jose::base64url_encode(id);
  const std::string digest = digest_of(id);
  const UnixSeconds expires_at = expiry_at(now, now);
  std::vector<redis::Command> commands;
  redis::Command set{"SET", keys_->session(digest),
                     value_of(created.cookie_value, user, attributes, now)};
  if (expires_at != kNever) {
    set.insert(set.end(), {"PX", milliseconds_until(expires_at, now)});
  }
  commands.push_back(std::move(set));
  // The indexes; the session key got its expiry with SET (the first command of the list).
  auto indexes = expiry_commands(keys_->session(digest), keys_->user(user), keys_->all(), digest,
                                 expires_at, now);
  commands.insert(commands.end(), std::make_move_iterator(indexes.begin() + 1),
                  std::make_move_iterator(indexes.end()));
  const std::size_t shard_index = shard_of_id(id);
  Shard& shard = shards_[shard_index];
  created.handle = next_handle_.fetch_add(1) * kShardCount + shard_index;
  {
    std::lock_guard lock(shard.mutex);
    Entry& entry = shard.by_id[id];
    entry = Entry{};
    entry.exists = true;
    entry.handle = created.handle;
    entry.digest = digest;
    entry.user = user;
    entry.attributes = std::move(attributes);
    entry.created_at = now;
    entry.expires_at = expires_at;
    entry.sent_expiry = expires_at;
    entry.read_at = std::chrono::steady_clock::now();
    shard.by_handle[created.handle] = id;
  }
  created.commit = std::make_shared<Pending>();
  client_->send(std::move(commands), [commit = created.commit](Result<redis::Replies> replies) {
    const bool ok = replies && !replies->empty() &&
                    replies->front().type == redis::Reply::Type::kStatus &&
                    replies->front().text == "OK";
    log_failure(replies, "writing a new session");
    commit->finish(ok);
  });
  return created;
}

void RedisSessionStore::start_read(Entry& entry) {
  auto read = std::make_shared<Read>();
  entry.read = read;
  const std::string key = keys_->session(entry.digest);
  // The client's thread only records the reply and wakes the waiters; the entry takes it in on
  // the next lookup (see take_read). Writes before finish() are seen after finished().
  client_->send({{"GET", key}, {"PTTL", key}}, [read](Result<redis::Replies> replies) {
    log_failure(replies, "reading a session");
    bool ok = false;
    if (replies && replies->size() == 2 && (*replies)[0].type != redis::Reply::Type::kError) {
      ok = true;
      if ((*replies)[0].type == redis::Reply::Type::kString) {
        if (auto parsed = parse_value((*replies)[0].text)) {
          read->user = std::move(parsed->user);
          read->attributes = std::move(parsed->attributes);
          read->created_at = parsed->created_at;
          read->found = true;
        }
      }
      read->ttl_ms = (*replies)[1].integer;
    }
    read->done->finish(ok);
  });
}

// The finished read of `entry` taken in: false when it failed (the store could not be asked).
bool RedisSessionStore::take_read(Shard& shard, Entry& entry, UnixSeconds now) {
  std::shared_ptr<Read> read = std::move(entry.read);
  if (!read->done->ok()) return false;
  entry.read_at = std::chrono::steady_clock::now();
  entry.exists = read->found && read->ttl_ms != -2;
  if (!entry.exists) {
    if (entry.handle != 0) shard.by_handle.erase(entry.handle);
    entry.handle = 0;
    return true;
  }
  entry.user = std::move(read->user);
  entry.attributes = std::move(read->attributes);
  entry.created_at = read->created_at;
  entry.expires_at = read->ttl_ms < 0 ? kNever : now + (read->ttl_ms + 999) / 1000;
  entry.sent_expiry = entry.expires_at;
  return true;
}

LookupResult RedisSessionStore::lookup(std::string_view cookie_value, UnixSeconds now,
                                       Refresh refresh) {
  LookupResult result;
  std::array<unsigned char, 32> bytes{};
  if (cookie_value.size() != kCookieSize || !jose::base64url_decode_into(cookie_value, bytes)) {
    return result;
  }
  const std::string id(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  const std::size_t shard_index = shard_of_id(id);
  Shard& shard = shards_[shard_index];
  std::lock_guard lock(shard.mutex);
  auto it = shard.by_id.find(id);
  if (it != shard.by_id.end() && it->second.read) {
    Entry& entry = it->second;
    if (!entry.read->done->finished()) {
      result.status = LookupStatus::kPending;
      result.pending = entry.read->done;
      return result;
    }
    if (!take_read(shard, entry, now)) {
      result.status = LookupStatus::kUnavailable;
      if (entry.handle == 0) shard.by_id.erase(it);
      return result;
    }
  }
  const bool fresh =
      it != shard.by_id.end() && std::chrono::steady_clock::now() - it->second.read_at < kFreshFor;
  if (!fresh) {
    if (!client_->connected()) {
      result.status = LookupStatus::kUnavailable;
      return result;
    }
    if (it == shard.by_id.end()) {
      it = shard.by_id.emplace(id, Entry{}).first;
      it->second.digest = digest_of(id);
    }
    start_read(it->second);
    result.status = LookupStatus::kPending;
    result.pending = it->second.read->done;
    return result;
  }
  Entry& entry = it->second;
  if (!entry.exists) return result;  // kUnknown
  if (entry.expires_at <= now) {
    result.status = LookupStatus::kExpired;
    result.session.user = entry.user;
    if (entry.handle != 0) shard.by_handle.erase(entry.handle);
    shard.by_id.erase(it);
    return result;
  }
  if (entry.handle == 0) {
    entry.handle = next_handle_.fetch_add(1) * kShardCount + shard_index;
    shard.by_handle[entry.handle] = id;
  }
  if (refresh == Refresh::kYes) extend(entry, now);
  result.status = LookupStatus::kFound;
  result.session = {entry.handle, entry.user, entry.attributes, entry.expires_at};
  return result;
}

void RedisSessionStore::extend(Entry& entry, UnixSeconds now) {
  const UnixSeconds expires_at = expiry_at(entry.created_at, now);
  if (expires_at == kNever || expires_at <= entry.expires_at) return;
  entry.expires_at = expires_at;
  // A busy user costs a write only every tenth of the inactivity timeout.
  const std::int64_t step = std::max<std::int64_t>(limits().inactivity_timeout_seconds / 10, 1);
  if (entry.sent_expiry != kNever && expires_at - entry.sent_expiry < step) return;
  entry.sent_expiry = expires_at;
  client_->send(
      expiry_commands(keys_->session(entry.digest), keys_->user(entry.user), keys_->all(),
                      entry.digest, expires_at, now),
      [](Result<redis::Replies> replies) { log_failure(replies, "extending a session"); });
}

bool RedisSessionStore::touch(std::uint64_t handle, UnixSeconds now) {
  Shard& shard = shards_[shard_of_handle(handle)];
  std::lock_guard lock(shard.mutex);
  auto named = shard.by_handle.find(handle);
  if (named == shard.by_handle.end()) return false;
  auto it = shard.by_id.find(named->second);
  if (it == shard.by_id.end() || !it->second.exists || it->second.expires_at <= now) return false;
  extend(it->second, now);
  return true;
}

bool RedisSessionStore::remove(std::uint64_t handle) {
  Entry removed;
  {
    Shard& shard = shards_[shard_of_handle(handle)];
    std::lock_guard lock(shard.mutex);
    auto named = shard.by_handle.find(handle);
    if (named == shard.by_handle.end()) return false;
    auto it = shard.by_id.find(named->second);
    shard.by_handle.erase(named);
    if (it == shard.by_id.end()) return false;
    removed = std::move(it->second);
    // Remembered as gone while fresh: this node refuses the cookie at once.
    it->second = Entry{};
    it->second.digest = removed.digest;
    it->second.read_at = std::chrono::steady_clock::now();
  }
  client_->send({{"DEL", keys_->session(removed.digest)},
                 {"ZREM", keys_->user(removed.user), removed.digest},
                 {"ZREM", keys_->all(), removed.digest}},
                [](Result<redis::Replies> replies) { log_failure(replies, "ending a session"); });
  return true;
}

// Live sessions as Redis holds them, with what sessions_of() does not show: the digest each is
// filed under and when it was created (for remove_user).
std::vector<RedisSessionStore::Stored> RedisSessionStore::stored_sessions_in(
    const std::string& index, UnixSeconds now, std::size_t limit, const UserIdentity* user) const {
  std::vector<Stored> sessions;
  auto listed =
      client_->send_and_wait({{"ZRANGEBYSCORE", index, "(" + std::to_string(now), "+inf", "LIMIT",
                               "0", limit == kAll ? "-1" : std::to_string(limit)}});
  if (!listed || listed->empty() || listed->front().type != redis::Reply::Type::kArray) {
    if (!listed)
      spdlog::warn("session store: listing sessions failed: {}", listed.error().message());
    return sessions;
  }
  const std::vector<redis::Reply>& digests = listed->front().elements;
  std::vector<redis::Command> reads;
  for (const redis::Reply& digest : digests) {
    reads.push_back({"GET", keys_->session(digest.text)});
    reads.push_back({"PTTL", keys_->session(digest.text)});
  }
  if (reads.empty()) return sessions;
  auto values = client_->send_and_wait(std::move(reads));
  if (!values) {
    spdlog::warn("session store: reading sessions failed: {}", values.error().message());
    return sessions;
  }
  for (std::size_t i = 0; 2 * i + 1 < values->size() && i < digests.size(); ++i) {
    const redis::Reply& value = (*values)[2 * i];
    if (value.type != redis::Reply::Type::kString) continue;
    auto parsed = parse_value(value.text);
    if (!parsed || (user != nullptr && !(parsed->user == *user))) continue;
    const std::int64_t ttl_ms = (*values)[2 * i + 1].integer;
    if (ttl_ms == -2) continue;
    SessionView view{0, parsed->user, std::move(parsed->attributes),
                     ttl_ms < 0 ? kNever : now + (ttl_ms + 999) / 1000};
    sessions.push_back(
        {std::move(parsed->cookie), digests[i].text, parsed->created_at, std::move(view)});
  }
  return sessions;
}

std::vector<std::pair<std::string, SessionView>> RedisSessionStore::sessions_of(
    const UserIdentity& user, UnixSeconds now) const {
  std::vector<std::pair<std::string, SessionView>> sessions;
  for (Stored& stored : stored_sessions_in(keys_->user(user), now, kAll, &user)) {
    sessions.emplace_back(std::move(stored.cookie), std::move(stored.view));
  }
  return sessions;
}

std::vector<std::pair<std::string, SessionView>> RedisSessionStore::some_sessions(
    UnixSeconds now, std::size_t limit) const {
  std::vector<std::pair<std::string, SessionView>> sessions;
  for (Stored& stored : stored_sessions_in(keys_->all(), now, limit, nullptr)) {
    sessions.emplace_back(std::move(stored.cookie), std::move(stored.view));
  }
  return sessions;
}

std::size_t RedisSessionStore::remove_user(const UserIdentity& user, UnixSeconds created_until) {
  const UnixSeconds now = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  std::vector<redis::Command> deletes;
  for (const Stored& stored : stored_sessions_in(keys_->user(user), now - 1, kAll, &user)) {
    if (stored.created_at > created_until) continue;
    deletes.push_back({"DEL", keys_->session(stored.digest)});
    deletes.push_back({"ZREM", keys_->user(user), stored.digest});
    deletes.push_back({"ZREM", keys_->all(), stored.digest});
  }
  std::size_t ended = 0;
  if (!deletes.empty()) {
    auto deleted = client_->send_and_wait(std::move(deletes));
    if (!deleted) {
      spdlog::warn("session store: ending sessions failed: {}", deleted.error().message());
    } else {
      for (std::size_t i = 0; i < deleted->size(); i += 3) ended += (*deleted)[i].integer == 1;
    }
  }
  // What this node remembers of the user: forgotten, so the next request asks Redis.
  for (std::size_t i = 0; i < kShardCount; ++i) {
    Shard& shard = shards_[i];
    std::lock_guard lock(shard.mutex);
    for (auto it = shard.by_id.begin(); it != shard.by_id.end();) {
      if (it->second.exists && it->second.user == user && !it->second.read &&
          it->second.created_at <= created_until) {
        if (it->second.handle != 0) shard.by_handle.erase(it->second.handle);
        it = shard.by_id.erase(it);
      } else {
        ++it;
      }
    }
  }
  return ended;
}

std::size_t RedisSessionStore::expire(
    UnixSeconds now, const std::function<void(const UserIdentity&)>& /*on_expired*/) {
  // Redis expires the sessions; this node forgets what it no longer needs: sessions past their
  // expiry, and what it read that is no longer fresh and no connection holds a handle of.
  const SteadyTime stale_before = std::chrono::steady_clock::now() - kFreshFor;
  for (std::size_t i = 0; i < kShardCount; ++i) {
    Shard& shard = shards_[i];
    std::lock_guard lock(shard.mutex);
    for (auto it = shard.by_id.begin(); it != shard.by_id.end();) {
      const Entry& entry = it->second;
      const bool gone =
          entry.exists ? entry.expires_at <= now : !entry.read && entry.read_at < stale_before;
      if (gone && !entry.read) {
        if (entry.handle != 0) shard.by_handle.erase(entry.handle);
        it = shard.by_id.erase(it);
      } else {
        ++it;
      }
    }
  }
  refresh_count(now);
  return 0;
}

// The count of live sessions, for the metrics: asked every few seconds, never waited for.
void RedisSessionStore::refresh_count(UnixSeconds now) {
  if (now < next_count_at_ || !client_->connected()) return;
  next_count_at_ = now + kCountEvery;
  client_->send(
      {{"ZREMRANGEBYSCORE", keys_->all(), "-inf", std::to_string(now)}, {"ZCARD", keys_->all()}},
      [count = count_](Result<redis::Replies> replies) {
        if (replies && replies->size() == 2) {
          count->store(static_cast<std::size_t>(std::max<std::int64_t>((*replies)[1].integer, 0)));
        }
      });
}

}  // namespace jotgate::session
