#include "auth/remote_keys.h"

#include <algorithm>
#include <utility>

#include "jose/jws.h"

namespace jotgate::auth {

namespace {

// The source may fetch discovery and JWKS one after the other; a little more for the rest.
std::chrono::milliseconds wait_limit(const jwks::SourceSettings& settings) {
  return 2 * settings.timeout + std::chrono::milliseconds(1000);
}

}  // namespace

bool key_missing(const Error& error, const jose::ParsedJws& jws, const jose::KeySet& keys) {
  // No key to try (of the kid, or of the algorithm's type: a provider may rotate to another).
  const bool no_key =
      error.reason == Reason::kNoMatchingKey || error.reason == Reason::kAlgKeyMismatch;
  if (!no_key || jws.kid.empty()) return false;
  return std::none_of(keys.keys().begin(), keys.keys().end(),
                      [&](const jose::Key& key) { return key.kid == jws.kid; });
}

jwks::SourceSettings source_settings(const config::JwksSettings& jwks, const std::string& issuer) {
  jwks::SourceSettings out;
  out.jwks_uri = jwks.uri;
  if (jwks.discovery) out.issuer = issuer;
  out.ca_file = jwks.ca;
  out.timeout = jwks.timeout;
  out.refresh = std::chrono::seconds(jwks.refresh_seconds);
  out.min_refetch = std::chrono::seconds(jwks.min_refetch_seconds);
  out.max_stale = std::chrono::seconds(jwks.max_stale_seconds);
  out.data_dir = jwks.data_dir;
  return out;
}

RemoteKeys::RemoteKeys(jose::VerifierSettings settings, std::shared_ptr<jwks::KeySource> source)
    : settings_(std::move(settings)), source_(std::move(source)) {}

std::shared_ptr<const RemoteKeys::Verifier> RemoteKeys::verifier_for(
    std::shared_ptr<const jose::KeySet> keys) const {
  auto built = verifier_.load();
  if (built && built->keys == keys) return built;
  // Threads racing here build the same verifier; the last one stored wins, each is correct.
  built =
      std::make_shared<const Verifier>(Verifier{keys, jose::JwtVerifier::create(settings_, *keys)});
  verifier_.store(built);
  return built;
}

Result<jose::VerifiedJwt> RemoteKeys::verify(jose::ParsedJws& jws, UnixSeconds now,
                                             KeysWait* wait) const {
  const jwks::KeySource::Keys current = source_->current();
  if (!current.keys) return make_error(Reason::kKeysUnavailable);
  const auto built = verifier_for(current.keys);
  if (!built->verifier) return make_error(Reason::kKeysUnavailable);  // none fits the algorithms
  auto jwt = built->verifier->verify(jws, now);
  if (jwt || !key_missing(jwt.error(), jws, *current.keys)) return jwt;
  if (wait == nullptr) return make_error(Reason::kKeyNotFound);
  auto ticket = source_->refetch();
  if (!ticket) return make_error(Reason::kKeyNotFound);  // fetched a moment ago: it is unknown
  wait->when_fetched = [source = source_, ticket = *ticket](std::function<void()> done) {
    source->when_fetched(ticket, std::move(done));
  };
  wait->limit = wait_limit(source_->settings());
  return make_error(Reason::kKeysRefreshing);
}

std::size_t RemoteKeys::keys_loaded() const {
  const auto keys = usable_keys();
  return keys ? keys->keys().size() : 0;
}

std::shared_ptr<const jose::KeySet> RemoteKeys::usable_keys() const {
  auto keys = source_->current().keys;
  if (!keys || !verifier_for(keys)->verifier) return nullptr;
  return keys;
}

KeySourceStatus RemoteKeys::status() const {
  const jwks::KeySource::Figures figures = source_->figures();
  return {source_->settings().name(), figures.fetches_ok, figures.fetches_failed,
          figures.fetched_at,         figures.keys,       figures.next_fetch_at,
          figures.last_error};
}

}  // namespace jotgate::auth
