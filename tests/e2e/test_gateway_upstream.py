"""Upstream forwarding: round robin, failover, 502/504, keep-alive reuse, response_headers,
hop-by-hop headers, methods and bodies, host_allow_list."""
import threading
import time

from gateway_harness import *  # noqa: F401,F403


def test_round_robin_across_two_upstreams(pki, start_upstream, start_gateway):
    """One I/O thread: strict alternation."""
    a, b = start_upstream("a"), start_upstream("b")
    gw = start_gateway(gateway_config(pki, [a.url, b.url], http_port=0),
                       extra_args=("--threads", "1"))
    token = mint(pki)
    seen = [http(gw.port, "GET", "/jwt/x", bearer(token)).json()["server"] for _ in range(10)]
    assert seen in (["a", "b"] * 5, ["b", "a"] * 5), seen
    assert a.stats()["requests"] == 5 and b.stats()["requests"] == 5


def test_round_robin_balances_with_several_threads(pki, start_upstream, start_gateway):
    """Several I/O threads (the round-robin position is kept per thread): still balanced."""
    a, b = start_upstream("a"), start_upstream("b")
    gw = start_gateway(gateway_config(pki, [a.url, b.url], http_port=0),
                       extra_args=("--threads", "2"))
    token = mint(pki)
    seen = [http(gw.port, "GET", "/jwt/x", bearer(token)).json()["server"] for _ in range(20)]
    assert 8 <= seen.count("a") <= 12 and 8 <= seen.count("b") <= 12, seen


def test_one_upstream_down_requests_still_succeed(pki, upstream, start_gateway):
    dead = f"http://127.0.0.1:{free_port()}"
    gw = start_gateway(gateway_config(pki, [dead, upstream.url], http_port=0))
    token = mint(pki)
    for _ in range(8):
        r = http(gw.port, "GET", "/jwt/x", bearer(token))
        assert r.status == 200, r
    assert upstream.stats()["requests"] == 8


def test_all_upstreams_down_is_502_short_plain(pki, start_gateway):
    dead = [f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"]
    gw = start_gateway(gateway_config(pki, dead, http_port=0))
    r = http(gw.port, "GET", "/jwt/x", bearer(mint(pki)))
    assert r.status == 502, r
    assert r.header("Content-Type").startswith("text/plain"), r
    assert 0 < len(r.body) < 200, r


def test_slow_upstream_beyond_read_timeout_is_504(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0, read_timeout="300ms"))
    started = time.time()
    r = http(gw.port, "GET", "/jwt/slow?seconds=2", bearer(mint(pki)))
    assert r.status == 504, r
    assert time.time() - started < 1.8
    assert r.header("Content-Type").startswith("text/plain")
    assert 0 < len(r.body) < 200
    # A fast request afterwards works.
    assert http(gw.port, "GET", "/jwt/x", bearer(mint(pki))).status == 200


def test_keep_alive_connections_to_the_upstream_are_reused(gateway, upstream, pki):
    token = mint(pki)
    conn = connection(gateway.port)
    for _ in range(10):
        assert http(gateway.port, "GET", "/jwt/x", bearer(token), conn=conn).status == 200
    conn.close()
    for _ in range(10):  # separate client connections
        assert http(gateway.port, "GET", "/jwt/x", bearer(token)).status == 200
    stats = upstream.stats()
    assert stats["requests"] == 20
    assert stats["connections"] - 1 <= 4, stats  # -1: the /__stats connection itself


def test_a_pooled_connection_the_upstream_closed_is_not_an_error(gateway, upstream, pki):
    # The upstream closes right after answering, without saying so. Reused at once, the pooled
    # connection is dead: a bodiless request is retried on a fresh one, a request with a body
    # is only ever sent on a connection checked to be open. Neither gets an error.
    token = mint(pki)
    for _ in range(3):
        assert http(gateway.port, "GET", "/jwt/hangup", bearer(token)).status == 200
        r = http(gateway.port, "GET", "/jwt/x", bearer(token))
        assert r.status == 200, r
        assert http(gateway.port, "GET", "/jwt/hangup", bearer(token)).status == 200
        time.sleep(0.2)  # the upstream's close has arrived: the check sees it
        r = http(gateway.port, "POST", "/jwt/upload", bearer(token), body=b"x" * 5000)
        assert r.status == 200 and r.json()["bytes"] == 5000, r


def test_response_headers_are_added(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0,
                                      response_headers={"X-Frame-Options": "SAMEORIGIN",
                                                        "X-Extra": "1"}))
    r = http(gw.port, "GET", "/jwt/x", bearer(mint(pki)))
    assert r.status == 200
    assert r.header("X-Frame-Options") == "SAMEORIGIN"
    assert r.header("X-Extra") == "1"



def test_response_headers_are_added_to_the_gateways_own_answers(pki, start_gateway):
    """401 (no credentials), 403 (no allocation) and 502 (upstream down) carry them too."""
    dead = f"http://127.0.0.1:{free_port()}"
    gw = start_gateway(gateway_config(pki, dead, http_port=0,
                                      response_headers={"X-Frame-Options": "SAMEORIGIN"}))
    for headers, status in ((None, 401), (bearer(mint(pki, user="nobody")), 403),
                            (bearer(mint(pki)), 502)):
        r = http(gw.port, "GET", "/jwt/x", headers)
        assert r.status == status, r
        assert r.header("X-Frame-Options") == "SAMEORIGIN", r

def test_upstream_status_and_set_cookie_pass_through(gateway, pki):
    r = http(gateway.port, "GET", "/jwt/status?code=418", bearer(mint(pki)))
    assert r.status == 418 and r.text == "status 418"
    r = http(gateway.port, "GET", "/jwt/setcookie", bearer(mint(pki)))
    assert "upstream=1; Path=/" in r.all("Set-Cookie")
    assert r.cookie("X-Jotgate-Session-jwt") is not None


def test_hop_by_hop_headers_are_not_forwarded(gateway, pki):
    r = http(gateway.port, "GET", "/jwt/x", bearer(mint(pki), Connection="keep-alive, X-Secret",
                                                   **{"X-Secret": "1", "Keep-Alive": "timeout=5",
                                                      "Proxy-Authorization": "Basic eDp5", "X-Normal": "2"}))
    assert r.status == 200, r
    assert r.upstream_header("X-Secret") is None, r.json()
    assert r.upstream_header("Keep-Alive") is None
    assert r.upstream_header("Proxy-Authorization") is None
    assert r.upstream_header("X-Normal") == "2"


def test_post_put_delete_with_bodies(gateway, pki):
    token = mint(pki)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        r = http(gateway.port, method, "/jwt/upload", bearer(token), body=b"x" * 1000)
        assert r.status == 200, r
        assert r.json()["bytes"] == 1000
    r = http(gateway.port, "HEAD", "/jwt/x", bearer(token))
    assert r.status == 200 and r.body == b""


def test_host_allow_list(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0,
                                      host_allow_list=["app.example.test"]))
    token = mint(pki)
    assert http(gw.port, "GET", "/jwt/x", bearer(token, Host="app.example.test")).status == 200
    r = http(gw.port, "GET", "/jwt/x", bearer(token, Host="evil.example.test"))
    assert 400 <= r.status < 500, r
    assert upstream.stats()["requests"] == 1


def test_concurrent_requests(gateway, pki):
    token = mint(pki)
    results = []

    def worker():
        for _ in range(10):
            results.append(http(gateway.port, "GET", "/jwt/x", bearer(token)).status)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 80
