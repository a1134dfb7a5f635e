#include "gateway/gateway.h"

#include <unistd.h>

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

  std::mutex reload_mutex;  // one reload at a time
  std::uint64_t reloads = 0;

  // What the console's Overview shows besides the server's live figures.
  metrics::DecisionHistory decisions;
  std::mutex shown_mutex;                                 // guards what follows
  std::shared_ptr<const config::GatewayConfig> in_force;  // the configuration last applied
  UnixSeconds loaded_at = 0;                              // when it was read (its key files too)
  admin::Overview::LastReload last_reload;

  // The reloader thread: reloads on SIGHUP (the server's control thread only raises a flag:
  // a reload takes a while) and, with watch: true, when a watched file changed.
  std::mutex mutex;
  std::condition_variable wake;
  bool hangup = false;
  bool stopping = false;
  bool watch = false;
  FileWatch watched;
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
  void remember_applied(const config::GatewayConfig& config) {
    std::lock_guard lock(shown_mutex);
    in_force = std::make_shared<const config::GatewayConfig>(config);
    loaded_at = clock.now_seconds();
  }

  // The ops listener's questions (on its thread).
  std::string metrics_text() override {
    metrics::Scrape live;
    server->collect(live);
    return registry.exposition(live);
  }
  std::vector<metrics::ReadinessProblem> readiness() override { return server->readiness(); }

  admin::ReloadReport reload_now(std::string_view trigger);
  admin::ReloadReport apply(const config::GatewayConfig& config);
  void reloader_loop();
};

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
      keys.source = provider.key.empty() ? "pem" : "file";
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
  std::shared_ptr<const config::GatewayConfig> config;
  UnixSeconds keys_loaded_at = 0;
  {
    std::lock_guard lock(shown_mutex);
    config = in_force;
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
  notify_reloading();  // systemd: RELOADING=1 ... READY=1 around the reload
  admin::ReloadReport report;
  auto loaded = options.load();
  if (!loaded) {
    report.problems = problem_lines(loaded.error());
  } else {
    report = apply(*loaded);
    if (report.applied) {
      std::lock_guard lock(mutex);
      watch = loaded->watch;
      watched = FileWatch(watched_files(*loaded, options.config_path));
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
    wake.wait_for(lock, std::chrono::seconds(1), [this] { return hangup || stopping; });
    if (stopping) return;
    decisions.sample(clock.now_seconds(), registry.decision_totals());
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
  auto impl = std::make_unique<Impl>(std::move(options), clock, config);
  auto gates = auth::GateSet::create(config, clock);
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
  auto server = proxy::Server::create(config, std::move(*gates), std::move(server_options));
  if (!server) return server.error();
  impl->server = std::move(*server);
  impl->remember_applied(config);
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
