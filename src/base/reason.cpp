#include "base/reason.h"

#include "base/result.h"

namespace jotgate {

namespace {

struct ReasonText {
  std::string_view code;
  std::string_view message;
};

ReasonText text_of(Reason reason) {
  switch (reason) {
    case Reason::kTokenTooLarge:
      return {"TOKEN_TOO_LARGE", "the token is larger than the allowed size"};
    case Reason::kTokenMalformed:
      return {"TOKEN_MALFORMED", "the token is not a JWS compact serialization of three parts"};
    case Reason::kTokenEncrypted:
      return {"TOKEN_ENCRYPTED",
              "encrypted tokens (JWE) are not supported; send a signed token (JWS)"};
    case Reason::kBase64UrlMalformed:
      return {"BASE64URL_MALFORMED", "a token part is not valid unpadded base64url"};
    case Reason::kHeaderNotJsonObject:
      return {"HEADER_NOT_JSON_OBJECT", "the token header is not a JSON object"};
    case Reason::kPayloadNotJsonObject:
      return {"PAYLOAD_NOT_JSON_OBJECT", "the token payload is not a JSON object"};
    case Reason::kDuplicateMember:
      return {"DUPLICATE_MEMBER", "the token header or payload repeats a member name"};
    case Reason::kAlgMissing: return {"ALG_MISSING", "the token header has no string \"alg\""};
    case Reason::kAlgNone: return {"ALG_NONE", "unsigned tokens (alg \"none\") are refused"};
    case Reason::kAlgNotAllowed:
      return {"ALG_NOT_ALLOWED", "the token's algorithm is not in the allowed list"};
    case Reason::kAlgKeyMismatch:
      return {"ALG_KEY_MISMATCH", "the token's algorithm does not fit the verification key type"};
    case Reason::kCritUnsupported:
      return {"CRIT_UNSUPPORTED", "the token header marks an unsupported extension as critical"};
    case Reason::kNoMatchingKey: return {"NO_MATCHING_KEY", "no configured key fits the token"};
    case Reason::kKeyNotFound:
      return {"KEY_NOT_FOUND", "the identity provider publishes no key with the token's kid"};
    case Reason::kSignatureMismatch:
      return {"SIGNATURE_MISMATCH", "the token signature does not verify"};
    case Reason::kSignatureMalformed:
      return {"SIGNATURE_MALFORMED", "the token signature has the wrong form for its algorithm"};
    case Reason::kClaimMalformed:
      return {"CLAIM_MALFORMED", "a registered claim has the wrong JSON type"};
    case Reason::kTokenExpired: return {"TOKEN_EXPIRED", "the token has expired"};
    case Reason::kTokenNotYetValid: return {"TOKEN_NOT_YET_VALID", "the token is not valid yet"};
    case Reason::kIssuerMismatch:
      return {"ISSUER_MISMATCH", "the token issuer is not the expected one"};
    case Reason::kIssuerUnknown:
      return {"ISSUER_UNKNOWN", "no identity provider is configured for the token's issuer"};
    case Reason::kAudienceMismatch:
      return {"AUDIENCE_MISMATCH", "the token audience does not include the expected one"};
    case Reason::kRequiredClaimMissing:
      return {"REQUIRED_CLAIM_MISSING", "a required claim is missing"};
    case Reason::kIdentityClaimMissing:
      return {"IDENTITY_CLAIM_MISSING",
              "the user id or user directory claim is missing or not a string"};
    case Reason::kKeyInvalid: return {"KEY_INVALID", "the key cannot be read"};
    case Reason::kKeyUnsupported:
      return {"KEY_UNSUPPORTED", "the key type or size is not supported"};
    case Reason::kFileUnreadable: return {"FILE_UNREADABLE", "the file cannot be read"};
    case Reason::kFileExists: return {"FILE_EXISTS", "the file already exists"};
    case Reason::kFileUnwritable: return {"FILE_UNWRITABLE", "the file cannot be written"};
    case Reason::kDatabaseUnavailable: return {"DATABASE_UNAVAILABLE", "database unavailable"};
    case Reason::kNoCredentials:
      return {"NO_CREDENTIALS",
              "Could not authenticate the request: Expected an authentication header"};
    case Reason::kSessionExpired: return {"SESSION_EXPIRED", "the session has expired"};
    case Reason::kAccessDenied: return {"ACCESS_DENIED", "access denied"};
    case Reason::kBadRequest: return {"BAD_REQUEST", "bad request"};
    case Reason::kNotFound: return {"NOT_FOUND", "not found"};
    case Reason::kUpstreamUnavailable:
      return {"UPSTREAM_UNAVAILABLE", "no upstream server answered"};
    case Reason::kUpstreamTimeout:
      return {"UPSTREAM_TIMEOUT", "the upstream server did not answer in time"};
    case Reason::kIdentityInvalid:
      return {"IDENTITY_INVALID",
              "the user id or user directory contains characters that cannot be forwarded"};
    case Reason::kTicketInvalid:
      return {"TICKET_INVALID", "the ticket is unknown, already used or expired"};
    case Reason::kCredentialsNotAccepted:
      return {"CREDENTIALS_NOT_ACCEPTED",
              "this virtual proxy does not sign users in with this kind of credentials"};
    case Reason::kHeaderUntrusted:
      return {"HEADER_UNTRUSTED", "identity headers are accepted only on listeners marked trusted"};
    case Reason::kAuthorizationRepeated:
      return {"AUTHORIZATION_REPEATED", "the request has more than one Authorization header"};
    case Reason::kIdentityUnforwardable:
      return {"IDENTITY_UNFORWARDABLE", "the identity holds characters not allowed in a header"};
    case Reason::kKeysUnavailable:
      return {"KEYS_UNAVAILABLE", "the virtual proxy has no usable keys to verify tokens with"};
    case Reason::kTooManyFailures:
      return {"TOO_MANY_FAILURES", "too many failed sign-ins from this address"};
    case Reason::kTokenRevoked: return {"TOKEN_REVOKED", "the token has been revoked"};
    case Reason::kSessionStoreUnavailable:
      return {"SESSION_STORE_UNAVAILABLE", "the session store is unavailable, try again shortly"};
    case Reason::kKeysRefreshing:
      return {"KEYS_REFRESHING", "the identity provider's keys are being fetched again"};
    case Reason::kFetchFailed:
      return {"FETCH_FAILED", "a document of the identity provider could not be fetched"};
    case Reason::kStorePending: return {"STORE_PENDING", "the session store is being asked"};
    case Reason::kRequestMalformed: return {"REQUEST_MALFORMED", "malformed HTTP request"};
    case Reason::kObsFold: return {"OBS_FOLD", "obsolete line folding (obs-fold) is not accepted"};
    case Reason::kRequestLineTooLong:
      return {"REQUEST_LINE_TOO_LONG", "the request line is longer than the gateway accepts"};
    case Reason::kHeaderTooLarge:
      return {"HEADER_TOO_LARGE", "the request header is larger than the gateway accepts"};
    case Reason::kTooManyHeaders: return {"TOO_MANY_HEADERS", "too many header fields"};
    case Reason::kFramingInvalid:
      return {"FRAMING_INVALID", "the request's framing could be read two ways"};
    case Reason::kCodingNotImplemented:
      return {"CODING_NOT_IMPLEMENTED", "the only transfer coding accepted is chunked"};
    case Reason::kMethodNotAllowed: return {"METHOD_NOT_ALLOWED", "the method is not allowed here"};
    case Reason::kUnsupportedMediaType:
      return {"UNSUPPORTED_MEDIA_TYPE", "the body's media type is not accepted"};
    case Reason::kRouteNotFound: return {"ROUTE_NOT_FOUND", "no virtual proxy serves this path"};
    case Reason::kHostMissing: return {"HOST_MISSING", "the Host header is missing"};
    case Reason::kHostNotAllowed:
      return {"HOST_NOT_ALLOWED", "this host name is not allowed for this virtual proxy"};
    case Reason::kOriginNotAllowed:
      return {"ORIGIN_NOT_ALLOWED", "the WebSocket Origin is not allowed for this virtual proxy"};
    case Reason::kEndpointOriginNotAllowed:
      return {"ENDPOINT_ORIGIN_NOT_ALLOWED",
              "pages of this origin may not use the gateway's endpoints (cors.allowed_origins)"};
    case Reason::kFormTooLarge:
      return {"FORM_TOO_LARGE",
              "the gateway's endpoints take a form of at most 32 KiB with a Content-Length"};
    case Reason::kBodyMalformed:
      return {"BODY_MALFORMED", "the request body's chunked framing is malformed"};
    case Reason::kBodyTimeout:
      return {"BODY_TIMEOUT",
              "the request body came too slowly (limits.body_timeout, limits.body_min_rate)"};
    case Reason::kConfigInvalid: return {"CONFIG_INVALID", "the configuration is not valid"};
    case Reason::kListenFailed: return {"LISTEN_FAILED", "cannot listen on the address"};
  }
  return {"UNKNOWN", "unknown reason"};
}

}  // namespace

std::string_view reason_code(Reason reason) { return text_of(reason).code; }
std::string_view reason_message(Reason reason) { return text_of(reason).message; }

std::string Error::message() const {
  std::string text(reason_message(reason));
  if (!detail.empty()) {
    text += ": ";
    text += detail;
  }
  return text;
}

std::string Error::describe() const {
  std::string text(reason_code(reason));
  text += ": ";
  text += message();
  return text;
}

}  // namespace jotgate
