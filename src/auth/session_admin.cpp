#include "auth/gate_session_admin.h"

#include <chrono>
#include <future>
#include <memory>
#include <utility>

#include "auth/audit.h"

namespace jotgate::auth {

namespace {

// A path under the prefix that stays there once a browser resolves it.
bool under_prefix(std::string_view uri, std::string_view prefix) {
  if (uri.find_first_of("\\\r\n") != std::string_view::npos) return false;
  // Absolute URLs name their own host; a ticket is for this gateway's paths only.
  if (uri.empty() || uri.front() != '/' || uri.starts_with("//")) return false;
  // No dot segments: "/jwt/../other" leaves the prefix once a browser resolves it.
  const std::string_view path_part = uri.substr(0, uri.find_first_of("?#"));
  for (std::size_t at = 0; at != std::string_view::npos;) {
    const std::size_t next = path_part.find('/', at + 1);
    const std::string_view segment = path_part.substr(at + 1, next - at - 1);
    if (segment == "." || segment == "..") return false;
    at = next;
  }
  if (prefix.empty()) return true;
  const std::string_view path = uri.substr(1);
  return path.starts_with(prefix) &&
         (path.size() == prefix.size() ||
          std::string_view("/?#").find(path[prefix.size()]) != std::string_view::npos);
}

// Waits for a shared store's answer: the admin API's thread, never a request's.
void wait_for(const std::shared_ptr<Pending>& pending) {
  auto finished = std::make_shared<std::promise<void>>();
  pending->when_finished([finished] { finished->set_value(); });
  finished->get_future().wait_for(std::chrono::seconds(3));
}

// A session looked up without counting as use; a shared store is waited for.
session::LookupResult look_up(session::SessionStore& sessions, std::string_view id,
                              UnixSeconds now) {
  auto found = sessions.lookup(id, now, session::Refresh::kNo);
  if (found.status != session::LookupStatus::kPending) return found;
  wait_for(found.pending);
  return sessions.lookup(id, now, session::Refresh::kNo);
}

}  // namespace

void GateSessionAdmin::add(VirtualProxyGate& gate, const config::AuthSettings& auth) {
  targets_.push_back({gate, auth.ticket_lifetime_seconds, attribute_headers(auth)});
}

std::optional<std::size_t> GateSessionAdmin::find_virtual_proxy(std::string_view prefix) const {
  if (prefix == "~") prefix = "";
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    if (targets_[i].gate.prefix() == prefix) return i;
  }
  return std::nullopt;
}

std::string_view GateSessionAdmin::prefix_of(std::size_t virtual_proxy) const {
  return targets_.at(virtual_proxy).gate.prefix();
}

Result<IssuedTicket> GateSessionAdmin::issue_ticket(std::size_t virtual_proxy,
                                                    TicketRequest request) {
  const Target& target = targets_.at(virtual_proxy);
  const std::string& prefix = target.gate.prefix();
  if (!request.target_uri.empty() && !under_prefix(request.target_uri, prefix)) {
    return make_field_error(
        Reason::kBadRequest, "targetUri",
        "must be a path under /" + prefix + "/ (the virtual proxy the ticket is for)");
  }
  auto headers = admit(target, request.user, request.attributes);
  if (!headers) return headers.error();
  const UnixSeconds now = clock_.now_seconds();
  const UnixSeconds expires_at = now + target.ticket_lifetime;
  auto ticket = target.gate.tickets().issue({request.user, std::move(*headers), expires_at}, now);
  if (!ticket) return ticket.error();
  target.gate.audit().user_event("ticket_issued", request.user);
  return IssuedTicket{std::move(*ticket), expires_at, std::move(request.target_uri)};
}

Result<SessionRecord> GateSessionAdmin::create_session(std::size_t virtual_proxy,
                                                       const UserIdentity& user,
                                                       HeaderList attributes) {
  const Target& target = targets_.at(virtual_proxy);
  auto headers = admit(target, user, attributes);
  if (!headers) return headers.error();
  auto created = target.gate.sessions().create(user, *headers, clock_.now_seconds());
  if (created.commit) wait_for(created.commit);
  if (created.unavailable || (created.commit && !created.commit->ok())) {
    return make_error(Reason::kSessionStoreUnavailable);
  }
  target.gate.audit().signed_in(user, "admin");
  target.gate.audit().evicted(user, created.evicted);
  auto record = find_session(virtual_proxy, created.cookie_value);
  if (!record) return make_error(Reason::kNotFound, "the session ended at once");
  return std::move(*record);
}

std::optional<SessionRecord> GateSessionAdmin::find_session(std::size_t virtual_proxy,
                                                            std::string_view id) {
  VirtualProxyGate& gate = targets_.at(virtual_proxy).gate;
  auto found = look_up(gate.sessions(), id, clock_.now_seconds());
  if (found.status != session::LookupStatus::kFound) return std::nullopt;
  return record_of(gate, std::string(id), found.session);
}

bool GateSessionAdmin::end_session(std::size_t virtual_proxy, std::string_view id) {
  VirtualProxyGate& gate = targets_.at(virtual_proxy).gate;
  auto found = look_up(gate.sessions(), id, clock_.now_seconds());
  if (found.status != session::LookupStatus::kFound) return false;
  gate.sessions().remove(found.session.handle);
  audit("logout",
        {{"vp", gate.prefix()}, {"user", found.session.user.qualified()}, {"by", "admin"}});
  return true;
}

std::vector<SessionRecord> GateSessionAdmin::user_sessions(const UserIdentity& user) {
  std::vector<SessionRecord> out;
  const UnixSeconds now = clock_.now_seconds();
  for (const Target& target : targets_) {
    for (auto& [id, view] : target.gate.sessions().sessions_of(user, now)) {
      out.push_back(record_of(target.gate, std::move(id), view));
    }
  }
  return out;
}

std::vector<SessionRecord> GateSessionAdmin::virtual_proxy_sessions(
    std::size_t virtual_proxy, const std::optional<UserIdentity>& user, std::size_t limit) {
  const VirtualProxyGate& gate = targets_.at(virtual_proxy).gate;
  const UnixSeconds now = clock_.now_seconds();
  auto found =
      user ? gate.sessions().sessions_of(*user, now) : gate.sessions().some_sessions(now, limit);
  if (found.size() > limit) found.resize(limit);
  std::vector<SessionRecord> out;
  for (auto& [id, view] : found) out.push_back(record_of(gate, std::move(id), view));
  return out;
}

std::size_t GateSessionAdmin::end_user_sessions(const UserIdentity& user) {
  std::size_t ended = 0;
  for (const Target& target : targets_) ended += target.gate.sessions().remove_user(user);
  audit("logout",
        {{"user", user.qualified()}, {"by", "admin"}, {"sessions_ended", std::to_string(ended)}});
  return ended;
}

// An identity and attributes given by the admin API, checked as a sign-in would check them:
// forwardable, not anonymous, allocated, attributes among the configured names. Returns the
// attributes under their header names.
Result<HeaderList> GateSessionAdmin::admit(const Target& target, const UserIdentity& user,
                                           const HeaderList& attributes) {
  if (!valid_identity(user)) {
    return make_field_error(Reason::kIdentityInvalid,
                            forwardable(user.id) ? "userDirectory" : "userId");
  }
  HeaderList headers;
  for (const auto& [name, value] : attributes) {
    auto it = target.attribute_headers.find(name);
    if (it == target.attribute_headers.end()) {
      return make_field_error(Reason::kBadRequest, "attributes." + name,
                              "not an attribute this virtual proxy forwards "
                              "(auth.forward_attributes or jwt.forward_claims)");
    }
    if (!forwardable(value)) {
      return make_field_error(Reason::kBadRequest, "attributes." + name,
                              "the value is empty or holds control characters or ';'");
    }
    headers.emplace_back(it->second, value);
  }
  if (!access_.admit(user, clock_.now_seconds())) {
    return make_error(Reason::kAccessDenied, user.qualified() + " has no access allocation");
  }
  return headers;
}

SessionRecord GateSessionAdmin::record_of(const VirtualProxyGate& gate, std::string id,
                                          const session::SessionView& view) {
  return {std::move(id), gate.prefix(),   gate.cookie_name(),
          view.user,     view.attributes, view.expires_at};
}

}  // namespace jotgate::auth
