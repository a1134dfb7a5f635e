#include "auth/redis_ticket_store.h"

#include <array>
#include <utility>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "base/hex.h"
#include "base/random.h"
#include "jose/base64url.h"
#include "redis/redis_client.h"

namespace jotgate::auth {

namespace {

// A redemption nobody came back for (the client went away while it waited) is forgotten after
// this long.
constexpr std::chrono::seconds kForgetAfter{30};

std::string value_of(const TicketGrant& grant) {
  nlohmann::json attributes = nlohmann::json::array();
  for (const auto& [name, value] : grant.attributes) attributes.push_back({name, value});
  return nlohmann::json{{"dir", grant.user.directory},
                        {"user", grant.user.id},
                        {"attrs", attributes},
                        {"expires", grant.expires_at}}
      .dump();
}

std::optional<TicketGrant> parse_grant(const std::string& text) {
  auto json = nlohmann::json::parse(text, nullptr, false);
  if (!json.is_object()) return std::nullopt;
  try {
    TicketGrant grant;
    grant.user = {json.at("dir").get<std::string>(), json.at("user").get<std::string>()};
    for (const auto& pair : json.at("attrs")) {
      grant.attributes.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
    }
    grant.expires_at = json.at("expires").get<UnixSeconds>();
    return grant;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

// One GETDEL under way or done: filled on the client's thread before `done` finishes.
struct RedisTicketStore::Taking {
  std::shared_ptr<Pending> done = std::make_shared<Pending>();
  std::optional<TicketGrant> grant;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

RedisTicketStore::RedisTicketStore(std::shared_ptr<redis::RedisClient> client,
                                   std::string key_prefix, const std::string& virtual_proxy_prefix)
    : client_(std::move(client)),
      key_prefix_(std::move(key_prefix) +
                  "ticket:" + (virtual_proxy_prefix.empty() ? "~" : virtual_proxy_prefix) + ":") {}

std::string RedisTicketStore::key_of(std::string_view ticket) const {
  return key_prefix_ + hex_encode(ticket_digest(ticket));
}

Result<std::string> RedisTicketStore::issue(TicketGrant grant, UnixSeconds now) {
  std::array<unsigned char, 32> bytes{};
  random_bytes(bytes);
  std::string ticket =
      jose::base64url_encode({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
  const std::string lifetime_ms =
      std::to_string(std::max<UnixSeconds>(grant.expires_at - now, 1) * 1000);
  auto stored =
      client_->send_and_wait({{"SET", key_of(ticket), value_of(grant), "PX", lifetime_ms}});
  if (!stored) return stored.error();
  if (stored->empty() || stored->front().type != redis::Reply::Type::kStatus) {
    return make_error(Reason::kSessionStoreUnavailable,
                      "the ticket could not be stored: " +
                          (stored->empty() ? std::string("no reply") : stored->front().text));
  }
  return ticket;
}

Redemption RedisTicketStore::take(std::string_view ticket, UnixSeconds now) {
  const std::string digest = ticket_digest(ticket);
  std::lock_guard lock(mutex_);
  auto it = taking_.find(digest);
  if (it != taking_.end()) {
    std::shared_ptr<Taking> taking = it->second;
    if (!taking->done->finished()) return {Redemption::Status::kPending, {}, taking->done};
    if (!taking->done->ok()) {
      taking_.erase(it);  // the next request with this ticket asks Redis again
      return {Redemption::Status::kUnavailable, {}, nullptr};
    }
    // The grant goes to the first request that comes back for it; the others that waited on
    // the same GETDEL (and any later one, until expire() forgets it) find it used.
    std::optional<TicketGrant> grant = std::exchange(taking->grant, std::nullopt);
    if (!grant || grant->expires_at <= now) return {};
    return {Redemption::Status::kRedeemed, std::move(*grant), nullptr};
  }
  if (!client_->connected()) return {Redemption::Status::kUnavailable, {}, nullptr};
  auto taking = std::make_shared<Taking>();
  taking_.emplace(digest, taking);
  client_->send({{"GETDEL", key_of(ticket)}}, [taking](Result<redis::Replies> replies) {
    if (!replies)
      spdlog::warn("session store: redeeming a ticket failed: {}", replies.error().message());
    const bool ok =
        replies && !replies->empty() && replies->front().type != redis::Reply::Type::kError;
    if (ok && replies->front().type == redis::Reply::Type::kString) {
      taking->grant = parse_grant(replies->front().text);
    }
    taking->done->finish(ok);
  });
  return {Redemption::Status::kPending, {}, taking->done};
}

void RedisTicketStore::expire(UnixSeconds /*now*/) {
  const auto forget_before = std::chrono::steady_clock::now() - kForgetAfter;
  std::lock_guard lock(mutex_);
  std::erase_if(taking_, [&](const auto& entry) {
    return entry.second->done->finished() && entry.second->started < forget_before;
  });
}

}  // namespace jotgate::auth
