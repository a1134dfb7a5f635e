"""`jotgate token verify | sign | decode` end to end, what it refuses: each bad token, key and
command line gets exit 1 with one `REASON_CODE: message` line (or exit 2 for usage), and never
echoes the token or the key."""
import json

import pytest

from cli_helpers import b64url, b64url_json, load_private, make_token, split
from conftest import run_jotgate
from token_command import (IDENTITY, IDENTITY_CLAIMS, KEYS, expect_invalid, expect_usage,
                           expect_valid, key, now, sign, verify)


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
