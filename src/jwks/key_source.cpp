#include "jwks/key_source.h"

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace jotgate::jwks {

namespace {

using std::chrono::seconds;

constexpr seconds kMinMaxAge{60};
constexpr seconds kMaxMaxAge{24 * 3600};

Error fetch_error(std::string detail) {
  return make_error(Reason::kFetchFailed, std::move(detail));
}

std::string duration_text(seconds duration) { return std::to_string(duration.count()) + "s"; }

}  // namespace

seconds refresh_interval(seconds refresh, std::optional<seconds> max_age) {
  if (max_age && *max_age >= kMinMaxAge && *max_age <= kMaxMaxAge) return *max_age;
  return refresh;
}

std::shared_ptr<KeySource> KeySource::create(SourceSettings settings, const Clock& clock,
                                             FetchFunction fetch) {
  if (!fetch) {
    fetch::FetchOptions options;
    options.ca_file = settings.ca_file;
    options.timeout = settings.timeout;
    fetch = [options](const std::string& url) { return fetch::https_get(url, options); };
  }
  auto source =
      std::shared_ptr<KeySource>(new KeySource(std::move(settings), clock, std::move(fetch)));
  source->restore_saved();
  return source;
}

KeySource::KeySource(SourceSettings settings, const Clock& clock, FetchFunction fetch)
    : settings_(std::move(settings)),
      clock_(clock),
      fetch_(std::move(fetch)),
      saved_(settings_.data_dir, settings_.name()),
      published_(std::make_shared<const Published>(Published{nullptr, 0, "not fetched yet"})) {}

KeySource::~KeySource() { stop(); }

// The document saved by an earlier run: its keys serve until the first fetch (or, if the
// provider is down, until max_stale after they were fetched).
void KeySource::restore_saved() {
  auto saved = saved_.read();
  if (!saved) return;
  if (!*saved) {
    spdlog::warn("jwks {}: the saved keys are not used: {}", settings_.name(),
                 saved->error().detail);
    return;
  }
  auto keys = jose::parse_verification_keys((*saved)->document);
  if (!keys) {
    spdlog::warn("jwks {}: the saved keys in {} are not used: {}", settings_.name(), saved_.path(),
                 keys.error().message());
    return;
  }
  spdlog::info("jwks {}: {} keys read from {} (fetched at {})", settings_.name(),
               keys->keys().size(), saved_.path(), (*saved)->fetched_at);
  published_.store(std::make_shared<const Published>(
      Published{std::make_shared<const jose::KeySet>(std::move(*keys)), (*saved)->fetched_at,
                "not fetched yet"}));
}

void KeySource::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void KeySource::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    waiting_.clear();
  }
  wake_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void KeySource::run() {
  for (;;) {
    const seconds next = fetch_now();
    std::unique_lock lock(mutex_);
    next_fetch_at_ = clock_.now_seconds() + next.count();
    wake_.wait_for(lock, next, [this] { return stopping_ || refetch_asked_; });
    if (stopping_) return;
  }
}

KeySource::Keys KeySource::current() const {
  const std::shared_ptr<const Published> now = published_.load();
  if (!now->keys) return {nullptr, now->last_error};
  const UnixSeconds age = clock_.now_seconds() - now->fetched_at;
  if (age > settings_.max_stale.count()) {
    return {nullptr, "the last good keys were fetched " + std::to_string(age) +
                         "s ago, longer than jwks_max_stale (" +
                         duration_text(settings_.max_stale) + "): " + now->last_error};
  }
  return {now->keys, now->last_error};
}

KeySource::Figures KeySource::figures() const {
  Figures figures;
  {
    std::lock_guard lock(mutex_);
    figures.fetches_ok = fetches_ok_;
    figures.fetches_failed = fetches_failed_;
    figures.next_fetch_at = next_fetch_at_;
  }
  const std::shared_ptr<const Published> now = published_.load();
  if (now->keys) figures.fetched_at = now->fetched_at;
  figures.last_error = now->last_error;
  if (auto usable = current().keys) figures.keys = usable->keys().size();
  return figures;
}

std::optional<KeySource::Ticket> KeySource::refetch() {
  std::unique_lock lock(mutex_);
  if (started_ > completed_) return started_;  // under way: its keys are the newest
  if (refetch_asked_) return started_ + 1;     // asked for: the next one
  const auto now = std::chrono::steady_clock::now();
  if (last_refetch_ && now - *last_refetch_ < settings_.min_refetch) return std::nullopt;
  last_refetch_ = now;
  refetch_asked_ = true;
  lock.unlock();
  wake_.notify_all();
  return started_ + 1;
}

void KeySource::when_fetched(Ticket ticket, std::function<void()> done) {
  {
    std::lock_guard lock(mutex_);
    if (completed_ < ticket) {
      if (!stopping_) waiting_.emplace_back(ticket, std::move(done));
      return;
    }
  }
  done();
}

seconds KeySource::fetch_now() {
  {
    std::lock_guard lock(mutex_);
    ++started_;
    refetch_asked_ = false;
  }
  Result<Fetched> fetched = fetch_keys();
  const UnixSeconds now = clock_.now_seconds();
  const std::shared_ptr<const Published> before = published_.load();
  seconds next = std::min(settings_.min_refetch, settings_.refresh);
  if (fetched) {
    next = refresh_interval(settings_.refresh, fetched->max_age);
    if (!before->keys || !before->last_error.empty() || !before->keys->same_as(fetched->keys)) {
      spdlog::info("jwks {}: {} keys fetched from {}", settings_.name(),
                   fetched->keys.keys().size(), fetched->jwks_uri);
    }
    published_.store(std::make_shared<const Published>(
        Published{std::make_shared<const jose::KeySet>(std::move(fetched->keys)), now, ""}));
    if (auto written = saved_.write({fetched->jwks_uri, fetched->document, now}); !written) {
      spdlog::warn("jwks {}: the keys are not saved: {}", settings_.name(), written.error().detail);
    }
  } else {
    const std::string& why = fetched.error().detail;
    if (before->keys) {
      spdlog::warn("jwks {}: fetch failed, the keys fetched at {} stay in use: {}",
                   settings_.name(), before->fetched_at, why);
    } else {
      spdlog::error("jwks {}: fetch failed, no keys to verify tokens with: {}", settings_.name(),
                    why);
    }
    published_.store(
        std::make_shared<const Published>(Published{before->keys, before->fetched_at, why}));
  }
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard lock(mutex_);
    ++(fetched ? fetches_ok_ : fetches_failed_);
    completed_ = started_;
    auto done = std::stable_partition(waiting_.begin(), waiting_.end(),
                                      [&](const auto& w) { return w.first > completed_; });
    for (auto it = done; it != waiting_.end(); ++it) ready.push_back(std::move(it->second));
    waiting_.erase(done, waiting_.end());
  }
  for (auto& done : ready) done();
  return next;
}

Result<std::string> KeySource::discover_jwks_uri() const {
  std::string base = settings_.issuer;
  if (!base.empty() && base.back() == '/') base.pop_back();
  const std::string url = base + "/.well-known/openid-configuration";
  auto document = fetch_(url);
  if (!document) return document.error();
  const auto json = nlohmann::json::parse(document->body, nullptr, false);
  if (!json.is_object()) return fetch_error(url + ": not a JSON object");
  auto issuer = json.find("issuer");
  if (issuer == json.end() || !issuer->is_string()) {
    return fetch_error(url + ": no \"issuer\"");
  }
  if (issuer->get<std::string>() != settings_.issuer) {
    return fetch_error(url + ": its issuer \"" + issuer->get<std::string>() +
                       "\" is not the configured \"" + settings_.issuer + "\"");
  }
  auto jwks_uri = json.find("jwks_uri");
  if (jwks_uri == json.end() || !jwks_uri->is_string()) {
    return fetch_error(url + ": no \"jwks_uri\"");
  }
  if (auto parsed = fetch::parse_https_url(jwks_uri->get<std::string>()); !parsed) {
    return fetch_error(url + ": jwks_uri " + parsed.error().detail);
  }
  return jwks_uri->get<std::string>();
}

Result<KeySource::Fetched> KeySource::fetch_keys() const {
  Fetched out;
  if (settings_.jwks_uri.empty()) {
    auto discovered = discover_jwks_uri();
    if (!discovered) return discovered.error();
    out.jwks_uri = std::move(*discovered);
  } else {
    out.jwks_uri = settings_.jwks_uri;
  }
  auto document = fetch_(out.jwks_uri);
  if (!document) return document.error();
  auto keys = jose::parse_verification_keys(document->body);
  if (!keys) return fetch_error(out.jwks_uri + ": no usable JWKS: " + keys.error().message());
  if (keys->empty()) return fetch_error(out.jwks_uri + ": no usable JWKS: no key");
  out.keys = std::move(*keys);
  out.document = std::move(document->body);
  out.max_age = document->max_age;
  return out;
}

}  // namespace jotgate::jwks
