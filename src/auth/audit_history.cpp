#include "auth/audit_history.h"

#include "base/text.h"

namespace jotgate::auth {

namespace {

bool contains_ignoring_case(std::string_view text, std::string_view part) {
  if (part.size() > text.size()) return false;
  for (std::size_t at = 0; at + part.size() <= text.size(); ++at) {
    if (iequals(text.substr(at, part.size()), part)) return true;
  }
  return false;
}

bool matches(const AuditEvent& event, const AuditFilter& filter) {
  return (filter.event.empty() || event.event == filter.event) &&
         (filter.vp.empty() || event.field("vp") == filter.vp) &&
         (filter.reason.empty() || event.field("reason") == filter.reason) &&
         (filter.user.empty() || contains_ignoring_case(event.field("user"), filter.user));
}

}  // namespace

std::string_view AuditEvent::field(std::string_view key) const {
  for (const auto& [name, value] : fields) {
    if (name == key) return value;
  }
  return {};
}

void AuditHistory::record(AuditEvent event) {
  std::lock_guard lock(mutex_);
  if (events_.size() == kCapacity) events_.pop_front();
  events_.push_back(std::move(event));
}

std::vector<AuditEvent> AuditHistory::recent(const AuditFilter& filter) const {
  std::vector<AuditEvent> out;
  std::lock_guard lock(mutex_);
  for (auto it = events_.rbegin(); it != events_.rend() && out.size() < filter.limit; ++it) {
    if (matches(*it, filter)) out.push_back(*it);
  }
  return out;
}

void AuditHistory::clear() {
  std::lock_guard lock(mutex_);
  events_.clear();
}

AuditHistory& audit_history() {
  static AuditHistory history;
  return history;
}

}  // namespace jotgate::auth
