"""Running `jotgate token` in the e2e tests and reading its answers: its exit codes (0 valid,
1 invalid token, 2 usage), its one-line `REASON_CODE: message` refusals, and the keys of
tests/data it is given."""
import json
import time

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
