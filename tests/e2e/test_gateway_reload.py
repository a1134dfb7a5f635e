"""Live reload (issue 12, section 1): SIGHUP, `jotgate reload --config`, POST /api/v1/config/reload
and `watch: true` apply a new configuration, keys and certificates without a restart; requests,
keep-alive connections, WebSockets and sessions carry on; an invalid file changes nothing."""
import json
import os
import shutil
import signal
import socket
import ssl
import threading
import time

import pytest

from conftest import run_jotgate
from gateway_harness import *  # noqa: F401,F403
from test_admin_api import TOKEN, admin_section

COOKIE = "X-Jotgate-Session-jwt"


@pytest.fixture(scope="module")
def pki2(tmp_path_factory):
    """A second CA, server certificate and signer: the rotated keys and certificates."""
    return Pki.generate(tmp_path_factory.mktemp("pki2") / "certs")


def write_config(gw, config):
    config = dict(config)
    config.setdefault("data_dir", str(gw.dir / "data"))
    gw.config_path.write_text(json.dumps(config, indent=2))


def reload_events(gw):
    return [l for l in gw.stdout().splitlines() if "event=config_reload" in l]


def wait_for_reloads(gw, count, timeout=15):
    """The first `count` config_reload lines, once there are that many."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = reload_events(gw)
        if len(events) >= count:
            return events
        time.sleep(0.05)
    raise AssertionError(f"no {count} config_reload lines:\n{gw.stdout()}\n{gw.stderr()}")


def sighup(gw, count):
    gw.proc.send_signal(signal.SIGHUP)
    return wait_for_reloads(gw, count)[count - 1]


def keep_alive_get(sock, path, headers):
    """One GET on an open socket; (status, body). The answer must keep the connection open."""
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1"] + [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the gateway closed the keep-alive connection"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    while len(body) < length:
        body += sock.recv(65536)
    return raw_status(data), body


def test_key_rotation_by_sighup_keeps_connections_websockets_and_sessions(
        pki, pki2, upstream, start_gateway, tmp_path):
    key = tmp_path / "signer.pem"
    shutil.copy(pki.signer, key)
    config = gateway_config(pki, upstream.url, http_port=0, auth={"jwt": {"key": str(key)}})
    gw = start_gateway(config)
    old_token = mint(pki)
    new_token = mint(pki2, key=pki2.private_key())

    conn = socket.create_connection(("127.0.0.1", gw.port), timeout=10)
    status, _ = keep_alive_get(conn, "/jwt/before", bearer(old_token))
    assert status == 200
    cookie = http(gw.port, "GET", "/jwt/x", bearer(old_token)).cookie(COOKIE)
    assert cookie
    ws = WebSocket.connect(gw.port, "/jwt/ws", bearer(old_token))
    assert ws.status == 101, ws.response_head
    ws.send(0x1, b"before")
    assert ws.recv() == (0x1, b"before")
    assert http(gw.port, "GET", "/jwt/y", bearer(new_token)).status == 401

    shutil.copy(pki2.signer, key)  # the provider rotated its key
    line = sighup(gw, 1)
    assert "result=ok" in line and "trigger=signal" in line, line

    # The same connection, right after: the new key's token passes; the old one (cached before
    # the reload) is refused, because the token cache of a virtual proxy whose keys changed
    # starts empty.
    status, _ = keep_alive_get(conn, "/jwt/after", bearer(new_token))
    assert status == 200
    status, body = keep_alive_get(conn, "/jwt/after-old", bearer(old_token))
    assert status == 401
    assert body == b"Could not authenticate the request: the token signature does not verify"
    conn.close()
    # The WebSocket opened before the reload still carries frames both ways.
    ws.send(0x1, b"after")
    assert ws.recv() == (0x1, b"after")
    ws.close()
    # The session signed in before the reload is kept.
    r = http(gw.port, "GET", "/jwt/z", {"Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 200
    assert r.upstream_header("X-Jotgate-User") == "UserDirectory=ACME; UserId=alice"


def test_shorter_inactivity_timeout_applies_to_open_sessions(pki, upstream, start_gateway):
    config = gateway_config(pki, upstream.url, http_port=0)
    gw = start_gateway(config)
    cookie = http(gw.port, "GET", "/jwt/x", bearer(mint(pki))).cookie(COOKIE)
    write_config(gw, deep_update(config, {"virtual_proxies": [
        deep_update(config["virtual_proxies"][0], {"session": {"inactivity_timeout": "4s"}})]}))
    # 4 s, not 1 s: a reload on a loaded CI machine can itself take a second or more.
    assert "result=ok" in sighup(gw, 1)
    assert http(gw.port, "GET", "/jwt/a", {"Cookie": f"{COOKIE}={cookie}"}).status == 200
    time.sleep(5.5)
    r = http(gw.port, "GET", "/jwt/b", {"Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 401
    assert r.text == "Could not authenticate the request: Expected an authentication header"


def test_invalid_file_changes_nothing_and_names_each_problem(pki, upstream, start_gateway):
    config = gateway_config(pki, upstream.url, http_port=0)
    gw = start_gateway(config)
    token = mint(pki)
    broken = json.loads(json.dumps(config))
    broken["data_dir"] = str(gw.dir / "data")
    broken["virtual_proxies"][0]["prefx"] = "typo"
    broken["limits"] = {"idle_timeout": "soon"}
    text = json.dumps(broken, indent=2)
    gw.config_path.write_text(text)
    line = sighup(gw, 1)
    assert "result=error" in line and "problems=2" in line, line
    lines = text.splitlines()
    prefx = next(i for i, l in enumerate(lines) if '"prefx"' in l) + 1
    soon = next(i for i, l in enumerate(lines) if '"soon"' in l) + 1
    err = gw.stderr()
    assert f"{gw.config_path}:{prefx}:7: virtual_proxies[0].prefx: unknown key (expected one of: " in err, err
    assert f"{gw.config_path}:{soon}:" in err and "limits.idle_timeout" in err, err
    # Still the old configuration: the same token passes, on a fresh connection too.
    assert http(gw.port, "GET", "/jwt/still", bearer(token)).status == 200

    done = run_jotgate("reload", "--config", gw.config_path)
    assert done.returncode == 1, done
    assert done.stderr.splitlines()[0].startswith(
        f"jotgate reload: {gw.config_path} was not applied; the gateway (pid {gw.proc.pid}) keeps")
    problems = done.stderr.splitlines()[1:]
    assert len(problems) == 2, done.stderr
    assert problems[0].startswith(
        f"{gw.config_path}:{prefx}:7: virtual_proxies[0].prefx: unknown key (expected one of: ")
    assert problems[1].startswith(f"{gw.config_path}:{soon}:") and "limits.idle_timeout" in problems[1]
    # The gateway logged the same lines.
    assert all(p in gw.stderr() for p in problems)
    assert len(wait_for_reloads(gw, 2)) == 2
    assert http(gw.port, "GET", "/jwt/still", bearer(token)).status == 200


def test_jotgate_reload_applies_and_reports(pki, upstream, start_gateway):
    config = gateway_config(pki, upstream.url, http_port=0)
    gw = start_gateway(config)
    assert http(gw.port, "GET", "/other/x", bearer(mint(pki))).status == 404
    second = deep_update(json.loads(json.dumps(config["virtual_proxies"][0])),
                         {"name": "Other", "prefix": "other"})
    config["virtual_proxies"].append(second)
    write_config(gw, config)
    done = run_jotgate("reload", "--config", gw.config_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{gw.config_path}: reloaded (pid {gw.proc.pid})\n"
    assert http(gw.port, "GET", "/other/x", bearer(mint(pki))).status == 200
    line = wait_for_reloads(gw, 1)[0]
    assert "result=ok" in line and "trigger=signal" in line, line


def test_jotgate_reload_without_a_running_gateway(pki, upstream, tmp_path):
    config = gateway_config(pki, upstream.url, http_port=0)
    config["data_dir"] = str(tmp_path / "data")
    path = tmp_path / "jotgate.yaml"
    path.write_text(json.dumps(config))
    done = run_jotgate("reload", "--config", path)
    assert done.returncode == 1
    assert done.stderr == (f"jotgate reload: no gateway is running for {path} (no live process in "
                           f"{tmp_path / 'data' / 'jotgate.pid'})\n")


def test_admin_reload_answers_ok_or_422_with_the_problems(pki, upstream, start_gateway, tmp_path):
    token_file = tmp_path / "admin.token"
    token_file.write_text(TOKEN + "\n")
    config = gateway_config(pki, upstream.url, http_port=0,
                            admin=admin_section(pki, 0, token_file, client_ca=False))
    gw = start_gateway(config)
    ctx = client_context(pki.ca)
    headers = {"Authorization": "Bearer " + TOKEN}
    r = http(gw.admin_port, "POST", "/api/v1/config/reload", headers, tls=ctx)
    assert r.status == 200, r
    assert r.json() == {"result": "ok", "warnings": []}
    assert "trigger=admin" in wait_for_reloads(gw, 1)[0]

    config["listeners"][0]["address"] = "127.0.0.1:notaport"
    write_config(gw, config)
    r = http(gw.admin_port, "POST", "/api/v1/config/reload", headers, tls=ctx)
    assert r.status == 422, r
    body = r.json()
    assert body["error"] == "CONFIG_INVALID"
    assert len(body["problems"]) == 1
    assert body["problems"][0].startswith(f"{gw.config_path}:")
    assert ": listeners[0].address: " in body["problems"][0]
    assert body["problems"][0] in gw.stderr()
    assert http(gw.port, "GET", "/jwt/x", bearer(mint(pki))).status == 200
    r = http(gw.admin_port, "POST", "/api/v1/config/reload", {}, tls=ctx)
    assert r.status == 401
    wait_for_reloads(gw, 2)
    time.sleep(0.3)  # the audit log is written in batches
    assert len(reload_events(gw)) == 2  # the refused call reloaded nothing


def test_listener_added_then_removed_and_its_connections_drain(pki, upstream, start_gateway):
    config = gateway_config(pki, upstream.url, http_port=0)
    gw = start_gateway(config)
    port = free_port()
    config["listeners"].append({"name": "second", "address": f"127.0.0.1:{port}"})
    config["virtual_proxies"][0]["listeners"] = ["http", "second"]
    write_config(gw, config)
    assert "result=ok" in sighup(gw, 1)
    token = mint(pki)
    assert http(port, "GET", "/jwt/on-second", bearer(token)).status == 200
    assert f"listening on http://127.0.0.1:{port} (listener second)" in gw.stderr()

    # A request in flight on the listener being removed finishes; an idle keep-alive connection
    # on it is closed; new connections are refused.
    idle = socket.create_connection(("127.0.0.1", port), timeout=10)
    assert keep_alive_get(idle, "/jwt/idle", bearer(token))[0] == 200
    result = {}

    def slow():
        result["r"] = http(port, "GET", "/jwt/slow?seconds=2", bearer(token))

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.5)
    del config["listeners"][1]
    config["virtual_proxies"][0]["listeners"] = ["http"]
    write_config(gw, config)
    assert "result=ok" in sighup(gw, 2)
    t.join(10)
    assert result["r"].status == 200
    idle.settimeout(5)
    assert idle.recv(1) == b""  # closed by the gateway
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert http(gw.port, "GET", "/jwt/on-first", bearer(token)).status == 200


def test_removed_listener_busy_connection_closed_after_shutdown_grace(pki, upstream,
                                                                      start_gateway):
    config = gateway_config(pki, upstream.url, http_port=0)
    config["limits"] = {"shutdown_grace": "1s"}
    port = free_port()
    config["listeners"].append({"name": "second", "address": f"127.0.0.1:{port}"})
    config["virtual_proxies"][0]["listeners"] = ["http", "second"]
    gw = start_gateway(config)
    ws = WebSocket.connect(port, "/jwt/ws", bearer(mint(pki)))
    assert ws.status == 101
    del config["listeners"][1]
    config["virtual_proxies"][0]["listeners"] = ["http"]
    write_config(gw, config)
    started = time.monotonic()
    assert "result=ok" in sighup(gw, 1)
    ws.sock.settimeout(10)
    assert ws.sock.recv(1) == b""  # cut after the grace
    assert 0.8 < time.monotonic() - started < 5


def test_certificate_swap_seen_by_new_handshakes(pki, pki2, upstream, start_gateway, tmp_path):
    cert, key = tmp_path / "server.pem", tmp_path / "server_key.pem"
    shutil.copy(pki.server, cert)
    shutil.copy(pki.server_key, key)
    config = gateway_config(pki, upstream.url, https_port=0)
    config["listeners"][0]["tls"] = {"certificate": str(cert), "key": str(key)}
    gw = start_gateway(config)

    def served_certificate():
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", gw.port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                return tls.getpeercert(binary_form=True)

    def der(path):
        return ssl.PEM_cert_to_DER_cert(path.read_text())

    assert served_certificate() == der(pki.server)
    before = client_context(pki.ca)
    conn = connection(gw.port, tls=before)
    assert http(gw.port, "GET", "/jwt/x", bearer(mint(pki)), conn=conn).status == 200
    shutil.copy(pki2.server, cert)
    shutil.copy(pki2.server_key, key)
    assert "result=ok" in sighup(gw, 1)
    assert served_certificate() == der(pki2.server)
    # The connection made before keeps working on its session.
    assert http(gw.port, "GET", "/jwt/y", bearer(mint(pki)), conn=conn).status == 200
    assert http(gw.port, "GET", "/jwt/z", bearer(mint(pki)),
                tls=client_context(pki2.ca)).status == 200


def test_unreadable_key_leaves_the_virtual_proxy_without_keys(pki, upstream, start_gateway,
                                                              tmp_path):
    key = tmp_path / "signer.pem"
    shutil.copy(pki.signer, key)
    config = gateway_config(pki, upstream.url, http_port=0, auth={"jwt": {"key": str(key)}})
    gw = start_gateway(config)
    token = mint(pki)
    cookie = http(gw.port, "GET", "/jwt/x", bearer(token)).cookie(COOKIE)
    key.write_text("not a key\n")
    line = sighup(gw, 1)
    assert "result=ok" in line and "warnings=1" in line, line
    assert f"virtual_proxies[0].auth.jwt.key: " in gw.stderr()
    r = http(gw.port, "GET", "/jwt/y", bearer(mint(pki, user="bob")))
    assert r.status == 503
    assert r.header("Retry-After") == "5"
    assert r.text == ("Service Unavailable: the virtual proxy has no usable keys to verify tokens "
                      "with")
    assert r.header("WWW-Authenticate") is None
    # Signed-in users carry on.
    assert http(gw.port, "GET", "/jwt/z", {"Cookie": f"{COOKIE}={cookie}"}).status == 200
    shutil.copy(pki.signer, key)
    assert "result=ok" in sighup(gw, 2)
    assert http(gw.port, "GET", "/jwt/y", bearer(mint(pki, user="bob"))).status == 200


def test_watch_reloads_when_a_key_file_changes(pki, pki2, upstream, start_gateway, tmp_path):
    key = tmp_path / "signer.pem"
    shutil.copy(pki.signer, key)
    config = gateway_config(pki, upstream.url, http_port=0, auth={"jwt": {"key": str(key)}})
    config["watch"] = True
    gw = start_gateway(config)
    new_token = mint(pki2, key=pki2.private_key())
    assert http(gw.port, "GET", "/jwt/x", bearer(new_token)).status == 401
    time.sleep(1.1)  # a different modification time whatever the file system's granularity
    shutil.copy(pki2.signer, key)
    line = wait_for_reloads(gw, 1)[0]
    assert "result=ok" in line and "trigger=watch" in line, line
    assert http(gw.port, "GET", "/jwt/x", bearer(new_token)).status == 200
    time.sleep(2.5)
    assert len(reload_events(gw)) == 1  # nothing changed since: no more reloads


def test_pid_file_names_the_gateway_and_goes_at_stop(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0))
    pid_file = gw.dir / "data" / "jotgate.pid"
    assert pid_file.read_text() == f"{gw.proc.pid}\n{gw.config_path}\n"
    assert gw.stop() == 0
    assert not pid_file.exists()


def test_readiness_and_metrics_follow_reloads(pki, upstream, start_gateway, tmp_path):
    """A key file that becomes unusable at a reload makes /readyz 503 naming the virtual proxy;
    every reload is counted by result; an invalid file leaves the last success time alone."""
    from test_ops_metrics import samples, value, VP
    key = tmp_path / "signer.pem"
    shutil.copy(pki.signer, key)
    config = gateway_config(pki, upstream.url, http_port=0, auth={"jwt": {"key": str(key)}})
    config["ops"] = {"address": "127.0.0.1:0"}
    gw = start_gateway(config)
    r = http(gw.ops_port, "GET", "/readyz")
    assert (r.status, r.text) == (200, "ready\n")
    m = samples(gw.ops_port)
    assert value(m, "jotgate_config_reloads_total", result="ok") == 0
    assert value(m, "jotgate_config_reloads_total", result="error") == 0
    assert value(m, "jotgate_keys_loaded", vp=VP) == 1
    started = value(m, "jotgate_config_last_reload_success_timestamp_seconds")

    time.sleep(1.1)  # a later second for the success time
    key.write_text("not a key\n")
    assert "result=ok" in sighup(gw, 1)
    r = http(gw.ops_port, "GET", "/readyz")
    assert r.status == 503, r
    problems = r.json()["problems"]
    assert len(problems) == 1 and problems[0]["component"] == "virtual_proxy"
    assert problems[0]["name"] == VP
    assert problems[0]["problem"].startswith(
        f"no usable verification key: {gw.config_path}:"), problems
    assert "virtual_proxies[0].auth.jwt.key: " in problems[0]["problem"]
    m = samples(gw.ops_port)
    assert value(m, "jotgate_config_reloads_total", result="ok") == 1
    assert value(m, "jotgate_keys_loaded", vp=VP) == 0
    succeeded = value(m, "jotgate_config_last_reload_success_timestamp_seconds")
    assert succeeded > started

    gw.config_path.write_text("listeners: [")  # not YAML
    assert "result=error" in sighup(gw, 2)
    m = samples(gw.ops_port)
    assert value(m, "jotgate_config_reloads_total", result="error") == 1
    assert value(m, "jotgate_config_last_reload_success_timestamp_seconds") == succeeded

    shutil.copy(pki.signer, key)
    write_config(gw, config)
    assert "result=ok" in sighup(gw, 3)
    r = http(gw.ops_port, "GET", "/readyz")
    assert (r.status, r.text) == (200, "ready\n")
    m = samples(gw.ops_port)
    assert value(m, "jotgate_config_reloads_total", result="ok") == 2
    assert value(m, "jotgate_keys_loaded", vp=VP) == 1


def test_token_cache_kept_across_a_reload_that_changes_no_key(pki, upstream, start_gateway):
    """Seen through the metrics: the same token after a reload that only added a virtual proxy
    is a cache hit; after a reload that changed the leeway, a miss."""
    from test_ops_metrics import samples, value, VP
    config = gateway_config(pki, upstream.url, http_port=0)
    config["ops"] = {"address": "127.0.0.1:0"}
    gw = start_gateway(config)
    token = mint(pki)
    assert http(gw.port, "GET", "/jwt/a", bearer(token)).status == 200  # miss, then cached
    second = deep_update(json.loads(json.dumps(config["virtual_proxies"][0])),
                         {"name": "Other", "prefix": "other"})
    config["virtual_proxies"].append(second)
    write_config(gw, config)
    assert "result=ok" in sighup(gw, 1)
    assert http(gw.port, "GET", "/jwt/b", bearer(token)).status == 200
    m = samples(gw.ops_port)
    assert value(m, "jotgate_token_cache_lookups_total", vp=VP, result="hit") == 1
    assert value(m, "jotgate_token_cache_lookups_total", vp=VP, result="miss") == 1
    config["virtual_proxies"][0]["auth"]["jwt"]["leeway"] = "5s"
    write_config(gw, config)
    assert "result=ok" in sighup(gw, 2)
    assert http(gw.port, "GET", "/jwt/c", bearer(token)).status == 200
    m = samples(gw.ops_port)
    assert value(m, "jotgate_token_cache_lookups_total", vp=VP, result="miss") == 2


def test_jotgate_reload_refuses_a_file_the_gateway_does_not_serve(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0))
    other = gw.dir / "other.yaml"
    other.write_text(gw.config_path.read_text())  # same data_dir, so the same pid file
    done = run_jotgate("reload", "--config", other)
    assert done.returncode == 1
    assert done.stderr == (f"jotgate reload: the gateway in {gw.dir / 'data'} (pid {gw.proc.pid}) "
                           f"serves {gw.config_path}, not {other}\n")
    time.sleep(0.3)
    assert reload_events(gw) == []  # not signalled
