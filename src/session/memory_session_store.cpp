#include "session/memory_session_store.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <mutex>
#include <queue>
#include <string>
#include <unordered_map>

#include "base/random.h"
#include "base/secret.h"
#include "jose/base64url.h"

namespace jotgate::session {

namespace {

constexpr UnixSeconds kNever = std::numeric_limits<UnixSeconds>::max();
constexpr std::size_t kCookieSize = 43;  // base64url of 32 bytes, no padding

// The first 8 id bytes key the table (and are the handle); the whole id is then compared in
// constant time, so lookup timing reveals nothing about the rest.
std::uint64_t key_of(const SessionId& id) {
  std::uint64_t key = 0;
  std::memcpy(&key, id.data(), sizeof key);
  return key;
}

// What the cookie carries: the id in base64url (the inverse of lookup's decoding).
std::string cookie_value_of(const SessionId& id) {
  return jose::base64url_encode(
      std::string_view(reinterpret_cast<const char*>(id.data()), id.size()));
}

// The top byte picks the shard; the low 32 bits place the key in the shard's table.
std::size_t shard_of(std::uint64_t key) { return (key >> 56) % MemorySessionStore::kShards; }
std::uint32_t tag_of(std::uint64_t key) { return static_cast<std::uint32_t>(key); }

// A user's identity and attributes in one allocation, fixed at sign-in: a string count, then
// each string (directory, id, name1, value1, ...) as a LEB128 length and its bytes. For
// "ACME\\user123456" that is 17 bytes.
class PackedUser {
 public:
  PackedUser() = default;
  PackedUser(const UserIdentity& user, const Attributes& attributes) {
    const std::size_t count = 2 + 2 * attributes.size();
    std::size_t bytes = varint_size(count) + field_size(user.directory) + field_size(user.id);
    for (const auto& [name, value] : attributes) bytes += field_size(name) + field_size(value);
    data_ = std::make_unique_for_overwrite<unsigned char[]>(bytes);
    unsigned char* out = put_varint(data_.get(), count);
    out = put_field(out, user.directory);
    out = put_field(out, user.id);
    for (const auto& [name, value] : attributes) {
      out = put_field(out, name);
      out = put_field(out, value);
    }
  }

  UserIdentity user() const {
    const unsigned char* in = data_.get();
    read_varint(in);
    UserIdentity user;
    user.directory = read_field(in);
    user.id = read_field(in);
    return user;
  }

  Attributes attributes() const {
    const unsigned char* in = data_.get();
    const std::size_t count = read_varint(in);
    read_field(in);
    read_field(in);
    Attributes out;
    out.reserve((count - 2) / 2);
    for (std::size_t i = 2; i < count; i += 2) {
      const std::string_view name = read_field(in);
      out.emplace_back(name, read_field(in));
    }
    return out;
  }

  bool is(const UserIdentity& user) const {
    const unsigned char* in = data_.get();
    read_varint(in);
    return read_field(in) == user.directory && read_field(in) == user.id;
  }

 private:
  static std::size_t varint_size(std::size_t n) {
    std::size_t size = 1;
    while (n >= 0x80) {
      n >>= 7;
      ++size;
    }
    return size;
  }
  static std::size_t field_size(const std::string& s) { return varint_size(s.size()) + s.size(); }
  static unsigned char* put_varint(unsigned char* out, std::size_t n) {
    while (n >= 0x80) {
      *out++ = static_cast<unsigned char>(n | 0x80);
      n >>= 7;
    }
    *out++ = static_cast<unsigned char>(n);
    return out;
  }
  static unsigned char* put_field(unsigned char* out, const std::string& s) {
    out = put_varint(out, s.size());
    std::memcpy(out, s.data(), s.size());
    return out + s.size();
  }
  static std::size_t read_varint(const unsigned char*& in) {
    std::size_t n = 0;
    for (unsigned shift = 0;; shift += 7) {
      const unsigned char byte = *in++;
      n |= static_cast<std::size_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return n;
    }
  }
  static std::string_view read_field(const unsigned char*& in) {
    const std::size_t length = read_varint(in);
    const std::string_view s(reinterpret_cast<const char*>(in), length);
    in += length;
    return s;
  }

  std::unique_ptr<unsigned char[]> data_;
};

std::uint64_t hash_of(const UserIdentity& user) {
  const std::uint64_t d = std::hash<std::string_view>{}(user.directory);
  const std::uint64_t i = std::hash<std::string_view>{}(user.id);
  return d ^ (i + 0x9e3779b97f4a7c15ULL + (d << 6) + (d >> 2));
}

// One session in one cache line.
struct alignas(64) Entry {
  SessionId id;
  UnixSeconds created_at = 0;
  UnixSeconds last_seen = 0;
  PackedUser user;
  std::uint64_t user_hash = 0;  // lets remove_user skip other users without reading them
};
static_assert(sizeof(Entry) == 64);

struct Deadline {
  UnixSeconds at;
  std::uint64_t key;
  bool operator>(const Deadline& other) const { return at > other.at; }
};

UnixSeconds deadline_of(const Entry& entry, const SessionLimits& limits) {
  UnixSeconds at = kNever;
  if (limits.inactivity_timeout_seconds > 0)
    at = entry.last_seen + limits.inactivity_timeout_seconds;
  if (limits.max_lifetime_seconds > 0) {
    at = std::min(at, entry.created_at + limits.max_lifetime_seconds);
  }
  return at;
}

// Sessions of one shard: entries packed in a vector, found through an open-addressing index
// (linear probing, at most 3/4 full, backward-shift deletion: no tombstones). An index slot is
// 8 bytes: the key's low 32 bits (its home position, and a filter before the entry is read)
// and the entry's position + 1 (0 = empty).
class SessionTable {
 public:
  static constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();

  std::size_t size() const { return entries_.size(); }
  Entry& at(std::size_t position) { return entries_[position]; }

  // The position of the entry with this key, or kNone.
  std::size_t find(std::uint64_t key) const {
    const std::size_t slot = find_slot(key);
    return slot == kNone ? kNone : slots_[slot].position - 1;
  }

  // The caller made sure the key is not present.
  void insert(Entry entry) {
    if ((entries_.size() + 1) * 4 > slots_.size() * 3)
      rehash(std::max<std::size_t>(16, slots_.size() * 2));
    const std::uint64_t key = key_of(entry.id);
    entries_.push_back(std::move(entry));
    place(tag_of(key), static_cast<std::uint32_t>(entries_.size()));
  }

  void erase(std::size_t position) {
    erase_slot(find_slot(key_of(entries_[position].id)));
    const std::size_t last = entries_.size() - 1;
    if (position != last) {
      // The last entry fills the hole; its slot follows it.
      const std::size_t moved = find_slot(key_of(entries_[last].id));
      entries_[position] = std::move(entries_[last]);
      slots_[moved].position = static_cast<std::uint32_t>(position + 1);
    }
    entries_.pop_back();
  }

  // After mass expiry: gives memory back once the table is mostly empty.
  void shrink() {
    if (entries_.capacity() > 256 && entries_.size() * 4 < entries_.capacity())
      entries_.shrink_to_fit();
    if (slots_.size() > 64 && entries_.size() * 8 < slots_.size()) {
      std::size_t capacity = 16;
      while ((entries_.size() + 1) * 4 > capacity * 3 / 2) capacity *= 2;
      rehash(capacity);
    }
  }

  std::vector<Entry>& entries() { return entries_; }

 private:
  struct Slot {
    std::uint32_t tag = 0;
    std::uint32_t position = 0;  // entry index + 1; 0 = empty
  };

  std::size_t mask() const { return slots_.size() - 1; }

  std::size_t find_slot(std::uint64_t key) const {
    if (slots_.empty()) return kNone;
    const std::uint32_t tag = tag_of(key);
    for (std::size_t i = tag & mask();; i = (i + 1) & mask()) {
      const Slot& slot = slots_[i];
      if (slot.position == 0) return kNone;
      if (slot.tag == tag && key_of(entries_[slot.position - 1].id) == key) return i;
    }
  }

  void place(std::uint32_t tag, std::uint32_t position) {
    std::size_t i = tag & mask();
    while (slots_[i].position != 0) i = (i + 1) & mask();
    slots_[i] = {tag, position};
  }

  void erase_slot(std::size_t hole) {
    // Later slots of the same probe run move back into the hole when their home allows it.
    for (std::size_t i = (hole + 1) & mask(); slots_[i].position != 0; i = (i + 1) & mask()) {
      const std::size_t home = slots_[i].tag & mask();
      const bool stays = hole < i ? (home > hole && home <= i) : (home > hole || home <= i);
      if (!stays) {
        slots_[hole] = slots_[i];
        hole = i;
      }
    }
    slots_[hole] = Slot{};
  }

  void rehash(std::size_t capacity) {
    slots_.assign(capacity, Slot{});
    for (std::size_t p = 0; p < entries_.size(); ++p) {
      place(tag_of(key_of(entries_[p].id)), static_cast<std::uint32_t>(p + 1));
    }
  }

  std::vector<Entry> entries_;
  std::vector<Slot> slots_;  // size 0 or a power of two
};

}  // namespace

struct alignas(64) MemorySessionStore::Shard {
  mutable std::mutex mutex;
  SessionTable sessions;
  // One deadline per session, possibly stale (a touched session's real deadline is later, a
  // removed one is gone): expire() re-queues or drops those.
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines;
};

// Each user's sessions, oldest first, sharded by the user's hash. Lock order: a session shard's
// lock, then an index shard's; never the other way round.
struct MemorySessionStore::UserIndex {
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<std::uint64_t>> handles;  // "DIR\\id" -> handles
  };
  std::unique_ptr<Shard[]> shards = std::make_unique<Shard[]>(kShards);

  Shard& shard_for(std::uint64_t user_hash) { return shards[user_hash % kShards]; }

  // Adds a session (when absent); with `limit` > 0, takes out and returns the oldest handles
  // beyond it.
  std::vector<std::uint64_t> add(const UserIdentity& user, std::uint64_t user_hash,
                                 std::uint64_t handle, std::int64_t limit) {
    Shard& shard = shard_for(user_hash);
    std::lock_guard lock(shard.mutex);
    std::vector<std::uint64_t>& handles = shard.handles[user.qualified()];
    if (std::find(handles.begin(), handles.end(), handle) == handles.end()) {
      handles.push_back(handle);
    }
    std::vector<std::uint64_t> over;
    if (limit > 0 && handles.size() > static_cast<std::size_t>(limit)) {
      const auto excess = static_cast<std::ptrdiff_t>(handles.size()) - limit;
      over.assign(handles.begin(), handles.begin() + excess);
      handles.erase(handles.begin(), handles.begin() + excess);
    }
    return over;
  }

  void remove(const UserIdentity& user, std::uint64_t user_hash, std::uint64_t handle) {
    Shard& shard = shard_for(user_hash);
    std::lock_guard lock(shard.mutex);
    auto it = shard.handles.find(user.qualified());
    if (it == shard.handles.end()) return;
    std::erase(it->second, handle);
    if (it->second.empty()) shard.handles.erase(it);
  }

  void clear() {
    for (std::size_t s = 0; s < kShards; ++s) {
      std::lock_guard lock(shards[s].mutex);
      shards[s].handles = {};
    }
  }
};

MemorySessionStore::MemorySessionStore(SessionLimits limits)
    : inactivity_timeout_seconds_(limits.inactivity_timeout_seconds),
      max_lifetime_seconds_(limits.max_lifetime_seconds),
      shards_(std::make_unique<Shard[]>(kShards)),
      max_per_user_(limits.max_per_user),
      users_(std::make_unique<UserIndex>()) {}

void MemorySessionStore::unindex(const UserIdentity& user, std::uint64_t user_hash,
                                 std::uint64_t handle) {
  if (max_per_user_.load(std::memory_order_relaxed) > 0) users_->remove(user, user_hash, handle);
}

// Indexes the sessions already open when a reload sets max_per_user (oldest first). Sessions
// created meanwhile index themselves; one removed meanwhile may stay listed until create()
// meets it, where ending it again is a no-op.
void MemorySessionStore::build_user_index() {
  struct Found {
    UnixSeconds created_at;
    std::uint64_t handle;
    std::uint64_t user_hash;
    UserIdentity user;
  };
  std::vector<Found> found;
  for (std::size_t s = 0; s < kShards; ++s) {
    std::lock_guard lock(shards_[s].mutex);
    for (const Entry& entry : shards_[s].sessions.entries()) {
      found.push_back({entry.created_at, key_of(entry.id), entry.user_hash, entry.user.user()});
    }
  }
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return a.created_at < b.created_at; });
  for (const Found& f : found) users_->add(f.user, f.user_hash, f.handle, 0);
}

SessionLimits MemorySessionStore::limits() const {
  return {inactivity_timeout_seconds_.load(std::memory_order_relaxed),
          max_lifetime_seconds_.load(std::memory_order_relaxed),
          max_per_user_.load(std::memory_order_relaxed)};
}

void MemorySessionStore::set_limits(SessionLimits limits) {
  const SessionLimits old = this->limits();
  if (limits.max_per_user != old.max_per_user) {
    max_per_user_.store(limits.max_per_user, std::memory_order_relaxed);
    if (limits.max_per_user == 0) {
      users_->clear();
    } else if (old.max_per_user == 0) {
      build_user_index();
    }
  }
  if (limits.inactivity_timeout_seconds == old.inactivity_timeout_seconds &&
      limits.max_lifetime_seconds == old.max_lifetime_seconds) {
    return;
  }
  inactivity_timeout_seconds_.store(limits.inactivity_timeout_seconds, std::memory_order_relaxed);
  max_lifetime_seconds_.store(limits.max_lifetime_seconds, std::memory_order_relaxed);
  // Lookups use the new limits at once; the expiry queues are rebuilt so that sessions whose
  // deadline came closer (or that had none) are also swept in time.
  for (std::size_t s = 0; s < kShards; ++s) {
    Shard& shard = shards_[s];
    std::lock_guard lock(shard.mutex);
    shard.deadlines = {};
    for (const Entry& entry : shard.sessions.entries()) {
      const UnixSeconds at = deadline_of(entry, limits);
      if (at != kNever) shard.deadlines.push({at, key_of(entry.id)});
    }
  }
}

MemorySessionStore::~MemorySessionStore() = default;

SessionStore::Created MemorySessionStore::create(const UserIdentity& user, Attributes attributes,
                                                 UnixSeconds now) {
  Entry entry;
  entry.created_at = now;
  entry.last_seen = now;
  entry.user = PackedUser(user, attributes);
  entry.user_hash = hash_of(user);
  const UnixSeconds at = deadline_of(entry, limits());
  const std::uint64_t user_hash = entry.user_hash;
  Created created;
  for (;;) {
    random_bytes(entry.id);
    const std::uint64_t key = key_of(entry.id);
    if (key == 0) continue;  // 0 means "no session" to callers
    Shard& shard = shards_[shard_of(key)];
    std::lock_guard lock(shard.mutex);
    if (shard.sessions.find(key) != SessionTable::kNone) continue;  // 2^-64 per pair; draw again
    created.cookie_value = cookie_value_of(entry.id);
    created.handle = key;
    // The deadline first: should the insert fail, a stale deadline is harmless.
    if (at != kNever) shard.deadlines.push({at, key});
    shard.sessions.insert(std::move(entry));
    break;
  }
  const std::int64_t max_per_user = max_per_user_.load(std::memory_order_relaxed);
  if (max_per_user > 0) {
    // Outside the session shard's lock: the oldest sessions may live in any shard.
    for (std::uint64_t oldest : users_->add(user, user_hash, created.handle, max_per_user)) {
      Shard& shard = shards_[shard_of(oldest)];
      std::lock_guard lock(shard.mutex);
      const std::size_t position = shard.sessions.find(oldest);
      if (position == SessionTable::kNone) continue;  // already gone
      shard.sessions.erase(position);
      ++created.evicted;
    }
  }
  return created;
}

LookupResult MemorySessionStore::lookup(std::string_view cookie_value, UnixSeconds now,
                                        Refresh refresh) {
  LookupResult result;
  SessionId id;
  if (cookie_value.size() != kCookieSize || !jose::base64url_decode_into(cookie_value, id)) {
    return result;
  }
  const std::uint64_t key = key_of(id);
  Shard& shard = shards_[shard_of(key)];
  std::lock_guard lock(shard.mutex);
  const std::size_t position = shard.sessions.find(key);
  if (position == SessionTable::kNone) return result;
  Entry& entry = shard.sessions.at(position);
  if (!constant_time_equal(
          std::string_view(reinterpret_cast<const char*>(entry.id.data()), entry.id.size()),
          std::string_view(reinterpret_cast<const char*>(id.data()), id.size()))) {
    return result;
  }
  if (deadline_of(entry, limits()) <= now) {
    result.status = LookupStatus::kExpired;
    result.session.user = entry.user.user();
    unindex(result.session.user, entry.user_hash, key);
    shard.sessions.erase(position);  // its heap entry is dropped lazily by expire()
    return result;
  }
  if (refresh == Refresh::kYes) entry.last_seen = std::max(entry.last_seen, now);
  result.status = LookupStatus::kFound;
  result.session = {key, entry.user.user(), entry.user.attributes(), deadline_of(entry, limits())};
  return result;
}

bool MemorySessionStore::touch(std::uint64_t handle, UnixSeconds now) {
  Shard& shard = shards_[shard_of(handle)];
  std::lock_guard lock(shard.mutex);
  const std::size_t position = shard.sessions.find(handle);
  if (position == SessionTable::kNone) return false;
  Entry& entry = shard.sessions.at(position);
  if (deadline_of(entry, limits()) <= now) return false;
  entry.last_seen = std::max(entry.last_seen, now);
  return true;
}

bool MemorySessionStore::remove(std::uint64_t handle) {
  Shard& shard = shards_[shard_of(handle)];
  std::lock_guard lock(shard.mutex);
  const std::size_t position = shard.sessions.find(handle);
  if (position == SessionTable::kNone) return false;
  const Entry& entry = shard.sessions.at(position);
  if (max_per_user_.load(std::memory_order_relaxed) > 0) {
    unindex(entry.user.user(), entry.user_hash, handle);
  }
  shard.sessions.erase(position);
  return true;
}

std::vector<std::pair<std::string, SessionView>> MemorySessionStore::collect(
    UnixSeconds now, std::size_t limit,
    const std::function<bool(std::uint64_t user_hash, const UserIdentity& user)>& wanted) const {
  std::vector<std::pair<std::string, SessionView>> out;
  for (std::size_t s = 0; s < kShards && out.size() < limit; ++s) {
    Shard& shard = shards_[s];
    std::lock_guard lock(shard.mutex);
    for (const Entry& entry : shard.sessions.entries()) {
      if (out.size() == limit) break;
      const UserIdentity user = entry.user.user();
      if (!wanted(entry.user_hash, user)) continue;
      const UnixSeconds deadline = deadline_of(entry, limits());
      if (deadline <= now) continue;
      out.emplace_back(cookie_value_of(entry.id),
                       SessionView{key_of(entry.id), user, entry.user.attributes(), deadline});
    }
  }
  return out;
}

std::vector<std::pair<std::string, SessionView>> MemorySessionStore::sessions_of(
    const UserIdentity& user, UnixSeconds now) const {
  const std::uint64_t hash = hash_of(user);
  return collect(now, std::numeric_limits<std::size_t>::max(),
                 [&](std::uint64_t user_hash, const UserIdentity& candidate) {
                   return user_hash == hash && candidate == user;
                 });
}

std::vector<std::pair<std::string, SessionView>> MemorySessionStore::some_sessions(
    UnixSeconds now, std::size_t limit) const {
  return collect(now, limit, [](std::uint64_t, const UserIdentity&) { return true; });
}

std::size_t MemorySessionStore::remove_user(const UserIdentity& user, UnixSeconds created_until) {
  // Revocation is rare; a scan of the packed entries keeps the hot path index-free.
  const std::uint64_t hash = hash_of(user);
  std::size_t removed = 0;
  for (std::size_t s = 0; s < kShards; ++s) {
    Shard& shard = shards_[s];
    std::lock_guard lock(shard.mutex);
    auto& entries = shard.sessions.entries();
    // Backwards: erase() moves the last entry into the hole, one already looked at.
    for (std::size_t p = entries.size(); p-- > 0;) {
      if (entries[p].user_hash == hash && entries[p].user.is(user) &&
          entries[p].created_at <= created_until) {
        unindex(user, hash, key_of(entries[p].id));
        shard.sessions.erase(p);
        ++removed;
      }
    }
  }
  return removed;
}

std::size_t MemorySessionStore::expire(UnixSeconds now,
                                       const std::function<void(const UserIdentity&)>& on_expired) {
  std::size_t expired = 0;
  for (std::size_t s = 0; s < kShards; ++s) {
    Shard& shard = shards_[s];
    std::lock_guard lock(shard.mutex);
    bool removed_any = false;
    while (!shard.deadlines.empty() && shard.deadlines.top().at <= now) {
      const Deadline top = shard.deadlines.top();
      shard.deadlines.pop();
      const std::size_t position = shard.sessions.find(top.key);
      if (position == SessionTable::kNone) continue;  // already removed
      Entry& entry = shard.sessions.at(position);
      const UnixSeconds real = deadline_of(entry, limits());
      if (real > now) {
        shard.deadlines.push({real, top.key});  // touched since: wait for its real deadline
        continue;
      }
      if (on_expired || max_per_user_.load(std::memory_order_relaxed) > 0) {
        const UserIdentity user = entry.user.user();
        if (on_expired) on_expired(user);
        unindex(user, entry.user_hash, top.key);
      }
      shard.sessions.erase(position);
      removed_any = true;
      ++expired;
    }
    if (removed_any) shard.sessions.shrink();
  }
  return expired;
}

std::vector<SavedSession> MemorySessionStore::export_sessions(UnixSeconds now) const {
  std::vector<SavedSession> out;
  for (std::size_t s = 0; s < kShards; ++s) {
    Shard& shard = shards_[s];
    std::lock_guard lock(shard.mutex);
    out.reserve(out.size() + shard.sessions.size());
    for (const Entry& entry : shard.sessions.entries()) {
      if (deadline_of(entry, limits()) <= now) continue;
      out.push_back({entry.id, entry.user.user(), entry.user.attributes(), entry.created_at,
                     entry.last_seen});
    }
  }
  return out;
}

ImportCounts MemorySessionStore::import_sessions(std::vector<SavedSession> sessions,
                                                 UnixSeconds now) {
  ImportCounts counts;
  for (SavedSession& saved : sessions) {
    Entry entry;
    entry.id = saved.id;
    entry.created_at = saved.created_at;
    entry.last_seen = saved.last_seen;
    const UnixSeconds at = deadline_of(entry, limits());
    if (at <= now) {
      ++counts.expired;
      continue;
    }
    const std::uint64_t key = key_of(entry.id);
    if (key == 0) continue;  // never handed out by create()
    entry.user = PackedUser(saved.user, saved.attributes);
    entry.user_hash = hash_of(saved.user);
    const std::uint64_t user_hash = entry.user_hash;
    Shard& shard = shards_[shard_of(key)];
    std::lock_guard lock(shard.mutex);
    if (shard.sessions.find(key) != SessionTable::kNone) continue;
    if (at != kNever) shard.deadlines.push({at, key});
    shard.sessions.insert(std::move(entry));
    // Indexed, not limited: a user over the limit loses the oldest at the next sign-in.
    if (max_per_user_.load(std::memory_order_relaxed) > 0) {
      users_->add(saved.user, user_hash, key, 0);
    }
    ++counts.restored;
  }
  return counts;
}

std::size_t MemorySessionStore::size() const {
  std::size_t total = 0;
  for (std::size_t s = 0; s < kShards; ++s) {
    std::lock_guard lock(shards_[s].mutex);
    total += shards_[s].sessions.size();
  }
  return total;
}

}  // namespace jotgate::session
