"""Spoofed headers never reach the upstream (issue 10, section 3): header names with `_` (which
CGI/WSGI apps read as `-`), a second or unverified `Authorization`, the client and URL headers of
fronting proxies; and an upstream cannot set the gateway's session cookie. Each test sends the
exact request bytes and compares the exact header list the upstream received (the echo of
tests/e2e/upstream_server.py lists every header line it got, in order)."""
import re
from urllib.parse import quote

from gateway_harness import *  # noqa: F401,F403

COOKIE = "X-Jotgate-Session-jwt"
ALICE = ("X-Jotgate-User", "UserDirectory=ACME; UserId=alice")
ADMIN = "UserDirectory=ACME; UserId=admin"

# Protected names in the spellings a CGI/WSGI app merges with the real header.
UNDERSCORED_SPOOFS = [
    ("X_Jotgate_User", ADMIN),
    ("x_jotgate_user", ADMIN),
    ("X-Jotgate_User", ADMIN),
    ("X_JOTGATE-USER", ADMIN),
    ("X_Jotgate_Groups", "admins"),       # a forward_claims header
    ("x-jotgate_groups", "admins"),
    ("X_Jotgate_Tenant", "other"),        # a forward_attributes header
    ("X_Forwarded_For", "6.6.6.6"),
    ("x_forwarded_host", "evil.example"),
    ("X_Forwarded_Proto", "https"),
    ("X_Forwarded_Prefix", "/admin"),
    ("X_Real_IP", "6.6.6.6"),
    ("X_Forwarded_Port", "443"),
    ("True_Client_IP", "6.6.6.6"),
    ("X_Original_URL", "/admin"),
    ("Transfer_Encoding", "chunked"),
    ("Content_Length", "5"),
]

FRONTING_PROXY_HEADERS = [
    ("X-Forwarded-Port", "443"),
    ("X-Forwarded-Server", "evil.example"),
    ("X-Original-URL", "/admin"),
    ("X-Rewrite-URL", "/admin"),
    ("True-Client-IP", "6.6.6.6"),
    ("X-Client-IP", "6.6.6.6"),
    ("x-forwarded-port", "443"),
    ("TRUE-CLIENT-IP", "6.6.6.6"),
]


def spoof_config(pki, upstream, **overrides):
    vp = deep_update({"auth": {"forward_attributes": {"tenant": "X-Jotgate-Tenant"},
                               "jwt": {"forward_claims": {"groups": "X-Jotgate-Groups"}}}},
                     overrides)
    return gateway_config(pki, upstream.url, http_port=0, **vp)


def parse_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:]]
    return Response(status, headers, body)


def send(port, header_lines, path="/jwt/echo"):
    """GET `path` with exactly these header lines after `Host: localhost`."""
    lines = [f"GET {path} HTTP/1.1", "Host: localhost"]
    lines += [f"{name}: {value}" for name, value in header_lines]
    return parse_response(raw_request(port, ("\r\n".join(lines) + "\r\n\r\n").encode()))


# The ids the gateway generates (test_gateway_logs.py checks how): compared by their form.
GENERATED = {"X-Request-Id": re.compile(r"[0-9a-f]{16}-[0-9a-f]+"),
             "traceparent": re.compile(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01")}


def received(r):
    """The header lines the upstream received, in order; a generated id as `<X-Request-Id>`
    once its form was checked."""
    assert r.status == 200, r
    lines = [tuple(pair) for pair in r.json()["headers"]]
    for i, (name, value) in enumerate(lines):
        if name in GENERATED:
            assert GENERATED[name].fullmatch(value), (name, value)
            lines[i] = (name, f"<{name}>")
    return lines


def expected(upstream, client=(), identity=(ALICE, ("X-Jotgate-Groups", "g1"))):
    """What the upstream gets: the client's headers that pass, then the gateway's own."""
    return [*client, ("X-Forwarded-Host", "localhost"), ("Host", f"127.0.0.1:{upstream.port}"),
            *identity, ("X-Request-Id", "<X-Request-Id>"), ("traceparent", "<traceparent>"),
            ("X-Forwarded-For", "127.0.0.1"), ("X-Forwarded-Proto", "http"),
            ("X-Forwarded-Prefix", "/jwt")]


def test_underscored_header_names_are_dropped_by_default(pki, upstream, start_gateway):
    gw = start_gateway(spoof_config(pki, upstream))
    auth = ("Authorization", "Bearer " + mint(pki, groups=["g1"]))
    for spoof in UNDERSCORED_SPOOFS:
        r = send(gw.port, [auth, spoof, ("Accept", "*/*")])
        assert received(r) == expected(upstream, [("Accept", "*/*")]), spoof
    # All of them at once, and an innocent name with '_' too (nginx's default).
    r = send(gw.port, [auth, *UNDERSCORED_SPOOFS, ("X_Custom", "1"), ("Accept", "*/*")])
    assert received(r) == expected(upstream, [("Accept", "*/*")])


def test_allowed_underscores_pass_but_never_as_a_protected_name(pki, upstream, start_gateway):
    gw = start_gateway(spoof_config(pki, upstream, allow_underscores_in_headers=True))
    auth = ("Authorization", "Bearer " + mint(pki, groups=["g1"]))
    for spoof in UNDERSCORED_SPOOFS:
        r = send(gw.port, [auth, ("X_Custom", "1"), spoof, ("Accept", "*/*")])
        assert received(r) == expected(upstream, [("X_Custom", "1"), ("Accept", "*/*")]), spoof
    r = send(gw.port, [auth, *UNDERSCORED_SPOOFS, ("X_Custom", "1")])
    assert received(r) == expected(upstream, [("X_Custom", "1")])


def test_spoofed_identity_with_underscores_on_a_cookie_session(pki, upstream, start_gateway):
    gw = start_gateway(spoof_config(pki, upstream))
    signed_in = send(gw.port, [("Authorization", "Bearer " + mint(pki, groups=["g1"]))])
    cookie = ("Cookie", f"{COOKIE}={signed_in.cookie(COOKIE)}")
    r = send(gw.port, [cookie, ("X_Jotgate_User", ADMIN), ("X-Jotgate_User", ADMIN)])
    assert received(r) == expected(upstream)


# The same protected names with '-', in any case: HTTP names are case-insensitive.
DASHED_SPOOFS = [
    ("x-jotgate-user", ADMIN),
    ("X-JOTGATE-USER", ADMIN),
    ("x-Jotgate-Groups", "admins"),
    ("X-JOTGATE-TENANT", "other"),
    ("X-FORWARDED-FOR", "6.6.6.6"),
    ("x-forwarded-host", "evil.example"),
    ("X-Real-Ip", "6.6.6.6"),
    ("FORWARDED", "for=6.6.6.6"),
]


def test_protected_names_in_any_case_are_removed(pki, upstream, start_gateway):
    gw = start_gateway(spoof_config(pki, upstream, allow_underscores_in_headers=True))
    auth = ("Authorization", "Bearer " + mint(pki, groups=["g1"]))
    for spoof in DASHED_SPOOFS:
        r = send(gw.port, [auth, spoof, ("Accept", "*/*")])
        assert received(r) == expected(upstream, [("Accept", "*/*")]), spoof


def test_fronting_proxy_headers_are_removed(pki, upstream, start_gateway):
    gw = start_gateway(spoof_config(pki, upstream))
    auth = ("Authorization", "Bearer " + mint(pki, groups=["g1"]))
    r = send(gw.port, [auth, *FRONTING_PROXY_HEADERS, ("Accept", "*/*")])
    assert received(r) == expected(upstream, [("Accept", "*/*")])


TWO_AUTHORIZATIONS_BODY = b"Bad Request: the request has more than one Authorization header"


def assert_two_authorizations_refused(r):
    assert r.status == 400, r
    assert r.body == TWO_AUTHORIZATIONS_BODY, r
    assert r.header("Content-Type") == "text/plain; charset=utf-8", r
    assert r.header("Content-Length") == str(len(TWO_AUTHORIZATIONS_BODY)), r
    assert r.header("WWW-Authenticate") is None, r
    assert r.set_cookie(COOKIE) is None, r


def test_two_authorization_headers_are_400_and_never_forwarded(pki, upstream, start_gateway):
    gw = start_gateway(spoof_config(pki, upstream, auth={"jwt": {"forward_authorization": True}}))
    token = mint(pki, groups=["g1"])
    for second in ("Bearer " + token, "Bearer " + mint(pki, user="bob"), "Basic YWRtaW46YWRtaW4="):
        r = send(gw.port, [("Authorization", "Bearer " + token), ("Authorization", second)])
        assert_two_authorizations_refused(r)
    # The same on the gateway's own sign-in endpoint.
    raw = raw_request(gw.port, (f"POST /jwt/.auth/session HTTP/1.1\r\nHost: localhost\r\n"
                                f"Authorization: Bearer {token}\r\nAuthorization: Bearer {token}\r\n"
                                f"Content-Length: 0\r\n\r\n").encode())
    assert_two_authorizations_refused(parse_response(raw))
    assert upstream.stats()["requests"] == 0


def test_an_authorization_next_to_a_valid_cookie_is_not_forwarded(pki, upstream, start_gateway):
    gw = start_gateway(spoof_config(pki, upstream, auth={"jwt": {"forward_authorization": True}}))
    signed_in = send(gw.port, [("Authorization", "Bearer " + mint(pki, groups=["g1"]))])
    cookie = ("Cookie", f"{COOKIE}={signed_in.cookie(COOKIE)}")
    for forged in ("Basic YWRtaW46YWRtaW4=", "Token admin", "Negotiate YWRtaW4="):
        r = send(gw.port, [cookie, ("Authorization", forged)])
        assert received(r) == expected(upstream), forged


def test_the_verified_bearer_is_forwarded_exactly_once(pki, upstream, start_gateway):
    gw = start_gateway(spoof_config(pki, upstream, auth={"jwt": {"forward_authorization": True}}))
    bearer_header = ("Authorization", "Bearer " + mint(pki, groups=["g1"]))
    r = send(gw.port, [bearer_header, ("Accept", "*/*")])
    assert received(r) == expected(
        upstream, [("Accept", "*/*")],
        identity=(ALICE, ("X-Jotgate-Groups", "g1"), bearer_header))
    # With an underscored copy, still only the verified one.
    r = send(gw.port, [bearer_header, ("Authori_zation", "x"), ("X_Authorization", "x")])
    assert received(r) == expected(
        upstream, identity=(ALICE, ("X-Jotgate-Groups", "g1"), bearer_header))


def set_cookies_path(*cookies):
    return "/jwt/setcookies?" + "&".join("cookie=" + quote(c, safe="") for c in cookies)


def test_an_upstream_cannot_set_the_session_cookie(pki, upstream, start_gateway):
    gw = start_gateway(spoof_config(pki, upstream))
    evil = [f"{COOKIE}=evil", f" {COOKIE} =evil; Path=/jwt; HttpOnly", f"{COOKIE}=; Max-Age=0"]
    # Other names pass: browsers compare names exactly (`x-jotgate-session-jwt` is another
    # cookie), and a value holding the name is no name.
    others = ["other=1", f"{COOKIE}2=1", f"a={COOKIE}=1", f"{COOKIE.lower()}=1"]
    path = set_cookies_path(evil[0], others[0], *evil[1:], *others[1:])
    auth = ("Authorization", "Bearer " + mint(pki, groups=["g1"]))
    signed_in = send(gw.port, [auth], path)
    assert signed_in.status == 200, signed_in
    own = signed_in.set_cookie(COOKIE)
    assert own is not None and not own.startswith(f"{COOKIE}=evil"), signed_in
    assert signed_in.all("Set-Cookie") == [*others, own]
    # On a cookie session the gateway sets none: only the upstream's other cookies pass.
    cookie = ("Cookie", f"{COOKIE}={signed_in.cookie(COOKIE)}")
    r = send(gw.port, [cookie], path)
    assert r.status == 200, r
    assert r.all("Set-Cookie") == others
    # The session the gateway set still works.
    assert received(send(gw.port, [cookie])) == expected(upstream)
