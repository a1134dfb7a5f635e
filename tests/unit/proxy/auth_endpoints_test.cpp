// The rules of the gateway's endpoints that need no socket: where returnTo may lead, which
// requests are browser navigations sent to the sign-in page, and the URL a ticket leaves.
#include <gtest/gtest.h>

#include <map>

#include "proxy/auth_endpoints.h"

namespace jotgate::proxy {
namespace {

class View final : public auth::RequestView {
 public:
  std::string method_ = "GET";
  std::map<std::string, std::string> headers_;
  bool tls_ = false;
  bool trusted_ = false;
  std::string_view method() const override { return method_; }
  std::optional<std::string_view> header(std::string_view name) const override {
    auto it = headers_.find(std::string(name));
    if (it == headers_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::string_view> headers(std::string_view name) const override {
    auto one = header(name);
    return one ? std::vector<std::string_view>{*one} : std::vector<std::string_view>{};
  }
  bool is_tls() const override { return tls_; }
  bool trusted_listener() const override { return trusted_; }
};

TEST(ReturnTarget, PathsOwnOriginAndAllowedOriginsOnly) {
  const std::vector<std::string> allowed{"https://app.test"};
  EXPECT_EQ(return_target("%2Fjwt%2Fa%3Fx%3D1", allowed), "/jwt/a?x=1");
  EXPECT_EQ(return_target("https://app.test/page", allowed), "https://app.test/page");
  EXPECT_EQ(return_target("https://gw.test:8443/jwt/", allowed, "https://gw.test:8443"),
            "https://gw.test:8443/jwt/");
  for (const char* bad :
       {"//evil.test/", "https://evil.test/", "https://app.test@evil.test/",
        "https://app.test.evil.test/", "/a\\b", "/a%0d%0aX: y", "", "javascript:alert(1)",
        "http://gw.test:8443/jwt/", "https://gw.test:8443.evil/"}) {
    EXPECT_FALSE(return_target(bad, allowed, "https://gw.test:8443")) << bad;
  }
  // Without an origin of its own (no usable Host) only the listed origins count.
  EXPECT_FALSE(return_target("https://gw.test/", allowed, ""));
}

TEST(ForwardedOriginalUrl, FromATrustedListenerOnly) {
  View view;
  view.headers_ = {{"X-Forwarded-Proto", "https"},
                   {"X-Forwarded-Host", "app.test:8443"},
                   {"X-Forwarded-Uri", "/app/a?b=1"}};
  EXPECT_FALSE(forwarded_original_url(view));  // anyone can send these to other listeners
  view.trusted_ = true;
  EXPECT_EQ(forwarded_original_url(view), "https://app.test:8443/app/a?b=1");
  view.headers_.erase("X-Forwarded-Uri");
  EXPECT_EQ(forwarded_original_url(view), "https://app.test:8443/");
  // X-Forwarded-* present: X-Original-URL (passed on from the client by Traefik and Caddy) is
  // not looked at, even when the former are incomplete.
  view.headers_["X-Original-URL"] = "http://other.test/x";
  EXPECT_EQ(forwarded_original_url(view), "https://app.test:8443/");
  view.headers_.erase("X-Forwarded-Proto");
  EXPECT_FALSE(forwarded_original_url(view));
  view.headers_ = {{"X-Original-URL", "http://[::1]:8080/app/x?y=%20"}};
  EXPECT_EQ(forwarded_original_url(view), "http://[::1]:8080/app/x?y=%20");
  view.headers_ = {{"X-Original-URL", "https://app.test"}};
  EXPECT_EQ(forwarded_original_url(view), "https://app.test/");
  for (const char* bad :
       {"/app/x", "javascript://x/", "ftp://app.test/", "https://evil.test@app.test/",
        "https://app.test\\@evil.test/", "https://app.test/a\r\nSet-Cookie: x=1",
        "https:///evil.test/", "https://app.test//evil.test", "https://app.test:80a/",
        "https://app.test:/", "https://[evil.test]/", "https://app.test/a b"}) {
    view.headers_ = {{"X-Original-URL", bad}};
    EXPECT_FALSE(forwarded_original_url(view)) << bad;
  }
  view.headers_ = {{"X-Forwarded-Proto", "javascript"}, {"X-Forwarded-Host", "a.test"}};
  EXPECT_FALSE(forwarded_original_url(view));
  view.headers_ = {{"X-Forwarded-Proto", "http"}, {"X-Forwarded-Host", "a.test/evil"}};
  EXPECT_FALSE(forwarded_original_url(view));
  view.headers_ = {{"X-Forwarded-Proto", "http"},
                   {"X-Forwarded-Host", "a.test"},
                   {"X-Forwarded-Uri", "//evil.test/"}};
  EXPECT_FALSE(forwarded_original_url(view));
}

TEST(SignInRedirectFor, TheOriginalUrlAsReturnToElseTheSignInPageAlone) {
  config::VirtualProxy vp;
  vp.auth.redirect_uri = "https://login.test/in";
  View view;
  view.headers_["Accept"] = "text/html";
  EXPECT_EQ(sign_in_redirect_for(vp, view, Reason::kNoCredentials, "https://app.test/a?b=1"),
            "https://login.test/in?returnTo=https%3A%2F%2Fapp.test%2Fa%3Fb%3D1");
  EXPECT_EQ(sign_in_redirect_for(vp, view, Reason::kNoCredentials, std::nullopt),
            "https://login.test/in");
  EXPECT_FALSE(sign_in_redirect_for(vp, view, Reason::kAccessDenied, std::nullopt));
  view.headers_["Accept"] = "application/json";
  EXPECT_FALSE(sign_in_redirect_for(vp, view, Reason::kNoCredentials, std::nullopt));
}

TEST(OwnOrigin, FromSchemeAndHost) {
  View view;
  EXPECT_EQ(own_origin(view), "");
  view.headers_["Host"] = "gw.test:8443";
  view.tls_ = true;
  EXPECT_EQ(own_origin(view), "https://gw.test:8443");
  for (const char* bad : {"evil.test/x", "a@b", "a b", "a\\b", "a?b", "a#b", "a%2fb"}) {
    view.headers_["Host"] = bad;
    EXPECT_EQ(own_origin(view), "") << bad;
  }
}

TEST(SignInRedirect, OnlyBrowserNavigationsWithoutASession) {
  config::VirtualProxy vp;
  vp.auth.redirect_uri = "https://login.test/in";
  View view;
  view.headers_["Host"] = "gw.test";
  view.headers_["Accept"] = "text/html,*/*";
  EXPECT_EQ(sign_in_redirect(vp, view, Reason::kNoCredentials, "/jwt/a b?x=1&y=2"),
            "https://login.test/in?returnTo=http%3A%2F%2Fgw.test%2Fjwt%2Fa%20b%3Fx%3D1%26y%3D2");
  EXPECT_TRUE(sign_in_redirect(vp, view, Reason::kSessionExpired, "/jwt/"));
  EXPECT_FALSE(sign_in_redirect(vp, view, Reason::kTokenExpired, "/jwt/"));
  EXPECT_FALSE(sign_in_redirect(vp, view, Reason::kAccessDenied, "/jwt/"));
  view.headers_["Sec-Fetch-Mode"] = "cors";  // fetch() asking for HTML is still an API call
  EXPECT_FALSE(sign_in_redirect(vp, view, Reason::kNoCredentials, "/jwt/"));
  view.headers_["Sec-Fetch-Mode"] = "navigate";
  view.headers_["Accept"] = "*/*";
  EXPECT_TRUE(sign_in_redirect(vp, view, Reason::kNoCredentials, "/jwt/"));
  view.headers_["Upgrade"] = "websocket";
  EXPECT_FALSE(sign_in_redirect(vp, view, Reason::kNoCredentials, "/jwt/"));
  view.headers_.erase("Upgrade");
  view.method_ = "POST";
  EXPECT_FALSE(sign_in_redirect(vp, view, Reason::kNoCredentials, "/jwt/"));
  view.method_ = "GET";
  vp.auth.redirect_uri = "/login?app=1";
  EXPECT_EQ(sign_in_redirect(vp, view, Reason::kNoCredentials, "/jwt/"),
            "/login?app=1&returnTo=http%3A%2F%2Fgw.test%2Fjwt%2F");
  vp.auth.redirect_uri.clear();
  EXPECT_FALSE(sign_in_redirect(vp, view, Reason::kNoCredentials, "/jwt/"));
}

}  // namespace
}  // namespace jotgate::proxy
