// Admission: what the gateway does with a request head, decided without a socket: answer it
// itself (a refusal, a preflight, an endpoint, a ticket redirect), read a small form first (POST
// .auth/session), or forward it as the user the gate signed in. Everything before the first
// byte goes upstream is decided here; the connection only reads, writes and relays.
//   Admission a = admit({head, target, keep_alive, body_pending, length}, {ip, tls}, listener,
//                       runtime);
//   switch (a.action) { case Admission::kAnswer: write(a.answer, a.keep_alive); ... }
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>

#include "auth/gate.h"
#include "base/answer.h"
#include "proxy/request_identity.h"
#include "proxy/request_path.h"
#include "proxy/runtime.h"

namespace jotgate::proxy {

namespace http = boost::beast::http;

// The client of a connection, as admission needs to know it.
struct ClientInfo {
  std::string_view ip;  // "" when unknown
  bool tls = false;
};

// A request head as read from the client.
struct RequestHead {
  const http::request_header<>& header;
  std::string_view target;    // a copy the caller keeps (the header's is rewritten when forwarding)
  bool keep_alive = true;     // the client keeps the connection open (version, Connection)
  bool body_pending = false;  // a body follows that is not read yet
  std::optional<std::uint64_t> content_length;
  const RequestIdentity* identity = nullptr;  // its ids go into audit lines and upstream
  // A token whose kid is unknown may make the request wait for its keys (kWaitForKeys); false
  // once it has waited.
  bool may_refetch_keys = true;
  // A session, ticket or seat a shared store must be asked for may make the request wait
  // (kWaitForStore) this many more times; then it is SESSION_STORE_UNAVAILABLE.
  int store_waits_left = 2;
};

struct Admission {
  // kWaitForKeys: the token's kid is unknown and its identity provider's keys are being
  // fetched again; the connection waits for them (keys_wait), then admits the request again
  // with RequestHead::may_refetch_keys false.
  // kWaitForStore: the request's session, ticket or seat is being read from a shared store;
  // the connection waits for it (store_wait), then admits the request again.
  enum Action { kAnswer, kReadForm, kForward, kWaitForKeys, kWaitForStore };
  Action action = kAnswer;
  const VirtualProxyRuntime* vp = nullptr;  // null before a virtual proxy was matched
  std::string cors_origin;  // an allowed Origin: the answer carries its CORS headers
  const RequestIdentity* identity = nullptr;  // RequestHead's

  // kAnswer: what to answer, and whether the connection may serve a next request afterwards
  // (never while an unread body is pending).
  Answer answer;
  bool keep_alive = false;

  // kReadForm and kForward.
  RouteMatch match;
  RequestTarget target;
  std::string_view endpoint;                // kReadForm: the gateway endpoint the form is for
  auth::Decision decision;                  // kForward: who the request goes upstream as
  bool websocket = false;                   // kForward: an upgrade to WebSocket
  std::optional<auth::KeysWait> keys_wait;  // kWaitForKeys
  std::shared_ptr<Pending> store_wait;      // kWaitForStore
  // kAnswer and kForward: a new session being written to a shared store; the connection
  // answers only once it finished ok, else SESSION_STORE_UNAVAILABLE.
  std::shared_ptr<Pending> store_commit;
  // How the gate decided, when it was asked (the connection counts it in the metrics).
  std::optional<auth::DecisionStats> gate_decision;
};

// The gate's view of a request head.
class HeadView final : public auth::RequestView {
 public:
  HeadView(const http::request_header<>& head, const ClientInfo& client, bool trusted,
           const RequestIdentity* identity = nullptr, bool may_refetch_keys = false,
           bool may_wait_for_store = false)
      : head_(head),
        client_(client),
        trusted_(trusted),
        identity_(identity),
        may_refetch_keys_(may_refetch_keys),
        may_wait_for_store_(may_wait_for_store) {}
  std::string_view method() const override { return head_.method_string(); }
  std::optional<std::string_view> header(std::string_view name) const override;
  std::vector<std::string_view> headers(std::string_view name) const override;
  bool is_tls() const override { return client_.tls; }
  bool trusted_listener() const override { return trusted_; }
  std::string_view client_ip() const override { return client_.ip; }
  RequestIds ids() const override { return identity_ ? identity_->ids() : RequestIds{}; }
  bool may_refetch_keys() const override { return may_refetch_keys_; }
  bool may_wait_for_store() const override { return may_wait_for_store_; }

 private:
  const http::request_header<>& head_;
  const ClientInfo& client_;
  bool trusted_;
  const RequestIdentity* identity_;
  bool may_refetch_keys_;
  bool may_wait_for_store_;
};

// Counts a gate decision into the virtual proxy's metrics (on worker `worker`'s thread):
// accepted or rejected with its reason, the token cache lookup, a session created.
void count_decision(metrics::VirtualProxyMetrics& counters, std::size_t worker,
                    const auth::DecisionStats& decided);

Admission admit(const RequestHead& request, const ClientInfo& client,
                const ListenerRuntime& listener, const Runtime& runtime);

// The answer to a gateway endpoint once its form (the body of `head`, at most kMaxFormBytes) was
// read; `admission` is the kReadForm that asked for it. `decided`: how the gate decided, if
// it was asked.
Answer answer_form(const Admission& admission, const http::request_header<>& head,
                   std::string_view form, const ClientInfo& client, const ListenerRuntime& listener,
                   std::optional<auth::DecisionStats>* decided = nullptr);

}  // namespace jotgate::proxy
