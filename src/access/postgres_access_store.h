// PostgresAccessStore: the AccessStore and the VirtualProxyStore in PostgreSQL, shared by several
// gateway nodes. The schema
// is created and migrated at open (versioned, under an advisory lock: nodes may start at once);
// seats are handed out under an advisory lock, so never more than configured; every commit that
// changes allocations, seats or revocations sends NOTIFY jotgate_access_changed (recording last
// use does not), which a listening connection turns into a new data_version() and a wake-up;
// a change to the virtual proxies sends NOTIFY jotgate_virtual_proxies_changed, its own wake-up.
// A lost connection fails the call ("database unavailable: ..."); the next call after a backoff
// connects again.
//   auto store = PostgresAccessStore::open({"postgresql://jotgate@db/jotgate", password});
//   store->on_change([&] { maintenance.wake(); });
//   store->take_seat(user, 10, now);
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "access/access_store.h"
#include "access/virtual_proxy_store.h"
#include "postgres/connection.h"

namespace jotgate::access {

class PostgresAccessStore final : public AccessStore, public VirtualProxyStore {
 public:
  static Result<std::unique_ptr<PostgresAccessStore>> open(
      const postgres::ConnectionSettings& settings);
  ~PostgresAccessStore() override;

  Result<bool> grant(const UserIdentity& user, UnixSeconds now) override;
  Result<bool> revoke(const UserIdentity& user) override;
  Result<std::vector<Allocation>> list() override;
  Result<std::int64_t> seats_used() override;
  Result<bool> take_seat(const UserIdentity& user, std::int64_t seats, UnixSeconds now) override;
  Result<void> record_last_use(
      const std::vector<std::pair<UserIdentity, UnixSeconds>>& uses) override;
  Result<Revocation> add_revocation(Revocation revocation) override;
  Result<std::vector<Revocation>> revocations() override;
  Result<bool> lift_revocation(std::int64_t id) override;
  Result<std::int64_t> prune_revocations(UnixSeconds now) override;
  Result<std::int64_t> data_version() override { return version_.load(); }

  bool remote() const override { return true; }
  std::string unreachable() const override;
  void on_change(std::function<void()> wake) override;

  Result<std::vector<StoredVirtualProxy>> list_virtual_proxies() override;
  Result<bool> create_virtual_proxy(const StoredVirtualProxy& stored) override;
  Result<bool> replace_virtual_proxy(const StoredVirtualProxy& stored) override;
  Result<bool> remove_virtual_proxy(const std::string& prefix) override;
  void on_virtual_proxies_change(std::function<void()> wake) override;

 private:
  explicit PostgresAccessStore(postgres::ConnectionSettings settings);

  // Runs `work` on the connection (connecting first, unless a failure is too recent); a lost
  // connection is dropped and its error returned.
  template <class T>
  Result<T> with_connection(const std::function<Result<T>(postgres::Connection&)>& work);
  void listen_loop(std::unique_ptr<postgres::Connection> db);
  void changed();
  void virtual_proxies_changed();
  void note_problem(const std::string& problem);

  const postgres::ConnectionSettings settings_;

  std::mutex connection_mutex_;
  std::unique_ptr<postgres::Connection> connection_;
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_{0};
  std::string connection_error_;  // why the last connect or call failed, while in backoff

  mutable std::mutex problem_mutex_;
  std::string problem_;  // "" while reachable

  std::atomic<std::int64_t> version_{1};
  std::mutex wake_mutex_;
  std::function<void()> wake_;
  std::function<void()> virtual_proxies_wake_;

  std::atomic<bool> stopping_{false};
  int stop_pipe_[2] = {-1, -1};  // written at destruction: the listener's poll returns at once
  std::thread listener_;
};

}  // namespace jotgate::access
