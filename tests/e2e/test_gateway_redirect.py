"""auth.redirect_uri: a browser navigation without a session is sent to the sign-in page with
returnTo=<the URL it asked for>; API calls and WebSocket upgrades still get the 401. The sign-in
page's form post to .auth/session brings the browser back to that URL, signed in."""
import urllib.parse

from gateway_harness import *  # noqa: F401,F403

COOKIE = "X-Jotgate-Session-jwt"
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
LOGIN = "https://login.example.test/sign-in"


def redirect_gateway(start_gateway, pki, upstream, uri=LOGIN, **extra):
    return start_gateway(gateway_config(pki, upstream.url, http_port=0,
                                        auth={"redirect_uri": uri}, **extra))


def return_to(location):
    query = urllib.parse.urlsplit(location).query
    return urllib.parse.parse_qs(query)["returnTo"][0]


def test_navigation_without_a_session_goes_to_the_sign_in_page(pki, upstream, start_gateway):
    gw = redirect_gateway(start_gateway, pki, upstream)
    r = http(gw.port, "GET", "/jwt/app/page?x=1&y=%C3%A9", HTML)
    assert r.status == 302, r
    location = r.header("Location")
    assert location.startswith(LOGIN + "?returnTo="), location
    assert return_to(location) == f"http://127.0.0.1:{gw.port}/jwt/app/page?x=1&y=%C3%A9"
    assert r.header("Cache-Control") == "no-store"
    # The same for a navigation announced by Sec-Fetch-Mode (an iframe's, whatever its Accept).
    r = http(gw.port, "GET", "/jwt/", {"Sec-Fetch-Mode": "navigate", "Accept": "*/*"})
    assert r.status == 302 and return_to(r.header("Location")).endswith("/jwt/")
    assert upstream.stats()["requests"] == 0


def test_api_calls_websockets_and_posts_still_get_the_401(pki, upstream, start_gateway):
    gw = redirect_gateway(start_gateway, pki, upstream)
    for headers in ({"Accept": "application/json"}, {},
                    {"Accept": "text/html", "Sec-Fetch-Mode": "cors"}):
        r = http(gw.port, "GET", "/jwt/api", headers)
        assert r.status == 401, (headers, r)
        assert "Expected an authentication header" in r.text
    r = http(gw.port, "POST", "/jwt/form", {**HTML, "Content-Length": "0"}, body=b"")
    assert r.status == 401
    ws = WebSocket.connect(gw.port, "/jwt/ws", HTML)
    assert ws.status == 401
    ws.close()


def test_a_bad_token_is_answered_not_redirected(pki, upstream, start_gateway):
    gw = redirect_gateway(start_gateway, pki, upstream)
    r = http(gw.port, "GET", "/jwt/app", {**HTML, **bearer(mint(pki, expires_in=-3600))})
    assert r.status == 401 and "expired" in r.text


def test_a_signed_in_browser_is_not_redirected(pki, upstream, start_gateway):
    gw = redirect_gateway(start_gateway, pki, upstream)
    cookie = http(gw.port, "GET", "/jwt/x", bearer(mint(pki))).cookie(COOKIE)
    r = http(gw.port, "GET", "/jwt/app", {**HTML, "Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 200 and r.upstream_header("X-Jotgate-User") == \
        "UserDirectory=ACME; UserId=alice"


def test_a_redirect_uri_with_a_query_gets_the_parameter_appended(pki, upstream, start_gateway):
    gw = redirect_gateway(start_gateway, pki, upstream, uri="/login?app=sales")
    r = http(gw.port, "GET", "/jwt/a", HTML)
    assert r.status == 302
    assert r.header("Location").startswith("/login?app=sales&returnTo=http%3A%2F%2F127.0.0.1%3A")


def test_the_sign_in_page_brings_the_browser_back_signed_in(pki, upstream, start_gateway):
    gw = redirect_gateway(start_gateway, pki, upstream)
    asked = http(gw.port, "GET", "/jwt/report?id=7", HTML)
    original = return_to(asked.header("Location"))
    # The sign-in page posts a form with the token and returnTo (a URL of the gateway's origin).
    form = urllib.parse.urlencode({"token": mint(pki), "returnTo": original}).encode()
    r = http(gw.port, "POST", "/jwt/.auth/session",
             {"Content-Type": "application/x-www-form-urlencoded"}, body=form)
    assert r.status == 303, r
    assert r.header("Location") == original
    cookie = r.cookie(COOKIE)
    back = http(gw.port, "GET", "/jwt/report?id=7", {**HTML, "Cookie": f"{COOKIE}={cookie}"})
    assert back.status == 200 and back.json()["path"] == "/report"


def test_return_to_on_another_origin_is_refused(pki, upstream, start_gateway):
    gw = redirect_gateway(start_gateway, pki, upstream)
    for target in (f"http://127.0.0.1:{gw.port}.evil.test/", f"https://127.0.0.1:{gw.port}/",
                   "https://login.example.test/", f"http://evil.test@127.0.0.1:{gw.port}/"):
        form = urllib.parse.urlencode({"token": mint(pki), "returnTo": target}).encode()
        r = http(gw.port, "POST", "/jwt/.auth/session",
                 {"Content-Type": "application/x-www-form-urlencoded"}, body=form)
        assert r.status == 400, (target, r)
        assert "returnTo" in r.text
    # A Host the client made up names no origin of ours.
    form = urllib.parse.urlencode({"token": mint(pki), "returnTo": "http://evil.test/"}).encode()
    r = http(gw.port, "POST", "/jwt/.auth/session",
             {"Content-Type": "application/x-www-form-urlencoded", "Host": "evil.test/x"},
             body=form)
    assert r.status == 400
