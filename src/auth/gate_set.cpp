// GateSet::create: the gates of all virtual proxies, with what they share: access allocations,
// the rejection audit, and the SessionAdmin over their sessions and tickets.
#include <memory>
#include <string>
#include <vector>

#include "auth/access_cache.h"
#include "auth/audit.h"
#include "auth/gate_session_admin.h"
#include "auth/rejection_audit.h"
#include "auth/virtual_proxy_gate.h"

namespace jotgate::auth {

namespace {

class VirtualProxyGates final : public GateSet {
 public:
  VirtualProxyGates(std::shared_ptr<AccessCache> access, config::AccessSettings access_settings,
                    std::string data_dir, const Clock& clock)
      : access_(std::move(access)),
        access_settings_(std::move(access_settings)),
        data_dir_(std::move(data_dir)),
        clock_(clock),
        admin_(*access_, clock) {}

  // The allocations of `previous` when they come from the same settings and database.
  static std::shared_ptr<AccessCache> shared_access(const VirtualProxyGates* previous,
                                                    const config::GatewayConfig& config) {
    if (previous == nullptr || previous->access_settings_ != config.access ||
        previous->data_dir_ != config.data_dir) {
      return nullptr;
    }
    return previous->access_;
  }

  Result<void> add(const config::VirtualProxy& vp, const VirtualProxyGates* previous) {
    const VirtualProxyGate* before = previous != nullptr ? previous->find(vp.prefix) : nullptr;
    auto gate = VirtualProxyGate::create(vp, gates_.size(), *access_, rejections_, clock_, before);
    if (!gate) return gate.error();
    admin_.add(**gate, vp.auth);
    gates_.push_back(std::move(*gate));
    names_.push_back(vp.name);
    needs_keys_.push_back(vp.auth.method == config::AuthMethod::kJwt);
    return {};
  }

  Gate& gate(std::size_t index) override { return *gates_.at(index); }
  SessionAdmin& admin() override { return admin_; }

  void activate() override {
    for (auto& gate : gates_) gate->apply_session_limits();
  }

  std::vector<KeyStatus> key_status() const override {
    std::vector<KeyStatus> out;
    for (std::size_t i = 0; i < gates_.size(); ++i) {
      KeyStatus status{names_[i], needs_keys_[i], 0, {}};
      if (const JwtAuthenticator* jwt = gates_[i]->jwt()) {
        status.keys_loaded = jwt->keys_loaded();
        status.problem = jwt->keys_problem();
      }
      out.push_back(std::move(status));
    }
    return out;
  }

  void maintain() override {
    const UnixSeconds now = clock_.now_seconds();
    for (auto& gate : gates_) gate->expire(now);
    rejections_.flush(now);
    access_->maintain([&](const UserIdentity& user) {
      std::size_t ended = 0;
      for (auto& gate : gates_) ended += gate->sessions().remove_user(user);
      audit("access_revoked",
            {{"user", user.qualified()}, {"sessions_ended", std::to_string(ended)}});
    });
  }

 private:
  const VirtualProxyGate* find(const std::string& prefix) const {
    for (const auto& gate : gates_) {
      if (gate->prefix() == prefix) return gate.get();
    }
    return nullptr;
  }

  const std::shared_ptr<AccessCache> access_;  // shared with the set it replaced, when unchanged
  const config::AccessSettings access_settings_;
  const std::string data_dir_;
  const Clock& clock_;
  RejectionAudit rejections_;
  std::vector<std::unique_ptr<VirtualProxyGate>> gates_;
  std::vector<std::string> names_;  // by index, as gates_
  std::vector<bool> needs_keys_;
  GateSessionAdmin admin_;  // refers to gates_ and access_: declared after them
};

}  // namespace

Result<std::unique_ptr<GateSet>> GateSet::create(const config::GatewayConfig& config,
                                                 const Clock& clock, GateSet* previous) {
  audit_log();  // registered before the workers start
  const auto* before = dynamic_cast<const VirtualProxyGates*>(previous);
  std::shared_ptr<AccessCache> access = VirtualProxyGates::shared_access(before, config);
  if (!access) {
    auto created = AccessCache::create(config.access, config.data_dir, clock.now_seconds());
    if (!created) return created.error();
    access = std::move(*created);
  }
  auto set =
      std::make_unique<VirtualProxyGates>(std::move(access), config.access, config.data_dir, clock);
  for (const config::VirtualProxy& vp : config.virtual_proxies) {
    if (auto added = set->add(vp, before); !added) return added.error();
  }
  return std::unique_ptr<GateSet>(std::move(set));
}

}  // namespace jotgate::auth
