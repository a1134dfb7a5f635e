#include "console/console_sessions.h"

#include <algorithm>
#include <array>

#include "base/hex.h"
#include "base/random.h"
#include "base/secret.h"

namespace jotgate::console {

namespace {

std::string digest_key(std::string_view id) {
  const Sha256 digest = sha256(id);
  return {reinterpret_cast<const char*>(digest.data()), digest.size()};
}

}  // namespace

ConsoleSessions::ConsoleSessions(std::size_t max_sessions)
    : max_sessions_(std::max<std::size_t>(max_sessions, 1)), csrf_key_(random_hex(32)) {}

std::string ConsoleSessions::csrf_token_for(std::string_view id) const {
  // SHA-256 over a fixed-length secret key and the id: only this process can compute it, and
  // only from the session id, which a page on another site cannot read.
  const Sha256 digest = sha256(csrf_key_ + "\n" + std::string(id));
  return hex_encode({reinterpret_cast<const char*>(digest.data()), digest.size()});
}

void ConsoleSessions::forget_expired(UnixSeconds now) {
  std::erase_if(entries_, [now](const auto& item) { return expiry(item.second) <= now; });
}

ConsoleSessions::Opened ConsoleSessions::open(std::string admin, UnixSeconds now) {
  Opened opened{random_hex(32), {}};
  opened.csrf_token = csrf_token_for(opened.id);
  std::lock_guard lock(mutex_);
  if (entries_.size() >= max_sessions_) forget_expired(now);
  while (entries_.size() >= max_sessions_) {
    auto oldest = std::min_element(
        entries_.begin(), entries_.end(),
        [](const auto& a, const auto& b) { return a.second.opened_at < b.second.opened_at; });
    entries_.erase(oldest);
  }
  entries_[digest_key(opened.id)] = Entry{std::move(admin), now, now};
  return opened;
}

std::optional<ConsoleSessions::Session> ConsoleSessions::find(std::string_view id,
                                                              UnixSeconds now) {
  if (id.empty()) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto found = entries_.find(digest_key(id));
  if (found == entries_.end()) return std::nullopt;
  if (expiry(found->second) <= now) {
    entries_.erase(found);
    return std::nullopt;
  }
  found->second.last_used = std::max(found->second.last_used, now);
  return Session{found->second.admin, csrf_token_for(id), expiry(found->second)};
}

bool ConsoleSessions::csrf_matches(std::string_view id, std::string_view presented) const {
  return !id.empty() && constant_time_equal(csrf_token_for(id), presented);
}

bool ConsoleSessions::close(std::string_view id) {
  std::lock_guard lock(mutex_);
  return entries_.erase(digest_key(id)) > 0;
}

std::size_t ConsoleSessions::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace jotgate::console
