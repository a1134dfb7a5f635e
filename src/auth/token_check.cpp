// TokenCheck and JwtAuthenticator::diagnose: the token workbench's steps, each one of the
// gateway's own functions (jose/jws.h, jose/jwt_verifier.h, remote keys) called alone.
#include "auth/token_check.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "auth/credential.h"
#include "auth/jwt_authenticator.h"
#include "auth/remote_keys.h"
#include "base/timestamp.h"
#include "jose/base64url.h"
#include "jose/jws.h"
#include "jose/jwt_verifier.h"

namespace jotgate::auth {

namespace {

constexpr std::array<std::string_view, kCheckStepCount> kStepNames = {
    "format",   "algorithm",       "key",      "signature",  "exp",       "nbf", "iat", "issuer",
    "audience", "required_claims", "identity", "revocation", "allocation"};

std::optional<nlohmann::json> decode_part(std::string_view part) {
  auto text = jose::base64url_decode(part);
  if (!text) return std::nullopt;
  auto parsed = jose::parse_json_object(*text, Reason::kPayloadNotJsonObject);
  if (!parsed) return std::nullopt;
  return std::move(*parsed);
}

// A NumericDate as a time people read ("2027-01-15T08:00:00Z"), whole seconds.
std::string time_text(double date) {
  return format_timestamp(static_cast<UnixSeconds>(std::floor(std::clamp(date, 0.0, 2.5e11))));
}

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

bool is_algorithm_reason(Reason reason) {
  return reason == Reason::kAlgMissing || reason == Reason::kAlgNone ||
         reason == Reason::kAlgNotAllowed;
}

}  // namespace

std::string_view check_step_name(CheckStep step) {
  return kStepNames[static_cast<std::size_t>(step)];
}

TokenCheck::TokenCheck() {
  for (auto& outcome : steps) outcome.detail = "not reached";
}

void TokenCheck::pass(CheckStep which, std::string detail) {
  step(which) = {true, std::nullopt, std::move(detail)};
}

void TokenCheck::fail(CheckStep which, Reason reason, std::string detail) {
  step(which) = {false, reason, std::move(detail)};
}

void TokenCheck::skip(CheckStep which, std::string detail) {
  step(which) = {std::nullopt, std::nullopt, std::move(detail)};
}

void TokenCheck::refuse(Reason refusal, const AnswerContext& context) {
  AnswerContext as_json = context;
  as_json.json = true;
  const Answer answer = answer_for(make_error(refusal), as_json);
  accepted = false;
  status = answer.status;
  reason = refusal;
  message = nlohmann::json::parse(answer.body).at("message").get<std::string>();
}

void TokenCheck::accept(std::string text) {
  accepted = true;
  status = 200;
  reason.reset();
  message = std::move(text);
}

void decode_token(std::string_view token, TokenCheck& check) {
  const auto first = token.find('.');
  if (first == std::string_view::npos) return;
  check.header = decode_part(token.substr(0, first));
  const auto rest = token.substr(first + 1);
  check.claims = decode_part(rest.substr(0, rest.find('.')));
}

void JwtAuthenticator::diagnose(std::string_view token, UnixSeconds now, TokenCheck& check) const {
  // format: the shape the gateway reads first (its payload is read after the signature).
  auto jws = jose::parse_compact(token, max_token_size_);
  if (!jws && is_algorithm_reason(jws.error().reason)) {
    check.pass(CheckStep::kFormat, "three base64url parts with a JSON object as header");
    check.fail(CheckStep::kAlgorithm, jws.error().reason, jws.error().message());
  } else if (!jws) {
    check.fail(CheckStep::kFormat, jws.error().reason, jws.error().message());
  } else if (auto payload = jose::parse_json_object(jws->payload, Reason::kPayloadNotJsonObject);
             !payload) {
    Error error = payload.error();
    if (error.reason == Reason::kDuplicateMember) error.detail = "payload";
    check.fail(CheckStep::kFormat, error.reason, error.message());
  } else {
    check.pass(CheckStep::kFormat, "three base64url parts; header and payload are JSON objects");
  }

  const nlohmann::json* claims = check.claims ? &*check.claims : nullptr;
  std::optional<std::string> iss;
  if (claims != nullptr) {
    if (auto it = claims->find("iss"); it != claims->end() && it->is_string()) {
      iss = it->get<std::string>();
    }
  }
  const TokenProvider* provider = provider_of(iss);
  if (provider == nullptr) {
    check.fail(CheckStep::kIssuer, Reason::kIssuerUnknown,
               iss ? "no identity provider of auth.jwt.providers has the issuer " + in_quotes(*iss)
                   : "the token has no string \"iss\" to choose an identity provider by");
    const std::string why = "not reached: no identity provider for this token's issuer";
    for (CheckStep step :
         {CheckStep::kKey, CheckStep::kSignature, CheckStep::kExp, CheckStep::kNbf, CheckStep::kIat,
          CheckStep::kAudience, CheckStep::kRequiredClaims, CheckStep::kIdentity}) {
      check.skip(step, why);
    }
    if (jws) check.skip(CheckStep::kAlgorithm, why);
    return;
  }
  const jose::VerifierSettings& settings = provider->settings();

  // algorithm, key, signature: as verify_signature, each step alone.
  if (jws) {
    const std::string alg(jose::algorithm_name(jws->alg));
    if (auto allowed = jose::check_algorithm(*jws, settings.algorithms); !allowed) {
      check.fail(CheckStep::kAlgorithm, allowed.error().reason,
                 alg + " is not among the allowed algorithms");
    } else {
      check.pass(CheckStep::kAlgorithm, alg + " is allowed");
    }
    const std::shared_ptr<const jose::KeySet> keys = provider->usable_keys();
    if (!keys || no_keys()) {
      check.fail(CheckStep::kKey, Reason::kKeysUnavailable,
                 "the virtual proxy has no usable keys: " + provider->keys_problem());
      check.skip(CheckStep::kSignature, "not reached: no key to check it with");
    } else if (auto candidates = jose::keys_for(*jws, *keys); !candidates) {
      Error error = candidates.error();
      std::string detail = error.message();
      if (provider->keys_fetched() && key_missing(error, *jws, *keys)) {
        error = make_error(Reason::kKeyNotFound);
        // This check fetches nothing: the gateway itself would fetch once more (at most every
        // jwks_min_refetch) and answer KEY_NOT_FOUND if the kid is still unknown.
        detail = "the identity provider's keys in force have no kid " + in_quotes(jws->kid) +
                 " (the gateway fetches them once more before refusing; this check does not)";
      }
      check.fail(CheckStep::kKey, error.reason, detail);
      check.skip(CheckStep::kSignature, "not reached: no key to check it with");
    } else {
      check.pass(CheckStep::kKey, jws->kid.empty()
                                      ? std::to_string(candidates->size()) + " key(s) fit " + alg +
                                            " (the token names no kid)"
                                      : "a key with kid " + in_quotes(jws->kid) + " fits " + alg);
      if (auto form = jose::check_signature_form(*jws); !form) {
        check.fail(CheckStep::kSignature, form.error().reason, form.error().message());
      } else if (auto verified = jose::verify_with_keys(*jws, *candidates); !verified) {
        check.fail(CheckStep::kSignature, verified.error().reason,
                   "the signature does not verify with the key(s) found");
      } else {
        check.pass(CheckStep::kSignature, "the signature verifies");
      }
    }
  } else {
    check.skip(CheckStep::kKey, "not reached: the token cannot be read");
    check.skip(CheckStep::kSignature, "not reached: the token cannot be read");
  }

  // The claims: as validate_claims, each step alone, whatever the signature said.
  if (claims == nullptr) {
    for (CheckStep step :
         {CheckStep::kExp, CheckStep::kNbf, CheckStep::kIat, CheckStep::kIssuer,
          CheckStep::kAudience, CheckStep::kRequiredClaims, CheckStep::kIdentity}) {
      check.skip(step, "not reached: the payload is not a JSON object");
    }
    return;
  }
  const std::string leeway = " (leeway " + std::to_string(settings.leeway_seconds) + " s)";
  if (auto exp = jose::numeric_date(*claims, "exp"); !exp) {
    check.fail(CheckStep::kExp, exp.error().reason, exp.error().message());
  } else if (!*exp) {
    check.pass(CheckStep::kExp, "no exp claim: the token does not expire");
  } else if (auto valid = jose::check_expiry(*exp, settings, now); !valid) {
    check.fail(CheckStep::kExp, valid.error().reason,
               "expired at " + time_text(**exp) + ", now " + format_timestamp(now) + leeway);
  } else {
    check.pass(CheckStep::kExp, "valid until " + time_text(**exp) + leeway);
  }
  if (auto nbf = jose::numeric_date(*claims, "nbf"); !nbf) {
    check.fail(CheckStep::kNbf, nbf.error().reason, nbf.error().message());
  } else if (!*nbf) {
    check.pass(CheckStep::kNbf, "no nbf claim: valid from the start");
  } else if (auto valid = jose::check_not_before(*nbf, settings, now); !valid) {
    check.fail(CheckStep::kNbf, valid.error().reason,
               "not valid before " + time_text(**nbf) + ", now " + format_timestamp(now) + leeway);
  } else {
    check.pass(CheckStep::kNbf, "valid since " + time_text(**nbf) + leeway);
  }
  if (auto iat = jose::numeric_date(*claims, "iat"); !iat) {
    check.fail(CheckStep::kIat, iat.error().reason, iat.error().message());
  } else {
    check.pass(CheckStep::kIat,
               *iat ? "issued at " + time_text(**iat) : std::string("no iat claim"));
  }
  if (auto valid = jose::check_issuer(*claims, settings); !valid) {
    check.fail(CheckStep::kIssuer, valid.error().reason,
               valid.error().reason == Reason::kIssuerMismatch
                   ? "the issuer must be " + in_quotes(settings.issuer)
                   : valid.error().message());
  } else {
    check.pass(CheckStep::kIssuer, settings.issuer.empty()
                                       ? std::string("no issuer is required")
                                       : "the issuer is " + in_quotes(settings.issuer) +
                                             (by_issuer_ ? " (the provider it picks)" : ""));
  }
  if (auto valid = jose::check_audience(*claims, settings); !valid) {
    check.fail(CheckStep::kAudience, valid.error().reason,
               valid.error().reason == Reason::kAudienceMismatch
                   ? "the audience must include one of: " + joined(settings.audiences)
                   : valid.error().message());
  } else {
    check.pass(CheckStep::kAudience, settings.audiences.empty()
                                         ? std::string("no audience is required")
                                         : "the audience includes an expected one");
  }
  if (auto valid = jose::check_required_claims(*claims, settings); !valid) {
    check.fail(CheckStep::kRequiredClaims, valid.error().reason,
               "the claim " + in_quotes(valid.error().detail) + " is missing");
  } else {
    check.pass(CheckStep::kRequiredClaims, settings.required_claims.empty()
                                               ? std::string("no claim is required")
                                               : "present: " + joined(settings.required_claims));
  }
  auto user = jose::identity_claims(*claims, settings);
  if (!user) {
    check.fail(CheckStep::kIdentity, user.error().reason,
               "the claim " + in_quotes(user.error().detail) + " is missing or not a string");
  } else if (!valid_identity(*user)) {
    check.fail(CheckStep::kIdentity, Reason::kIdentityInvalid,
               user->directory == kAnonymousDirectory
                   ? "the directory ANONYMOUS is reserved for anonymous users"
                   : std::string(reason_message(Reason::kIdentityInvalid)));
  } else {
    check.pass(CheckStep::kIdentity, "the user is " + user->qualified() +
                                         (settings.user_directory ? " (constant directory)" : ""));
    check.user = *user;
    VerifiedBearer bearer;
    read_revocation_claims(*claims, bearer);
    check.token_id = std::move(bearer.token_id);
    check.issued_at = bearer.issued_at;
  }
}

}  // namespace jotgate::auth
