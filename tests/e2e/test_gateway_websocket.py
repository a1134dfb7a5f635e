"""WebSocket through the gateway: authenticated like any request (token or cookie), Origin checked
against host_allow_list, then tunnelled both ways."""
import os
import time

from gateway_harness import *  # noqa: F401,F403

COOKIE = "X-Jotgate-Session-jwt"


def echo_round_trip(ws):
    ws.send(0x1, "héllo".encode())
    assert ws.recv() == (0x1, "héllo".encode())
    ws.send(0x2, bytes(range(256)))
    assert ws.recv() == (0x2, bytes(range(256)))
    big = os.urandom(70000)
    ws.send(0x2, big)
    assert ws.recv() == (0x2, big)


def test_upgrade_without_credentials_is_401(gateway, upstream):
    ws = WebSocket.connect(gateway.port, "/jwt/ws")
    try:
        assert ws.status == 401, ws.response_head
        assert 'Bearer realm="jwt"' in ws.response_head
    finally:
        ws.sock.close()
    assert upstream.stats()["requests"] == 0


def test_upgrade_with_bad_token_is_401(gateway, upstream, pki):
    ws = WebSocket.connect(gateway.port, "/jwt/ws", bearer(mint(pki, expires_in=-3600)))
    try:
        assert ws.status == 401, ws.response_head
    finally:
        ws.sock.close()
    assert upstream.stats()["requests"] == 0


def test_echo_with_token(gateway, pki):
    ws = WebSocket.connect(gateway.port, "/jwt/ws", bearer(mint(pki)))
    try:
        assert ws.status == 101, ws.response_head
        assert f"Sec-WebSocket-Accept: {ws.expected_accept}".lower() in ws.response_head.lower()
        echo_round_trip(ws)
    finally:
        ws.close()


def test_echo_with_cookie(gateway, pki):
    cookie = http(gateway.port, "GET", "/jwt/x", bearer(mint(pki))).cookie(COOKIE)
    ws = WebSocket.connect(gateway.port, "/jwt/ws", {"Cookie": f"{COOKIE}={cookie}"})
    try:
        assert ws.status == 101, ws.response_head
        echo_round_trip(ws)
    finally:
        ws.close()


def test_upstream_sees_identity_on_the_upgrade(gateway, upstream, pki):
    ws = WebSocket.connect(gateway.port, "/jwt/ws", bearer(mint(pki)))
    try:
        assert ws.status == 101
        echo_round_trip(ws)
    finally:
        ws.close()
    assert upstream.stats()["paths"] == ["/ws"]


def test_origin_must_match_host_allow_list(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0,
                                      host_allow_list=["app.example.test"]))
    token = mint(pki)
    ws = WebSocket.connect(gw.port, "/jwt/ws", bearer(token, Host="app.example.test",
                                                      Origin="https://evil.example.test"))
    try:
        assert ws.status is not None and 400 <= ws.status < 500, ws.response_head
    finally:
        ws.sock.close()
    assert upstream.stats()["requests"] == 0
    ws = WebSocket.connect(gw.port, "/jwt/ws", bearer(token, Host="app.example.test",
                                                      Origin="https://app.example.test"))
    try:
        assert ws.status == 101, ws.response_head
        echo_round_trip(ws)
    finally:
        ws.close()


def test_websocket_traffic_keeps_the_session_alive(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0,
                                      session={"inactivity_timeout": "4s"}))
    cookie = http(gw.port, "GET", "/jwt/x", bearer(mint(pki))).cookie(COOKIE)
    headers = {"Cookie": f"{COOKIE}={cookie}"}
    ws = WebSocket.connect(gw.port, "/jwt/ws", headers)
    try:
        assert ws.status == 101, ws.response_head
        # 6 s of traffic and no HTTP request; a loaded machine has 3 s for each echo.
        for i in range(6):
            time.sleep(1)
            ws.send(0x1, b"ping %d" % i)
            assert ws.recv() == (0x1, b"ping %d" % i)
    finally:
        ws.close()
    r = http(gw.port, "GET", "/jwt/x", headers)
    assert r.status == 200, r
    time.sleep(5.5)
    assert http(gw.port, "GET", "/jwt/x", headers).status == 401


def test_echo_over_a_tls_listener(pki, upstream, start_gateway):
    # The client side of the tunnel is TLS: it reads into its own buffer (a TLS stream may hold
    # decrypted bytes its socket does not show), the plain upstream side borrows one per read.
    gw = start_gateway(gateway_config(pki, upstream.url, https_port=0))
    https_port = gw.port
    ws = WebSocket.connect(https_port, "/jwt/ws", bearer(mint(pki)), tls=client_context(pki.ca))
    try:
        assert ws.status == 101, ws.response_head
        echo_round_trip(ws)
        # Many messages back to back, each larger than the 4 KiB TLS-side buffer.
        payloads = [os.urandom(9000 + i) for i in range(20)]
        for p in payloads:
            ws.send(0x2, p)
        for p in payloads:
            assert ws.recv() == (0x2, p)
    finally:
        ws.close()
    assert gw.proc.poll() is None
