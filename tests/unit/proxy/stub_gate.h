// StubGate / StubGateSet: a gate for proxy tests over real sockets. A test states only how
// check() decides; the rest behaves like a gate without sessions (the gateway's endpoints,
// tickets and the admin API are tested end to end against the real gates).
//   class AllowAll final : public StubGate { auth::Decision check(...) override {...} };
//   StubGateSet<AllowAll> gates;   server.start(config, gates);
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/gate.h"

namespace jotgate::proxy {

class StubGate : public auth::Gate {
 public:
  explicit StubGate(std::vector<std::string> reserved) : reserved_(std::move(reserved)) {}
  void touch(std::uint64_t) override {}
  std::optional<auth::SessionInfo> session_info(const auth::RequestView&) override {
    return std::nullopt;
  }
  std::string end_session(const auth::RequestView&) override { return "s=; Max-Age=0"; }
  auth::Decision sign_in(const auth::RequestView& request, std::string_view) override {
    return check(request);
  }
  auth::Decision redeem_ticket(const auth::RequestView& request, std::string_view) override {
    return check(request);
  }
  auth::TokenCheck check_token(std::string_view) override { return {}; }
  const std::vector<std::string>& reserved_request_headers() const override { return reserved_; }
  std::size_t live_sessions() const override { return 0; }
  std::size_t keys_loaded() const override { return 0; }
  std::string keys_problem() const override { return ""; }

 private:
  std::vector<std::string> reserved_;
};

template <class Gate>
class StubGateSet final : public auth::GateSet {
 public:
  auth::Gate& gate(std::size_t) override { return gate_; }
  auth::SessionAdmin& admin() override { throw std::logic_error("no admin API here"); }
  auth::Revocations& revocations() override { throw std::logic_error("no admin API here"); }
  auth::AccessCache& access() override { throw std::logic_error("no admin API here"); }
  Result<bool> grant_access(const UserIdentity&) override {
    throw std::logic_error("no admin API here");
  }
  Result<bool> revoke_access(const UserIdentity&) override {
    throw std::logic_error("no admin API here");
  }
  void maintain() override {}
  void activate() override {}
  void restore_sessions() override {}
  bool save_sessions() override { return true; }
  std::string session_store_problem() const override { return ""; }
  Gate gate_;
};

}  // namespace jotgate::proxy
