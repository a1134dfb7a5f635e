"""Connection limits: limits.max_connections per listener (the extra connections are closed at
once, the others keep being served) and limits.handshake_timeout for TLS handshakes."""
import http.client as httpclient
import socket
import ssl
import time

import pytest

from gateway_harness import *  # noqa: F401,F403


def closed_by_peer(sock, within):
    """True when the gateway closes `sock` (EOF or reset) within `within` seconds."""
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def get(sock, token):
    """The status of one GET on an open connection (kept alive)."""
    sock.sendall(f"GET /jwt/x HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\n"
                 "\r\n".encode())
    sock.settimeout(10)
    response = httpclient.HTTPResponse(sock)
    response.begin()
    response.read()
    return response.status


def test_connections_past_max_connections_are_closed_at_once(pki, upstream, start_gateway):
    config = gateway_config(pki, upstream.url, http_port=0)
    config["limits"] = {"max_connections": 5}
    gw = start_gateway(config)
    token = mint(pki)
    kept = [socket.create_connection(("127.0.0.1", gw.port)) for _ in range(5)]
    time.sleep(0.3)
    extra = [socket.create_connection(("127.0.0.1", gw.port)) for _ in range(3)]
    try:
        for sock in extra:
            assert closed_by_peer(sock, 2)
        # The five open ones are served, more than once each.
        for sock in kept:
            assert get(sock, token) == 200
            assert get(sock, token) == 200
        # A connection that ends frees its place.
        kept.pop().close()
        time.sleep(0.3)
        kept.append(socket.create_connection(("127.0.0.1", gw.port)))
        assert get(kept[-1], token) == 200
        assert "limits.max_connections (5) reached" in gw.stderr() + gw.stdout()
    finally:
        for sock in kept + extra:
            sock.close()


def test_max_connections_counts_per_listener_and_covers_tls(pki, upstream, start_gateway):
    config = gateway_config(pki, upstream.url, http_port=0, https_port=0)
    config["limits"] = {"max_connections": 2}
    gw = start_gateway(config)
    http_port, https_port = gw.ports
    tls = client_context(pki.ca)
    kept = [tls.wrap_socket(socket.create_connection(("127.0.0.1", https_port)),
                            server_hostname="localhost") for _ in range(2)]
    time.sleep(0.3)
    try:
        with socket.create_connection(("127.0.0.1", https_port), timeout=5) as raw:
            # Closed before any TLS: the handshake sees EOF (or a reset), not a timeout.
            with pytest.raises((ssl.SSLError, ConnectionError)):
                tls.wrap_socket(raw, server_hostname="localhost")
        token = mint(pki)
        for sock in kept:
            assert get(sock, token) == 200
        # The plain listener has its own count.
        assert http(http_port, "GET", "/jwt/x", bearer(token)).status == 200
    finally:
        for sock in kept:
            sock.close()
    assert gw.proc.poll() is None


def test_a_silent_tls_client_is_closed_after_the_handshake_timeout(pki, upstream, start_gateway):
    config = gateway_config(pki, upstream.url, https_port=0)
    config["limits"] = {"handshake_timeout": "400ms"}  # header_timeout stays 10s
    gw = start_gateway(config)
    https_port = gw.port
    with socket.create_connection(("127.0.0.1", https_port)) as silent, \
            socket.create_connection(("127.0.0.1", https_port)) as stalled:
        started = time.time()
        # The start of a ClientHello record, then nothing.
        stalled.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
        assert closed_by_peer(silent, 5)
        assert closed_by_peer(stalled, 5)
        elapsed = time.time() - started
    assert 0.3 <= elapsed < 3, elapsed
    # A client that completes the handshake is served as usual.
    r = http(https_port, "GET", "/jwt/x", bearer(mint(pki)), tls=client_context(pki.ca))
    assert r.status == 200, r
    assert gw.proc.poll() is None
