"""CORS per virtual proxy: exact allowed origins get credentials on the gateway's endpoints, its
refusals and the proxied paths; preflights are answered by the gateway; other origins get no
CORS headers and may not sign in or out through the gateway's endpoints."""
from gateway_harness import *  # noqa: F401,F403

COOKIE = "X-Jotgate-Session-jwt"
APP = "https://app.example.test"
EVIL = "https://evil.example.test"


@pytest.fixture
def cors_gateway(pki, upstream, start_gateway):
    return start_gateway(gateway_config(pki, upstream.url, http_port=0,
                                        cors={"allowed_origins": [APP, "http://localhost:8080"]}))


def assert_cors(r, origin):
    assert r.header("Access-Control-Allow-Origin") == origin, r
    assert r.header("Access-Control-Allow-Credentials") == "true"
    assert "Origin" in r.all("Vary")


def test_preflight_is_answered_by_the_gateway(cors_gateway, upstream):
    r = http(cors_gateway.port, "OPTIONS", "/jwt/api/data",
             {"Origin": APP, "Access-Control-Request-Method": "POST",
              "Access-Control-Request-Headers": "content-type, authorization"})
    assert r.status == 204, r
    assert_cors(r, APP)
    assert r.header("Access-Control-Allow-Methods") == "POST"
    assert r.header("Access-Control-Allow-Headers") == "content-type, authorization"
    r = http(cors_gateway.port, "OPTIONS", "/jwt/api/data",
             {"Origin": EVIL, "Access-Control-Request-Method": "POST"})
    assert r.status == 403 and r.header("Access-Control-Allow-Origin") is None
    # What is echoed back must be a plain list of header names.
    r = http(cors_gateway.port, "OPTIONS", "/jwt/api/data",
             {"Origin": APP, "Access-Control-Request-Method": "POST",
              "Access-Control-Request-Headers": "x-a; Set-Cookie: a=1"})
    assert r.status == 403 and r.header("Access-Control-Allow-Headers") is None
    assert upstream.stats()["requests"] == 0


def test_allowed_origin_reads_proxied_answers_and_refusals(cors_gateway, upstream, pki):
    r = http(cors_gateway.port, "GET", "/jwt/cors", bearer(mint(pki), Origin=APP))
    assert r.status == 200
    assert_cors(r, APP)
    assert r.all("Access-Control-Allow-Origin") == [APP]  # the upstream's "*" is replaced
    r = http(cors_gateway.port, "GET", "/jwt/x", {"Origin": APP})
    assert r.status == 401
    assert_cors(r, APP)
    r = http(cors_gateway.port, "GET", "/jwt/.auth/me", {"Origin": "http://localhost:8080"})
    assert r.status == 401
    assert_cors(r, "http://localhost:8080")


def test_other_origins_get_no_cors_headers(cors_gateway, upstream, pki):
    for origin in (EVIL, APP + ".evil.test", APP + ":443", "null", APP.upper()):
        r = http(cors_gateway.port, "GET", "/jwt/x", bearer(mint(pki), Origin=origin))
        assert r.status == 200
        assert r.header("Access-Control-Allow-Origin") is None, origin
        assert r.header("Access-Control-Allow-Credentials") is None


def test_foreign_pages_cannot_sign_in_or_out(cors_gateway, upstream, pki):
    token = mint(pki)
    r = http(cors_gateway.port, "POST", "/jwt/.auth/session", bearer(token, Origin=EVIL))
    assert r.status == 403 and r.cookie(COOKIE) is None
    cookie = http(cors_gateway.port, "GET", "/jwt/x", bearer(mint(pki, jti="c"))).cookie(COOKIE)
    r = http(cors_gateway.port, "POST", "/jwt/.auth/logout", {"Origin": EVIL,
                                                              "Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 403
    assert http(cors_gateway.port, "GET", "/jwt/x", {"Cookie": f"{COOKIE}={cookie}"}).status == 200
    # The allowed origin and the gateway's own origin may.
    r = http(cors_gateway.port, "POST", "/jwt/.auth/session", bearer(token, Origin=APP))
    assert r.status == 204 and r.cookie(COOKIE)
    assert_cors(r, APP)
    own = f"http://127.0.0.1:{cors_gateway.port}"
    r = http(cors_gateway.port, "POST", "/jwt/.auth/logout",
             {"Origin": own, "Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 204
    assert upstream.stats()["requests"] == 2  # the two GETs of the app, nothing else


def test_without_cors_config_nothing_is_added(gateway, upstream, pki):
    r = http(gateway.port, "GET", "/jwt/x", bearer(mint(pki), Origin=APP))
    assert r.status == 200 and r.header("Access-Control-Allow-Origin") is None
    r = http(gateway.port, "OPTIONS", "/jwt/x", {"Origin": APP,
                                                 "Access-Control-Request-Method": "GET"})
    assert r.status == 401  # no CORS: an OPTIONS is a request like any other


def test_return_to_may_name_an_allowed_origin_only(cors_gateway, upstream, pki):
    from urllib.parse import quote
    for target in (APP + "/page?x=1", APP, "http://localhost:8080/app"):
        r = http(cors_gateway.port, "POST", f"/jwt/.auth/session?returnTo={quote(target, safe='')}",
                 bearer(mint(pki, jti=target)))
        assert r.status == 303 and r.header("Location") == target, (target, r)
    for target in (EVIL + "/", APP + ".evil.test/", APP + "@evil.test/", APP + ":8443/",
                   "javascript:alert(1)", "https:/" + "/evil.test"):
        r = http(cors_gateway.port, "POST", f"/jwt/.auth/session?returnTo={quote(target, safe='')}",
                 bearer(mint(pki)))
        assert r.status == 400 and r.header("Location") is None, (target, r)
        assert r.cookie(COOKIE) is None
    cookie = http(cors_gateway.port, "GET", "/jwt/x", bearer(mint(pki, jti="lo"))).cookie(COOKIE)
    r = http(cors_gateway.port, "GET", f"/jwt/.auth/logout?returnTo={quote(APP + '/bye', safe='')}",
             {"Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 303 and r.header("Location") == APP + "/bye"
