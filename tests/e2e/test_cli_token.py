"""`jotgate token sign | verify | decode` end to end, what it signs and accepts: the built binary,
its exit codes and output, cross-checked against an independent JWS implementation (Python
`cryptography`). What it refuses: test_cli_token_refusals.py."""
import json

import pytest

from cli_helpers import (b64url, b64url_json, load_private, load_public, make_token, split,
                         verify_bytes)
from conftest import run_jotgate
from token_command import (ASYMMETRIC, HMAC, IDENTITY, IDENTITY_CLAIMS, expect_valid, key, now,
                           secret_bytes, sign, verify)


# ---- help -----------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["token"], ["token", "sign"], ["token", "verify"],
                                     ["token", "decode"]])
def test_help_has_examples(command):
    result = run_jotgate(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert "Examples:" in result.stdout
    assert "jotgate token" in result.stdout


def test_token_without_subcommand_is_a_usage_error():
    assert run_jotgate("token").returncode == 2


# ---- round trips ----------------------------------------------------------------------------

@pytest.mark.parametrize("alg", sorted(ASYMMETRIC))
def test_sign_verify_round_trip(alg):
    private, public = ASYMMETRIC[alg]
    token = sign("--key", key(private), "--alg", alg, *IDENTITY)
    out = expect_valid(verify(token, "--key", key(public), "--alg", alg))
    assert out["header"] == {"alg": alg, "typ": "JWT"}
    assert out["user"] == {"directory": "ACME", "id": "alice"}
    assert out["claims"]["userId"] == "alice" and out["claims"]["userDirectory"] == "ACME"
    assert abs(out["claims"]["iat"] - now()) < 60
    assert out["claims"]["exp"] == out["claims"]["iat"] + 3600  # default --expires-in 1h
    assert "nbf" not in out["claims"]


@pytest.mark.parametrize("alg", HMAC)
def test_hmac_round_trip_with_secret_file(alg):
    token = sign("--secret-file", key("hmac_secret.txt"), "--alg", alg, *IDENTITY)
    out = expect_valid(verify(token, "--secret-file", key("hmac_secret.txt")))
    assert out["header"]["alg"] == alg
    assert out["user"] == {"directory": "ACME", "id": "alice"}


@pytest.mark.parametrize("private,expected", [
    ("rsa_private.pem", "RS256"), ("rsa_private_pkcs1.pem", "RS256"),
    ("ec_p256_private.pem", "ES256"), ("ec_p384_private.pem", "ES384"),
    ("ec_p521_private.pem", "ES512"), ("ed25519_private.pem", "EdDSA")])
def test_default_algorithm_follows_the_key(private, expected):
    header, _, _, _ = split(sign("--key", key(private), *IDENTITY))
    assert header["alg"] == expected


def test_default_algorithm_for_a_secret_is_hs256():
    header, _, _, _ = split(sign("--secret-file", key("hmac_secret.txt"), *IDENTITY))
    assert header["alg"] == "HS256"


@pytest.mark.parametrize("public", ["rsa_public.pem", "rsa_public_pkcs1.pem", "rsa_cert.pem",
                                    "jwks.json"])
def test_verify_with_every_kind_of_rsa_verification_key(public):
    token = sign("--key", key("rsa_private.pem"), "--kid", "rsa-1", *IDENTITY)
    out = expect_valid(verify(token, "--key", key(public)))
    assert out["header"]["kid"] == "rsa-1"


def test_verify_with_jwks_selects_by_kid():
    token = sign("--key", key("ec_p256_private.pem"), "--kid", "ec-1", *IDENTITY)
    expect_valid(verify(token, "--key", key("jwks.json"), "--alg", "ES256"))
    wrong_kid = sign("--key", key("ec_p256_private.pem"), "--kid", "rsa-1", *IDENTITY)
    result = verify(wrong_kid, "--key", key("jwks.json"), "--alg", "ES256")
    assert result.returncode == 1
    assert result.stderr.split(":")[0] in ("NO_MATCHING_KEY", "ALG_KEY_MISMATCH")


def test_claims_kid_time_and_lifetime_options():
    token = sign("--key", key("rsa_private.pem"), "--kid", "k-7", "--time", "1700000000",
                 "--expires-in", "30m", "--not-before", "+5m", *IDENTITY,
                 "--claim", "iss=https://idp.example", "--claim", "note=a=b",
                 "--claim-json", 'groups=["admins","ops"]', "--claim-json", "level=3",
                 "--claim-json", 'profile={"mail":"a@example.test"}')
    header, payload, _, _ = split(token)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": "k-7"}
    assert payload == {"iat": 1700000000, "exp": 1700001800, "nbf": 1700000300,
                       "userId": "alice", "userDirectory": "ACME",
                       "iss": "https://idp.example", "note": "a=b",
                       "groups": ["admins", "ops"], "level": 3,
                       "profile": {"mail": "a@example.test"}}


def test_expires_in_never_omits_exp_and_absolute_not_before():
    _, payload, _, _ = split(sign("--key", key("rsa_private.pem"), "--expires-in", "never",
                                  "--not-before", "1600000000", *IDENTITY))
    assert "exp" not in payload
    assert payload["nbf"] == 1600000000


def test_relative_not_before_in_the_past():
    _, payload, _, _ = split(sign("--key", key("rsa_private.pem"), "--time", "1700000000",
                                  "--not-before", "-1h", *IDENTITY))
    assert payload["nbf"] == 1700000000 - 3600


@pytest.mark.parametrize("alg", ["ES256", "HS384"])
def test_sign_with_a_private_jwk_takes_its_kid_and_alg(tmp_path, alg):
    if alg == "ES256":
        numbers = load_private(key("ec_p256_private.pem")).private_numbers()
        jwk = {"kty": "EC", "crv": "P-256", "kid": "jwk-ec", "alg": alg,
               "x": b64url(numbers.public_numbers.x.to_bytes(32, "big")),
               "y": b64url(numbers.public_numbers.y.to_bytes(32, "big")),
               "d": b64url(numbers.private_value.to_bytes(32, "big"))}
        verify_args = ["--key", key("ec_p256_public.pem"), "--alg", alg]
    else:
        jwk = {"kty": "oct", "kid": "jwk-oct", "alg": alg, "k": b64url(secret_bytes())}
        verify_args = ["--secret-file", key("hmac_secret.txt")]
    path = tmp_path / "key.jwk"
    path.write_text(json.dumps(jwk))
    token = sign("--key", path, *IDENTITY)
    header, _, _, _ = split(token)
    assert header == {"alg": alg, "typ": "JWT", "kid": jwk["kid"]}
    expect_valid(verify(token, *verify_args))


def test_claim_json_may_override_registered_claims():
    _, payload, _, _ = split(sign("--key", key("rsa_private.pem"), "--claim-json", "exp=12345",
                                  *IDENTITY))
    assert payload["exp"] == 12345


# ---- cross-checks with an independent implementation ---------------------------------------

@pytest.mark.parametrize("alg", sorted(ASYMMETRIC))
def test_python_verifies_jotgate_tokens(alg):
    private, public = ASYMMETRIC[alg]
    token = sign("--key", key(private), "--alg", alg, *IDENTITY)
    header, payload, signing_input, signature = split(token)
    assert header["alg"] == alg
    assert payload["userId"] == "alice"
    assert verify_bytes(alg, load_public(key(public)), signing_input, signature)
    # and the check can fail: a flipped bit does not verify
    flipped = bytes([signature[0] ^ 1]) + signature[1:]
    assert not verify_bytes(alg, load_public(key(public)), signing_input, flipped)


@pytest.mark.parametrize("alg", HMAC)
def test_python_verifies_jotgate_hmac_tokens(alg):
    token = sign("--secret-file", key("hmac_secret.txt"), "--alg", alg, *IDENTITY)
    _, _, signing_input, signature = split(token)
    assert verify_bytes(alg, secret_bytes(), signing_input, signature)


@pytest.mark.parametrize("alg", sorted(ASYMMETRIC))
def test_jotgate_verifies_python_tokens(alg):
    private, public = ASYMMETRIC[alg]
    claims = {**IDENTITY_CLAIMS, "iat": now(), "exp": now() + 600}
    token = make_token({"alg": alg, "typ": "JWT"}, claims, key=load_private(key(private)))
    out = expect_valid(verify(token, "--key", key(public), "--alg", alg))
    assert out["claims"] == claims
    assert out["user"] == {"directory": "ACME", "id": "alice"}


@pytest.mark.parametrize("alg", HMAC)
def test_jotgate_verifies_python_hmac_tokens(alg):
    token = make_token({"alg": alg}, {**IDENTITY_CLAIMS, "exp": now() + 600}, key=secret_bytes())
    expect_valid(verify(token, "--secret-file", key("hmac_secret.txt")))


def test_jotgate_verifies_python_ed25519_fully_specified_name():
    token = make_token({"alg": "Ed25519"}, {**IDENTITY_CLAIMS, "exp": now() + 600},
                       key=load_private(key("ed25519_private.pem")))
    out = expect_valid(verify(token, "--key", key("ed25519_public.pem"), "--alg", "Ed25519"))
    assert out["header"]["alg"] == "Ed25519"


def test_der_encoded_ecdsa_signature_is_refused():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    signing_input = f"{b64url_json({'alg': 'ES256'})}.{b64url_json(IDENTITY_CLAIMS)}"
    der = load_private(key("ec_p256_private.pem")).sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    token = f"{signing_input}.{b64url(der)}"
    result = verify(token, "--key", key("ec_p256_public.pem"), "--alg", "ES256")
    assert result.returncode == 1
    assert result.stderr.split(":")[0] in ("SIGNATURE_MALFORMED", "SIGNATURE_MISMATCH"), result.stderr


# ---- standard input -------------------------------------------------------------------------

def test_token_from_standard_input():
    token = sign("--key", key("rsa_private.pem"), *IDENTITY)
    out = expect_valid(verify("-", "--key", key("rsa_public.pem"), input=token + "\n"))
    assert out["user"]["id"] == "alice"


def test_sign_piped_into_verify_and_decode():
    token = sign("--key", key("ed25519_private.pem"), *IDENTITY)
    expect_valid(verify("-", "--key", key("ed25519_public.pem"), "--alg", "EdDSA", input=token))
    decoded = run_jotgate("token", "decode", "-", input=token)
    assert decoded.returncode == 0


def test_empty_standard_input_is_an_invalid_token():
    result = verify("-", "--key", key("rsa_public.pem"), input="")
    assert result.returncode == 1
    assert result.stderr.startswith("TOKEN_")
