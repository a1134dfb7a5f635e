#include "auth/revocations.h"

#include <spdlog/spdlog.h>

namespace jotgate::auth {

Result<std::shared_ptr<Revocations>> Revocations::open(const std::string& data_dir) {
  return open(config::DatabaseSettings{}, data_dir);
}

Result<std::shared_ptr<Revocations>> Revocations::open(const config::DatabaseSettings& database,
                                                       const std::string& data_dir) {
  auto store = access::AccessStore::open(database, data_dir);
  if (!store) return store.error();
  std::shared_ptr<Revocations> revocations(new Revocations(std::move(*store)));
  std::lock_guard lock(revocations->store_mutex_);
  if (auto loaded = revocations->reload(); !loaded) return loaded.error();
  return revocations;
}

Result<void> Revocations::reload() {
  auto version = store_->data_version();
  if (!version) return version.error();
  auto entries = store_->revocations();
  if (!entries) return entries.error();
  data_version_ = *version;
  auto list = std::make_shared<const RevocationList>(std::move(*entries));
  const std::size_t count = list->entries().size();
  current_.store(std::move(list));
  entries_.store(count, std::memory_order_release);
  return {};
}

Result<access::Revocation> Revocations::add(access::Revocation revocation) {
  std::lock_guard lock(store_mutex_);
  auto added = store_->add_revocation(std::move(revocation));
  if (!added) return added;
  if (auto loaded = reload(); !loaded) return loaded.error();
  return added;
}

Result<std::vector<access::Revocation>> Revocations::list() {
  std::lock_guard lock(store_mutex_);
  return store_->revocations();
}

Result<bool> Revocations::lift(std::int64_t id) {
  std::lock_guard lock(store_mutex_);
  auto lifted = store_->lift_revocation(id);
  if (!lifted || !*lifted) return lifted;
  if (auto loaded = reload(); !loaded) return loaded.error();
  return lifted;
}

std::vector<access::Revocation> Revocations::refresh(UnixSeconds now) {
  std::lock_guard lock(store_mutex_);
  bool changed = false;
  if (current()->has_expired(now)) {
    if (auto pruned = store_->prune_revocations(now); !pruned) {
      spdlog::warn("revocations: could not drop expired entries: {}", pruned.error().message());
    }
    changed = true;
  }
  if (auto version = store_->data_version(); !version) {
    spdlog::warn("revocations: {}", version.error().message());
  } else if (*version != data_version_) {
    changed = true;
  }
  if (changed) {
    if (auto loaded = reload(); !loaded) {
      spdlog::warn("revocations: could not reload: {}", loaded.error().message());
    }
  }
  std::vector<access::Revocation> fresh;
  std::set<std::int64_t> stored;
  for (const access::Revocation& r : current()->entries()) {
    stored.insert(r.id);
    if (!returned_.contains(r.id)) fresh.push_back(r);
  }
  returned_ = std::move(stored);
  return fresh;
}

}  // namespace jotgate::auth
