"""The gateway's own endpoints under /<prefix>/.auth/: me and logout. Answered by the gateway,
never forwarded (the upstream's request counter stays 0 for them)."""
import socket
import time

from gateway_harness import *  # noqa: F401,F403

COOKIE = "X-Jotgate-Session-jwt"


def sign_in(gw, pki, **claims):
    r = http(gw.port, "GET", "/jwt/x", bearer(mint(pki, **claims)))
    assert r.status == 200, r
    return r.cookie(COOKIE)


def test_me_shows_the_session_without_keeping_it_alive(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0,
                                      session={"inactivity_timeout": "3s"},
                                      auth={"jwt": {"forward_claims": {"email": "X-Email"}}}))
    cookie = sign_in(gw, pki, email="alice@acme.test")
    before = upstream.stats()["requests"]
    started = time.time()
    r = http(gw.port, "GET", "/jwt/.auth/me", {"Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 200, r
    assert r.header("Content-Type") == "application/json"
    assert r.header("Cache-Control") == "no-store"
    me = r.json()
    assert me["userDirectory"] == "ACME" and me["userId"] == "alice"
    assert me["attributes"] == {"X-Email": "alice@acme.test"}
    assert 1 <= me["expiresIn"] <= 3 and me["expiresAt"] - int(started) in (2, 3, 4)
    # Polling .auth/me does not count as use: the session still ends 3 s after its last use.
    status = 200
    while time.time() - started < 6 and status == 200:
        time.sleep(0.5)
        status = http(gw.port, "GET", "/jwt/.auth/me", {"Cookie": f"{COOKIE}={cookie}"}).status
    assert status == 401
    assert time.time() - started < 5
    assert upstream.stats()["requests"] == before


def test_me_without_a_session_is_401_json(gateway, upstream, pki):
    r = http(gateway.port, "GET", "/jwt/.auth/me")
    assert r.status == 401
    assert r.header("WWW-Authenticate") == 'Bearer realm="jwt"'
    assert r.json()["error"] == "NO_CREDENTIALS"
    # A bearer token is not a session: .auth/me never signs anyone in.
    r = http(gateway.port, "GET", "/jwt/.auth/me", bearer(mint(pki)))
    assert r.status == 401 and r.cookie(COOKIE) is None
    r = http(gateway.port, "GET", "/jwt/.auth/me", {"Cookie": f"{COOKIE}={'A' * 43}"})
    assert r.status == 401
    assert upstream.stats()["requests"] == 0


def test_logout_ends_the_session_and_expires_the_cookie(gateway, upstream, pki):
    cookie = sign_in(gateway, pki)
    r = http(gateway.port, "POST", "/jwt/.auth/logout", {"Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 204, r
    expired = r.set_cookie(COOKIE)
    assert expired.startswith(f"{COOKIE}=;") and "Max-Age=0" in expired, expired
    assert http(gateway.port, "GET", "/jwt/x", {"Cookie": f"{COOKIE}={cookie}"}).status == 401
    assert http(gateway.port, "GET", "/jwt/.auth/me", {"Cookie": f"{COOKIE}={cookie}"}).status == 401
    gateway.wait_for_lines("event=logout vp=jwt user=ACME\\alice")
    assert cookie not in gateway.output()
    # Without a session it still answers (and expires whatever cookie the browser holds).
    assert http(gateway.port, "POST", "/jwt/.auth/logout").status == 204


def test_logout_redirects_to_logout_redirect_uri(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0,
                                      logout_redirect_uri="https://portal.example.test/bye"))
    cookie = sign_in(gw, pki)
    r = http(gw.port, "POST", "/jwt/.auth/logout", {"Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 303 and r.header("Location") == "https://portal.example.test/bye"
    assert http(gw.port, "GET", "/jwt/x", {"Cookie": f"{COOKIE}={cookie}"}).status == 401


def test_get_logout_returns_only_to_this_host(gateway, upstream, pki):
    cookie = sign_in(gateway, pki)
    for bad in ("https://evil.test/", "//evil.test/x", "/\\evil.test", "%2F%2Fevil.test",
                "/jwt/%0d%0aSet-Cookie:x=1", "jwt/x", ""):
        r = http(gateway.port, "GET", f"/jwt/.auth/logout?returnTo={bad}",
                 {"Cookie": f"{COOKIE}={cookie}"})
        assert r.status == 400, (bad, r)
        assert r.header("Location") is None
    # Refused attempts ended nothing.
    assert http(gateway.port, "GET", "/jwt/x", {"Cookie": f"{COOKIE}={cookie}"}).status == 200
    assert http(gateway.port, "GET", "/jwt/.auth/logout",
                {"Cookie": f"{COOKIE}={cookie}"}).status == 400  # returnTo is required
    r = http(gateway.port, "GET", "/jwt/.auth/logout?returnTo=%2Fjwt%2Fbye%3Fa%3D1",
             {"Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 303 and r.header("Location") == "/jwt/bye?a=1", r
    assert http(gateway.port, "GET", "/jwt/x", {"Cookie": f"{COOKIE}={cookie}"}).status == 401


def test_other_names_and_methods(gateway, upstream, pki):
    assert http(gateway.port, "GET", "/jwt/.auth/nothing").status == 404
    assert http(gateway.port, "GET", "/jwt/.auth").status == 404
    r = http(gateway.port, "DELETE", "/jwt/.auth/me")
    assert r.status == 405 and r.header("Allow") == "GET, HEAD"
    r = http(gateway.port, "PUT", "/jwt/.auth/logout")
    assert r.status == 405 and r.header("Allow") == "GET, POST"
    assert upstream.stats()["requests"] == 0
    # "/jwt/.authx" is an ordinary path: authenticated and forwarded.
    r = http(gateway.port, "GET", "/jwt/.authx", bearer(mint(pki)))
    assert r.status == 200 and r.json()["path"] == "/.authx"


def test_endpoint_name_is_configurable(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0,
                                      auth={"endpoint": "_gate"}))
    cookie = sign_in(gw, pki)
    assert http(gw.port, "GET", "/jwt/_gate/me", {"Cookie": f"{COOKIE}={cookie}"}).json()[
        "userId"] == "alice"
    # .auth is then an ordinary path of the app.
    r = http(gw.port, "GET", "/jwt/.auth/me", {"Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 200 and r.json()["path"] == "/.auth/me"


def test_head_answers_from_the_gateway_carry_no_body(gateway, upstream):
    sock = socket.create_connection(("127.0.0.1", gateway.port), timeout=10)
    try:
        sock.sendall(b"HEAD /jwt/x HTTP/1.1\r\nHost: h\r\n\r\nGET /jwt/.auth/me HTTP/1.1\r\nHost: h\r\n\r\n")
        data = b""
        while data.count(b"HTTP/1.1 401") < 2:
            chunk = sock.recv(65536)
            assert chunk, data
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 401") and b"Content-Length:" in head
        assert rest.startswith(b"HTTP/1.1 401"), rest[:80]  # no body bytes after the HEAD answer
    finally:
        sock.close()


def form(fields):
    from urllib.parse import urlencode
    return urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"}


def test_session_endpoint_signs_in_with_a_form_token(gateway, upstream, pki):
    body, headers = form({"token": mint(pki, jti="form")})
    r = http(gateway.port, "POST", "/jwt/.auth/session", headers, body=body)
    assert r.status == 204, r
    cookie = r.cookie(COOKIE)
    assert cookie and "HttpOnly" in r.set_cookie(COOKIE)
    assert http(gateway.port, "GET", "/jwt/x", {"Cookie": f"{COOKIE}={cookie}"}).status == 200
    assert http(gateway.port, "GET", "/jwt/.auth/me",
                {"Cookie": f"{COOKIE}={cookie}"}).json()["userId"] == "alice"
    # With returnTo (form or query): 303 to that path on this host.
    body, headers = form({"token": mint(pki, user="bob", jti="b"), "returnTo": "/jwt/app?x=1"})
    r = http(gateway.port, "POST", "/jwt/.auth/session", headers, body=body)
    assert r.status == 303 and r.header("Location") == "/jwt/app?x=1", r
    assert r.cookie(COOKIE) and r.cookie(COOKIE) != cookie
    r = http(gateway.port, "POST", "/jwt/.auth/session?returnTo=%2Fjwt%2F",
             bearer(mint(pki, jti="hdr")))
    assert r.status == 303 and r.header("Location") == "/jwt/" and r.cookie(COOKIE)
    assert upstream.stats()["requests"] == 1  # only the GET /jwt/x above


def test_session_endpoint_refuses_bad_input(gateway, upstream, pki):
    tampered = mint(pki)[:-6] + "AAAAAA"
    body, headers = form({"token": tampered})
    r = http(gateway.port, "POST", "/jwt/.auth/session", headers, body=body)
    assert r.status == 401 and "invalid_token" in (r.header("WWW-Authenticate") or "")
    assert r.cookie(COOKIE) is None
    body, headers = form({"token": mint(pki, user="mallory")})
    r = http(gateway.port, "POST", "/jwt/.auth/session", headers, body=body)
    assert r.status == 403 and r.cookie(COOKIE) is None
    r = http(gateway.port, "POST", "/jwt/.auth/session", {"Content-Type":
             "application/x-www-form-urlencoded"}, body=b"returnTo=%2F")
    assert r.status == 400 and "token is required" in r.text
    body, headers = form({"token": mint(pki), "returnTo": "https://evil.test/"})
    r = http(gateway.port, "POST", "/jwt/.auth/session", headers, body=body)
    assert r.status == 400 and r.header("Location") is None and r.cookie(COOKIE) is None
    r = http(gateway.port, "POST", "/jwt/.auth/session", {"Content-Type": "application/json"},
             body=b'{"token": "x"}')
    assert r.status == 415
    r = http(gateway.port, "POST", "/jwt/.auth/session", headers, body=b"token=" + b"a" * 40000)
    assert r.status == 413
    assert http(gateway.port, "GET", "/jwt/.auth/session").status == 405
    assert upstream.stats()["requests"] == 0
