"""Gateway routing: whole-segment prefixes, longest prefix, strict path parsing (every path trick
is refused before any upstream sees it), strip_prefix and the query string."""
import json

import pytest

from gateway_harness import *  # noqa: F401,F403


@pytest.fixture
def two_vps(pki, start_upstream, start_gateway):
    """Virtual proxies "" (root) and "jwt", each with its own upstream."""
    root_up, jwt_up = start_upstream("root"), start_upstream("jwt")
    config = gateway_config(pki, jwt_up.url, http_port=0)
    root = {**config["virtual_proxies"][0], "name": "Root", "prefix": "", "upstreams": [root_up.url]}
    config["virtual_proxies"].append(root)
    gw = start_gateway(config)
    return gw, root_up, jwt_up


def test_prefix_itself_and_below_are_routed(gateway, upstream, pki):
    token = mint(pki)
    r = http(gateway.port, "GET", "/jwt", bearer(token))
    assert r.status == 200, r
    assert r.json()["path"] == "/"
    r = http(gateway.port, "GET", "/jwt/x", bearer(token))
    assert r.status == 200, r
    assert r.json()["path"] == "/x"


def test_prefix_is_a_whole_segment(gateway, upstream, pki):
    r = http(gateway.port, "GET", "/jwtx", bearer(mint(pki)))
    assert r.status == 404, r
    assert upstream.stats()["requests"] == 0


def test_unknown_prefix_is_404(gateway, upstream, pki):
    r = http(gateway.port, "GET", "/other/x", bearer(mint(pki)))
    assert r.status == 404, r
    r = http(gateway.port, "GET", "/", bearer(mint(pki)))
    assert r.status == 404, r
    assert upstream.stats()["requests"] == 0


def test_longest_prefix_wins(two_vps, pki):
    gw, root_up, jwt_up = two_vps
    token = mint(pki)
    r = http(gw.port, "GET", "/jwt/a", bearer(token))
    assert r.status == 200, r
    assert r.json()["server"] == "jwt" and r.json()["path"] == "/a"
    r = http(gw.port, "GET", "/jwtx/a", bearer(token))
    assert r.status == 200, r
    assert r.json()["server"] == "root" and r.json()["path"] == "/jwtx/a"
    r = http(gw.port, "GET", "/other", bearer(token))
    assert r.json()["server"] == "root"
    # The root virtual proxy's default cookie name.
    assert r.cookie("X-Jotgate-Session") is not None, r


def test_strip_prefix_on_and_query_preserved(gateway, pki):
    r = http(gateway.port, "GET", "/jwt/x/y?a=1&b=two%20words&c=%2F", bearer(mint(pki)))
    assert r.status == 200, r
    assert r.json()["path"] == "/x/y"
    assert r.json()["query"] == "a=1&b=two%20words&c=%2F"


def test_strip_prefix_off(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0, strip_prefix=False))
    r = http(gw.port, "GET", "/jwt/x?q=1", bearer(mint(pki)))
    assert r.status == 200, r
    assert r.json()["path"] == "/jwt/x"
    assert r.json()["query"] == "q=1"


PATH_TRICKS = [
    b"/jwt/../x",
    b"/jwt/x/../../x",
    b"/jwt/%2e%2e/x",
    b"/jwt/%2E%2E/x",
    b"/jwt/.%2e/x",
    b"/jwt/..%2fx",
    b"/x/..%2f",
    b"/x/..%2fjwt/y",
    b"/jwt%2fx",
    b"/%6awt/x",
    b"/jwt\\..\\x",
    b"/jwt/x\\y",
    b"/jwt/x%00y",
    b"/jwt/x\x00y",
    b"/jwt/x\x01y",
    b"/jwt/x\x7fy",
    b"jwt/x",
    b"/jwt/x%",
    b"/jwt/x%zz",
]


@pytest.mark.parametrize("target", PATH_TRICKS, ids=[t.decode("latin-1").encode("unicode_escape").decode() for t in PATH_TRICKS])
def test_path_tricks_are_refused_before_the_upstream(gateway, upstream, pki, target):
    token = mint(pki)
    request = (b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
               token.encode() + b"\r\nConnection: close\r\n\r\n")
    response = raw_request(gateway.port, request)
    status = raw_status(response)
    assert status == 400, response[:300]
    assert upstream.stats()["requests"] == 0, upstream.stats()
    assert token.encode() not in response


def test_path_tricks_do_not_reach_the_root_vp_either(two_vps, pki):
    """With a root virtual proxy, a trick is refused, or normalised to a clean root path; the
    `jwt` upstream never sees a request outside its prefix."""
    gw, root_up, jwt_up = two_vps
    token = mint(pki)
    for target in (b"/jwt/../x", b"/jwt/%2e%2e/x", b"/jwt%2fx", b"/x/..%2f", b"/jwt\\x", b"/jwt/x%00"):
        response = raw_request(gw.port, b"GET " + target + b" HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer " +
                               token.encode() + b"\r\nConnection: close\r\n\r\n")
        status = raw_status(response)
        if status == 200:
            body = json.loads(response.partition(b"\r\n\r\n")[2])
            assert body["server"] == "root", (target, body)
            for bad in ("..", "%2", "%2e", "\\", "%00", "\x00"):
                assert bad not in body["target"].lower(), (target, body)
        else:
            assert status == 400, (target, response[:300])
    assert jwt_up.stats()["requests"] == 0
