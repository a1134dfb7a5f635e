// GateSessionAdmin: the SessionAdmin of the gates: the admin API's tickets and sessions, kept in
// the session stores and ticket stores of the virtual proxies' gates. Identities and attributes
// are checked as a sign-in would be; errors name the request field that failed
// (Error::field: "userId", "attributes.X-Role", "targetUri").
//   GateSessionAdmin admin(access, clock);
//   admin.add(gate, vp.auth);                         // each virtual proxy, in config order
//   auto ticket = admin.issue_ticket(0, {{"ACME", "alice"}, {}, "/sales/app"});
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "auth/session_admin.h"
#include "auth/virtual_proxy_gate.h"

namespace jotgate::auth {

class GateSessionAdmin final : public SessionAdmin {
 public:
  GateSessionAdmin(AccessCache& access, const Clock& clock) : access_(access), clock_(clock) {}

  // Serves the next virtual proxy (index = number added before), with its auth settings.
  void add(VirtualProxyGate& gate, const config::AuthSettings& auth);

  std::optional<std::size_t> find_virtual_proxy(std::string_view prefix) const override;
  std::string_view prefix_of(std::size_t virtual_proxy) const override;
  Result<IssuedTicket> issue_ticket(std::size_t virtual_proxy, TicketRequest request) override;
  Result<SessionRecord> create_session(std::size_t virtual_proxy, const UserIdentity& user,
                                       HeaderList attributes) override;
  std::optional<SessionRecord> find_session(std::size_t virtual_proxy,
                                            std::string_view id) override;
  bool end_session(std::size_t virtual_proxy, std::string_view id) override;
  std::vector<SessionRecord> user_sessions(const UserIdentity& user) override;
  std::size_t end_user_sessions(const UserIdentity& user) override;
  std::vector<SessionRecord> virtual_proxy_sessions(std::size_t virtual_proxy,
                                                    const std::optional<UserIdentity>& user,
                                                    std::size_t limit) override;

 private:
  struct Target {
    VirtualProxyGate& gate;
    std::int64_t ticket_lifetime = 0;
    std::map<std::string, std::string> attribute_headers;  // attribute name -> header
  };
  Result<HeaderList> admit(const Target& target, const UserIdentity& user,
                           const HeaderList& attributes);
  static SessionRecord record_of(const VirtualProxyGate& gate, std::string id,
                                 const session::SessionView& view);

  std::vector<Target> targets_;
  AccessCache& access_;
  const Clock& clock_;
};

}  // namespace jotgate::auth
