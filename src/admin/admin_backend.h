// AdminBackend: what the admin API acts on, supplied by the process that runs the gateway: the
// sessions and tickets of the configuration in force (a reload replaces them), the revocations,
// the reload, and what the console shows.
//   std::shared_ptr<auth::SessionAdmin> sessions = backend.sessions();   // kept for one call
//   ReloadReport report = backend.reload();   // POST /api/v1/config/reload
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "auth/gate.h"
#include "auth/revocations.h"
#include "auth/session_admin.h"

namespace jotgate::auth {
class GateSet;
}

namespace jotgate::admin {

// How a reload went. Not applied: nothing changed, `problems` says why, each line
// "<file>:<line>:<col>: <yaml.path>: <problem>" as `jotgate config check` prints them.
// Applied with `warnings`: e.g. a key file a virtual proxy could not use (it answers
// 503 KEYS_UNAVAILABLE until a reload gives it keys).
struct Overview;

struct ReloadReport {
  bool applied = false;
  std::vector<std::string> problems;
  std::vector<std::string> warnings;
};

class AdminBackend {
 public:
  virtual ~AdminBackend() = default;
  // The SessionAdmin of the gates in force; the pointer keeps them alive while a call uses them.
  virtual std::shared_ptr<auth::SessionAdmin> sessions() = 0;
  // The revoked tokens and users of the gates in force (kept alive likewise).
  virtual std::shared_ptr<auth::Revocations> revocations() = 0;
  // The gates in force (access allocations, the token workbench), kept alive while a call uses
  // them.
  virtual std::shared_ptr<auth::GateSet> gates() = 0;
  // Reads the configuration again and applies it, or changes nothing (see ReloadReport).
  virtual ReloadReport reload() = 0;
  // What the console's Overview page shows (admin/overview.h).
  virtual Overview overview() = 0;
};

}  // namespace jotgate::admin
