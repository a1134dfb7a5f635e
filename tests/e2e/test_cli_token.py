"""`jotgate token sign | verify | decode` end to end: the built binary, its exit codes and output,
cross-checked against an independent JWS implementation (Python `cryptography`)."""
import json
import time

import pytest

from cli_helpers import (b64url, b64url_json, load_private, load_public, make_token, split,
                         verify_bytes)
from conftest import TEST_DATA, run_jotgate

KEYS = TEST_DATA / "keys"
IDENTITY = ["--claim", "userId=alice", "--claim", "userDirectory=ACME"]
IDENTITY_CLAIMS = {"userId": "alice", "userDirectory": "ACME"}

# alg -> (private key, public key used to verify)
ASYMMETRIC = {
    "RS256": ("rsa_private.pem", "rsa_public.pem"),
    "RS384": ("rsa_private.pem", "rsa_public.pem"),
    "RS512": ("rsa_private.pem", "rsa_public.pem"),
    "PS256": ("rsa_private.pem", "rsa_public.pem"),
    "PS384": ("rsa_private.pem", "rsa_public.pem"),
    "PS512": ("rsa_private.pem", "rsa_public.pem"),
    "ES256": ("ec_p256_private.pem", "ec_p256_public.pem"),
    "ES384": ("ec_p384_private.pem", "ec_p384_public.pem"),
    "ES512": ("ec_p521_private.pem", "ec_p521_public.pem"),
    "EdDSA": ("ed25519_private.pem", "ed25519_public.pem"),
}
HMAC = ["HS256", "HS384", "HS512"]


def key(name):
    return str(KEYS / name)


def secret_bytes():
    return (KEYS / "hmac_secret.txt").read_bytes()


def sign(*args):
    """Runs `token sign`, expects success, returns the token."""
    result = run_jotgate("token", "sign", *args)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert token.count(".") == 2 and "\n" not in token
    return token


def verify(token, *args, input=None):
    return run_jotgate("token", "verify", *args, token, input=input)


def expect_valid(result):
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)  # exactly one JSON document


def expect_invalid(result, code, token=None):
    """Exit 1 and exactly one line `CODE: message` on stderr; nothing on stdout."""
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(code + ": "), result.stderr
    assert len(lines[0]) > len(code) + 2
    if token is not None:
        assert token not in result.stderr
        assert split_parts(token)[2] not in result.stderr or split_parts(token)[2] == ""
    return lines[0]


def expect_usage(result, *words):
    """Exit 2, nothing on stdout, a message naming what is wrong."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert result.stdout == ""
    for word in words:
        assert word in result.stderr, (word, result.stderr)
    return result.stderr


def split_parts(token):
    return token.split(".")


def now():
    return int(time.time())


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


# ---- rejections: exit 1 and REASON_CODE: message --------------------------------------------

def rsa_token(*extra, time_option=()):
    return sign("--key", key("rsa_private.pem"), *IDENTITY, *time_option, *extra)


def test_expired_token_with_time():
    token = rsa_token(time_option=("--time", "1700000000"))  # exp 1700003600
    expect_valid(verify(token, "--key", key("rsa_public.pem"), "--time", "1700003000"))
    expect_invalid(verify(token, "--key", key("rsa_public.pem"), "--time", "1700007200"),
                   "TOKEN_EXPIRED", token)
    expect_invalid(verify(token, "--key", key("rsa_public.pem")), "TOKEN_EXPIRED", token)


def test_leeway_applies_to_exp():
    token = rsa_token(time_option=("--time", "1700000000"))  # exp 1700003600
    at = "1700003630"  # 30 s after exp: inside the default 60 s leeway
    expect_valid(verify(token, "--key", key("rsa_public.pem"), "--time", at))
    expect_invalid(verify(token, "--key", key("rsa_public.pem"), "--time", at, "--leeway", "0"),
                   "TOKEN_EXPIRED")
    expect_invalid(verify(token, "--key", key("rsa_public.pem"), "--time", at, "--leeway", "10s"),
                   "TOKEN_EXPIRED")
    expect_valid(verify(token, "--key", key("rsa_public.pem"), "--time", "1700003700",
                        "--leeway", "2m"))


def test_not_yet_valid():
    token = rsa_token("--not-before", "+1h", "--expires-in", "2h")
    expect_invalid(verify(token, "--key", key("rsa_public.pem")), "TOKEN_NOT_YET_VALID", token)
    expect_valid(verify(token, "--key", key("rsa_public.pem"), "--time", str(now() + 3700)))


def test_issuer():
    token = rsa_token("--claim", "iss=https://idp.example")
    expect_valid(verify(token, "--key", key("rsa_public.pem"), "--iss", "https://idp.example"))
    expect_invalid(verify(token, "--key", key("rsa_public.pem"), "--iss", "https://evil.example"),
                   "ISSUER_MISMATCH", token)
    no_iss = rsa_token()
    expect_invalid(verify(no_iss, "--key", key("rsa_public.pem"), "--iss", "https://idp.example"),
                   "ISSUER_MISMATCH")


def test_audience_string_and_array():
    token = rsa_token("--claim-json", 'aud=["gate","other"]')
    expect_valid(verify(token, "--key", key("rsa_public.pem"), "--aud", "gate"))
    expect_invalid(verify(token, "--key", key("rsa_public.pem"), "--aud", "elsewhere"),
                   "AUDIENCE_MISMATCH", token)
    single = rsa_token("--claim", "aud=gate")
    expect_valid(verify(single, "--key", key("rsa_public.pem"), "--aud", "gate"))
    expect_invalid(verify(single, "--key", key("rsa_public.pem"), "--aud", "gat"),
                   "AUDIENCE_MISMATCH")


@pytest.mark.parametrize("none", ["none", "NONE", "nOnE", "None"])
def test_alg_none_in_any_case(none):
    unsigned = make_token({"alg": none, "typ": "JWT"}, {**IDENTITY_CLAIMS, "exp": now() + 600},
                          signature=b"")
    expect_invalid(verify(unsigned, "--key", key("rsa_public.pem")), "ALG_NONE")
    # even when someone lists it
    result = verify(unsigned, "--key", key("rsa_public.pem"), "--alg", "RS256," + none)
    assert result.returncode in (1, 2)
    assert result.returncode != 0


def test_alg_not_allowed():
    token = sign("--key", key("rsa_private.pem"), "--alg", "RS512", *IDENTITY)
    expect_invalid(verify(token, "--key", key("rsa_public.pem"), "--alg", "RS256,RS384"),
                   "ALG_NOT_ALLOWED", token)
    ps = sign("--key", key("rsa_private.pem"), "--alg", "PS256", *IDENTITY)
    expect_invalid(verify(ps, "--key", key("rsa_public.pem")), "ALG_NOT_ALLOWED")  # default RS*


@pytest.mark.parametrize("public", ["rsa_public.pem", "rsa_cert.pem"])
def test_hs256_with_the_rsa_public_key_as_secret_is_refused(public):
    # The classic algorithm confusion: HMAC keyed with the verifier's public key bytes.
    pem = (KEYS / public).read_bytes()
    forged = make_token({"alg": "HS256", "typ": "JWT"}, {**IDENTITY_CLAIMS, "exp": now() + 600},
                        key=pem)
    expect_invalid(verify(forged, "--key", key(public)), "ALG_NOT_ALLOWED", forged)
    expect_invalid(verify(forged, "--key", key(public), "--alg", "RS256,HS256"),
                   "ALG_KEY_MISMATCH", forged)
    # Only HMAC allowed but only an RSA key: nothing can ever verify: a usage error.
    result = verify(forged, "--key", key(public), "--alg", "HS256")
    assert result.returncode == 2, result.stderr
    assert "HS256" in result.stderr


def test_encrypted_token_is_refused_with_a_clear_message():
    header = b64url_json({"alg": "RSA-OAEP", "enc": "A256GCM"})
    jwe = ".".join([header, b64url(b"k" * 256), b64url(b"iv" * 6), b64url(b"ciphertext"),
                    b64url(b"t" * 16)])
    line = expect_invalid(verify(jwe, "--key", key("rsa_public.pem")), "TOKEN_ENCRYPTED", jwe)
    assert "encrypted tokens" in line and "not supported" in line


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c.d", "a.b.c.d.e.f", ".."])
def test_wrong_number_of_parts(token):
    if token == "":
        result = verify("-", "--key", key("rsa_public.pem"), input="")
    else:
        result = verify(token, "--key", key("rsa_public.pem"))
    assert result.returncode == 1, result.stderr
    assert result.stderr.split(":")[0] in ("TOKEN_MALFORMED", "BASE64URL_MALFORMED",
                                           "HEADER_NOT_JSON_OBJECT"), result.stderr


def test_tampered_signature_and_payload():
    token = rsa_token()
    header, payload, signature = token.split(".")
    raw = bytearray(split(token)[3])
    raw[len(raw) // 2] ^= 0x01
    tampered = f"{header}.{payload}.{b64url(bytes(raw))}"
    expect_invalid(verify(tampered, "--key", key("rsa_public.pem")), "SIGNATURE_MISMATCH", tampered)
    other_payload = b64url_json({"userId": "mallory", "userDirectory": "ACME", "exp": now() + 60})
    swapped = f"{header}.{other_payload}.{signature}"
    expect_invalid(verify(swapped, "--key", key("rsa_public.pem")), "SIGNATURE_MISMATCH")


def test_wrong_key():
    token = rsa_token()
    result = verify(token, "--key", key("rsa_other_public.pem"))
    expect_invalid(result, "SIGNATURE_MISMATCH", token)


def test_malformed_base64url():
    token = rsa_token()
    header, payload, signature = token.split(".")
    expect_invalid(verify(f"{header}.{payload}.{signature}=", "--key", key("rsa_public.pem")),
                   "BASE64URL_MALFORMED")
    expect_invalid(verify(f"{header}.{payload[:5]}+{payload[6:]}.{signature}", "--key",
                          key("rsa_public.pem")), "BASE64URL_MALFORMED")


def test_header_not_a_json_object():
    bad = f"{b64url(b'[1,2]')}.{b64url_json(IDENTITY_CLAIMS)}.{b64url(b'x' * 256)}"
    expect_invalid(verify(bad, "--key", key("rsa_public.pem")), "HEADER_NOT_JSON_OBJECT")


def test_duplicate_member_in_payload():
    header = b64url_json({"alg": "RS256"})
    payload = b64url(b'{"userId":"alice","userDirectory":"ACME","userId":"admin"}')
    signing_input = f"{header}.{payload}"
    from cli_helpers import sign_bytes
    signature = sign_bytes("RS256", load_private(key("rsa_private.pem")), signing_input.encode())
    token = f"{signing_input}.{b64url(signature)}"
    expect_invalid(verify(token, "--key", key("rsa_public.pem")), "DUPLICATE_MEMBER")


def test_unknown_crit_is_refused():
    token = make_token({"alg": "RS256", "crit": ["exp-ext"], "exp-ext": 1},
                       {**IDENTITY_CLAIMS, "exp": now() + 600}, key=load_private(key("rsa_private.pem")))
    expect_invalid(verify(token, "--key", key("rsa_public.pem")), "CRIT_UNSUPPORTED")


def test_token_too_large():
    big = "x" * (17 * 1024)
    token = rsa_token("--claim", "blob=" + big)
    expect_invalid(verify(token, "--key", key("rsa_public.pem")), "TOKEN_TOO_LARGE")


def test_identity_claims():
    no_dir = sign("--key", key("rsa_private.pem"), "--claim", "userId=alice")
    expect_invalid(verify(no_dir, "--key", key("rsa_public.pem")), "IDENTITY_CLAIM_MISSING")
    out = expect_valid(verify(no_dir, "--key", key("rsa_public.pem"), "--user-directory", "CORP"))
    assert out["user"] == {"directory": "CORP", "id": "alice"}

    custom = sign("--key", key("rsa_private.pem"), "--claim", "sub=bob", "--claim", "dir=EXT")
    out = expect_valid(verify(custom, "--key", key("rsa_public.pem"), "--user-id-claim", "sub",
                              "--user-directory-claim", "dir"))
    assert out["user"] == {"directory": "EXT", "id": "bob"}

    numeric = sign("--key", key("rsa_private.pem"), "--claim-json", "userId=42",
                   "--claim", "userDirectory=ACME")
    expect_invalid(verify(numeric, "--key", key("rsa_public.pem")), "IDENTITY_CLAIM_MISSING")


def test_time_claim_of_the_wrong_type_is_malformed():
    token = rsa_token("--claim-json", 'nbf="yesterday"')
    expect_invalid(verify(token, "--key", key("rsa_public.pem")), "CLAIM_MALFORMED")


# ---- usage and key-file errors: exit 2 ------------------------------------------------------

def test_missing_key_file_names_the_file(tmp_path):
    missing = tmp_path / "nowhere" / "signer.pem"
    token = rsa_token()
    err = expect_usage(verify(token, "--key", missing), str(missing), "No such file")
    assert token not in err
    expect_usage(run_jotgate("token", "sign", "--key", missing, *IDENTITY), str(missing))
    expect_usage(verify(token, "--secret-file", missing), str(missing))
    expect_usage(verify(token, "--key", tmp_path), str(tmp_path), "directory")


def test_key_file_that_is_not_a_key_names_the_file_without_echoing_it(tmp_path):
    bogus = tmp_path / "bogus.pem"
    marker = "SECRETMARKER" + "Q" * 40
    bogus.write_text(f"-----BEGIN PRIVATE KEY-----\n{marker}\n-----END PRIVATE KEY-----\n")
    token = rsa_token()
    err = expect_usage(verify(token, "--key", bogus), str(bogus))
    assert marker not in err
    err = expect_usage(run_jotgate("token", "sign", "--key", bogus, *IDENTITY), str(bogus))
    assert marker not in err


def test_public_key_cannot_sign():
    expect_usage(run_jotgate("token", "sign", "--key", key("rsa_public.pem"), *IDENTITY),
                 "rsa_public.pem")


def test_short_hmac_secret_is_refused():
    expect_usage(run_jotgate("token", "sign", "--secret-file", key("hmac_short.txt"), *IDENTITY),
                 "hmac_short.txt")


@pytest.mark.parametrize("args,words", [
    (["--alg", "RS999"], ["RS999"]),
    (["--alg", "none"], ["none"]),
    (["--leeway", "soon"], ["--leeway"]),
    (["--time", "yesterday"], ["--time"]),
    (["--time", "99999999999999999"], ["--time"]),
    (["--leeway", "9999999999999999d"], ["--leeway"]),
])
def test_verify_usage_errors(args, words):
    expect_usage(verify(rsa_token(), "--key", key("rsa_public.pem"), *args), *words)


def test_verify_needs_a_token_and_a_key():
    expect_usage(run_jotgate("token", "verify", "--key", key("rsa_public.pem")))
    expect_usage(run_jotgate("token", "verify", rsa_token()), "--key")


def test_verify_key_that_serves_no_allowed_algorithm():
    token = sign("--key", key("ec_p256_private.pem"), *IDENTITY)
    expect_usage(verify(token, "--key", key("ec_p256_public.pem")), "--alg")  # default RS*


@pytest.mark.parametrize("args,words", [
    (["--claim", "novalue"], ["novalue"]),
    (["--claim", "=x"], ["--claim"]),
    (["--claim-json", "groups=[oops"], ["groups", "JSON"]),
    (["--claim", "team=a", "--claim", "team=b"], ["team"]),
    (["--claim", "exp=tomorrow"], ["--claim-json"]),
    (["--expires-in", "soon"], ["--expires-in"]),
    (["--expires-in", "0"], ["--expires-in"]),
    (["--not-before", "later"], ["--not-before"]),
    (["--not-before", "+9999999999999999d"], ["--not-before"]),
    (["--expires-in", "9999999999999999d"], ["--expires-in"]),
    (["--time", "9223372036854775807"], ["--time"]),
    (["--alg", "ES256"], ["ES256", "RSA"]),
    (["--alg", "HS256"], ["HS256"]),
    (["--alg", "XY123"], ["XY123"]),
    (["--secret-file", str(KEYS / "hmac_secret.txt")], ["--secret-file"]),
])
def test_sign_usage_errors(args, words):
    result = run_jotgate("token", "sign", "--key", key("rsa_private.pem"), *IDENTITY, *args)
    expect_usage(result, *words)


def test_sign_needs_a_key():
    expect_usage(run_jotgate("token", "sign", *IDENTITY), "--key")


# ---- decode ---------------------------------------------------------------------------------

def test_decode_says_nothing_was_verified():
    token = sign("--key", key("rsa_private.pem"), "--kid", "k1", *IDENTITY)
    result = run_jotgate("token", "decode", token)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["verified"] is False
    assert out["header"] == {"alg": "RS256", "typ": "JWT", "kid": "k1"}
    assert out["payload"]["userId"] == "alice"
    assert "NOT VERIFIED" in result.stderr


def test_decode_shows_even_tokens_that_would_never_verify():
    unsigned = make_token({"alg": "none"}, IDENTITY_CLAIMS, signature=b"")
    result = run_jotgate("token", "decode", unsigned)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["header"] == {"alg": "none"}
    assert "NOT VERIFIED" in result.stderr


def test_decode_refuses_what_it_cannot_read():
    jwe = ".".join([b64url_json({"alg": "dir", "enc": "A128GCM"}), "", b64url(b"iv"), b64url(b"c"),
                    b64url(b"t")])
    result = run_jotgate("token", "decode", jwe)
    assert result.returncode == 1
    assert result.stderr.startswith("TOKEN_ENCRYPTED: ")
    result = run_jotgate("token", "decode", "not-a-token")
    assert result.returncode == 1
    assert result.stderr.startswith("TOKEN_MALFORMED: ")
    result = run_jotgate("token", "decode", "e30.W10.")  # payload is an array
    assert result.returncode == 1
    assert result.stderr.startswith("PAYLOAD_NOT_JSON_OBJECT: ")
    assert run_jotgate("token", "decode").returncode == 2
