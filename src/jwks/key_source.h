// KeySource: the verification keys an identity provider publishes, fetched from its JWKS URL (or
// the jwks_uri its OpenID discovery document names) and kept fresh on a thread of its own.
// Requests never wait for the network except through refetch(): a token whose kid is unknown
// asks for one fetch, at most once per min_refetch, shared by every request asking meanwhile.
// A failed fetch keeps the last good keys until max_stale has passed since they were fetched;
// the last good document is saved in data_dir and read back at construction, so a restart
// during an outage still has keys.
//   auto source = KeySource::create(settings, clock);   // reads the saved document
//   source->start();                                      // first fetch now, then every refresh
//   KeySource::Keys now = source->current();              // null keys: none usable (now.problem)
//   if (auto wait = source->refetch()) source->when_fetched(*wait, [] { decide_again(); });
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "fetch/https_get.h"
#include "jose/key.h"
#include "jwks/saved_keys.h"

namespace jotgate::jwks {

struct SourceSettings {
  std::string jwks_uri;  // the JWKS URL; or, when empty,
  std::string issuer;    // discovery: <issuer>/.well-known/openid-configuration names it
  std::string ca_file;   // trusted CA certificates (PEM); "" = the system's
  std::chrono::milliseconds timeout{5000};  // per document fetched
  std::chrono::seconds refresh{300};        // a max-age between 1m and 24h takes precedence
  std::chrono::seconds min_refetch{30};     // kid-miss refetches at most this often
  std::chrono::seconds max_stale{86400};    // last good keys are used this long after their fetch
  std::string data_dir;                     // where the last good document is saved; "" = nowhere
  bool operator==(const SourceSettings&) const = default;
  // The configured URI or issuer: names the source in logs and its saved document.
  const std::string& name() const { return jwks_uri.empty() ? issuer : jwks_uri; }
};

// GET a URL; the HTTPS fetch (fetch::https_get with the source's CA and timeout) unless a test
// injects another.
using FetchFunction = std::function<Result<fetch::Document>(const std::string& url)>;

// The refresh interval after a fetch that answered `max_age`: a max-age between 1m and 24h
// takes precedence over `refresh`; others are ignored.
std::chrono::seconds refresh_interval(std::chrono::seconds refresh,
                                      std::optional<std::chrono::seconds> max_age);

class KeySource {
 public:
  struct Keys {
    std::shared_ptr<const jose::KeySet> keys;  // null: none usable
    std::string problem;                       // why none, or why the last fetch failed
  };
  // For the metrics.
  struct Figures {
    std::uint64_t fetches_ok = 0;
    std::uint64_t fetches_failed = 0;
    std::optional<UnixSeconds> fetched_at;     // of the keys in use
    std::size_t keys = 0;                      // usable now (0 past max_stale)
    std::optional<UnixSeconds> next_fetch_at;  // the next scheduled fetch; none: not started
    std::string last_error;                    // of the last fetch; "" when it succeeded
  };
  // A fetch to wait for (see refetch).
  using Ticket = std::uint64_t;

  static std::shared_ptr<KeySource> create(SourceSettings settings, const Clock& clock,
                                           FetchFunction fetch = {});
  ~KeySource();  // stops the thread
  KeySource(const KeySource&) = delete;
  KeySource& operator=(const KeySource&) = delete;

  const SourceSettings& settings() const { return settings_; }
  // Starts the thread: a fetch at once, then every refresh interval (after a failure: every
  // min(min_refetch, refresh)). Idempotent.
  void start();
  // Stops the thread promptly (also when it waits for the next refresh); callbacks still
  // waiting are dropped, not called.
  void stop();

  Keys current() const;
  Figures figures() const;

  // A token names a kid the keys do not know. A ticket for the fetch that will answer it (one
  // under way, one already asked for, or a new one); nullopt when a kid-miss fetch started less
  // than min_refetch ago: the kid is unknown.
  std::optional<Ticket> refetch();
  // Calls `done` once fetch `ticket` ended (at once if it has; else on the source's thread).
  void when_fetched(Ticket ticket, std::function<void()> done);

  // One fetch on the caller's thread (the source's thread calls it; tests too). Returns the
  // time until the next refresh.
  std::chrono::seconds fetch_now();

 private:
  KeySource(SourceSettings settings, const Clock& clock, FetchFunction fetch);
  struct Fetched {
    std::string jwks_uri;
    std::string document;
    jose::KeySet keys;
    std::optional<std::chrono::seconds> max_age;
  };
  Result<Fetched> fetch_keys() const;
  Result<std::string> discover_jwks_uri() const;
  void restore_saved();
  void run();

  const SourceSettings settings_;
  const Clock& clock_;
  const FetchFunction fetch_;
  const SavedKeys saved_;

  // What requests read, replaced as a whole by each fetch: they take no lock.
  struct Published {
    std::shared_ptr<const jose::KeySet> keys;  // the last good keys; null: never any
    UnixSeconds fetched_at = 0;                // when they were fetched
    std::string last_error;                    // of the last fetch; "" when it succeeded
  };
  std::atomic<std::shared_ptr<const Published>> published_;

  mutable std::mutex mutex_;  // guards what follows
  std::condition_variable wake_;
  std::uint64_t fetches_ok_ = 0;
  std::uint64_t fetches_failed_ = 0;
  std::optional<UnixSeconds> next_fetch_at_;  // set by run() after each fetch
  Ticket started_ = 0;                        // fetches started
  Ticket completed_ = 0;                      // fetches ended
  bool refetch_asked_ = false;
  std::optional<std::chrono::steady_clock::time_point> last_refetch_;
  std::vector<std::pair<Ticket, std::function<void()>>> waiting_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace jotgate::jwks
