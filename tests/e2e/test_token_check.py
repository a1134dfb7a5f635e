"""The token workbench, POST /api/v1/virtual-proxies/{prefix}/token-check, against the real
binary: every check the gateway makes with its exact reason code, the verdict the gateway itself
gives the same token on its listener, validation errors, and a token that never appears in the
gateway's output."""
import datetime
import os
import pathlib
import time

import pytest

import cli_helpers
from gateway_harness import *  # noqa: F401,F403
from test_admin_api import Admin, TOKEN, admin_section, token_file  # noqa: F401

DATA = pathlib.Path(os.environ["JOTGATE_TEST_DATA"])
CHECK = "/api/v1/virtual-proxies/jwt/token-check"
ISSUER = "https://idp.example"
KEY = cli_helpers.load_private(DATA / "keys/rsa_private.pem")
OTHER_KEY = cli_helpers.load_private(DATA / "keys/rsa_other_private.pem")
HEADER = {"alg": "RS256", "typ": "JWT", "kid": "rsa-1"}
NAMES = ["format", "algorithm", "key", "signature", "exp", "nbf", "iat", "issuer", "audience",
         "required_claims", "identity", "revocation", "allocation"]


@pytest.fixture
def admin(pki, upstream, start_gateway, token_file):
    """Virtual proxy `jwt` with the keys of jwks.json (kid rsa-1), an issuer, an audience, a
    required claim and 30 s of leeway; alice and bob are allocated."""
    config = gateway_config(pki, upstream.url, http_port=0,
                            admin=admin_section(pki, 0, token_file),
                            auth={"jwt": {"key": str(DATA / "keys/jwks.json"), "issuer": ISSUER,
                                          "audience": "app", "leeway": "30s",
                                          "required_claims": ["sid"]}})
    return Admin(start_gateway(config), pki)


def ts(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def claims_of(now, **changes):
    claims = {"iss": ISSUER, "aud": "app", "sid": "s-1", "userId": "alice",
              "userDirectory": "ACME", "iat": now - 10, "nbf": now - 10, "exp": now + 3600,
              "jti": "j-1"}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def sign(claims, header=None, key=KEY):
    return cli_helpers.make_token(header or HEADER, claims, key=key)


def passed(claims):
    """Every check passed, with its sentence, for a good token of alice."""
    user = f"{claims['userDirectory']}\\{claims['userId']}"
    details = {
        "format": "three base64url parts; header and payload are JSON objects",
        "algorithm": "RS256 is allowed",
        "key": 'a key with kid "rsa-1" fits RS256',
        "signature": "the signature verifies",
        "exp": f"valid until {ts(claims['exp'])} (leeway 30 s)",
        "nbf": f"valid since {ts(claims['nbf'])} (leeway 30 s)",
        "iat": f"issued at {ts(claims['iat'])}",
        "issuer": f'the issuer is "{ISSUER}"',
        "audience": "the audience includes an expected one",
        "required_claims": "present: sid",
        "identity": f"the user is {user}",
        "revocation": "neither the jti nor the user is revoked",
        "allocation": f"{user} may pass",
    }
    return {name: {"check": name, "passed": True, "reason": None, "detail": details[name]}
            for name in NAMES}


def answer(header, claims, checks, result):
    return {"virtualProxy": "jwt", "header": header, "claims": claims,
            "checks": [checks[name] for name in NAMES], "result": result}


def refused(status, reason, message):
    return {"accepted": False, "status": status, "reason": reason, "message": message}


def failed(name, reason, detail):
    return {"check": name, "passed": False, "reason": reason, "detail": detail}


def skipped(name, detail):
    return {"check": name, "passed": None, "reason": None, "detail": detail}


def auth_message(reason_sentence):
    return "Could not authenticate the request: " + reason_sentence


def token_check(admin, token):
    r = admin.call("POST", CHECK, {"token": token})
    assert r.status == 200, r.text()
    assert r.header("Content-Type") == "application/json"
    assert r.header("Cache-Control") == "no-store"
    return r.json()


def gateway_answer(admin, token):
    """What the gateway's listener answers the token: status, and error code and message."""
    r = admin.gateway_get("/jwt/", Authorization="Bearer " + token, Accept="application/json")
    if r.status == 200:
        return 200, None, None
    body = r.json()
    return r.status, body["error"], body["message"]


def assert_same_as_gateway(admin, token, body):
    result = body["result"]
    assert gateway_answer(admin, token) == (result["status"], result["reason"],
                                            None if result["accepted"] else result["message"])


def refusal(claims, checks, status, reason, message, header=HEADER, passing=None):
    """The answer for a refused token: the checks of a good token (of the claims `passing`,
    default `claims`) with those in `checks` in their place."""
    expected = passed(passing or claims)
    expected.update({check["check"]: check for check in checks})
    return answer(header, claims, expected, refused(status, reason, message))


def assert_verdict(admin, token, expected):
    """The workbench answers `expected`; the gateway's listener answers the token as it says."""
    body = token_check(admin, token)
    assert body == expected
    assert_same_as_gateway(admin, token, body)


def test_good_token_passes_every_check_and_the_gateway_lets_it_through(admin):
    now = int(time.time())
    claims = claims_of(now)
    token = sign(claims)
    body = token_check(admin, token)
    assert body == answer(HEADER, claims, passed(claims),
                          {"accepted": True, "status": 200, "reason": None,
                           "message": "signed in as ACME\\alice"})
    assert_same_as_gateway(admin, token, body)


def test_expired_token_fails_exp_with_token_expired(admin):
    now = int(time.time())
    claims = claims_of(now, exp=now - 100, nbf=now - 200, iat=now - 200)
    token = sign(claims)
    before = int(time.time())
    body = token_check(admin, token)
    after = int(time.time())
    expected = []
    for clock in range(before, after + 1):
        expected.append(refusal(
            claims, [failed("exp", "TOKEN_EXPIRED",
                            f"expired at {ts(now - 100)}, now {ts(clock)} (leeway 30 s)")],
            401, "TOKEN_EXPIRED", auth_message("the token has expired")))
    assert body in expected
    assert_same_as_gateway(admin, token, body)


def test_token_signed_by_another_key_fails_the_signature(admin):
    claims = claims_of(int(time.time()))
    assert_verdict(admin, sign(claims, key=OTHER_KEY), refusal(
        claims, [failed("signature", "SIGNATURE_MISMATCH",
                        "the signature does not verify with the key(s) found")],
        401, "SIGNATURE_MISMATCH", auth_message("the token signature does not verify")))


def test_algorithm_not_allowed(admin):
    claims = claims_of(int(time.time()))
    header = {"alg": "PS256", "typ": "JWT", "kid": "rsa-1"}
    # The key is still looked for: the key of kid rsa-1 is declared for RS256 only (its JWK).
    assert_verdict(admin, sign(claims, header=header), refusal(
        claims, [failed("algorithm", "ALG_NOT_ALLOWED",
                        "PS256 is not among the allowed algorithms"),
                 failed("key", "NO_MATCHING_KEY", "no configured key fits the token"),
                 skipped("signature", "not reached: no key to check it with")],
        401, "ALG_NOT_ALLOWED", auth_message("the token's algorithm is not in the allowed list"),
        header=header))


def test_unknown_kid(admin):
    claims = claims_of(int(time.time()))
    header = {"alg": "RS256", "typ": "JWT", "kid": "retired-7"}
    assert_verdict(admin, sign(claims, header=header), refusal(
        claims, [failed("key", "NO_MATCHING_KEY", "no configured key fits the token"),
                 skipped("signature", "not reached: no key to check it with")],
        401, "NO_MATCHING_KEY", auth_message("no configured key fits the token"), header=header))


def test_wrong_issuer_and_audience_both_shown(admin):
    claims = claims_of(int(time.time()), iss="https://evil.example", aud=["other", "another"])
    assert_verdict(admin, sign(claims), refusal(
        claims, [failed("issuer", "ISSUER_MISMATCH", f'the issuer must be "{ISSUER}"'),
                 failed("audience", "AUDIENCE_MISMATCH", "the audience must include one of: app")],
        401, "ISSUER_MISMATCH", auth_message("the token issuer is not the expected one")))


def test_missing_identity_claim(admin):
    claims = claims_of(int(time.time()), userDirectory=None)
    assert_verdict(admin, sign(claims), refusal(
        claims, [failed("identity", "IDENTITY_CLAIM_MISSING",
                        'the claim "userDirectory" is missing or not a string'),
                 skipped("revocation", "not reached: no user"),
                 skipped("allocation", "not reached: no user")],
        401, "IDENTITY_CLAIM_MISSING",
        auth_message("the user id or user directory claim is missing or not a string"),
        passing={**claims, "userDirectory": "ACME"}))


def test_revoked_jti(admin):
    claims = claims_of(int(time.time()), jti="revoke-me")
    assert admin.call("POST", "/api/v1/revocations", {"jti": "revoke-me"}).status == 201
    assert_verdict(admin, sign(claims), refusal(
        claims, [failed("revocation", "TOKEN_REVOKED", "the token's jti revoke-me is revoked")],
        401, "TOKEN_REVOKED", auth_message("the token has been revoked")))


def test_user_without_allocation_is_access_denied(admin):
    claims = claims_of(int(time.time()), userId="carol")
    assert_verdict(admin, sign(claims), refusal(
        claims, [failed("allocation", "ACCESS_DENIED",
                        "ACME\\carol has no access allocation and no seat is left")],
        403, "ACCESS_DENIED", "Access denied: ACME\\carol has no access allocation"))


def test_malformed_token(admin):
    body = token_check(admin, "not.a-token")
    checks = {name: skipped(name, "not reached: the token cannot be read"
                            if name in ("key", "signature") else
                            "not reached: the payload is not a JSON object")
              for name in NAMES}
    checks["format"] = failed("format", "TOKEN_MALFORMED",
                              "the token is not a JWS compact serialization of three parts")
    checks["algorithm"] = skipped("algorithm", "not reached")
    checks["revocation"] = skipped("revocation", "not reached: no user")
    checks["allocation"] = skipped("allocation", "not reached: no user")
    assert body == answer(None, None, checks, refused(
        401, "TOKEN_MALFORMED",
        auth_message("the token is not a JWS compact serialization of three parts")))
    assert_same_as_gateway(admin, "not.a-token", body)


def test_refusals_of_the_route(admin):
    r = admin.call("POST", CHECK, {})
    assert (r.status, r.json()) == (400, {"error": "VALIDATION_FAILED",
                                          "errors": [{"field": "token", "message": "is required"}]})
    r = admin.call("POST", CHECK, {"token": 7})
    assert (r.status, r.json()) == (400, {"error": "VALIDATION_FAILED", "errors": [
        {"field": "token", "message": "must be a string"}]})
    r = admin.call("POST", "/api/v1/virtual-proxies/nope/token-check", {"token": "a.b.c"})
    assert (r.status, r.json()) == (404, {
        "error": "VIRTUAL_PROXY_NOT_FOUND",
        "message": "no virtual proxy has this prefix (\"~\" names the one at the root)"})
    r = admin.call("GET", CHECK)
    assert (r.status, r.header("Allow")) == (405, "POST")
    r = admin.call("POST", CHECK, {"token": "a.b.c"}, token="wrong-admin-token")
    assert r.status == 401


def test_the_token_never_appears_in_the_gateway_output(admin):
    now = int(time.time())
    tokens = [sign(claims_of(now, jti="secret-jti-1")),
              sign(claims_of(now, exp=now - 100), key=OTHER_KEY)]
    for token in tokens:
        token_check(admin, token)
    lines = admin.gw.wait_for_lines("route=/virtual-proxies/{prefix}/token-check", 2)
    assert all("event=admin_call" in line and "vp=jwt" in line and "status=200" in line
               for line in lines)
    output = admin.gw.output()
    for token in tokens:
        for part in token.split("."):
            assert part not in output
