#include "auth/access_cache.h"

#include <spdlog/spdlog.h>

#include "auth/database_thread.h"

namespace jotgate::auth {

AccessCache::AccessCache(config::AccessSettings settings,
                         std::unique_ptr<access::AccessStore> store)
    : settings_(std::move(settings)), store_(std::move(store)) {
  if (store_->remote()) seat_thread_ = std::make_unique<DatabaseThread>();
}

AccessCache::~AccessCache() {
  if (seat_thread_) seat_thread_->stop();  // answers the seat requests queued
}

Result<std::unique_ptr<AccessCache>> AccessCache::create(const config::AccessSettings& settings,
                                                         const std::string& data_dir,
                                                         UnixSeconds now) {
  return create(settings, config::DatabaseSettings{}, data_dir, now);
}

Result<std::unique_ptr<AccessCache>> AccessCache::create(const config::AccessSettings& settings,
                                                         const config::DatabaseSettings& database,
                                                         const std::string& data_dir,
                                                         UnixSeconds now) {
  auto store = access::AccessStore::open(database, data_dir);
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

bool AccessCache::take_seat(const UserIdentity& user, UnixSeconds now) {
  const std::string qualified = user.qualified();
  auto taken = store_->take_seat(user, settings_.auto_allocate_seats, now);
  if (!taken) {
    spdlog::error("access allocations: {}", taken.error().message());
    return false;
  }
  if (*taken) {
    std::unique_lock lock(allowed_mutex_);
    allowed_.insert(qualified);
    ++seats_used_;
    return true;
  }
  // Seats ran out (perhaps in another process) or this user had one before.
  auto used = store_->seats_used();
  std::unique_lock lock(allowed_mutex_);
  if (used) seats_used_ = *used;
  return allowed_.contains(qualified);
}

AccessCache::Admission AccessCache::admission(const std::string& qualified) {
  Admission out{settings_.mode == config::AccessMode::kOpen, false};
  std::shared_lock lock(allowed_mutex_);
  if (allowed_.contains(qualified)) out.allowed = true;
  out.seats_left = seats_used_ < settings_.auto_allocate_seats;
  return out;
}

AccessCache::Standing AccessCache::standing(const UserIdentity& user) {
  const Admission now = admission(user.qualified());
  if (now.allowed) return Standing::kAllowed;
  return now.seats_left ? Standing::kWouldTakeSeat : Standing::kDenied;
}

AccessCache::Admit AccessCache::check(const UserIdentity& user, UnixSeconds now) {
  const std::string qualified = user.qualified();
  auto [allowed, seats_left] = admission(qualified);
  if (!allowed && seats_left) {
    if (seat_thread_) {
      {
        std::lock_guard lock(seats_mutex_);
        if (seats_answered_.contains(qualified)) return Admit::kDenied;
      }
      request_seat(user, now);
      return Admit::kPending;
    }
    std::lock_guard store_lock(store_mutex_);
    allowed = take_seat(user, now);
  }
  if (allowed) {
    std::lock_guard lock(uses_mutex_);
    pending_uses_[qualified] = {user, now};
  }
  return allowed ? Admit::kAllowed : Admit::kDenied;
}

void AccessCache::request_seat(const UserIdentity& user, UnixSeconds now) {
  const std::string qualified = user.qualified();
  {
    std::lock_guard lock(seats_mutex_);
    if (!seat_requests_.try_emplace(qualified).second) return;  // already asked for
  }
  seat_thread_->post([this, user, qualified, now] {
    {
      std::lock_guard store_lock(store_mutex_);
      take_seat(user, now);
    }
    std::vector<std::function<void()>> waiters;
    {
      std::lock_guard lock(seats_mutex_);
      waiters = std::move(seat_requests_[qualified]);
      seat_requests_.erase(qualified);
      seats_answered_.insert(qualified);
    }
    for (auto& done : waiters) done();
  });
}

AccessCache::StoreWait AccessCache::seat_wait(const UserIdentity& user) {
  return [this, qualified = user.qualified()](std::function<void()> done) {
    {
      std::lock_guard lock(seats_mutex_);
      auto running = seat_requests_.find(qualified);
      if (running != seat_requests_.end()) {
        running->second.push_back(std::move(done));
        return;
      }
    }
    done();  // answered already
  };
}

void AccessCache::maintain(const std::function<void(const UserIdentity&)>& on_revoked) {
  {
    std::lock_guard lock(seats_mutex_);
    seats_answered_.clear();
  }
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
  reload_reporting(on_revoked);
}

void AccessCache::reload_reporting(const std::function<void(const UserIdentity&)>& on_revoked) {
  std::unordered_set<std::string> before;
  {
    std::shared_lock lock(allowed_mutex_);
    before = allowed_;
  }
  // A failed reload keeps the allocations last read in force.
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

Result<std::vector<access::Allocation>> AccessCache::allocations() {
  std::lock_guard store_lock(store_mutex_);
  return store_->list();
}

std::int64_t AccessCache::seats_used() const {
  std::shared_lock lock(allowed_mutex_);
  return seats_used_;
}

Result<bool> AccessCache::grant(const UserIdentity& user, UnixSeconds now,
                                const std::function<void(const UserIdentity&)>& on_revoked) {
  std::lock_guard store_lock(store_mutex_);
  auto granted = store_->grant(user, now);
  if (granted) reload_reporting(on_revoked);
  return granted;
}

Result<bool> AccessCache::revoke(const UserIdentity& user,
                                 const std::function<void(const UserIdentity&)>& on_revoked) {
  std::lock_guard store_lock(store_mutex_);
  auto revoked = store_->revoke(user);
  if (revoked) reload_reporting(on_revoked);
  return revoked;
}

}  // namespace jotgate::auth
