"""Gateway authentication and sessions: the 401 answers, bad tokens, the session cookie and its
attributes, identity and forwarded headers, token-over-cookie, fixation, inactivity and lifetime."""
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

import cli_helpers
from gateway_harness import *  # noqa: F401,F403

NO_CREDENTIALS = "Could not authenticate the request: Expected an authentication header"
COOKIE = "X-Jotgate-Session-jwt"


def cookie_attributes(set_cookie):
    parts = [p.strip() for p in set_cookie.split(";")]
    attrs = {}
    for p in parts[1:]:
        name, _, value = p.partition("=")
        attrs[name.lower()] = value
    return attrs


def assert_no_credentials(r, prefix="jwt"):
    assert r.status == 401, r
    assert r.header("WWW-Authenticate") == f'Bearer realm="{prefix}"', r
    assert r.text == NO_CREDENTIALS, r
    assert r.set_cookie(COOKIE) is None


def test_no_credentials_is_401_with_the_exact_message(gateway, upstream):
    assert_no_credentials(http(gateway.port, "GET", "/jwt/x"))
    assert upstream.stats()["requests"] == 0


def test_no_credentials_json_when_the_client_accepts_json(gateway):
    r = http(gateway.port, "GET", "/jwt/x", {"Accept": "application/json"})
    assert r.status == 401, r
    assert r.header("Content-Type").startswith("application/json"), r
    assert r.header("WWW-Authenticate") == 'Bearer realm="jwt"'
    body = r.json()
    assert NO_CREDENTIALS in json.dumps(body) or "Expected an authentication header" in json.dumps(body), body


def test_empty_or_non_bearer_authorization_is_no_credentials_or_invalid(gateway, upstream):
    for value in ("Basic YWxpY2U6cHc=", "Bearer", "Bearer "):
        r = http(gateway.port, "GET", "/jwt/x", {"Authorization": value})
        assert r.status == 401, (value, r)
    assert upstream.stats()["requests"] == 0


def _bad_tokens(pki):
    now = int(time.time())
    good = mint(pki)
    header, payload, signing_input, signature = cli_helpers.split(good)
    flipped = bytearray(signature)
    flipped[len(flipped) // 2] ^= 0x01
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "expired": mint(pki, now=now - 7200, expires_in=600),
        "not_yet_valid": mint(pki, nbf=now + 3600),
        "wrong_signature_key": mint(pki, key=other_key),
        "flipped_signature_bit": signing_input.decode() + "." + cli_helpers.b64url(bytes(flipped)),
        "alg_none": cli_helpers.b64url_json({"alg": "none", "typ": "JWT"}) + "." +
                    cli_helpers.b64url_json(payload) + ".",
        "hs256_with_certificate_as_secret": cli_helpers.make_token(
            {"alg": "HS256", "typ": "JWT"}, payload, key=pki.signer.read_bytes()),
        "jwe_five_parts": "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.YWJj.YWJj.YWJj.YWJj",
        "garbage": "not-a-token-at-all",
        "two_parts": signing_input.decode(),
        "missing_user": mint(pki, user=None),
    }


@pytest.mark.parametrize("kind", ["expired", "not_yet_valid", "wrong_signature_key", "flipped_signature_bit",
                                  "alg_none", "hs256_with_certificate_as_secret", "jwe_five_parts",
                                  "garbage", "two_parts", "missing_user"])
def test_bad_token_is_401_invalid_token_without_echo(gateway, upstream, pki, kind):
    token = _bad_tokens(pki)[kind]
    r = http(gateway.port, "GET", "/jwt/x", bearer(token))
    assert r.status == 401, r
    www = r.header("WWW-Authenticate")
    assert www is not None and www.startswith('Bearer error="invalid_token", error_description="'), www
    assert www.endswith('"')
    assert token not in r.text and token not in www
    for part in token.split("."):
        if len(part) > 8:
            assert part not in r.text and part not in www, (kind, r)
    assert r.set_cookie(COOKIE) is None
    r = http(gateway.port, "GET", "/jwt/x", bearer(token, Accept="application/json"))
    assert r.status == 401
    assert r.header("Content-Type").startswith("application/json")
    r.json()
    assert token not in r.text
    assert upstream.stats()["requests"] == 0


def test_valid_token_creates_a_session_cookie_plain_http(gateway, pki):
    r = http(gateway.port, "GET", "/jwt/x", bearer(mint(pki)))
    assert r.status == 200, r
    set_cookie = r.set_cookie(COOKIE)
    assert set_cookie is not None, r
    value = r.cookie(COOKIE)
    assert len(value) >= 43, value  # 256 bits
    attrs = cookie_attributes(set_cookie)
    assert "httponly" in attrs
    assert attrs.get("path") == "/jwt"
    assert attrs.get("samesite", "").lower() == "lax"
    assert "secure" not in attrs  # secure: auto on a plain listener
    assert "domain" not in attrs


def test_bearer_scheme_is_case_insensitive(gateway, pki):
    r = http(gateway.port, "GET", "/jwt/x", {"Authorization": "bEaReR " + mint(pki)})
    assert r.status == 200, r


def test_cli_minted_token_is_accepted(gateway, pki):
    r = http(gateway.port, "GET", "/jwt/x", bearer(cli_token(pki)))
    assert r.status == 200, r
    assert r.upstream_header("X-Jotgate-User") == "UserDirectory=ACME; UserId=alice"


def test_cookie_settings_name_domain_strict_secure(pki, upstream, start_gateway):
    config = gateway_config(pki, upstream.url, http_port=0,
                            session={"cookie_name": "gate-sid", "same_site": "strict",
                                     "secure": "always", "domain": "example.test"})
    gw = start_gateway(config)
    r = http(gw.port, "GET", "/jwt/x", bearer(mint(pki)))
    assert r.status == 200, r
    attrs = cookie_attributes(r.set_cookie("gate-sid"))
    assert attrs.get("samesite", "").lower() == "strict"
    assert "secure" in attrs
    assert attrs.get("domain") == "example.test"
    assert attrs.get("path") == "/jwt"
    assert r.set_cookie(COOKIE) is None


def test_upstream_gets_identity_and_forwarded_headers_but_no_credentials(pki, upstream, start_gateway):
    config = gateway_config(pki, upstream.url, http_port=0,
                            auth={"jwt": {"forward_claims": {"groups": "X-Jotgate-Groups",
                                                             "email": "X-Jotgate-Email"}}})
    gw = start_gateway(config)
    token = mint(pki, email="alice@example.test", groups=["admins"])
    host = f"127.0.0.1:{gw.port}"
    r = http(gw.port, "GET", "/jwt/headers", bearer(token, Host=host, Cookie="theme=dark; lang=en"))
    assert r.status == 200, r
    assert r.upstream_header("X-Jotgate-User") == "UserDirectory=ACME; UserId=alice"
    assert r.upstream_header("X-Forwarded-For") == "127.0.0.1"
    assert r.upstream_header("X-Forwarded-Proto") == "http"
    assert r.upstream_header("X-Forwarded-Host") == host
    assert r.upstream_header("X-Forwarded-Prefix") == "/jwt"
    assert r.upstream_header("X-Jotgate-Email") == "alice@example.test"
    assert "admins" in (r.upstream_header("X-Jotgate-Groups") or ""), r.json()
    assert r.upstream_header("Authorization") is None
    cookie = r.cookie(COOKIE)
    # With the session cookie and other cookies: only the others pass.
    r2 = http(gw.port, "GET", "/jwt/headers", {"Cookie": f"theme=dark; {COOKIE}={cookie}; lang=en"})
    assert r2.status == 200, r2
    upstream_cookie = "; ".join(r2.upstream_all("Cookie"))
    assert "theme=dark" in upstream_cookie and "lang=en" in upstream_cookie
    assert cookie not in upstream_cookie and COOKIE not in upstream_cookie
    assert r2.upstream_header("X-Jotgate-User") == "UserDirectory=ACME; UserId=alice"
    assert r2.upstream_header("X-Jotgate-Email") == "alice@example.test"


def test_spoofed_identity_and_forwarded_headers_are_replaced(pki, upstream, start_gateway):
    config = gateway_config(pki, upstream.url, http_port=0,
                            auth={"jwt": {"forward_claims": {"email": "X-Jotgate-Email"}}})
    gw = start_gateway(config)
    token = mint(pki, email="alice@example.test")
    spoofed = {"X-Jotgate-User": "UserDirectory=ACME; UserId=root",
               "X-Forwarded-For": "10.6.6.6", "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "evil.example", "X-Forwarded-Prefix": "/admin",
               "X-Jotgate-Email": "root@example.test"}
    r = http(gw.port, "GET", "/jwt/x", bearer(token, **spoofed))
    assert r.status == 200, r
    assert r.upstream_all("X-Jotgate-User") == ["UserDirectory=ACME; UserId=alice"]
    assert r.upstream_all("X-Jotgate-Email") == ["alice@example.test"]
    assert r.upstream_all("X-Forwarded-Proto") == ["http"]
    assert r.upstream_all("X-Forwarded-Prefix") == ["/jwt"]
    assert "evil.example" not in r.upstream_all("X-Forwarded-Host")
    assert all("10.6.6.6" not in v for v in r.upstream_all("X-Forwarded-For"))
    # Lower-case spellings are the same headers.
    r = http(gw.port, "GET", "/jwt/x", bearer(token, **{"x-jotgate-user": "UserDirectory=X; UserId=y"}))
    assert r.upstream_all("X-Jotgate-User") == ["UserDirectory=ACME; UserId=alice"]
    # An unauthenticated request with a spoofed identity is still refused.
    r = http(gw.port, "GET", "/jwt/x", {"X-Jotgate-User": "UserDirectory=ACME; UserId=alice"})
    assert r.status == 401


def test_cookie_alone_is_enough_next_time(gateway, pki):
    r = http(gateway.port, "GET", "/jwt/x", bearer(mint(pki)))
    cookie = r.cookie(COOKIE)
    r = http(gateway.port, "GET", "/jwt/y", {"Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 200, r
    assert r.upstream_header("X-Jotgate-User") == "UserDirectory=ACME; UserId=alice"


def test_token_for_another_user_replaces_the_session(gateway, pki):
    alice_cookie = http(gateway.port, "GET", "/jwt/x", bearer(mint(pki, "alice"))).cookie(COOKIE)
    r = http(gateway.port, "GET", "/jwt/x", bearer(mint(pki, "bob"), Cookie=f"{COOKIE}={alice_cookie}"))
    assert r.status == 200, r
    assert r.upstream_header("X-Jotgate-User") == "UserDirectory=ACME; UserId=bob"
    bob_cookie = r.cookie(COOKIE)
    assert bob_cookie is not None and bob_cookie != alice_cookie
    r = http(gateway.port, "GET", "/jwt/x", {"Cookie": f"{COOKIE}={bob_cookie}"})
    assert r.upstream_header("X-Jotgate-User") == "UserDirectory=ACME; UserId=bob"


def test_made_up_cookie_is_401(gateway, upstream):
    for value in ("A" * 43, "0" * 64, "x", ""):
        r = http(gateway.port, "GET", "/jwt/x", {"Cookie": f"{COOKIE}={value}"})
        assert_no_credentials(r)
    assert upstream.stats()["requests"] == 0


def test_client_chosen_session_id_is_never_adopted(gateway, pki):
    chosen = "Q" * 43
    r = http(gateway.port, "GET", "/jwt/x", bearer(mint(pki), Cookie=f"{COOKIE}={chosen}"))
    assert r.status == 200, r
    assert r.cookie(COOKIE) is not None and r.cookie(COOKIE) != chosen
    assert_no_credentials(http(gateway.port, "GET", "/jwt/x", {"Cookie": f"{COOKIE}={chosen}"}))


def test_two_sign_ins_get_different_session_ids(gateway, pki):
    a = http(gateway.port, "GET", "/jwt/x", bearer(mint(pki, jti="1"))).cookie(COOKIE)
    b = http(gateway.port, "GET", "/jwt/x", bearer(mint(pki, jti="2"))).cookie(COOKIE)
    assert a and b and a != b


def test_repeated_token_rides_on_its_session_and_signs_in_once(gateway, pki, upstream):
    token = mint(pki, jti="repeat")
    first = http(gateway.port, "GET", "/jwt/x", bearer(token))
    assert first.status == 200 and first.cookie(COOKIE)
    for _ in range(3):
        again = http(gateway.port, "GET", "/jwt/x", bearer(token))
        assert again.status == 200, again
        assert again.cookie(COOKIE) == first.cookie(COOKIE)  # the same session, its cookie again
        assert again.upstream_header("X-Jotgate-User") == "UserDirectory=ACME; UserId=alice"
    # A tampered copy of the cached token is still refused, before any upstream traffic.
    before = upstream.stats()["requests"]
    head, payload, signature = token.split(".")
    flipped = signature[:20] + ("A" if signature[20] != "A" else "B") + signature[21:]
    bad = http(gateway.port, "GET", "/jwt/x", bearer(f"{head}.{payload}.{flipped}"))
    assert bad.status == 401 and "invalid_token" in (bad.header("WWW-Authenticate") or "")
    assert upstream.stats()["requests"] == before
    gateway.wait_for_lines("event=token_rejected")  # written after any sign-in before it
    assert gateway.output().count("event=sign_in") == 1


def test_cached_token_is_refused_once_expired(gateway, pki):
    token = mint(pki, expires_in=-58, jti="short")  # exp 58 s ago: inside the 60 s leeway
    assert http(gateway.port, "GET", "/jwt/x", bearer(token)).status == 200
    time.sleep(2.5)  # now exp + leeway has passed; the cache must not answer for it
    late = http(gateway.port, "GET", "/jwt/x", bearer(token))
    assert late.status == 401
    assert "expired" in (late.header("WWW-Authenticate") or "").lower()


def test_inactivity_timeout_slides_then_expires(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0,
                                      session={"inactivity_timeout": "4s"}))
    cookie = http(gw.port, "GET", "/jwt/x", bearer(mint(pki))).cookie(COOKIE)
    headers = {"Cookie": f"{COOKIE}={cookie}"}
    # 6 s in all, but never 4 s idle: a request a second, which leaves a loaded machine 3 s to
    # answer each one.
    for _ in range(6):
        time.sleep(1)
        r = http(gw.port, "GET", "/jwt/x", headers)
        assert r.status == 200, r
    time.sleep(5.5)
    assert_no_credentials(http(gw.port, "GET", "/jwt/x", headers))


def test_max_lifetime_ends_an_active_session(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0,
                                      session={"inactivity_timeout": "30m", "max_lifetime": "3s"}))
    cookie = http(gw.port, "GET", "/jwt/x", bearer(mint(pki))).cookie(COOKIE)
    headers = {"Cookie": f"{COOKIE}={cookie}"}
    time.sleep(1)
    assert http(gw.port, "GET", "/jwt/x", headers).status == 200
    time.sleep(3)
    assert_no_credentials(http(gw.port, "GET", "/jwt/x", headers))


def test_issuer_and_audience_are_checked_when_set(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0,
                                      auth={"jwt": {"issuer": "https://idp.example", "audience": "jotgate"}}))
    good = mint(pki, iss="https://idp.example", aud="jotgate")
    assert http(gw.port, "GET", "/jwt/x", bearer(good)).status == 200
    for token in (mint(pki, iss="https://other.example", aud="jotgate"),
                  mint(pki, iss="https://idp.example", aud="other"), mint(pki)):
        r = http(gw.port, "GET", "/jwt/x", bearer(token))
        assert r.status == 401, r
        assert r.header("WWW-Authenticate").startswith('Bearer error="invalid_token"')


def test_constant_user_directory(pki, upstream, start_gateway):
    config = gateway_config(pki, upstream.url, http_port=0)
    jwt = config["virtual_proxies"][0]["auth"]["jwt"]
    del jwt["user_directory_claim"]
    jwt["user_directory"] = "ACME"
    gw = start_gateway(config)
    r = http(gw.port, "GET", "/jwt/x", bearer(mint(pki, directory="IGNORED")))
    assert r.status == 200, r
    assert r.upstream_header("X-Jotgate-User") == "UserDirectory=ACME; UserId=alice"
