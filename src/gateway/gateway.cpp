#include "gateway/gateway.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "admin/admin_server.h"
#include "admin/overview.h"
#include "auth/audit.h"
#include "auth/gate.h"
#include "base/service_notify.h"
#include "base/version.h"
#include "gateway/file_watch.h"
#include "gateway/reload_record.h"
#include "gateway/stored_virtual_proxies.h"
#include "metrics/decision_history.h"
#include "metrics/registry.h"
#include "ops/ops_server.h"

namespace jotgate::gateway {

namespace {

// What `watch: true` looks at: the configuration file, the key files and the TLS files.
std::vector<std::string> watched_files(const config::GatewayConfig& config,
                                       const std::string& config_path) {
  std::vector<std::string> paths;
  if (!config_path.empty()) paths.push_back(config_path);
  for (const auto& listener : config.listeners) {
    if (listener.tls) {
      paths.push_back(listener.tls->certificate);
      paths.push_back(listener.tls->key);
    }
  }
  for (const auto& vp : config.virtual_proxies) {
    if (vp.auth.method != config::AuthMethod::kJwt) continue;
    for (const config::JwtProvider& provider : vp.auth.jwt.providers) {
      if (!provider.key.empty()) paths.push_back(provider.key);
      if (provider.jwks && !provider.jwks->ca.empty()) paths.push_back(provider.jwks->ca);
    }
  }
  return paths;
}

// Key files a reload could not use: the virtual proxies that now answer KEYS_UNAVAILABLE.
std::vector<std::string> key_warnings(const config::GatewayConfig& config) {
  std::vector<std::string> warnings;
  for (const auto& vp : config.virtual_proxies) {
    for (const config::JwtProvider& provider : vp.auth.jwt.providers) {
      if (!provider.keys_problem.empty()) warnings.push_back(provider.keys_problem);
    }
  }
  return warnings;
}

std::vector<std::string> problem_lines(const Error& error) { return config::error_lines(error); }

}  // namespace

struct Gateway::Impl final : admin::AdminBackend, ops::OpsSource {
  Impl(GatewayOptions o, const Clock& c, const config::GatewayConfig& config)
      : options(std::move(o)),
        clock(c),
        data_dir(config.data_dir),
        registry(std::string(project_version()), c.now_seconds()),
        watch(config.watch),
        watched(watched_files(config, options.config_path)) {}

  GatewayOptions options;
  const Clock& clock;
  const std::string data_dir;  // of the start: where the pid file and reload.json are
  // Counted only when the ops listener (configured at start) can show the counts.
  metrics::Registry registry;
  std::unique_ptr<proxy::Server> server;
  std::unique_ptr<admin::AdminServer> admin_server;
  std::unique_ptr<ops::OpsServer> ops_server;

  std::mutex reload_mutex;  // one reload (or change of the stored virtual proxies) at a time
  std::uint64_t reloads = 0;
  // The stored virtual proxies of the last reload (under reload_mutex): kept when the database
  // cannot be read, and what a change notified by PostgreSQL is compared with.
  std::vector<access::StoredVirtualProxy> stored_in_force;

  std::mutex config_mutex;
  std::shared_ptr<const config::GatewayConfig> in_force;  // file and stored virtual proxies

  // What the console's Overview shows besides the server's live figures.
  metrics::DecisionHistory decisions;
  std::mutex shown_mutex;     // guards what follows
  UnixSeconds loaded_at = 0;  // when the configuration in force was read (its key files too)
  admin::Overview::LastReload last_reload;

  // The reloader thread: reloads on SIGHUP (the server's control thread only raises a flag:
  // a reload takes a while) and, with watch: true, when a watched file changed.
  std::mutex mutex;
  std::condition_variable wake;
  bool hangup = false;
  bool stored_changed = false;  // PostgreSQL: another node changed the stored virtual proxies
  bool stopping = false;
  bool watch = false;
  FileWatch watched;
  // After what its wake-up uses: destroyed (its listener stopped) before them.
  std::unique_ptr<access::VirtualProxyStore> store;
  std::thread reloader;

  std::shared_ptr<auth::SessionAdmin> sessions() override {
    std::shared_ptr<auth::GateSet> gates = server->gates();
    auth::SessionAdmin& admin = gates->admin();
    return std::shared_ptr<auth::SessionAdmin>(std::move(gates), &admin);
  }
  std::shared_ptr<auth::Revocations> revocations() override {
    std::shared_ptr<auth::GateSet> gates = server->gates();
    auth::Revocations& revocations = gates->revocations();
    return std::shared_ptr<auth::Revocations>(std::move(gates), &revocations);
  }
  std::shared_ptr<auth::GateSet> gates() override { return server->gates(); }
  admin::ReloadReport reload() override { return reload_now("admin"); }
  admin::Overview overview() override;
  // A configuration was applied: its key files were read now.
  void remember_applied(const config::GatewayConfig& config) {
    {
      std::lock_guard lock(config_mutex);
      in_force = std::make_shared<const config::GatewayConfig>(config);
    }
    std::lock_guard lock(shown_mutex);
    loaded_at = clock.now_seconds();
  }
  std::shared_ptr<const config::GatewayConfig> configuration() override {
    std::lock_guard lock(config_mutex);
    return in_force;
  }
  admin::VirtualProxyChangeResult change_virtual_proxy(
      const admin::VirtualProxyChange& change) override;

  // The ops listener's questions (on its thread).
  std::string metrics_text() override {
    metrics::Scrape live;
    server->collect(live);
    return registry.exposition(live);
  }
  std::vector<metrics::ReadinessProblem> readiness() override { return server->readiness(); }

  admin::ReloadReport reload_now(std::string_view trigger);
  admin::ReloadReport reload_locked(std::string_view trigger);
  admin::ReloadReport apply(const config::GatewayConfig& config);
  // The file's configuration with the stored virtual proxies (those in force when the database
  // cannot be read), warnings added to `warnings`.
  config::GatewayConfig with_stored(config::GatewayConfig file, std::vector<std::string>& warnings);
  // PostgreSQL said the stored virtual proxies changed: reloads unless they are those in force
  // (this node's own change comes back too).
  void reload_if_stored_changed();
  void reloader_loop();
};

void Gateway::Impl::reload_if_stored_changed() {
  std::lock_guard one_at_a_time(reload_mutex);
  auto stored = store->list_virtual_proxies();
  if (!stored || *stored == stored_in_force) return;
  reload_locked("database");
}

admin::VirtualProxyChangeResult Gateway::Impl::change_virtual_proxy(
    const admin::VirtualProxyChange& change) {
  using Kind = admin::VirtualProxyChange::Kind;
  using Outcome = admin::VirtualProxyChangeResult::Outcome;
  std::lock_guard one_at_a_time(reload_mutex);
  admin::VirtualProxyChangeResult result;
  auto file = options.load();
  if (!file) {
    result.outcome = Outcome::kConfigInvalid;
    result.report.problems = problem_lines(file.error());
    return result;
  }
  auto stored = store->list_virtual_proxies();
  if (!stored) {
    result.error = stored.error();
    return result;
  }
  const auto stored_at = [&](const std::string& prefix) {
    return std::find_if(stored->begin(), stored->end(),
                        [&](const access::StoredVirtualProxy& s) { return s.prefix == prefix; });
  };
  // A PUT or DELETE names a virtual proxy that must be a stored one.
  if (change.kind != Kind::kCreate) {
    if (find_virtual_proxy(*file, change.prefix) != nullptr) {
      result.outcome = Outcome::kReadOnly;
      return result;
    }
    if (stored_at(change.prefix) == stored->end()) {
      result.outcome = Outcome::kNotFound;
      return result;
    }
  }
  std::vector<access::StoredVirtualProxy> after = *stored;
  std::optional<config::VirtualProxy> changed;
  if (change.kind == Kind::kRemove) {
    after.erase(after.begin() + (stored_at(change.prefix) - stored->begin()));
  } else {
    // Read as the file's virtual proxies are at start: its key files must be usable now.
    auto parsed = config::parse_virtual_proxy_document(change.document, *file, "<document>");
    if (!parsed.virtual_proxy) {
      result.outcome = Outcome::kInvalid;
      result.problems = std::move(parsed.problems);
      return result;
    }
    changed = std::move(parsed.virtual_proxy);
    const std::string& prefix = changed->prefix;
    const bool in_file = find_virtual_proxy(*file, prefix) != nullptr;
    if (change.kind == Kind::kCreate && (in_file || stored_at(prefix) != stored->end())) {
      result.outcome = Outcome::kPrefixConflict;
      result.problems = {{"prefix", "\"" + prefix + "\" is already used by " +
                                        (in_file ? "a virtual proxy of the configuration file"
                                                 : "a virtual proxy in the database")}};
      return result;
    }
    // Unique names, as in the file: among the file's and the other stored ones in force.
    std::vector<config::VirtualProxy> others = file->virtual_proxies;
    for (const config::VirtualProxy& vp : configuration()->virtual_proxies) {
      if (vp.from_database && vp.prefix != prefix) others.push_back(vp);
    }
    for (const config::VirtualProxy& other : others) {
      if (other.name == changed->name) {
        result.outcome = Outcome::kInvalid;
        result.problems = {{"name", "\"" + other.name +
                                        "\" is already used by the virtual proxy with prefix \"" +
                                        other.prefix + "\""}};
        return result;
      }
    }
    const access::StoredVirtualProxy record{prefix, change.document, clock.now_seconds(),
                                            change.admin};
    if (change.kind == Kind::kCreate) {
      after.push_back(record);
    } else {
      *(after.begin() + (stored_at(prefix) - stored->begin())) = record;
    }
  }
  // Stored, then applied as a reload of the file and the database would apply it.
  Result<bool> written = false;
  const std::string prefix = changed ? changed->prefix : change.prefix;
  const auto record =
      std::find_if(after.begin(), after.end(),
                   [&](const access::StoredVirtualProxy& s) { return s.prefix == prefix; });
  switch (change.kind) {
    case Kind::kCreate: written = store->create_virtual_proxy(*record); break;
    case Kind::kReplace: written = store->replace_virtual_proxy(*record); break;
    case Kind::kRemove: written = store->remove_virtual_proxy(prefix); break;
  }
  if (!written) {
    result.error = written.error();
    return result;
  }
  if (!*written) {  // another node was quicker
    result.outcome = change.kind == Kind::kCreate ? Outcome::kPrefixConflict : Outcome::kNotFound;
    if (change.kind == Kind::kCreate) {
      result.problems = {{"prefix", "\"" + prefix +
                                        "\" is already used by a virtual proxy in the "
                                        "database"}};
    }
    return result;
  }
  result.report = reload_locked("admin");
  if (!result.report.applied) {
    // The file changed meanwhile and no longer loads: the database goes back to what it was.
    const auto before = stored_at(prefix);
    if (change.kind == Kind::kCreate) (void)store->remove_virtual_proxy(prefix);
    if (change.kind == Kind::kReplace) (void)store->replace_virtual_proxy(*before);
    if (change.kind == Kind::kRemove) (void)store->create_virtual_proxy(*before);
    result.outcome = Outcome::kConfigInvalid;
    return result;
  }
  result.outcome = Outcome::kApplied;
  if (changed) {
    const auto in_force_now = configuration();
    if (const config::VirtualProxy* applied = find_virtual_proxy(*in_force_now, prefix)) {
      changed = *applied;
    }
  }
  result.virtual_proxy = std::move(changed);
  return result;
}

config::GatewayConfig Gateway::Impl::with_stored(config::GatewayConfig file,
                                                 std::vector<std::string>& warnings) {
  if (auto stored = store->list_virtual_proxies(); stored) {
    stored_in_force = std::move(*stored);
  } else {
    warnings.push_back("the stored virtual proxies cannot be read (those in force are kept): " +
                       stored.error().message());
  }
  auto left_out = add_stored_virtual_proxies(file, stored_in_force, config::KeyFiles::kMayFail);
  warnings.insert(warnings.end(), left_out.begin(), left_out.end());
  return file;
}

admin::ReloadReport Gateway::Impl::apply(const config::GatewayConfig& config) {
  admin::ReloadReport report;
  // Built beside the gates in force, sharing their sessions by prefix; nothing of them changes
  // unless the server takes the new ones.
  auto gates = auth::GateSet::create(config, clock, server->gates().get());
  if (!gates) {
    report.problems = problem_lines(gates.error());
    return report;
  }
  if (auto swapped = server->reload(config, std::move(*gates)); !swapped) {
    report.problems = problem_lines(swapped.error());
    return report;
  }
  report.applied = true;
  report.warnings = key_warnings(config);
  remember_applied(config);
  return report;
}

namespace {

// Where each identity provider of a JWT virtual proxy gets its keys, and how they stand.
std::vector<admin::Overview::Keys> key_status(const config::VirtualProxy& vp,
                                              const std::vector<auth::KeySourceStatus>& sources,
                                              UnixSeconds loaded_at) {
  std::vector<admin::Overview::Keys> out;
  if (vp.auth.method != config::AuthMethod::kJwt) return out;
  for (const config::JwtProvider& provider : vp.auth.jwt.providers) {
    admin::Overview::Keys keys;
    if (provider.jwks) {
      keys.source = "jwks";
      keys.location = provider.jwks->discovery ? provider.verifier.issuer : provider.jwks->uri;
      for (const auth::KeySourceStatus& status : sources) {
        if (status.name != keys.location) continue;
        keys.count = status.keys;
        keys.loaded_at = status.fetched_at;
        keys.next_refresh_at = status.next_fetch_at;
        keys.problem = status.last_error;
      }
    } else {
      keys.source = provider.key_pem.empty() ? "file" : "pem";
      keys.location = provider.key;
      keys.count = provider.keys.keys().size();
      keys.loaded_at = loaded_at;
      keys.problem = provider.keys_problem;
    }
    out.push_back(std::move(keys));
  }
  return out;
}

}  // namespace

admin::Overview Gateway::Impl::overview() {
  admin::Overview out;
  out.version = std::string(project_version());
  out.started_at = registry.started_at();
  const std::shared_ptr<const config::GatewayConfig> config = configuration();
  UnixSeconds keys_loaded_at = 0;
  {
    std::lock_guard lock(shown_mutex);
    keys_loaded_at = loaded_at;
    out.last_reload = last_reload;
  }
  metrics::Scrape live;
  server->collect(live);
  for (const proxy::ListenerInfo& listener : server->listeners()) {
    out.listeners.push_back({listener.name, listener.address,
                             listener.address.starts_with("https:"), listener.open_connections});
  }
  for (std::size_t i = 0; i < live.virtual_proxies.size(); ++i) {
    const metrics::Scrape::VirtualProxy& figures = live.virtual_proxies[i];
    admin::Overview::VirtualProxy vp;
    vp.name = figures.name;
    vp.sessions = figures.sessions;
    for (const auto& upstream : figures.upstreams)
      vp.upstreams.push_back({upstream.name, upstream.healthy});
    if (config && i < config->virtual_proxies.size()) {
      const config::VirtualProxy& configured = config->virtual_proxies[i];
      vp.prefix = configured.prefix;
      vp.source = configured.from_database ? "database" : "file";
      vp.method = std::string(config::auth_method_name(configured.auth.method));
      vp.listeners = configured.listeners;
      vp.keys = key_status(configured, server->gates()->gate(i).key_sources(), keys_loaded_at);
    }
    out.virtual_proxies.push_back(std::move(vp));
  }
  const UnixSeconds now = clock.now_seconds();
  auto chart = decisions.chart(now, registry.decision_totals());
  out.decisions = {metrics::DecisionHistory::kBucketSeconds, chart.start, std::move(chart.reasons)};
  return out;
}

admin::ReloadReport Gateway::Impl::reload_now(std::string_view trigger) {
  std::lock_guard one_at_a_time(reload_mutex);
  return reload_locked(trigger);
}

admin::ReloadReport Gateway::Impl::reload_locked(std::string_view trigger) {
  notify_reloading();  // systemd: RELOADING=1 ... READY=1 around the reload
  admin::ReloadReport report;
  auto loaded = options.load();
  if (!loaded) {
    report.problems = problem_lines(loaded.error());
  } else {
    std::vector<std::string> stored_warnings;
    const config::GatewayConfig merged = with_stored(std::move(*loaded), stored_warnings);
    report = apply(merged);
    report.warnings.insert(report.warnings.end(), stored_warnings.begin(), stored_warnings.end());
    if (report.applied) {
      std::lock_guard lock(mutex);
      watch = merged.watch;
      watched = FileWatch(watched_files(merged, options.config_path));
    }
  }
  {
    std::lock_guard lock(shown_mutex);
    last_reload = {clock.now_seconds(), report};
  }
  for (const auto& problem : report.problems) spdlog::error("{}", problem);
  for (const auto& warning : report.warnings) spdlog::warn("{}", warning);
  auth::audit("config_reload", {{"result", report.applied ? "ok" : "error"},
                                {"trigger", trigger},
                                {"problems", std::to_string(report.problems.size())},
                                {"warnings", std::to_string(report.warnings.size())}});
  notify_ready();
  registry.count_reload(report.applied, clock.now_seconds());
  ++reloads;
  if (auto written = write_reload_record(data_dir, {::getpid(), reloads, report}); !written) {
    spdlog::warn("{}", written.error().message());
  }
  return report;
}

void Gateway::Impl::reloader_loop() {
  std::unique_lock lock(mutex);
  for (;;) {
    wake.wait_for(lock, std::chrono::seconds(1),
                  [this] { return hangup || stored_changed || stopping; });
    if (stopping) return;
    decisions.sample(clock.now_seconds(), registry.decision_totals());
    if (std::exchange(stored_changed, false)) {
      lock.unlock();
      reload_if_stored_changed();
      lock.lock();
    }
    const bool signalled = std::exchange(hangup, false);
    // Looked at every second even without watch: true, so that a later `watch: true` starts
    // from what the files were, not from the moment it was turned on.
    const bool changed = watched.changed() && watch;
    if (!signalled && !changed) continue;
    lock.unlock();
    reload_now(signalled ? "signal" : "watch");
    lock.lock();
  }
}

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Gateway::~Gateway() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  if (impl_->reloader.joinable()) impl_->reloader.join();
  remove_pid_file(impl_->data_dir);
}

Result<std::unique_ptr<Gateway>> Gateway::start(const config::GatewayConfig& config,
                                                GatewayOptions options, const Clock& clock) {
  auto opened = access::VirtualProxyStore::open(config.database, config.data_dir);
  if (!opened) return opened.error();
  std::vector<std::string> stored_warnings;
  auto impl = std::make_unique<Impl>(std::move(options), clock, config);
  impl->store = std::move(*opened);
  // The file's configuration was checked with its key files required; the stored virtual
  // proxies are read as at a reload (one that cannot be served is left out, with a warning).
  const config::GatewayConfig merged = impl->with_stored(config, stored_warnings);
  for (const auto& warning : stored_warnings) spdlog::warn("{}", warning);
  auto gates = auth::GateSet::create(merged, clock);
  if (!gates) return gates.error();
  (*gates)->restore_sessions();  // before any listener accepts; a reload shares them instead
  Impl* self = impl.get();
  proxy::ServerOptions server_options{
      .threads = impl->options.threads,
      .handle_signals = true,
      .on_hangup =
          [self] {
            {
              std::lock_guard lock(self->mutex);
              self->hangup = true;
            }
            self->wake.notify_all();
          },
      .on_shutdown = notify_stopping,
      // Counted for /metrics and the console's Overview.
      .metrics = config.ops || config.admin ? &impl->registry : nullptr};
  auto server = proxy::Server::create(merged, std::move(*gates), std::move(server_options));
  if (!server) return server.error();
  impl->server = std::move(*server);
  impl->remember_applied(merged);
  impl->decisions.sample(clock.now_seconds(), impl->registry.decision_totals());
  if (config.admin) {
    auto admin = admin::AdminServer::create(*config.admin, config.limits, *impl);
    if (!admin) return admin.error();
    impl->admin_server = std::move(*admin);
  }
  if (config.ops) {
    auto ops = ops::OpsServer::create(*config.ops, config.limits, *impl);
    if (!ops) return ops.error();
    impl->ops_server = std::move(*ops);
  }
  if (auto written = write_pid_file(config.data_dir, impl->options.config_path); !written) {
    spdlog::warn("{} (jotgate reload cannot find this gateway)", written.error().message());
  }
  impl->store->on_virtual_proxies_change([self] {
    {
      std::lock_guard lock(self->mutex);
      self->stored_changed = true;
    }
    self->wake.notify_all();
  });
  impl->reloader = std::thread([self] { self->reloader_loop(); });
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

std::vector<proxy::ListenerInfo> Gateway::listeners() const { return impl_->server->listeners(); }

std::optional<std::string> Gateway::ops_address() const {
  if (!impl_->ops_server) return std::nullopt;
  return impl_->ops_server->address();
}

std::optional<std::string> Gateway::admin_address() const {
  if (!impl_->admin_server) return std::nullopt;
  return impl_->admin_server->address();
}

void Gateway::run() {
  if (impl_->admin_server) impl_->admin_server->start();
  if (impl_->ops_server) impl_->ops_server->start();
  impl_->server->run();  // returns after a signal and the graceful shutdown; /readyz: 503 meanwhile
  if (impl_->ops_server) impl_->ops_server->stop();
  if (impl_->admin_server) impl_->admin_server->stop();
  // After the drain, no request changes them any more; the gates in force hold every session
  // (a reload shares the stores of a prefix).
  impl_->server->gates()->save_sessions();
}

void Gateway::stop() { impl_->server->stop(); }

admin::ReloadReport Gateway::reload(std::string_view trigger) { return impl_->reload_now(trigger); }

}  // namespace jotgate::gateway
