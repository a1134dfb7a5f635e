#include "config/virtual_proxy_document.h"

#include <nlohmann/json.hpp>

#include "base/duration.h"

namespace jotgate::config {

namespace {

using json = nlohmann::json;

std::string_view same_site_name(SameSite same_site) {
  switch (same_site) {
    case SameSite::kLax: return "lax";
    case SameSite::kStrict: return "strict";
    case SameSite::kNone: return "none";
  }
  return "lax";
}

std::string_view secure_name(SecureMode secure) {
  switch (secure) {
    case SecureMode::kAuto: return "auto";
    case SecureMode::kAlways: return "always";
    case SecureMode::kNever: return "never";
  }
  return "auto";
}

std::string_view anonymous_name(AnonymousMode mode) {
  switch (mode) {
    case AnonymousMode::kNone: return "none";
    case AnonymousMode::kAllow: return "allow";
    case AnonymousMode::kAlways: return "always";
  }
  return "none";
}

std::string failure_limit_text(const FailureLimit& limit) {
  if (!limit.enabled()) return "off";
  const char unit = limit.window_seconds == 1 ? 's' : limit.window_seconds == 3600 ? 'h' : 'm';
  return std::to_string(limit.failures) + "/" + unit;
}

json session_document(const SessionSettings& s) {
  return {{"cookie_name", s.cookie_name},
          {"inactivity_timeout", format_duration_seconds(s.inactivity_timeout_seconds)},
          {"max_lifetime", format_duration_seconds(s.max_lifetime_seconds)},
          {"max_per_user", s.max_per_user},
          {"same_site", same_site_name(s.same_site)},
          {"secure", secure_name(s.secure)},
          {"domain", s.domain},
          {"partitioned", s.partitioned}};
}

// Where a provider's keys come from, its rules and forwarded claims.
json provider_document(const JwtProvider& provider) {
  json out = json::object();
  if (!provider.key_pem.empty()) {
    out["key_pem"] = provider.key_pem;
  } else if (provider.jwks) {
    const JwksSettings& jwks = *provider.jwks;
    if (jwks.discovery) {
      out["discovery"] = true;
    } else {
      out["jwks_uri"] = jwks.uri;
    }
    if (!jwks.ca.empty()) out["jwks_ca"] = jwks.ca;
    out["jwks_timeout"] = format_duration(jwks.timeout);
    out["jwks_refresh"] = format_duration_seconds(jwks.refresh_seconds);
    out["jwks_min_refetch"] = format_duration_seconds(jwks.min_refetch_seconds);
    out["jwks_max_stale"] = format_duration_seconds(jwks.max_stale_seconds);
  } else {
    out["key"] = provider.key;
  }
  const jose::VerifierSettings& v = provider.verifier;
  out["issuer"] = v.issuer;
  out["audience"] = v.audiences;
  json algorithms = json::array();
  for (jose::Algorithm alg : v.algorithms) algorithms.push_back(jose::algorithm_name(alg));
  out["algorithms"] = algorithms;
  out["user_id_claim"] = v.user_id_claim;
  // Exclusive in the YAML: a constant directory, or the claim naming it.
  if (v.user_directory) {
    out["user_directory"] = *v.user_directory;
  } else {
    out["user_directory_claim"] = v.user_directory_claim;
  }
  out["forward_claims"] = provider.forward_claims;
  out["leeway"] = format_duration_seconds(v.leeway_seconds);
  out["required_claims"] = v.required_claims;
  return out;
}

json jwt_document(const JwtSettings& jwt) {
  json out = json::object();
  if (jwt.by_issuer) {
    json providers = json::array();
    for (const JwtProvider& provider : jwt.providers) {
      providers.push_back(provider_document(provider));
    }
    out["providers"] = providers;
  } else if (!jwt.providers.empty()) {
    out = provider_document(jwt.providers.front());
  }
  out["forward_authorization"] = jwt.forward_authorization;
  out["token_cache"] = jwt.token_cache;
  return out;
}

json auth_document(const AuthSettings& auth) {
  json out{{"method", auth_method_name(auth.method)},
           {"anonymous", anonymous_name(auth.anonymous)},
           {"redirect_uri", auth.redirect_uri},
           {"ticket_lifetime", format_duration_seconds(auth.ticket_lifetime_seconds)},
           {"forward_attributes", auth.forward_attributes},
           {"endpoint", auth.endpoint},
           {"failure_limit", failure_limit_text(auth.failure_limit)}};
  if (auth.method == AuthMethod::kJwt) out["jwt"] = jwt_document(auth.jwt);
  if (auth.method == AuthMethod::kHeader) {
    json header{{"user_header", auth.header.user_header}};
    // Exclusive in the YAML: a constant directory, or the header naming it (or neither).
    if (!auth.header.directory.empty()) {
      header["directory"] = auth.header.directory;
    } else if (!auth.header.directory_header.empty()) {
      header["directory_header"] = auth.header.directory_header;
    }
    out["header"] = header;
  }
  return out;
}

}  // namespace

json virtual_proxy_document(const VirtualProxy& vp) {
  json upstreams = json::array();
  for (const Upstream& upstream : vp.upstreams) upstreams.push_back(upstream.url);
  json response_headers = json::object();
  for (const auto& [name, value] : vp.response_headers) response_headers[name] = value;
  return {{"name", vp.name},
          {"prefix", vp.prefix},
          {"listeners", vp.listeners},
          {"upstreams", upstreams},
          {"strip_prefix", vp.strip_prefix},
          {"session", session_document(vp.session)},
          {"auth", auth_document(vp.auth)},
          {"identity_header", vp.identity_header},
          {"allow_underscores_in_headers", vp.allow_underscores_in_headers},
          {"logout_redirect_uri", vp.logout_redirect_uri},
          {"response_headers", response_headers},
          {"host_allow_list", vp.host_allow_list},
          {"cors", {{"allowed_origins", vp.cors_allowed_origins}}},
          {"connect_timeout", format_duration(vp.connect_timeout)},
          {"read_timeout", format_duration(vp.read_timeout)}};
}

}  // namespace jotgate::config
