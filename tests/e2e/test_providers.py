"""Several identity providers on one virtual proxy (auth.jwt.providers): the token's iss picks
the provider whose key and rules verify it; an unknown issuer is refused before any key."""
import json
import os
import pathlib

import cli_helpers
from gateway_harness import *  # noqa: F401,F403

DATA = pathlib.Path(os.environ["JOTGATE_TEST_DATA"])
CORP = "https://corp.example"
PARTNER = "https://partner.example"


def providers_config(pki, upstream_url):
    config = gateway_config(pki, upstream_url, http_port=0)
    config["virtual_proxies"][0]["auth"]["jwt"] = {
        "providers": [
            {"issuer": CORP, "key": str(pki.signer), "forward_claims": {"groups": "X-Groups"}},
            {"issuer": PARTNER, "key": str(DATA / "keys" / "rsa_other_public.pem"),
             "user_directory": "PARTNER", "forward_claims": {"groups": "X-Partner-Groups"}},
        ]}
    config["access"]["allocations"].append("PARTNER\\bob")
    return config


def partner_key():
    return cli_helpers.load_private(DATA / "keys" / "rsa_other_private.pem")


def test_each_issuer_is_verified_with_its_own_key_and_rules(pki, upstream, start_gateway):
    gw = start_gateway(providers_config(pki, upstream.url))
    r = http(gw.port, "GET", "/jwt/a", bearer(mint(pki, iss=CORP, groups=["g1", "g2"])))
    assert r.status == 200, r
    assert r.upstream_header("X-Jotgate-User") == "UserDirectory=ACME; UserId=alice"
    assert r.upstream_header("X-Groups") == "g1,g2"
    assert r.upstream_header("X-Partner-Groups") is None

    r = http(gw.port, "GET", "/jwt/b", bearer(mint(pki, user="bob", directory=None, iss=PARTNER,
                                                   key=partner_key(), groups="p")))
    assert r.status == 200, r
    assert r.upstream_header("X-Jotgate-User") == "UserDirectory=PARTNER; UserId=bob"
    assert r.upstream_header("X-Partner-Groups") == "p"
    assert r.upstream_header("X-Groups") is None


def test_a_client_cannot_send_either_providers_claim_headers(pki, upstream, start_gateway):
    gw = start_gateway(providers_config(pki, upstream.url))
    r = http(gw.port, "GET", "/jwt/a", bearer(mint(pki, iss=CORP), **{
        "X-Partner-Groups": "admins", "X-Groups": "admins"}))
    assert r.status == 200, r
    assert r.upstream_header("X-Partner-Groups") is None
    assert r.upstream_header("X-Groups") is None


def test_a_token_claiming_the_other_issuer_does_not_verify(pki, upstream, start_gateway):
    gw = start_gateway(providers_config(pki, upstream.url))
    # Signed with corp's key, claiming partner's issuer: partner's key is the one tried.
    r = http(gw.port, "GET", "/jwt/a", bearer(mint(pki, iss=PARTNER)))
    assert r.status == 401, r
    assert r.text == "Could not authenticate the request: the token signature does not verify"
    assert upstream.stats()["requests"] == 0


def test_an_unknown_or_missing_issuer_is_issuer_unknown(pki, upstream, start_gateway):
    gw = start_gateway(providers_config(pki, upstream.url))
    for token in (mint(pki, iss="https://evil.example"), mint(pki), mint(pki, iss=7)):
        r = http(gw.port, "GET", "/jwt/a", bearer(token))
        assert r.status == 401, r
        assert r.text == ("Could not authenticate the request: no identity provider is "
                          "configured for the token's issuer")
        assert r.header("WWW-Authenticate") == (
            'Bearer error="invalid_token", error_description="no identity provider is '
            'configured for the token\'s issuer"'), r
        r = http(gw.port, "GET", "/jwt/a", bearer(token, Accept="application/json"))
        assert r.status == 401
        assert r.json()["error"] == "ISSUER_UNKNOWN"
    assert upstream.stats()["requests"] == 0
    lines = gw.wait_for_lines("reason=ISSUER_UNKNOWN")
    assert "evil.example" not in "".join(lines)


def test_config_check_names_a_repeated_issuer(pki, upstream, tmp_path):
    config = providers_config(pki, upstream.url)
    config["virtual_proxies"][0]["auth"]["jwt"]["providers"][1]["issuer"] = CORP
    path = tmp_path / "jotgate.yaml"
    path.write_text(json.dumps(config, indent=2))
    done = run_jotgate("config", "check", str(path))
    assert done.returncode != 0
    assert ("virtual_proxies[0].auth.jwt.providers[1].issuer: the same issuer as "
            "virtual_proxies[0].auth.jwt.providers[0]: each provider needs its own") in done.stderr
