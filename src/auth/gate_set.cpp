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
  VirtualProxyGates(std::unique_ptr<AccessCache> access, const Clock& clock)
      : access_(std::move(access)), clock_(clock), admin_(*access_, clock) {}

  Result<void> add(const config::VirtualProxy& vp) {
    auto gate = VirtualProxyGate::create(vp, gates_.size(), *access_, rejections_, clock_);
    if (!gate) return gate.error();
    admin_.add(**gate, vp.auth);
    gates_.push_back(std::move(*gate));
    return {};
  }

  Gate& gate(std::size_t index) override { return *gates_.at(index); }
  SessionAdmin& admin() override { return admin_; }

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
  const std::unique_ptr<AccessCache> access_;
  const Clock& clock_;
  RejectionAudit rejections_;
  std::vector<std::unique_ptr<VirtualProxyGate>> gates_;
  GateSessionAdmin admin_;  // refers to gates_ and access_: declared after them
};

}  // namespace

Result<std::unique_ptr<GateSet>> GateSet::create(const config::GatewayConfig& config,
                                                 const Clock& clock) {
  audit_log();  // registered before the workers start
  auto access = AccessCache::create(config.access, config.data_dir, clock.now_seconds());
  if (!access) return access.error();
  auto set = std::make_unique<VirtualProxyGates>(std::move(*access), clock);
  for (const config::VirtualProxy& vp : config.virtual_proxies) {
    if (auto added = set->add(vp); !added) return added.error();
  }
  return std::unique_ptr<GateSet>(std::move(set));
}

}  // namespace jotgate::auth
