// GateSet::create: the gates of all virtual proxies, with what they share: access allocations,
// the rejection audit, the SessionAdmin over their sessions and tickets, and the sessions file.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "auth/access_cache.h"
#include "auth/audit.h"
#include "auth/database_thread.h"
#include "auth/gate_session_admin.h"
#include "auth/rejection_audit.h"
#include "auth/revocations.h"
#include "auth/session_backend.h"
#include "auth/virtual_proxy_gate.h"
#include "session/session_file.h"

namespace jotgate::auth {

namespace {

// One save at a time in the process, whichever GateSet (a reload builds a new one) starts it.
std::mutex& save_mutex() {
  static std::mutex mutex;
  return mutex;
}

// The sessions file and when to write it: copied from the configuration.
struct SessionSaving {
  std::string path;  // <data_dir>/sessions.db
  UnixSeconds interval = 0;
};

class VirtualProxyGates final : public GateSet {
 public:
  VirtualProxyGates(std::shared_ptr<SessionBackend> backend, std::shared_ptr<AccessCache> access,
                    config::AccessSettings access_settings,
                    std::shared_ptr<Revocations> revocations, config::DatabaseSettings database,
                    std::string data_dir, const Clock& clock, SessionSaving saving)
      : backend_(std::move(backend)),
        access_(std::move(access)),
        revocations_(std::move(revocations)),
        access_settings_(std::move(access_settings)),
        database_(std::move(database)),
        data_dir_(std::move(data_dir)),
        clock_(clock),
        saving_(std::move(saving)),
        next_save_at_(clock.now_seconds() + saving_.interval),
        admin_(*access_, clock) {}
  ~VirtualProxyGates() override {
    if (database_work_) database_work_->stop();  // its jobs use the gates
    if (periodic_save_.joinable()) periodic_save_.join();
  }

  // The allocations of `previous` when they come from the same settings and database.
  static std::shared_ptr<AccessCache> shared_access(const VirtualProxyGates* previous,
                                                    const config::GatewayConfig& config) {
    if (previous == nullptr || previous->access_settings_ != config.access ||
        previous->database_ != config.database || previous->data_dir_ != config.data_dir) {
      return nullptr;
    }
    return previous->access_;
  }

  // The session store of `previous` when session_store is unchanged.
  static std::shared_ptr<SessionBackend> shared_backend(const VirtualProxyGates* previous,
                                                        const config::GatewayConfig& config) {
    if (previous == nullptr || previous->backend_->settings() != config.session_store) {
      return nullptr;
    }
    return previous->backend_;
  }

  // The revocations of `previous` when they come from the same database.
  static std::shared_ptr<Revocations> shared_revocations(const VirtualProxyGates* previous,
                                                         const config::GatewayConfig& config) {
    if (previous == nullptr || previous->database_ != config.database ||
        previous->data_dir_ != config.data_dir) {
      return nullptr;
    }
    return previous->revocations_;
  }

  Result<void> add(const config::VirtualProxy& vp, const VirtualProxyGates* previous) {
    const VirtualProxyGate* before = previous != nullptr ? previous->find(vp.prefix) : nullptr;
    auto gate = VirtualProxyGate::create(vp, gates_.size(), *backend_, *access_, rejections_,
                                         clock_, before, revocations_.get());
    if (!gate) return gate.error();
    admin_.add(**gate, vp.auth);
    gates_.push_back(std::move(*gate));
    return {};
  }

  Gate& gate(std::size_t index) override { return *gates_.at(index); }
  SessionAdmin& admin() override { return admin_; }
  Revocations& revocations() override { return *revocations_; }
  AccessCache& access() override { return *access_; }
  Result<bool> grant_access(const UserIdentity& user) override {
    return access_->grant(user, clock_.now_seconds(),
                          [this](const UserIdentity& revoked) { end_sessions_of(revoked); });
  }
  Result<bool> revoke_access(const UserIdentity& user) override {
    return access_->revoke(user, [this](const UserIdentity& revoked) { end_sessions_of(revoked); });
  }

  void activate() override {
    for (auto& gate : gates_) gate->apply_session_limits();
    if (!access_->remote()) return;
    // PostgreSQL: the access data is maintained on a thread of its own, at each tick and at
    // once when another node changed it (the set in force is the one woken).
    database_work_ = std::make_shared<DatabaseWork>();
    auto wake = [work = std::weak_ptr<DatabaseWork>(database_work_), this] {
      if (auto alive = work.lock()) wake_database_work(*alive);
    };
    access_->on_change(wake);
    revocations_->on_change(wake);
  }

  void maintain() override {
    const UnixSeconds now = clock_.now_seconds();
    for (auto& gate : gates_) gate->expire(now);
    rejections_.flush(now);
    start_periodic_save(now);
    if (database_work_) {
      wake_database_work(*database_work_);
    } else {
      maintain_access_data();
    }
  }

  std::string database_problem() const override {
    std::string why = access_->unreachable();
    return why.empty() ? revocations_->unreachable() : why;
  }

  void restore_sessions() override;
  bool save_sessions() override;
  std::string session_store_problem() const override { return backend_->problem(); }

 private:
  // The thread maintaining the access data in PostgreSQL; a wake while one is queued is one.
  struct DatabaseWork {
    std::atomic<bool> queued{false};
    DatabaseThread thread;
    void stop() { thread.stop(); }
  };

  void wake_database_work(DatabaseWork& work) {
    if (work.queued.exchange(true)) return;
    work.thread.post([this, &work] {
      work.queued.store(false);
      maintain_access_data();
    });
  }

  // Allocations (last use, changes from `jotgate access` or another node: a revoked user's
  // sessions end) and revocations.
  void maintain_access_data() {
    access_->maintain([&](const UserIdentity& user) { end_sessions_of(user); });
    end_revoked_sessions(clock_.now_seconds());
  }

  // A user lost their allocation: their sessions end everywhere.
  void end_sessions_of(const UserIdentity& user) {
    std::size_t ended = 0;
    for (auto& gate : gates_) ended += gate->sessions().remove_user(user);
    audit("access_revoked",
          {{"user", user.qualified()}, {"sessions_ended", std::to_string(ended)}});
  }

  const VirtualProxyGate* find(const std::string& prefix) const {
    for (const auto& gate : gates_) {
      if (gate->prefix() == prefix) return gate.get();
    }
    return nullptr;
  }

  void start_periodic_save(UnixSeconds now);
  void end_revoked_sessions(UnixSeconds now);

  const std::shared_ptr<SessionBackend> backend_;  // shared with the set it replaced, likewise
  const std::shared_ptr<AccessCache> access_;  // shared with the set it replaced, when unchanged
  const std::shared_ptr<Revocations> revocations_;  // shared likewise
  const config::AccessSettings access_settings_;
  const config::DatabaseSettings database_;
  const std::string data_dir_;
  const Clock& clock_;
  RejectionAudit rejections_;
  const SessionSaving saving_;
  UnixSeconds next_save_at_;
  std::thread periodic_save_;  // writes the file away from the maintenance tick
  std::atomic<bool> periodic_save_running_{false};
  std::vector<std::unique_ptr<VirtualProxyGate>> gates_;
  GateSessionAdmin admin_;  // refers to gates_ and access_: declared after them
  std::shared_ptr<DatabaseWork> database_work_;  // PostgreSQL, once activated
};

void VirtualProxyGates::start_periodic_save(UnixSeconds now) {
  if (backend_->settings().type != config::SessionStoreType::kMemory) return;  // kept in Redis
  if (saving_.interval <= 0 || now < next_save_at_ || periodic_save_running_.load()) return;
  next_save_at_ = now + saving_.interval;
  if (periodic_save_.joinable()) periodic_save_.join();
  periodic_save_running_.store(true);
  periodic_save_ = std::thread([this] {
    save_sessions();
    periodic_save_running_.store(false);
  });
}

// Revocations new since the last tick (written by `jotgate revoke` or the admin API) end the
// sessions they name in every virtual proxy; the first tick after start-up takes them all, so
// restored sessions are covered too (ending a session twice is a no-op).
void VirtualProxyGates::end_revoked_sessions(UnixSeconds now) {
  for (const access::Revocation& revocation : revocations_->refresh(now)) {
    std::size_t ended = 0;
    for (auto& gate : gates_) ended += gate->end_revoked_sessions(revocation);
    const bool by_user = revocation.kind == access::Revocation::Kind::kUser;
    audit("revocation_applied",
          {{"id", std::to_string(revocation.id)},
           {by_user ? "user" : "jti", by_user ? revocation.user.qualified() : revocation.jti},
           {"sessions_ended", std::to_string(ended)}});
  }
}

void VirtualProxyGates::restore_sessions() {
  if (backend_->settings().type != config::SessionStoreType::kMemory) return;  // kept in Redis
  const UnixSeconds now = clock_.now_seconds();
  std::vector<session::PrefixSessions> groups;
  if (auto saved = session::read_session_file(saving_.path)) {
    groups = std::move(*saved);
  } else {
    std::error_code ec;
    if (std::filesystem::exists(saving_.path, ec)) {
      spdlog::warn("saved sessions ignored: {}; starting with no sessions", saved.error().detail);
    } else {
      spdlog::info("no saved sessions in {}: starting with none", saving_.path);
    }
  }
  std::size_t restored = 0;
  std::size_t expired = 0;
  std::size_t of_removed_prefixes = 0;
  for (session::PrefixSessions& group : groups) {
    // Sessions belong to a prefix, as across a reload: another virtual proxy never gets them.
    auto gate = std::find_if(gates_.begin(), gates_.end(),
                             [&](const auto& g) { return g->prefix() == group.prefix; });
    if (gate == gates_.end()) {
      of_removed_prefixes += group.sessions.size();
      continue;
    }
    const auto counts = (*gate)->sessions().import_sessions(std::move(group.sessions), now);
    restored += counts.restored;
    expired += counts.expired;
  }
  audit("sessions_restored", {{"count", std::to_string(restored)},
                              {"dropped_expired", std::to_string(expired)},
                              {"dropped_removed_prefix", std::to_string(of_removed_prefixes)}});
}

bool VirtualProxyGates::save_sessions() {
  if (backend_->settings().type != config::SessionStoreType::kMemory) return true;  // in Redis
  std::lock_guard lock(save_mutex());
  const UnixSeconds now = clock_.now_seconds();
  std::vector<session::PrefixSessions> saved;
  std::size_t count = 0;
  for (auto& gate : gates_) {
    saved.push_back({gate->prefix(), gate->sessions().export_sessions(now)});
    count += saved.back().sessions.size();
  }
  if (auto written = session::write_session_file(saving_.path, saved); !written) {
    spdlog::warn("sessions not saved: {}", written.error().detail);
    return false;
  }
  audit("sessions_saved", {{"count", std::to_string(count)}});
  return true;
}

}  // namespace

Result<std::unique_ptr<GateSet>> GateSet::create(const config::GatewayConfig& config,
                                                 const Clock& clock, GateSet* previous) {
  audit_log();  // registered before the workers start
  const auto* before = dynamic_cast<const VirtualProxyGates*>(previous);
  std::shared_ptr<AccessCache> access = VirtualProxyGates::shared_access(before, config);
  if (!access) {
    auto created =
        AccessCache::create(config.access, config.database, config.data_dir, clock.now_seconds());
    if (!created) return created.error();
    access = std::move(*created);
  }
  std::shared_ptr<Revocations> revocations = VirtualProxyGates::shared_revocations(before, config);
  if (!revocations) {
    auto opened = Revocations::open(config.database, config.data_dir);
    if (!opened) return opened.error();
    revocations = std::move(*opened);
  }
  std::shared_ptr<SessionBackend> backend = VirtualProxyGates::shared_backend(before, config);
  if (!backend) {
    auto created = SessionBackend::create(config.session_store);
    if (!created) return created.error();
    backend = std::move(*created);
  }
  SessionSaving saving{(std::filesystem::path(config.data_dir) / "sessions.db").string(),
                       config.session_store.save_interval_seconds};
  auto set = std::make_unique<VirtualProxyGates>(
      std::move(backend), std::move(access), config.access, std::move(revocations), config.database,
      config.data_dir, clock, std::move(saving));
  for (const config::VirtualProxy& vp : config.virtual_proxies) {
    if (auto added = set->add(vp, before); !added) return added.error();
  }
  return std::unique_ptr<GateSet>(std::move(set));
}

}  // namespace jotgate::auth
