"""A test identity provider: a real HTTPS server (its own thread, a certificate of the test's
PKI) serving an OpenID discovery document and a JWKS that the test controls: rotate keys,
change kids, answer 500, hang, return garbage or 5 MiB, and count its hits.

    idp = IdentityProvider.start(pki)          # https://127.0.0.1:PORT, trusted via pki.ca
    token = idp.mint(user="alice")             # signed with its current key, kid in the header
    idp.rotate()                               # a new key under a new kid (the old one dropped)
    idp.mode = "500"                           # or "hang", "garbage", "huge", "ok"
    idp.hits("/keys")                          # how often the JWKS was fetched
"""
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives.asymmetric import rsa

import cli_helpers

JWKS_PATH = "/keys"
DISCOVERY_PATH = "/.well-known/openid-configuration"
HUGE_BYTES = 5 * 1024 * 1024


def public_jwk(key, kid):
    numbers = key.public_key().public_numbers()

    def b64(n):
        return cli_helpers.b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))

    return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64(numbers.n),
            "e": b64(numbers.e)}


class IdentityProvider:
    def __init__(self, server, thread):
        self._server, self._thread = server, thread
        self.port = server.server_address[1]
        self.url = f"https://127.0.0.1:{self.port}"
        self.jwks_uri = self.url + JWKS_PATH
        self.issuer = self.url            # the discovery document names this issuer...
        self.discovered_issuer = None     # ...unless set: a provider claiming another one
        self.mode = "ok"                  # ok | 500 | hang | garbage | huge
        self.max_age = None               # Cache-Control: max-age of the JWKS
        self._lock = threading.Lock()
        self._answers = {}                # (path, mode) -> requests answered so
        self._release = threading.Event()  # ends hanging answers
        self._serial = 0
        self.keys = []                    # (kid, private key), published in this order
        self.rotate()

    @classmethod
    def start(cls, pki, certificate=None, key=None):
        """Serves with the PKI's server certificate (127.0.0.1, localhost), or another pair."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(certificate or pki.server), str(key or pki.server_key))
        holder = {}

        class Handler(_Handler):
            provider = property(lambda self: holder["idp"])

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.socket = context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        idp = cls(server, thread)
        holder["idp"] = idp
        thread.start()
        return idp

    def stop(self):
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    # --- keys and tokens
    def new_key(self):
        self._serial += 1
        return (f"key-{self._serial}", rsa.generate_private_key(public_exponent=65537, key_size=2048))

    def rotate(self, keep_old=False):
        """A new signing key under a new kid; the old ones are dropped unless keep_old."""
        kid, key = self.new_key()
        self.keys = (self.keys if keep_old else []) + [(kid, key)]
        return kid

    @property
    def kid(self):
        return self.keys[-1][0]

    def mint(self, user="alice", directory="ACME", kid=None, key=None, expires_in=3600, **claims):
        """A token of the current key (or `key`) with `kid` in its header."""
        now = int(time.time())
        payload = {"iat": now, "exp": now + expires_in, "userId": user, "userDirectory": directory,
                   "iss": self.issuer, **claims}
        key = key if key is not None else self.keys[-1][1]
        header = {"alg": "RS256", "typ": "JWT", "kid": kid or self.kid}
        return cli_helpers.make_token(header, payload, alg="RS256", key=key)

    def jwks(self):
        return {"keys": [public_jwk(key, kid) for kid, key in self.keys]}

    # --- hits
    def count(self, path, mode):
        with self._lock:
            self._answers[path, mode] = self._answers.get((path, mode), 0) + 1

    def hits(self, path=JWKS_PATH):
        """How many requests on `path`, in any mode."""
        with self._lock:
            return sum(n for (p, _), n in self._answers.items() if p == path)

    def answered(self, mode="ok", path=JWKS_PATH):
        """How many requests on `path` were answered in `mode`: a gateway that refreshes often
        may fetch again before a test changes the mode."""
        with self._lock:
            return self._answers.get((path, mode), 0)

    def wait_for_hits(self, count, path=JWKS_PATH, timeout=10):
        deadline = time.monotonic() + timeout
        while self.hits(path) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.hits(path)} of {count} hits on {path} in {timeout}s")
            time.sleep(0.02)

    def release_hanging(self):
        self._release.set()
        self._release = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        idp = self.provider
        path = self.path.split("?")[0]
        mode = idp.mode  # read once: a test may change it while this answers
        idp.count(path, mode)
        if mode == "hang":
            idp._release.wait(60)
            return
        if mode == "500":
            return self.answer(500, b"internal error", "text/plain")
        if mode == "garbage":
            return self.answer(200, b"{\"keys\": [ not json", "application/json")
        if mode == "huge":
            return self.answer(200, b"{\"keys\":[" + b" " * HUGE_BYTES + b"]}", "application/json")
        if path == DISCOVERY_PATH:
            document = {"issuer": idp.discovered_issuer or idp.issuer, "jwks_uri": idp.jwks_uri}
            return self.answer(200, json.dumps(document).encode(), "application/json")
        if path == JWKS_PATH:
            headers = {}
            if idp.max_age is not None:
                headers["Cache-Control"] = f"public, max-age={idp.max_age}"
            return self.answer(200, json.dumps(idp.jwks()).encode(), "application/json", headers)
        return self.answer(404, b"not found", "text/plain")

    def answer(self, status, body, content_type, headers=None):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the gateway gave up (a document too large)
