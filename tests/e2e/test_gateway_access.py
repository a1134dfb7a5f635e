"""Access allocations: 403 without one, auto-allocated seats, revoke/grant while the gateway runs
(revocation ends sessions), open mode."""
import time

from gateway_harness import *  # noqa: F401,F403

COOKIE = "X-Jotgate-Session-jwt"


def config_with_access(pki, upstream, **access):
    config = gateway_config(pki, upstream.url, http_port=0)
    config["access"] = {"mode": "allocated", "allocations": ["ACME\\alice"], **access}
    return config


def test_user_without_allocation_is_403(pki, upstream, start_gateway):
    gw = start_gateway(config_with_access(pki, upstream))
    r = http(gw.port, "GET", "/jwt/x", bearer(mint(pki, "bob")))
    assert r.status == 403, r
    assert r.text == "Access denied: ACME\\bob has no access allocation"
    assert r.set_cookie(COOKIE) is None
    assert upstream.stats()["requests"] == 0
    r = http(gw.port, "GET", "/jwt/x", bearer(mint(pki, "alice")))
    assert r.status == 200, r
    # Another directory is another user.
    r = http(gw.port, "GET", "/jwt/x", bearer(mint(pki, "alice", directory="OTHER")))
    assert r.status == 403, r
    assert r.text == "Access denied: OTHER\\alice has no access allocation"


def test_auto_allocated_seats_run_out(pki, upstream, start_gateway):
    gw = start_gateway(config_with_access(pki, upstream, allocations=[], auto_allocate_seats=1))
    assert http(gw.port, "GET", "/jwt/x", bearer(mint(pki, "carol"))).status == 200
    r = http(gw.port, "GET", "/jwt/x", bearer(mint(pki, "dave")))
    assert r.status == 403, r
    assert r.text == "Access denied: ACME\\dave has no access allocation"
    # carol keeps her seat.
    assert http(gw.port, "GET", "/jwt/x", bearer(mint(pki, "carol"))).status == 200
    listed = run_jotgate("access", "list", "--config", gw.config_path)
    assert listed.returncode == 0, listed.stderr
    assert "ACME\\carol" in listed.stdout and "dave" not in listed.stdout


def test_revoke_ends_sessions_and_grant_lets_back_in(pki, upstream, start_gateway):
    gw = start_gateway(config_with_access(pki, upstream))
    cookie = http(gw.port, "GET", "/jwt/x", bearer(mint(pki))).cookie(COOKIE)
    headers = {"Cookie": f"{COOKIE}={cookie}"}
    assert http(gw.port, "GET", "/jwt/x", headers).status == 200

    done = run_jotgate("access", "revoke", "--config", gw.config_path, "ACME\\alice")
    assert done.returncode == 0, done.stdout + done.stderr
    deadline = time.time() + 4
    status = 200
    while time.time() < deadline:
        status = http(gw.port, "GET", "/jwt/x", headers).status
        if status != 200:
            break
        time.sleep(0.2)
    assert status == 401, "the revoked user's session still works after 4 s"
    r = http(gw.port, "GET", "/jwt/x", bearer(mint(pki)))
    assert r.status == 403, r
    assert r.text == "Access denied: ACME\\alice has no access allocation"

    done = run_jotgate("access", "grant", "--config", gw.config_path, "ACME\\alice")
    assert done.returncode == 0, done.stdout + done.stderr
    deadline = time.time() + 4
    while time.time() < deadline:
        r = http(gw.port, "GET", "/jwt/x", bearer(mint(pki)))
        if r.status == 200:
            break
        time.sleep(0.2)
    assert r.status == 200, r
    # The old session stays ended.
    assert http(gw.port, "GET", "/jwt/x", headers).status == 401


def test_open_mode_lets_any_valid_token_in(pki, upstream, start_gateway):
    gw = start_gateway(config_with_access(pki, upstream, mode="open", allocations=[]))
    r = http(gw.port, "GET", "/jwt/x", bearer(mint(pki, "zed", directory="ELSEWHERE")))
    assert r.status == 200, r
    assert r.upstream_header("X-Jotgate-User") == "UserDirectory=ELSEWHERE; UserId=zed"
    assert http(gw.port, "GET", "/jwt/x").status == 401
