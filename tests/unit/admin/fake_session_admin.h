// FakeSessionAdmin: an in-memory SessionAdmin for the admin API's tests, recording its calls.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "admin/admin_backend.h"
#include "auth/session_admin.h"

namespace jotgate::admin {

// Two virtual proxies: "sales" (0) and the root (1, "~"). Records every call it gets.
class FakeSessionAdmin : public auth::SessionAdmin {
 public:
  std::optional<std::size_t> find_virtual_proxy(std::string_view prefix) const override {
    if (prefix == "sales") return 0;
    if (prefix == "~") return 1;
    return std::nullopt;
  }
  std::string_view prefix_of(std::size_t vp) const override { return vp == 0 ? "sales" : ""; }
  Result<auth::IssuedTicket> issue_ticket(std::size_t vp, auth::TicketRequest request) override {
    last_ticket = request;
    if (next_error) return *next_error;
    return auth::IssuedTicket{"TICKET-SECRET-" + std::to_string(vp), 1700000060,
                              request.target_uri};
  }
  Result<auth::SessionRecord> create_session(std::size_t vp, const UserIdentity& user,
                                             auth::HeaderList attributes) override {
    if (next_error) return *next_error;
    auth::SessionRecord record{"SESSION-SECRET-" + std::to_string(sessions.size()),
                               std::string(prefix_of(vp)),
                               "X-Jotgate-Session-sales",
                               user,
                               std::move(attributes),
                               1700001800};
    sessions[record.id] = record;
    return record;
  }
  std::optional<auth::SessionRecord> find_session(std::size_t, std::string_view id) override {
    auto it = sessions.find(std::string(id));
    if (it == sessions.end()) return std::nullopt;
    return it->second;
  }
  bool end_session(std::size_t, std::string_view id) override {
    return sessions.erase(std::string(id)) == 1;
  }
  std::vector<auth::SessionRecord> user_sessions(const UserIdentity& user) override {
    std::vector<auth::SessionRecord> found;
    for (const auto& [id, record] : sessions) {
      if (record.user == user) found.push_back(record);
    }
    return found;
  }
  std::size_t end_user_sessions(const UserIdentity& user) override {
    return std::erase_if(sessions, [&](const auto& entry) { return entry.second.user == user; });
  }

  std::optional<auth::TicketRequest> last_ticket;
  std::optional<Error> next_error;
  std::map<std::string, auth::SessionRecord> sessions;
};

// The fake sessions, real revocations when the test opens them (`revocations_store`), and a
// reload that answers what the test sets (and counts its calls).
class FakeBackend final : public AdminBackend {
 public:
  explicit FakeBackend(auth::SessionAdmin& sessions) : sessions_(sessions) {}
  std::shared_ptr<auth::SessionAdmin> sessions() override {
    return std::shared_ptr<auth::SessionAdmin>(std::shared_ptr<void>(), &sessions_);
  }
  std::shared_ptr<auth::Revocations> revocations() override { return revocations_store; }
  std::shared_ptr<auth::GateSet> gates() override { return nullptr; }
  ReloadReport reload() override {
    ++reloads;
    return report;
  }
  ReloadReport report;
  int reloads = 0;
  std::shared_ptr<auth::Revocations> revocations_store;

 private:
  auth::SessionAdmin& sessions_;
};

}  // namespace jotgate::admin
