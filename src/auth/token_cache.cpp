#include "auth/token_cache.h"

#include <cstring>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "base/secret.h"

namespace jotgate::auth {

namespace {

constexpr std::size_t kShards = 16;

std::uint64_t key_of(const TokenCache::Digest& digest) {
  std::uint64_t key = 0;
  std::memcpy(&key, digest.data(), sizeof key);
  return key;
}

bool same(const TokenCache::Digest& a, const TokenCache::Digest& b) {
  return constant_time_equal(std::string_view(reinterpret_cast<const char*>(a.data()), a.size()),
                             std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

struct Slot {
  TokenCache::Digest digest;
  TokenCache::Entry entry;
};

}  // namespace

// A map plus the insertion order of its keys: every key is in both exactly once, so the
// order queue never outgrows the map. Expired entries stay until pushed out or replaced.
struct TokenCache::Shard {
  mutable std::mutex mutex;
  std::unordered_map<std::uint64_t, Slot> slots;
  std::deque<std::uint64_t> order;
};

TokenCache::TokenCache(std::size_t capacity)
    : per_shard_(std::max<std::size_t>(1, (capacity + kShards - 1) / kShards)),
      shards_(std::make_unique<Shard[]>(kShards)) {}

TokenCache::~TokenCache() = default;

TokenCache::Digest TokenCache::digest(std::string_view token) { return sha256(token); }

std::optional<TokenCache::Entry> TokenCache::find(const Digest& key, UnixSeconds now) const {
  const std::uint64_t k = key_of(key);
  const Shard& shard = shards_[k % kShards];
  std::lock_guard lock(shard.mutex);
  auto it = shard.slots.find(k);
  if (it == shard.slots.end() || !same(it->second.digest, key)) return std::nullopt;
  if (now >= it->second.entry.expires_at) return std::nullopt;
  return it->second.entry;
}

void TokenCache::insert(const Digest& key, Entry entry) {
  const std::uint64_t k = key_of(key);
  Shard& shard = shards_[k % kShards];
  std::lock_guard lock(shard.mutex);
  auto it = shard.slots.find(k);
  if (it != shard.slots.end()) {  // the same token again, or (2^-64) another with this prefix
    it->second = Slot{key, std::move(entry)};
    return;
  }
  if (shard.slots.size() >= per_shard_) {
    shard.slots.erase(shard.order.front());
    shard.order.pop_front();
  }
  shard.slots.emplace(k, Slot{key, std::move(entry)});
  shard.order.push_back(k);
}

void TokenCache::set_session(const Digest& key, std::uint64_t session_handle,
                             std::string cookie_value) {
  const std::uint64_t k = key_of(key);
  Shard& shard = shards_[k % kShards];
  std::lock_guard lock(shard.mutex);
  auto it = shard.slots.find(k);
  if (it != shard.slots.end() && same(it->second.digest, key)) {
    it->second.entry.session_handle = session_handle;
    it->second.entry.session_cookie = std::move(cookie_value);
  }
}

std::vector<std::uint64_t> TokenCache::sessions_of_token_id(std::string_view token_id) const {
  std::vector<std::uint64_t> handles;
  for (std::size_t s = 0; s < kShards; ++s) {
    std::lock_guard lock(shards_[s].mutex);
    for (const auto& [key, slot] : shards_[s].slots) {
      const Entry& entry = slot.entry;
      if (entry.session_handle != 0 && entry.token_id == token_id) {
        handles.push_back(entry.session_handle);
      }
    }
  }
  return handles;
}

std::size_t TokenCache::size() const {
  std::size_t total = 0;
  for (std::size_t s = 0; s < kShards; ++s) {
    std::lock_guard lock(shards_[s].mutex);
    total += shards_[s].slots.size();
  }
  return total;
}

}  // namespace jotgate::auth
