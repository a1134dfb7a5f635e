"""The ops listener (`ops` section): /healthz, /readyz and /metrics over plain HTTP. Metrics are
read with Prometheus' own text parser (Debian's python3-prometheus-client) and their values
checked after known traffic."""
import json
import re
import signal
import socket
import subprocess
import threading
import time

from prometheus_client.parser import text_string_to_metric_families

from gateway_harness import *  # noqa: F401,F403

VP = "Embedded analytics"  # the name of gateway_config's virtual proxy
COOKIE = "X-Jotgate-Session-jwt"
OPS = {"address": "127.0.0.1:0"}


def samples(ops_port):
    """{(sample name, frozenset of labels): value} of GET /metrics, parsed by prometheus_client."""
    r = http(ops_port, "GET", "/metrics")
    assert r.status == 200, r
    assert r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(all_samples, name, **labels):
    return all_samples.get((name, frozenset(labels.items())))


def scrape_when_counted(ops_port, name, expected, **labels):
    """The samples once `name{labels}` reads `expected`: a request is counted right after its
    answer is written, so the client may read the answer first."""
    deadline = time.monotonic() + 10
    while True:
        m = samples(ops_port)
        if value(m, name, **labels) == expected or time.monotonic() > deadline:
            return m
        time.sleep(0.02)


def test_healthz_and_readyz_answer_exact_bytes(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0, ops=OPS))
    assert gw.ops_port not in (None, 0, gw.port)
    for path, body in (("/healthz", b"ok\n"), ("/readyz", b"ready\n")):
        raw = raw_request(gw.ops_port, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert raw == (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                       b"Content-Length: %d\r\n\r\n" % len(body) + body), raw
        head = raw_request(gw.ops_port, f"HEAD {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode(),
                           timeout=2)
        assert head == (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
                        b"Content-Length: %d\r\n\r\n" % len(body)), head
    # A query string does not matter; keep-alive serves several requests on one connection.
    conn = connection(gw.ops_port)
    try:
        assert http(gw.ops_port, "GET", "/healthz?probe=1", conn=conn).body == b"ok\n"
        assert http(gw.ops_port, "GET", "/readyz", conn=conn).body == b"ready\n"
        assert http(gw.ops_port, "HEAD", "/metrics", conn=conn).body == b""
    finally:
        conn.close()


def test_ops_refuses_other_paths_methods_bodies_and_large_heads(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0, ops=OPS))
    r = http(gw.ops_port, "GET", "/jwt/")
    assert r.status == 404, r
    assert r.body == b"Not Found: the ops listener serves /healthz, /readyz and /metrics\n"
    r = http(gw.ops_port, "POST", "/metrics", body=b"")
    assert r.status == 405, r
    assert r.header("Allow") == "GET, HEAD"
    assert r.body == b"Method Not Allowed: GET or HEAD\n"
    r = http(gw.ops_port, "DELETE", "/healthz")
    assert r.status == 405, r
    r = http(gw.ops_port, "GET", "/healthz", body=b"x" * 10)
    assert r.status == 400, r
    assert r.body == b"Bad Request: the ops listener takes no request body\n"
    assert r.header("Connection") == "close"
    raw = raw_request(gw.ops_port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 9000 +
                      b"\r\n\r\n")
    assert raw_status(raw) == 431, raw
    # Not HTTP at all: closed without an answer.
    assert raw_request(gw.ops_port, b"\x16\x03\x01\x00\x10garbage\r\n\r\n", timeout=5) == b""
    # The proxy itself does not serve the ops paths.
    assert http(gw.port, "GET", "/healthz").status == 404


def test_metrics_count_known_traffic(pki, upstream, start_gateway):
    started = time.time()
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0, ops=OPS))
    fresh = samples(gw.ops_port)
    assert value(fresh, "jotgate_config_reloads_total", result="ok") == 0
    assert value(fresh, "jotgate_config_reloads_total", result="error") == 0
    assert value(fresh, "jotgate_token_cache_lookups_total", vp=VP, result="miss") == 0
    assert value(fresh, "jotgate_sessions", vp=VP) == 0

    token = mint(pki)
    # 3 requests with one token and no cookie: verified once (miss, a session), then found in
    # the token cache twice (riding the same session).
    first = http(gw.port, "GET", "/jwt/a", bearer(token))
    assert first.status == 200, first
    for _ in range(2):
        assert http(gw.port, "GET", "/jwt/a", bearer(token)).status == 200
    # The cookie alone.
    cookie = {"Cookie": f"{COOKIE}={first.cookie(COOKIE)}"}
    assert http(gw.port, "GET", "/jwt/b", cookie).status == 200
    # An upstream answering 503 (still an answer for the upstream counters).
    assert http(gw.port, "GET", "/jwt/status?code=503", cookie).status == 503
    # 2 expired tokens (cache misses), 1 request without credentials.
    expired = mint(pki, expires_in=-3600)
    for _ in range(2):
        assert http(gw.port, "GET", "/jwt/a", bearer(expired)).status == 401
    assert http(gw.port, "GET", "/jwt/a").status == 401
    # No virtual proxy matches: vp="".
    assert http(gw.port, "GET", "/nothing/here").status == 404
    # A WebSocket, open while scraped (its token is found in the cache).
    ws = WebSocket.connect(gw.port, "/jwt/ws", bearer(token))
    try:
        assert ws.status == 101, ws.response_head
        ws.send(0x1, b"ping")
        assert ws.recv() == (0x1, b"ping")
        m = scrape_when_counted(gw.ops_port, "jotgate_request_duration_seconds_count", 9, vp=VP)
    finally:
        ws.sock.close()

    assert value(m, "jotgate_requests_total", vp=VP, code="200") == 4
    assert value(m, "jotgate_requests_total", vp=VP, code="503") == 1
    assert value(m, "jotgate_requests_total", vp=VP, code="401") == 3
    assert value(m, "jotgate_requests_total", vp=VP, code="101") == 1
    assert value(m, "jotgate_requests_total", vp="", code="404") == 1
    assert value(m, "jotgate_request_duration_seconds_count", vp=VP) == 9
    assert value(m, "jotgate_request_duration_seconds_bucket", vp=VP, le="+Inf") == 9
    assert value(m, "jotgate_request_duration_seconds_bucket", vp=VP, le="10") == 9
    assert 0 < value(m, "jotgate_request_duration_seconds_sum", vp=VP) < 9 * 10

    def decisions(result, reason):
        return value(m, "jotgate_auth_decisions_total", vp=VP, result=result, reason=reason)
    assert decisions("accepted", "jwt") == 4  # 3 requests and the WebSocket with the token
    assert decisions("accepted", "session") == 2
    assert decisions("rejected", "TOKEN_EXPIRED") == 2
    assert decisions("rejected", "NO_CREDENTIALS") == 1
    assert value(m, "jotgate_token_cache_lookups_total", vp=VP, result="hit") == 3
    assert value(m, "jotgate_token_cache_lookups_total", vp=VP, result="miss") == 3
    assert value(m, "jotgate_sessions_created_total", vp=VP) == 1
    assert value(m, "jotgate_sessions", vp=VP) == 1
    assert value(m, "jotgate_upstream_requests_total", vp=VP, upstream=upstream.url,
                 outcome="answered") == 6
    assert value(m, "jotgate_upstream_healthy", vp=VP, upstream=upstream.url) == 1
    assert value(m, "jotgate_websockets_open", vp=VP) == 1
    assert value(m, "jotgate_connections_open", listener="http") >= 1
    assert value(m, "jotgate_keys_loaded", vp=VP) == 1
    versions = [dict(labels)["version"] for (name, labels) in m if name == "jotgate_build_info"]
    assert len(versions) == 1 and re.fullmatch(r"\d+\.\d+\.\d+.*", versions[0]), versions
    assert started - 5 <= value(m, "jotgate_config_last_reload_success_timestamp_seconds") <= \
        time.time()
    assert started - 5 <= value(m, "process_start_time_seconds") <= time.time()
    assert value(m, "process_resident_memory_bytes") > 1024 * 1024

    # The WebSocket closed: the gauge goes back to 0.
    deadline = time.monotonic() + 10
    while value(samples(gw.ops_port), "jotgate_websockets_open", vp=VP) != 0:
        assert time.monotonic() < deadline, "jotgate_websockets_open stayed at 1"
        time.sleep(0.05)


def test_upstream_down_is_counted_and_shown_unhealthy(pki, start_gateway):
    dead = f"http://127.0.0.1:{free_port()}"
    gw = start_gateway(gateway_config(pki, dead, http_port=0, ops=OPS))
    assert http(gw.port, "GET", "/jwt/a", bearer(mint(pki))).status == 502
    m = scrape_when_counted(gw.ops_port, "jotgate_requests_total", 1, vp=VP, code="502")
    assert value(m, "jotgate_upstream_healthy", vp=VP, upstream=dead) == 0
    assert value(m, "jotgate_requests_total", vp=VP, code="502") == 1


def test_label_values_are_escaped(pki, upstream, start_gateway):
    name = 'Quote " back\\slash'
    config = gateway_config(pki, upstream.url, http_port=0, ops=OPS)
    config["virtual_proxies"][0]["name"] = name
    gw = start_gateway(config)
    assert http(gw.port, "GET", "/jwt/a", bearer(mint(pki))).status == 200
    scrape_when_counted(gw.ops_port, "jotgate_requests_total", 1, vp=name, code="200")
    text = http(gw.ops_port, "GET", "/metrics").text
    assert 'jotgate_requests_total{vp="Quote \\" back\\\\slash",code="200"} 1\n' in text
    assert value(samples(gw.ops_port), "jotgate_requests_total", vp=name, code="200") == 1


def test_readyz_is_503_while_shutting_down(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0, ops=OPS))
    assert http(gw.ops_port, "GET", "/readyz").status == 200
    token = mint(pki)
    # A slow request keeps the gateway draining after SIGTERM.
    slow = {}
    thread = threading.Thread(target=lambda: slow.update(
        r=http(gw.port, "GET", "/jwt/slow?seconds=3", bearer(token))))
    thread.start()
    deadline = time.monotonic() + 10
    while upstream.stats()["requests"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    gw.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    while True:
        r = http(gw.ops_port, "GET", "/readyz")
        if r.status == 503:
            break
        assert r.status == 200 and time.monotonic() < deadline, r
        time.sleep(0.02)
    assert r.header("Content-Type") == "application/json"
    assert r.json() == {"ready": False, "problems": [
        {"component": "gateway", "name": "", "problem": "shutting down"}]}
    assert r.body == (b'{"ready":false,"problems":[{"component":"gateway","name":"",'
                      b'"problem":"shutting down"}]}')
    # Still alive while draining.
    assert http(gw.ops_port, "GET", "/healthz").body == b"ok\n"
    thread.join(20)
    assert slow["r"].status == 200
    assert gw.stop() == 0


def test_the_demo_serves_ops_on_the_chosen_port(tmp_path):
    with demo(tmp_path, "--ops-port", "0") as text:
        listeners, admin, ops = printed_ports(text)
        assert ops not in (None, 0) and admin is None and list(listeners) == ["https"]
        assert f"  http://127.0.0.1:{ops} (ops: /healthz /readyz /metrics)\n" in text
        assert http(ops, "GET", "/healthz").body == b"ok\n"
        assert http(ops, "GET", "/readyz").body == b"ready\n"
        m = samples(ops)
        assert value(m, "jotgate_keys_loaded", vp="jwt") == 1


def test_ops_port_is_for_the_demo_only(tmp_path, pki, upstream):
    path = tmp_path / "c.yaml"
    path.write_text(json.dumps(gateway_config(pki, upstream.url, http_port=0)))
    done = run_jotgate("serve", "--config", path, "--ops-port", "0")
    assert done.returncode != 0
    assert "--config excludes --ops-port" in done.stderr, done.stderr


def test_ops_connections_are_bounded(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0, ops=OPS))
    idle = [socket.create_connection(("127.0.0.1", gw.ops_port)) for _ in range(64)]
    try:
        time.sleep(0.5)
        # The 65th is closed at once, unanswered.
        assert raw_request(gw.ops_port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") == b""
        idle.pop().close()
        deadline = time.monotonic() + 10
        while True:
            raw = raw_request(gw.ops_port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            if raw.endswith(b"\r\n\r\nok\n"):
                break
            assert raw == b"" and time.monotonic() < deadline, raw
            time.sleep(0.05)
    finally:
        for s in idle:
            s.close()
