#include "auth/gate_audit.h"

#include "auth/audit.h"

namespace jotgate::auth {

void GateAudit::signed_in(const UserIdentity& user, std::string_view method,
                          const RequestIds& ids) const {
  audit("sign_in", {{"vp", prefix_}, {"user", user.qualified()}, {"method", method}}, ids);
}

void GateAudit::user_event(std::string_view event, const UserIdentity& user,
                           const RequestIds& ids) const {
  audit(event, {{"vp", prefix_}, {"user", user.qualified()}}, ids);
}

void GateAudit::evicted(const UserIdentity& user, std::size_t sessions,
                        const RequestIds& ids) const {
  for (std::size_t i = 0; i < sessions; ++i) user_event("session_evicted", user, ids);
}

void GateAudit::refused(std::string_view event, Reason reason, std::string_view client,
                        UnixSeconds now, const RequestIds& ids) const {
  rejections_.record(
      {std::string(event), prefix_, std::string(reason_code(reason)), std::string(client)}, now,
      ids);
}

}  // namespace jotgate::auth
