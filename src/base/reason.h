// Reason: every way a client, a token or a file can be wrong, with a stable code and a message.
// One enum for the whole data path, so logs, CLI output and HTTP answers agree on the words.
//   Reason r = Reason::kTokenExpired;
//   reason_code(r)    -> "TOKEN_EXPIRED"
//   reason_message(r) -> "the token has expired"
#pragma once

#include <string_view>

namespace jotgate {

enum class Reason {
  // Token shape (JOSE core).
  kTokenTooLarge,
  kTokenMalformed,  // wrong number of parts, empty part
  kTokenEncrypted,  // five parts: JWE
  kBase64UrlMalformed,
  kHeaderNotJsonObject,
  kPayloadNotJsonObject,
  kDuplicateMember,
  kAlgMissing,
  kAlgNone,
  kAlgNotAllowed,
  kAlgKeyMismatch,  // e.g. HS256 offered against an RSA key: algorithm confusion
  kCritUnsupported,
  kNoMatchingKey,
  kKeyNotFound,  // a kid the provider's JWKS lacks, even after a refetch
  kSignatureMismatch,
  kSignatureMalformed,  // e.g. DER-encoded ECDSA signature, wrong length
  // Claims (JOSE core).
  kClaimMalformed,  // exp/nbf/iat not a NumericDate, iss not a string, ...
  kTokenExpired,
  kTokenNotYetValid,
  kIssuerMismatch,
  kIssuerUnknown,  // auth.jwt.providers has no provider for the token's iss
  kAudienceMismatch,
  kRequiredClaimMissing,
  kIdentityClaimMissing,  // user id / user directory claim missing or not a string
  // Keys and files (start-up, CLI).
  kKeyInvalid,
  kKeyUnsupported,
  kFileUnreadable,
  kFileExists,  // refusing to overwrite (certs generate without --force)
  kFileUnwritable,
  kDatabaseUnavailable,  // PostgreSQL (database: type postgresql) unreachable or refusing
  // Gateway (auth, session, access).
  kNoCredentials,
  kSessionExpired,
  kAccessDenied,
  kBadRequest,
  kNotFound,
  kUpstreamUnavailable,
  kUpstreamTimeout,
  kIdentityInvalid,         // user directory/id with characters that cannot be forwarded
  kTicketInvalid,           // unknown, already used or expired ticket
  kCredentialsNotAccepted,  // e.g. a bearer token where only tickets sign users in
  kHeaderUntrusted,         // an identity header on a listener not marked trusted
  kAuthorizationRepeated,   // more than one Authorization header: which one would be verified?
  kIdentityUnforwardable,   // the signed-in identity cannot be written into a header
  kKeysUnavailable,         // no usable keys to check a signature with (503, Retry-After)
  kTooManyFailures,         // too many refused sign-ins from one address (auth.failure_limit, 429)
  kTokenRevoked,            // a valid token whose jti or user was revoked (jotgate revoke)
  // Redis down or too slow: the session may well exist (503, Retry-After).
  kSessionStoreUnavailable,
  // Internal, never answered: the token's kid is unknown and its keys are being fetched again;
  // the request waits for them (Decision::wait_for_keys) and is decided once more.
  kKeysRefreshing,
  kFetchFailed,  // a document of an identity provider (JWKS, discovery) could not be fetched
  // Internal, never answered: the request's session, ticket or seat is being read from a shared
  // store; the request waits for it (Decision::store_wait) and is decided once more.
  kStorePending,
  // Requests the gateway answers itself before any sign-in (proxy, endpoints).
  kRequestMalformed,  // not HTTP/1.1 as Beast reads it
  kObsFold,           // a field line folded onto the next (RFC 9112 section 5.2)
  kRequestLineTooLong,
  kHeaderTooLarge,
  kTooManyHeaders,
  kFramingInvalid,        // Transfer-Encoding, Content-Length or Host an upstream could misread
  kCodingNotImplemented,  // a transfer coding other than chunked
  kMethodNotAllowed,
  kUnsupportedMediaType,
  kRouteNotFound,  // no virtual proxy of this listener serves the path
  kHostMissing,
  kHostNotAllowed,            // vp host_allow_list
  kOriginNotAllowed,          // a WebSocket Origin outside the host_allow_list
  kEndpointOriginNotAllowed,  // a foreign page posting to .auth/session or .auth/logout
  kFormTooLarge,
  kBodyMalformed,  // a request body's chunked framing
  kBodyTimeout,    // a request body that stopped coming (limits.body_timeout)
  // Start-up.
  kConfigInvalid,
  kListenFailed,
};

// Stable, upper-case code, e.g. "ALG_NONE". Never changes once released: scripts match on it.
std::string_view reason_code(Reason reason);
// A short human sentence in lower case, e.g. "the token has expired".
std::string_view reason_message(Reason reason);

}  // namespace jotgate
