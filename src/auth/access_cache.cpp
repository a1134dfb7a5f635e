#include "auth/access_cache.h"

#include <spdlog/spdlog.h>

namespace jotgate::auth {

Result<std::unique_ptr<AccessCache>> AccessCache::create(const config::AccessSettings& settings,
                                                         const std::string& data_dir,
                                                         UnixSeconds now) {
  auto store = access::AccessStore::open(data_dir);
  if (!store) return store.error();
  for (const auto& text : settings.allocations) {
    auto user = config::parse_qualified_user(text);
    if (!user) return make_error(Reason::kBadRequest, "access.allocations: " + text);
    if (auto granted = (*store)->grant(*user, now); !granted) return granted.error();
  }
  std::unique_ptr<AccessCache> cache(new AccessCache(settings, std::move(*store)));
  if (auto loaded = cache->reload(); !loaded) return loaded.error();
  return cache;
}

Result<void> AccessCache::reload() {
  auto version = store_->data_version();
  if (!version) return version.error();
  auto list = store_->list();
  if (!list) return list.error();
  auto seats = store_->seats_used();
  if (!seats) return seats.error();
  std::unordered_set<std::string> allowed;
  for (const auto& allocation : *list) allowed.insert(allocation.user.qualified());
  data_version_ = *version;
  std::unique_lock lock(allowed_mutex_);
  allowed_ = std::move(allowed);
  seats_used_ = *seats;
  return {};
}

bool AccessCache::admit(const UserIdentity& user, UnixSeconds now) {
  const std::string qualified = user.qualified();
  bool allowed = settings_.mode == config::AccessMode::kOpen;
  bool seats_left = false;
  {
    std::shared_lock lock(allowed_mutex_);
    if (allowed_.contains(qualified)) allowed = true;
    seats_left = seats_used_ < settings_.auto_allocate_seats;
  }
  if (!allowed && seats_left) {
    std::lock_guard store_lock(store_mutex_);
    auto taken = store_->take_seat(user, settings_.auto_allocate_seats, now);
    if (!taken) {
      spdlog::error("access allocations: {}", taken.error().message());
    } else if (*taken) {
      std::unique_lock lock(allowed_mutex_);
      allowed_.insert(qualified);
      ++seats_used_;
      allowed = true;
    } else {
      // Seats ran out (perhaps in another process) or this user had one before.
      auto used = store_->seats_used();
      std::unique_lock lock(allowed_mutex_);
      if (used) seats_used_ = *used;
      allowed = allowed_.contains(qualified);
    }
  }
  if (allowed) {
    std::lock_guard lock(uses_mutex_);
    pending_uses_[qualified] = {user, now};
  }
  return allowed;
}

void AccessCache::maintain(const std::function<void(const UserIdentity&)>& on_revoked) {
  std::vector<std::pair<UserIdentity, UnixSeconds>> uses;
  {
    std::lock_guard lock(uses_mutex_);
    uses.reserve(pending_uses_.size());
    for (auto& [key, use] : pending_uses_) uses.push_back(std::move(use));
    pending_uses_.clear();
  }
  std::lock_guard store_lock(store_mutex_);
  if (auto recorded = store_->record_last_use(uses); !recorded) {
    spdlog::warn("access allocations: could not record last use: {}", recorded.error().message());
  }
  auto version = store_->data_version();
  if (!version || *version == data_version_) return;
  std::unordered_set<std::string> before;
  {
    std::shared_lock lock(allowed_mutex_);
    before = allowed_;
  }
  if (auto loaded = reload(); !loaded) {
    spdlog::warn("access allocations: could not reload: {}", loaded.error().message());
    return;
  }
  std::vector<UserIdentity> revoked;
  {
    std::shared_lock lock(allowed_mutex_);
    for (const auto& qualified : before) {
      if (allowed_.contains(qualified)) continue;
      if (auto user = config::parse_qualified_user(qualified)) revoked.push_back(*user);
    }
  }
  for (const auto& user : revoked) on_revoked(user);
}

}  // namespace jotgate::auth
