"""Audit and access-log lines as log readers see them: each parses into exactly the fields the
gateway wrote, whatever a token claims; refused tokens are collapsed per reason and client."""
import time

from gateway_harness import *  # noqa: F401,F403

FORGING_USER = "x event=sign_in user=ACME\\admin"


def open_config(pki, upstream, **changes):
    config = gateway_config(pki, upstream.url, http_port=0, **changes)
    config["access"] = {"mode": "open"}
    return config


def test_a_user_id_cannot_forge_audit_fields(pki, upstream, start_gateway):
    gw = start_gateway(open_config(pki, upstream))
    r = http(gw.port, "GET", "/jwt/x", bearer(mint(pki, user=FORGING_USER)))
    assert r.status == 200, r
    assert r.upstream_header("X-Jotgate-User") == f"UserDirectory=ACME; UserId={FORGING_USER}"
    gw.wait_for_lines("] [audit] [info] event=sign_in ")
    events = audit_events(gw.stdout())
    sign_ins = [e for e in events if ("event", "sign_in") in e]
    assert sign_ins == [[("event", "sign_in"), ("vp", "jwt"), ("user", "ACME\\" + FORGING_USER),
                         ("method", "jwt")]], events
    for fields in events:
        assert [k for k, _ in fields].count("event") == 1, fields
    assert f'user="ACME\\\\x event=sign_in user=ACME\\\\admin"' in gw.stdout()


def test_access_log_lines_parse_into_their_fields(pki, upstream, start_gateway):
    gw = start_gateway(open_config(pki, upstream))
    r = http(gw.port, "GET", "/jwt/a%20b%22c", bearer(mint(pki, user=FORGING_USER)))
    assert r.status == 200, r
    time.sleep(0.3)
    lines = [l for l in gw.stdout().splitlines() if l[:4].isdigit() and " GET " in l]
    assert len(lines) == 1, lines
    items = log_items(lines[0])
    assert [k for k, _ in items] == [None] * 7 + ["vp", "user"], items
    assert items[1:5] == [(None, "127.0.0.1"), (None, "GET"), (None, "/jwt/a%20b%22c"),
                          (None, "200")], items
    assert items[7:] == [("vp", "Embedded analytics"), ("user", "ACME\\" + FORGING_USER)], items


def test_repeated_token_refusals_are_counted_not_written(pki, upstream, start_gateway):
    # A flood of bad tokens on purpose: auth.failure_limit would answer most of them 429.
    gw = start_gateway(open_config(pki, upstream, auth={"failure_limit": "off"}))
    expired, forged = mint(pki, expires_in=-3600), mint(pki)[:-4] + "AAAA"
    conn = connection(gw.port)
    started = time.time()
    for i in range(300):
        r = http(gw.port, "GET", "/jwt/x", bearer(expired if i % 3 else forged), conn=conn)
        assert r.status == 401, r
    conn.close()
    gw.wait_for_lines("event=token_rejected ", 2)
    refused = audit_events(gw.stdout(), "token_rejected")
    assert refused == [
        [("event", "token_rejected"), ("vp", "jwt"), ("reason", "SIGNATURE_MISMATCH"),
         ("client", "127.0.0.1")],
        [("event", "token_rejected"), ("vp", "jwt"), ("reason", "TOKEN_EXPIRED"),
         ("client", "127.0.0.1")],
    ], refused
    assert time.time() - started < 9, "the requests took too long to stay in one interval"
    # The repeats are reported once the 10 s interval ends (checked about once a second).
    deadline = time.time() + 15
    while time.time() < deadline and len(audit_events(gw.stdout(), "token_rejected_repeated")) < 2:
        time.sleep(0.5)
    repeated = sorted(audit_events(gw.stdout(), "token_rejected_repeated"))
    assert repeated == [
        [("event", "token_rejected_repeated"), ("vp", "jwt"), ("reason", "SIGNATURE_MISMATCH"),
         ("client", "127.0.0.1"), ("count", "99"), ("interval", "10s")],
        [("event", "token_rejected_repeated"), ("vp", "jwt"), ("reason", "TOKEN_EXPIRED"),
         ("client", "127.0.0.1"), ("count", "199"), ("interval", "10s")],
    ], repeated
    # After the interval, the next refusal is written in full again.
    r = http(gw.port, "GET", "/jwt/x", bearer(expired))
    assert r.status == 401
    gw.wait_for_lines("event=token_rejected ", 3)
    assert len(audit_events(gw.stdout(), "token_rejected")) == 3


def test_every_audit_line_is_written_before_the_gateway_exits(pki, upstream, start_gateway):
    # Lines are written by a writer thread in batches; SIGTERM must not lose the buffered ones.
    gw = start_gateway(open_config(pki, upstream))
    users = [f"user{i}" for i in range(300)]
    sign_in_each(gw, pki, users)
    assert gw.stop() == 0
    signed_in = [dict(e)["user"] for e in audit_events(gw.stdout(), "sign_in")]
    assert signed_in == ["ACME\\" + user for user in users]
