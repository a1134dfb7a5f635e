#include "auth/rejection_audit.h"

#include "auth/audit.h"

namespace jotgate::auth {

void RejectionAudit::record(const Key& key, UnixSeconds now, const RequestIds& ids) {
  std::lock_guard lock(mutex_);
  auto it = windows_.find(key);
  if (it != windows_.end() && now - it->second.start < interval_) {
    ++it->second.repeats;
    return;
  }
  if (it != windows_.end()) {  // its interval ended and no flush came yet
    report_repeats(key, it->second);
    it->second = Window{now, 0};
  } else if (windows_.size() < max_keys_) {
    windows_.emplace(key, Window{now, 0});
  } else {
    if (untracked_.repeats != 0 && now - untracked_.start >= interval_) report_untracked();
    if (untracked_.repeats == 0) untracked_.start = now;
    ++untracked_.repeats;
    return;
  }
  audit(key.event, {{"vp", key.vp}, {"reason", key.reason}, {"client", key.client}}, ids);
}

void RejectionAudit::flush(UnixSeconds now) {
  std::lock_guard lock(mutex_);
  for (auto it = windows_.begin(); it != windows_.end();) {
    if (now - it->second.start < interval_) {
      ++it;
      continue;
    }
    report_repeats(it->first, it->second);
    it = windows_.erase(it);
  }
  if (untracked_.repeats != 0 && now - untracked_.start >= interval_) report_untracked();
}

void RejectionAudit::report_repeats(const Key& key, const Window& window) const {
  if (window.repeats == 0) return;
  audit(key.event + "_repeated", {{"vp", key.vp},
                                  {"reason", key.reason},
                                  {"client", key.client},
                                  {"count", std::to_string(window.repeats)},
                                  {"interval", std::to_string(interval_) + "s"}});
}

void RejectionAudit::report_untracked() {
  audit("rejections_untracked", {{"count", std::to_string(untracked_.repeats)},
                                 {"interval", std::to_string(interval_) + "s"}});
  untracked_ = Window{};
}

}  // namespace jotgate::auth
