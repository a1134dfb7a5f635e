// TokenCheck: the token workbench's diagnosis of one token against one virtual proxy: the
// decoded header and claims, every check the gateway makes, each passed, failed (with the exact
// reason the gateway answers for it) or not reached, and what the gateway would answer. Filled
// by JwtAuthenticator::diagnose and Gate::check_token with the gateway's own step functions, so
// it cannot disagree with the gateway. Holds no copy of the token.
//   TokenCheck check = gates->gate(index).check_token(token);
//   check.step(CheckStep::kExp).reason;   // Reason::kTokenExpired
//   check.status;                         // 401
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/answer.h"
#include "base/clock.h"
#include "base/identity.h"
#include "base/result.h"

namespace jotgate::auth {

// The checks, in the order the gateway makes them (the workbench's answer lists them so).
enum class CheckStep {
  kFormat,
  kAlgorithm,
  kKey,
  kSignature,
  kExp,
  kNbf,
  kIat,
  kIssuer,
  kAudience,
  kRequiredClaims,
  kIdentity,
  kRevocation,
  kAllocation,
};
inline constexpr std::size_t kCheckStepCount = 13;

// "format", "algorithm", ..., "required_claims", ..., "allocation".
std::string_view check_step_name(CheckStep step);

struct CheckOutcome {
  std::optional<bool> passed;    // nullopt: not reached, or not applicable
  std::optional<Reason> reason;  // when failed: what the gateway answers for it
  std::string detail;            // one sentence
};

struct TokenCheck {
  TokenCheck();

  // Decoded from the token's first two parts, whatever its signature; nullopt: undecodable.
  std::optional<nlohmann::json> header;
  std::optional<nlohmann::json> claims;
  std::array<CheckOutcome, kCheckStepCount> steps;

  // What the gateway would answer: accepted (200), or the first refusal in its order.
  bool accepted = false;
  int status = 200;
  std::optional<Reason> reason;
  std::string message;  // the "message" of the gateway's JSON answer

  // The user the claims name (when the identity check passed), and what a revocation matches.
  std::optional<UserIdentity> user;
  std::string token_id;
  std::optional<UnixSeconds> issued_at;

  CheckOutcome& step(CheckStep which) { return steps[static_cast<std::size_t>(which)]; }
  const CheckOutcome& step(CheckStep which) const { return steps[static_cast<std::size_t>(which)]; }
  void pass(CheckStep which, std::string detail);
  void fail(CheckStep which, Reason reason, std::string detail);
  void skip(CheckStep which, std::string detail);  // not reached or not applicable
  // The gateway's answer to `reason` (in `context`: realm, the user ACCESS_DENIED names).
  void refuse(Reason reason, const AnswerContext& context);
  void accept(std::string message);
};

// The header and claims of a token as the gateway's strict JSON parser reads them (no repeated
// member names), whether or not the rest of the token holds.
void decode_token(std::string_view token, TokenCheck& check);

}  // namespace jotgate::auth
