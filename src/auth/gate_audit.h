// GateAudit: the audit lines of one virtual proxy's gate, worded in one place: who signed in,
// out or was denied, whose session expired, and which credential was refused and why (through
// RejectionAudit, so a flood of bad tokens writes a few lines, not one per request).
//   GateAudit audit("jwt", rejections);
//   audit.signed_in(user, "jwt");           // event=sign_in vp=jwt user=ACME\alice method=jwt
//   audit.refused("token_rejected", Reason::kTokenExpired, request.client_ip(), now);
#pragma once

#include <string>
#include <string_view>

#include "auth/rejection_audit.h"
#include "base/clock.h"
#include "base/identity.h"
#include "base/log_line.h"
#include "base/reason.h"

namespace jotgate::auth {

class GateAudit {
 public:
  GateAudit(std::string prefix, RejectionAudit& rejections)
      : prefix_(std::move(prefix)), rejections_(rejections) {}

  // event=sign_in vp=.. user=.. method=<jwt, header, ticket, anonymous, admin>
  // `ids`: of the request the event happened in (JSON lines carry them); empty outside one.
  void signed_in(const UserIdentity& user, std::string_view method,
                 const RequestIds& ids = {}) const;
  // event=<event> vp=.. user=..: logout, session_expired, access_denied, ticket_issued.
  void user_event(std::string_view event, const UserIdentity& user,
                  const RequestIds& ids = {}) const;
  // event=session_evicted vp=.. user=.., once per session that signing in beyond
  // session.max_per_user ended (the user's oldest).
  void evicted(const UserIdentity& user, std::size_t sessions, const RequestIds& ids = {}) const;
  // A refused credential: token_rejected, header_rejected or ticket_rejected, with the reason
  // and the client's address; repeats within an interval are counted, not written.
  void refused(std::string_view event, Reason reason, std::string_view client, UnixSeconds now,
               const RequestIds& ids = {}) const;

 private:
  const std::string prefix_;
  RejectionAudit& rejections_;
};

}  // namespace jotgate::auth
