// AdminBackend: what the admin API acts on, supplied by the process that runs the gateway: the
// sessions and tickets of the configuration in force (a reload replaces them), the revocations,
// the reload, what the console shows, and the virtual proxies in force with the change of those
// kept in the database.
//   std::shared_ptr<auth::SessionAdmin> sessions = backend.sessions();   // kept for one call
//   ReloadReport report = backend.reload();   // POST /api/v1/config/reload
//   auto done = backend.change_virtual_proxy({VirtualProxyChange::Kind::kCreate, "", json, cn});
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/revocations.h"
#include "auth/session_admin.h"
#include "config/gateway_config.h"

namespace jotgate::auth {
class GateSet;
}

namespace jotgate::admin {

struct Overview;

// How a reload went. Not applied: nothing changed, `problems` says why, each line
// "<file>:<line>:<col>: <yaml.path>: <problem>" as `jotgate config check` prints them.
// Applied with `warnings`: e.g. a key file a virtual proxy could not use (it answers
// 503 KEYS_UNAVAILABLE until a reload gives it keys).

struct ReloadReport {
  bool applied = false;
  std::vector<std::string> problems;
  std::vector<std::string> warnings;
};

// A change of the virtual proxies kept in the database (POST, PUT, DELETE
// /api/v1/virtual-proxies).
struct VirtualProxyChange {
  enum class Kind { kCreate, kReplace, kRemove };
  Kind kind = Kind::kCreate;
  std::string prefix;    // kReplace, kRemove: the prefix of the path ("" is the root)
  std::string document;  // kCreate, kReplace: the document (JSON) with its prefix
  std::string admin;     // who asks: a client certificate's CN, or "token"
};

// How it went. Only kApplied changed anything: stored, then applied by a reload.
struct VirtualProxyChangeResult {
  enum class Outcome {
    kApplied,
    kInvalid,         // `problems`: the document's, by field
    kPrefixConflict,  // the prefix is the file's or stored already; `problems` names "prefix"
    kReadOnly,        // a virtual proxy of the configuration file
    kNotFound,
    kConfigInvalid,  // the configuration file no longer loads: `report.problems`
    kStoreFailed     // `error`: the database could not be read or written
  };
  Outcome outcome = Outcome::kStoreFailed;
  std::vector<config::FieldProblem> problems;
  std::optional<config::VirtualProxy> virtual_proxy;  // kApplied (not kRemove): as in force
  ReloadReport report;  // kApplied: the reload's; kConfigInvalid: why the file does not load
  Error error{Reason::kDatabaseUnavailable, {}, {}};  // kStoreFailed
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
  // The configuration in force: the file's virtual proxies and the stored ones. Null when the
  // backend has none to show.
  virtual std::shared_ptr<const config::GatewayConfig> configuration() { return nullptr; }
  // Validates the change against the configuration file and the other stored virtual proxies,
  // stores it and applies it (a reload), or changes nothing.
  virtual VirtualProxyChangeResult change_virtual_proxy(const VirtualProxyChange& change) {
    (void)change;
    VirtualProxyChangeResult refused;
    refused.error = make_error(Reason::kBadRequest, "virtual proxies cannot be changed here");
    return refused;
  }
};

}  // namespace jotgate::admin
