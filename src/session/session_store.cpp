#include "session/session_store.h"

#include <cstring>
#include <limits>
#include <mutex>
#include <queue>
#include <unordered_map>

#include <openssl/rand.h>

#include "base/secret.h"
#include "jose/base64url.h"

namespace jotgate::session {

namespace {

using SessionId = std::array<unsigned char, 32>;
constexpr UnixSeconds kNever = std::numeric_limits<UnixSeconds>::max();

// The first 8 id bytes key the map (and are the handle); the whole id is then compared in
// constant time, so lookup timing reveals nothing about the rest.
std::uint64_t key_of(const SessionId& id) {
  std::uint64_t key = 0;
  std::memcpy(&key, id.data(), sizeof key);
  return key;
}

std::size_t shard_of(std::uint64_t key) { return (key >> 56) % SessionStore::kShards; }

struct Entry {
  SessionId id;
  UserIdentity user;
  Attributes attributes;
  UnixSeconds created_at = 0;
  UnixSeconds last_seen = 0;
};

struct Deadline {
  UnixSeconds at;
  std::uint64_t key;
  bool operator>(const Deadline& other) const { return at > other.at; }
};

}  // namespace

struct SessionStore::Shard {
  mutable std::mutex mutex;
  std::unordered_map<std::uint64_t, Entry> sessions;
  // One deadline per session, possibly stale (a touched session's real deadline is later):
  // expire() re-queues those instead of removing them.
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines;
};

namespace {

UnixSeconds deadline_of(const Entry& entry, const SessionLimits& limits) {
  UnixSeconds at = kNever;
  if (limits.inactivity_timeout_seconds > 0) at = entry.last_seen + limits.inactivity_timeout_seconds;
  if (limits.max_lifetime_seconds > 0) {
    at = std::min(at, entry.created_at + limits.max_lifetime_seconds);
  }
  return at;
}

}  // namespace

SessionStore::SessionStore(SessionLimits limits)
    : limits_(limits), shards_(std::make_unique<Shard[]>(kShards)) {}

SessionStore::~SessionStore() = default;

SessionStore::Created SessionStore::create(const UserIdentity& user, Attributes attributes,
                                           UnixSeconds now) {
  Entry entry{{}, user, std::move(attributes), now, now};
  for (;;) {
    if (RAND_bytes(entry.id.data(), static_cast<int>(entry.id.size())) != 1) {
      std::abort();  // no CSPRNG: never hand out guessable sessions
    }
    const std::uint64_t key = key_of(entry.id);
    if (key == 0) continue;  // 0 means "no session" to callers
    Shard& shard = shards_[shard_of(key)];
    std::lock_guard lock(shard.mutex);
    if (shard.sessions.contains(key)) continue;  // 2^-64 per pair; just draw again
    Created created{jose::base64url_encode(std::string_view(
                        reinterpret_cast<const char*>(entry.id.data()), entry.id.size())),
                    key};
    const UnixSeconds at = deadline_of(entry, limits_);
    shard.sessions.emplace(key, std::move(entry));
    if (at != kNever) shard.deadlines.push({at, key});
    return created;
  }
}

LookupResult SessionStore::lookup(std::string_view cookie_value, UnixSeconds now) {
  LookupResult result;
  if (cookie_value.size() != 43) return result;  // base64url of 32 bytes
  auto decoded = jose::base64url_decode(cookie_value);
  if (!decoded || decoded->size() != 32) return result;
  SessionId id;
  std::memcpy(id.data(), decoded->data(), id.size());
  const std::uint64_t key = key_of(id);
  Shard& shard = shards_[shard_of(key)];
  std::lock_guard lock(shard.mutex);
  auto it = shard.sessions.find(key);
  if (it == shard.sessions.end()) return result;
  Entry& entry = it->second;
  if (!constant_time_equal(
          std::string_view(reinterpret_cast<const char*>(entry.id.data()), entry.id.size()),
          std::string_view(reinterpret_cast<const char*>(id.data()), id.size()))) {
    return result;
  }
  if (deadline_of(entry, limits_) <= now) {
    result.status = LookupStatus::kExpired;
    result.session.user = entry.user;
    shard.sessions.erase(it);  // its heap entry is dropped lazily by expire()
    return result;
  }
  entry.last_seen = now;
  result.status = LookupStatus::kFound;
  result.session = {key, entry.user, entry.attributes};
  return result;
}

bool SessionStore::touch(std::uint64_t handle, UnixSeconds now) {
  Shard& shard = shards_[shard_of(handle)];
  std::lock_guard lock(shard.mutex);
  auto it = shard.sessions.find(handle);
  if (it == shard.sessions.end() || deadline_of(it->second, limits_) <= now) return false;
  it->second.last_seen = std::max(it->second.last_seen, now);
  return true;
}

bool SessionStore::remove(std::uint64_t handle) {
  Shard& shard = shards_[shard_of(handle)];
  std::lock_guard lock(shard.mutex);
  return shard.sessions.erase(handle) > 0;
}

std::size_t SessionStore::remove_user(const UserIdentity& user) {
  // Revocation is rare; a scan of the shards one at a time keeps the hot path index-free.
  std::size_t removed = 0;
  for (std::size_t s = 0; s < kShards; ++s) {
    Shard& shard = shards_[s];
    std::lock_guard lock(shard.mutex);
    removed += std::erase_if(shard.sessions, [&](const auto& kv) { return kv.second.user == user; });
  }
  return removed;
}

std::size_t SessionStore::expire(UnixSeconds now,
                                 const std::function<void(const UserIdentity&)>& on_expired) {
  std::size_t expired = 0;
  for (std::size_t s = 0; s < kShards; ++s) {
    Shard& shard = shards_[s];
    std::lock_guard lock(shard.mutex);
    while (!shard.deadlines.empty() && shard.deadlines.top().at <= now) {
      const Deadline top = shard.deadlines.top();
      shard.deadlines.pop();
      auto it = shard.sessions.find(top.key);
      if (it == shard.sessions.end()) continue;  // already removed
      const UnixSeconds real = deadline_of(it->second, limits_);
      if (real > now) {
        shard.deadlines.push({real, top.key});  // touched since: wait for its real deadline
        continue;
      }
      if (on_expired) on_expired(it->second.user);
      shard.sessions.erase(it);
      ++expired;
    }
  }
  return expired;
}

std::size_t SessionStore::size() const {
  std::size_t total = 0;
  for (std::size_t s = 0; s < kShards; ++s) {
    std::lock_guard lock(shards_[s].mutex);
    total += shards_[s].sessions.size();
  }
  return total;
}

}  // namespace jotgate::session
