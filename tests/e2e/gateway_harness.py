"""Helpers for the gateway's end-to-end tests: a real upstream process, a real `jotgate serve`
process on a config written into a temporary folder, tokens, and small HTTP/WebSocket clients.

    up = Upstream.start(tmp_path)                     # tests/e2e/upstream_server.py
    gw = Gateway.start(tmp_path, gateway_config(pki, up.url, http_port=0))  # port 0: gw.port
    status, headers, body = http(gw.port, "GET", "/jwt/x", {"Authorization": "Bearer " + mint(pki)})
"""
import base64
import contextlib
import copy
import hashlib
import http.client as httpclient
import json
import os
import pathlib
import re
import signal
import socket
import ssl
import subprocess
import sys
import time

from conftest import JOTGATE_BIN, run_jotgate
import cli_helpers
import upstream_server

HERE = pathlib.Path(__file__).resolve().parent
START_TIMEOUT = 30


def free_port():
    """A port nothing listens on (yet). Only for a port needed before a process starts, such as
    an upstream that must refuse connections; a gateway binds port 0 and prints its own."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ----------------------------------------------------------------------------- upstream
class Upstream:
    """tests/e2e/upstream_server.py in its own process."""

    def __init__(self, proc, port, name):
        self.proc, self.port, self.name = proc, port, name
        self.url = f"http://127.0.0.1:{port}"

    @classmethod
    def start(cls, folder, name="upstream", port=0):
        folder = pathlib.Path(folder)
        port_file = folder / f"{name}-{time.monotonic_ns()}.port"
        env = dict(os.environ, UPSTREAM_PORT=str(port))
        proc = subprocess.Popen([sys.executable, str(HERE / "upstream_server.py"), str(port_file), name],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 15
        while not port_file.exists():
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise RuntimeError("upstream_server.py did not start")
            time.sleep(0.02)
        return cls(proc, int(port_file.read_text()), name)

    def stats(self):
        conn = httpclient.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request("GET", "/__stats")
            return json.loads(conn.getresponse().read())
        finally:
            conn.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ----------------------------------------------------------------------------- PKI and tokens
class Pki:
    """The files of `jotgate certs generate --out DIR`."""

    def __init__(self, folder):
        self.dir = pathlib.Path(folder)
        for name in ("ca", "ca_key", "server", "server_key", "signer", "signer_key"):
            setattr(self, name, self.dir / f"{name}.pem")

    @classmethod
    def generate(cls, folder):
        done = run_jotgate("certs", "generate", "--out", folder)
        assert done.returncode == 0, done.stderr
        return cls(folder)

    def private_key(self):
        return cli_helpers.load_private(self.signer_key)


def mint(pki, user="alice", directory="ACME", alg="RS256", key=None, expires_in=3600, now=None,
         header_extra=None, **claims):
    """A token signed (by default) with the PKI's signer key, via Python `cryptography`."""
    now = int(time.time()) if now is None else now
    payload = {"iat": now, "exp": now + expires_in}
    if user is not None:
        payload["userId"] = user
    if directory is not None:
        payload["userDirectory"] = directory
    payload.update(claims)
    header = {"alg": alg, "typ": "JWT", **(header_extra or {})}
    return cli_helpers.make_token(header, payload, alg=alg, key=key if key is not None else pki.private_key())


def cli_token(pki, user="alice", directory="ACME", *extra):
    """A token minted by `jotgate token sign`."""
    done = run_jotgate("token", "sign", "--key", pki.signer_key, "--claim", f"userId={user}",
                       "--claim", f"userDirectory={directory}", *extra)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


# ----------------------------------------------------------------------------- config
def gateway_config(pki, upstreams, http_port=None, https_port=None, admin=None, ops=None,
                   **vp_overrides):
    """A config dict: an http listener when http_port (and https when https_port; 0: a port the
    system chooses, see Gateway.ports), one virtual proxy `jwt`; `admin`: the admin section;
    `ops`: the ops section ({"address": "127.0.0.1:0"}: Gateway.ops_port)."""
    listeners = []
    if http_port is not None:
        listeners.append({"name": "http", "address": f"127.0.0.1:{http_port}"})
    if https_port is not None:
        listeners.append({"name": "https", "address": f"127.0.0.1:{https_port}",
                          "tls": {"certificate": str(pki.server), "key": str(pki.server_key)}})
    if isinstance(upstreams, str):
        upstreams = [upstreams]
    vp = {
        "name": "Embedded analytics",
        "prefix": "jwt",
        "listeners": [l["name"] for l in listeners],
        "upstreams": list(upstreams),
        "strip_prefix": True,
        "auth": {"method": "jwt", "jwt": {"key": str(pki.signer), "algorithms": ["RS256"],
                                          "user_id_claim": "userId",
                                          "user_directory_claim": "userDirectory"}},
    }
    deep_update(vp, vp_overrides)
    config = {"listeners": listeners, "virtual_proxies": [vp],
              "access": {"mode": "allocated", "allocations": ["ACME\\alice", "ACME\\bob"]}}
    if admin is not None:
        config["admin"] = copy.deepcopy(admin)
    if ops is not None:
        config["ops"] = copy.deepcopy(ops)
    return config


def deep_update(target, changes):
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            deep_update(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
    return target


# ----------------------------------------------------------------------------- gateway
LISTENING = "jotgate is listening on:"
READY = "Stop with Ctrl-C."
# "  http://127.0.0.1:41234 (listener http)", "  https://127.0.0.1:41235 (admin API)",
# "  http://127.0.0.1:9100 (ops: /healthz /readyz /metrics)"
ADDRESS_LINE = re.compile(r"  \S+://(?:\[[^\]]+\]|[^:/\s]+):(\d+) "
                          r"\((?:listener (.+)|(admin API)|(ops): /healthz /readyz /metrics)\)")


# With log_format: json: {"event":"listening","address":...,"listener":...} per listener,
# {"event":"listening","address":...,"admin_api":true}, then {"event":"ready"}.
JSON_READY = '"event":"ready"'


@contextlib.contextmanager
def demo(folder, *args):
    """`jotgate serve` on the embedded demo (data in folder/data, ports 0 unless `args` say):
    yields the output once it is ready; stopped with SIGTERM, which must end it cleanly."""
    out = open(folder / "serve.out", "wb")
    proc = subprocess.Popen([JOTGATE_BIN, "serve", "--data-dir", str(folder / "data"),
                             "--port", "0", *args], cwd=folder, stdout=out,
                            stderr=subprocess.DEVNULL)
    out.close()
    try:
        deadline = time.time() + 40
        text = ""
        while READY not in text:
            assert proc.poll() is None and time.time() < deadline, text
            time.sleep(0.05)
            text = (folder / "serve.out").read_text()
        yield text
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def printed_ports(output):
    """The ports of the start-up lines of `jotgate serve` (docs/configuration.md, "Start-up
    output"), text or JSON lines: ({listener name: port} in the config's order, admin port or
    None, ops port or None)."""
    listeners, admin, ops = {}, None, None
    if LISTENING not in output:
        for line in output.splitlines():
            event = json.loads(line)
            if event["event"] == "ready":
                break
            if event["event"] == "listening" and event.get("admin_api"):
                admin = port_of(event["address"])
            elif event["event"] == "listening" and event.get("ops"):
                ops = port_of(event["address"])
            elif event["event"] == "listening":
                listeners[event["listener"]] = port_of(event["address"])
        return listeners, admin, ops
    lines = output.split(LISTENING + "\n", 1)[1].split(READY, 1)[0].splitlines()
    for line in lines:
        match = ADDRESS_LINE.fullmatch(line)
        if match is None:
            break  # the embedded demo's curl command follows
        if match.group(3) is not None:
            admin = int(match.group(1))
        elif match.group(4) is not None:
            ops = int(match.group(1))
        else:
            listeners[match.group(2)] = int(match.group(1))
    return listeners, admin, ops


class Gateway:
    """`jotgate serve --config FILE` in its own process, output collected in files. Listeners
    may use port 0: `start` reads the bound ports from what the gateway prints."""

    def __init__(self, proc, folder, config_path):
        self.proc, self.dir, self.config_path = proc, folder, config_path
        self.listener_ports, self.admin_port, self.ops_port = {}, None, None

    @property
    def ports(self):
        """The listeners' ports in the config's order."""
        return list(self.listener_ports.values())

    @property
    def port(self):
        """The first listener's port."""
        return self.ports[0] if self.listener_ports else None

    @classmethod
    def start(cls, folder, config, wait=True, extra_args=(), env=None):
        """Starts `jotgate serve`; with `wait`, returns once it printed its bound addresses."""
        folder = pathlib.Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        config = copy.deepcopy(config)
        config.setdefault("data_dir", str(folder / "data"))
        config_path = folder / "jotgate.yaml"
        # JSON is YAML (flow style); keeps the writer trivial and exact.
        config_path.write_text(json.dumps(config, indent=2))
        out = open(folder / "gateway.out", "wb")
        err = open(folder / "gateway.err", "wb")
        proc = subprocess.Popen([JOTGATE_BIN, "serve", "--config", str(config_path), *extra_args],
                                stdout=out, stderr=err, cwd=folder, env=env)
        out.close()
        err.close()
        gw = cls(proc, folder, config_path)
        if wait:
            ready = JSON_READY if config.get("log_format") == "json" else READY
            try:
                gw.listener_ports, gw.admin_port, gw.ops_port = printed_ports(
                    gw.wait_for_output(ready))
            except Exception as e:
                gw.kill()
                raise AssertionError(f"{e}\nstdout:\n{gw.stdout()}\nstderr:\n{gw.stderr()}")
        return gw

    def wait_for_output(self, text, timeout=START_TIMEOUT):
        """Standard output once it holds `text`; fails when the process exits first."""
        deadline = time.monotonic() + timeout
        while True:
            exited = self.proc.poll() is not None
            output = self.stdout()
            if text in output:
                return output
            if exited:
                raise RuntimeError(f"jotgate serve exited with {self.proc.returncode} before "
                                   f"printing {text!r}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"jotgate serve did not print {text!r} within {timeout}s")
            time.sleep(0.02)

    def stdout(self):
        return (self.dir / "gateway.out").read_text(errors="replace")

    def stderr(self):
        return (self.dir / "gateway.err").read_text(errors="replace")

    def output(self):
        return self.stdout() + self.stderr()

    def wait_for_lines(self, match, count=1, timeout=5, stream="stdout"):
        """The lines of standard output (or "stderr", "output") that `match` selects (a substring,
        or a function of the line), once there are at least `count` of them. Audit lines are
        written off the request threads, a little after the answer: tests wait for them."""
        select = match if callable(match) else (lambda line: match in line)
        deadline = time.monotonic() + timeout
        while True:
            lines = [l for l in getattr(self, stream)().splitlines() if select(l)]
            if len(lines) >= count:
                return lines
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(lines)} of {count} lines matching {match!r} within "
                                     f"{timeout}s:\n{getattr(self, stream)()}")
            time.sleep(0.02)

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self, timeout=20):
        """SIGTERM; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("jotgate did not stop within %ss of SIGTERM" % timeout)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


# ----------------------------------------------------------------------------- HTTP clients
class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        return json.loads(self.body)

    def upstream_header(self, name):
        """A header as the upstream echo saw it (None when absent)."""
        values = [v for k, v in self.json()["headers"] if k.lower() == name.lower()]
        return values[0] if values else None

    def upstream_all(self, name):
        return [v for k, v in self.json()["headers"] if k.lower() == name.lower()]

    def cookie(self, name):
        """The value of Set-Cookie `name` (None when not set)."""
        for value in self.all("Set-Cookie"):
            first = value.split(";", 1)[0]
            if first.split("=", 1)[0].strip() == name:
                return first.split("=", 1)[1]
        return None

    def set_cookie(self, name):
        for value in self.all("Set-Cookie"):
            if value.split("=", 1)[0].strip() == name:
                return value
        return None

    def __repr__(self):
        return f"<Response {self.status} {self.headers} {self.body[:300]!r}>"


def client_context(ca=None, verify=True):
    if not verify:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cafile=str(ca))


def connection(port, tls=None, timeout=30, host="127.0.0.1"):
    if tls is not None:
        return httpclient.HTTPSConnection(host, port, timeout=timeout, context=tls)
    return httpclient.HTTPConnection(host, port, timeout=timeout)


def http(port, method="GET", path="/", headers=None, body=None, tls=None, timeout=30, conn=None):
    """One request; `tls` is an ssl.SSLContext for HTTPS. Returns a Response."""
    own = conn is None
    conn = conn or connection(port, tls, timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        if own:
            conn.close()


def sign_in_each(gw, pki, users):
    """One sign-in (a token of its own) per user, one after the other on one connection."""
    conn = connection(gw.port)
    for user in users:
        r = http(gw.port, "GET", "/jwt/x", bearer(mint(pki, user=user)), conn=conn)
        assert r.status == 200, r
    conn.close()


def bearer(token, **more):
    return {"Authorization": "Bearer " + token, **more}


def raw_request(port, data, timeout=10, tls=None):
    """Sends raw bytes, returns everything read until the server closes or `timeout`."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if tls is not None:
        sock = tls.wrap_socket(sock, server_hostname="localhost")
    try:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            # One response is enough when the server keeps the connection open.
            joined = b"".join(chunks)
            if b"\r\n\r\n" in joined:
                head, _, rest = joined.partition(b"\r\n\r\n")
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        if len(rest) >= int(line.split(b":")[1]):
                            return joined
        return b"".join(chunks)
    finally:
        sock.close()


def raw_status(response_bytes):
    """The status code of raw response bytes (None when there is no response)."""
    if not response_bytes.startswith(b"HTTP/1."):
        return None
    return int(response_bytes.split(b" ", 2)[1])


# ----------------------------------------------------------------------------- log lines
_ESCAPES = {ord('"'): b'"', ord("\\"): b"\\", ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t"}


def log_items(text):
    """A text log line as written by base/log_field, strictly parsed: items separated by one
    space, each `value` or `key=value`; a value is bare (no space, quote or '=') or
    double-quoted with escapes; `-` is empty. Returns [(key or None, value)]; raises ValueError
    on anything else."""
    data, items, i = text.encode("utf-8", errors="surrogateescape"), [], 0
    while i < len(data):
        key = None
        j = i
        while j < len(data) and data[j] not in b' ="':
            j += 1
        if j < len(data) and data[j] == ord("="):
            key, i = data[i:j].decode(), j + 1
            if not key.replace("_", "a").isalnum():
                raise ValueError(f"bad key {key!r} in {text!r}")
        if i < len(data) and data[i] == ord('"'):
            raw, i = bytearray(), i + 1
            while True:
                if i >= len(data):
                    raise ValueError(f"unterminated quote in {text!r}")
                c = data[i]
                if c == ord('"'):
                    i += 1
                    break
                if c == ord("\\"):
                    nxt = data[i + 1]
                    if nxt == ord("x"):
                        raw.append(int(data[i + 2:i + 4], 16))
                        i += 4
                    elif nxt in _ESCAPES:
                        raw += _ESCAPES[nxt]
                        i += 2
                    else:
                        raise ValueError(f"bad escape in {text!r}")
                    continue
                if c < 0x20 or c > 0x7e:
                    raise ValueError(f"unescaped byte {c} in {text!r}")
                raw.append(c)
                i += 1
            value = raw.decode("utf-8", errors="surrogateescape")
        else:
            j = i
            while j < len(data) and data[j] not in b' ="':
                j += 1
            if j == i:
                raise ValueError(f"empty value at {i} in {text!r}")
            value = data[i:j].decode()
            value = "" if value == "-" else value
            i = j
        items.append((key, value))
        if i < len(data):
            if data[i] != ord(" "):
                raise ValueError(f"no space after a value at {i} in {text!r}")
            i += 1
    return items


AUDIT_PREFIX = "] [audit] [info] "


def audit_events(output, event=None):
    """Every audit line of `output` (after spdlog's prefix) as a list of (key, value) pairs;
    only the lines of `event` when given."""
    parsed = [log_items(l.split(AUDIT_PREFIX, 1)[1]) for l in output.splitlines()
              if AUDIT_PREFIX in l]
    return [p for p in parsed if event is None or p[0] == ("event", event)]


# ----------------------------------------------------------------------------- WebSocket client
class WebSocket:
    """A minimal RFC 6455 client over a socket (masking, single frames)."""

    def __init__(self, sock, response_head, leftover):
        self.sock, self.response_head = sock, response_head
        self.rfile = _BufferedSocket(sock, leftover)

    @classmethod
    def connect(cls, port, path, headers=None, tls=None, timeout=10):
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls is not None:
            sock = tls.wrap_socket(sock, server_hostname="localhost")
        key = base64.b64encode(os.urandom(16)).decode()
        headers = dict(headers or {})
        host = headers.pop("Host", f"127.0.0.1:{port}")
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        ws = cls(sock, head.decode("latin-1"), rest)
        ws.status = raw_status(data) if data else None
        ws.expected_accept = base64.b64encode(
            hashlib.sha1((key + upstream_server.WS_GUID).encode()).digest()).decode()
        return ws

    def send(self, opcode, payload):
        self.sock.sendall(upstream_server.encode_frame(opcode, payload, mask=True))

    def recv(self):
        return upstream_server.read_frame(self.rfile)

    def close(self):
        try:
            self.send(0x8, struct_pack_close(1000))
        except OSError:
            pass
        self.sock.close()


def struct_pack_close(code):
    return code.to_bytes(2, "big")


class _BufferedSocket:
    def __init__(self, sock, leftover):
        self.sock, self.buf = sock, leftover

    def read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


# ----------------------------------------------------------------------------- fixtures
# Test files do `from gateway_harness import *` to get these.
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return Pki.generate(tmp_path_factory.mktemp("pki") / "certs")


def stopped_after(start, finish="stop"):
    """For a fixture: yields `start` that remembers what it started, and calls the method
    `finish` of each after."""
    started = []

    def tracked(*args, **kwargs):
        thing = start(*args, **kwargs)
        started.append(thing)
        return thing

    yield tracked
    for thing in started:
        getattr(thing, finish)()


@pytest.fixture
def start_upstream(tmp_path):
    yield from stopped_after(lambda name="upstream", port=0: Upstream.start(tmp_path, name, port))


@pytest.fixture
def upstream(start_upstream):
    return start_upstream("upstream")


@pytest.fixture
def start_gateway(tmp_path):
    """start_gateway(config) -> Gateway; every gateway is stopped (SIGTERM, exit 0) at the end."""
    started = []

    def start(config, name="gw", **kwargs):
        gw = Gateway.start(tmp_path / f"{name}{len(started)}", config, **kwargs)
        started.append(gw)
        return gw

    yield start
    failures = []
    for gw in started:
        if gw.proc.poll() is None:
            try:
                code = gw.stop()
            except AssertionError as e:
                failures.append(str(e))
                continue
            if code != 0:
                failures.append(f"jotgate exited {code} on SIGTERM; stderr:\n{gw.stderr()[-3000:]}")
    assert not failures, "\n".join(failures)


@pytest.fixture
def gateway(pki, upstream, start_gateway):
    """A gateway with one plain HTTP listener and the virtual proxy `jwt` in front of `upstream`."""
    return start_gateway(gateway_config(pki, upstream.url, http_port=0))


__all__ = [name for name in dir() if not name.startswith("_")]
