"""An independent JWS implementation (Python `cryptography`) to cross-check `jotgate token`.

Signs and verifies compact JWS for every algorithm jotgate supports, so tokens travel both ways
between jotgate and code that shares nothing with it.
"""
import base64
import hashlib
import hmac
import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (decode_dss_signature,
                                                             encode_dss_signature)

_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_EC_SIZES = {"ES256": 32, "ES384": 48, "ES512": 66}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_json(value) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def split(token: str):
    """(header dict, payload dict, signing input bytes, signature bytes) of a compact JWS."""
    header, payload, signature = token.split(".")
    return (json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)),
            f"{header}.{payload}".encode("ascii"), b64url_decode(signature))


def load_private(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def load_public(path):
    with open(path, "rb") as f:
        data = f.read()
    if b"CERTIFICATE" in data:
        from cryptography import x509
        return x509.load_pem_x509_certificate(data).public_key()
    return serialization.load_pem_public_key(data)


def sign_bytes(alg: str, key, data: bytes) -> bytes:
    """The JWS signature of `data` (RFC 7518 / RFC 8037); `key` is a private key or HMAC bytes."""
    if alg.startswith("HS"):
        return hmac.new(key, data, getattr(hashlib, "sha" + alg[2:])).digest()
    if alg.startswith("RS"):
        return key.sign(data, padding.PKCS1v15(), _HASHES[alg[2:]]())
    if alg.startswith("PS"):
        h = _HASHES[alg[2:]]()
        return key.sign(data, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    if alg.startswith("ES"):
        der = key.sign(data, ec.ECDSA(_HASHES[alg[2:]]()))
        r, s = decode_dss_signature(der)
        size = _EC_SIZES[alg]
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")  # raw R||S, not DER
    if alg in ("EdDSA", "Ed25519"):
        return key.sign(data)
    raise ValueError(alg)


def verify_bytes(alg: str, key, data: bytes, signature: bytes) -> bool:
    """Whether `signature` is a valid JWS signature of `data` under the public key (or secret)."""
    try:
        if alg.startswith("HS"):
            return hmac.compare_digest(sign_bytes(alg, key, data), signature)
        if alg.startswith("RS"):
            assert isinstance(key, rsa.RSAPublicKey)
            key.verify(signature, data, padding.PKCS1v15(), _HASHES[alg[2:]]())
        elif alg.startswith("PS"):
            h = _HASHES[alg[2:]]()
            key.verify(signature, data, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
        elif alg.startswith("ES"):
            size = _EC_SIZES[alg]
            if len(signature) != 2 * size:
                return False
            der = encode_dss_signature(int.from_bytes(signature[:size], "big"),
                                       int.from_bytes(signature[size:], "big"))
            key.verify(der, data, ec.ECDSA(_HASHES[alg[2:]]()))
        elif alg in ("EdDSA", "Ed25519"):
            assert isinstance(key, ed25519.Ed25519PublicKey)
            key.verify(signature, data)
        else:
            return False
        return True
    except InvalidSignature:
        return False


def make_token(header: dict, payload: dict, alg: str = None, key=None, signature: bytes = None) -> str:
    """A compact JWS; signed with `key` for `alg` unless an explicit `signature` is given."""
    signing_input = f"{b64url_json(header)}.{b64url_json(payload)}"
    if signature is None:
        signature = sign_bytes(alg or header["alg"], key, signing_input.encode("ascii"))
    return f"{signing_input}.{b64url(signature)}"
