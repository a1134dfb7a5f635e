"""Logs and request identity (issue 12, section 3): with `log_format: json` every line the
gateway writes, on standard output and standard error, is one JSON object with the fixed keys;
X-Request-Id is kept only on a trusted listener; a valid traceparent crosses the gateway, an
absent or invalid one is replaced; both ids are in the access and audit lines; audit lines
written just before SIGTERM are not lost."""
import json
import re

from gateway_harness import *  # noqa: F401,F403

FIXED_KEYS = ["ts", "level", "event", "vp", "user", "reason", "client", "request_id", "trace_id"]
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
GENERATED_ID = re.compile(r"[0-9a-f]{16}-[0-9a-f]+")
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-01")
VALID = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
ADMIN_TOKEN = "admin-token-8d2e61f0a4"


def json_config(pki, upstream, tmp_path=None):
    """log_format json, the listener `http` and a trusted listener `inside` (both port 0), the
    admin API when `tmp_path` is given (a generated certificate: a diagnostic line)."""
    admin = None
    if tmp_path is not None:
        (tmp_path / "admin.token").write_text(ADMIN_TOKEN + "\n")
        admin = {"address": "127.0.0.1:0",
                 "tls": {"certificate": str(tmp_path / "admin.pem"),
                         "key": str(tmp_path / "admin_key.pem")},
                 "token_file": str(tmp_path / "admin.token")}
    config = gateway_config(pki, upstream.url, http_port=0, admin=admin)
    config["log_format"] = "json"
    config["listeners"].append({"name": "inside", "address": "127.0.0.1:0", "trusted": True})
    config["virtual_proxies"][0]["listeners"].append("inside")
    return config


def events(text):
    """Every line of `text` parsed; fails on a line that is not a JSON object with the fixed
    keys first, in order, and a valid timestamp."""
    parsed = []
    for line in text.splitlines():
        event = json.loads(line)
        assert isinstance(event, dict), line
        assert list(event)[:len(FIXED_KEYS)] == FIXED_KEYS, line
        assert TS.fullmatch(event["ts"]), line
        parsed.append(event)
    return parsed


def of(parsed, event):
    return [e for e in parsed if e["event"] == event]


def test_every_line_is_a_json_object_with_the_fixed_keys(pki, upstream, start_gateway, tmp_path):
    gw = start_gateway(json_config(pki, upstream, tmp_path))
    assert http(gw.port, "GET", "/jwt/signed-in", bearer(mint(pki))).status == 200
    assert http(gw.port, "GET", "/jwt/refused", bearer(mint(pki, expires_in=-3600))).status == 401
    r = http(gw.admin_port, "GET", "/api/v1/users/ACME/alice/sessions",
             {"Authorization": "Bearer " + ADMIN_TOKEN}, tls=client_context(verify=False))
    assert r.status == 200, r
    gw.wait_for_lines('"event":"admin_call"')
    assert gw.stop() == 0
    out, err = events(gw.stdout()), events(gw.stderr())

    # Start: one line per listener and the admin API, then ready; stop: the last line.
    listening = of(out, "listening")
    assert [(e.get("listener"), e.get("admin_api")) for e in listening] == [
        ("http", None), ("inside", None), (None, True)], listening
    assert listening[0]["address"] == f"http://127.0.0.1:{gw.port}"
    last_listening = max(i for i, e in enumerate(out) if e["event"] == "listening")
    assert out[last_listening + 1]["event"] == "ready"
    assert out[-1]["event"] == "stopped"

    requests = {e["path"]: e for e in of(out, "request")}
    signed_in = requests["/jwt/signed-in"]
    assert (signed_in["level"], signed_in["vp"], signed_in["user"], signed_in["client"],
            signed_in["method"], signed_in["status"]) == (
        "info", "Embedded analytics", "ACME\\alice", "127.0.0.1", "GET", 200), signed_in
    assert signed_in["reason"] is None
    assert GENERATED_ID.fullmatch(signed_in["request_id"]), signed_in
    assert re.fullmatch(r"[0-9a-f]{32}", signed_in["trace_id"]), signed_in
    refused = requests["/jwt/refused"]
    assert refused["status"] == 401 and refused["user"] is None, refused

    [sign_in] = of(out, "sign_in")
    assert (sign_in["vp"], sign_in["user"], sign_in["method"], sign_in["request_id"],
            sign_in["trace_id"]) == ("jwt", "ACME\\alice", "jwt", signed_in["request_id"],
                                     signed_in["trace_id"]), sign_in
    [rejected] = of(out, "token_rejected")
    assert (rejected["vp"], rejected["reason"], rejected["client"], rejected["request_id"],
            rejected["trace_id"]) == ("jwt", "TOKEN_EXPIRED", "127.0.0.1",
                                      refused["request_id"], refused["trace_id"]), rejected
    [admin_call] = of(out, "admin_call")
    assert (admin_call["user"], admin_call["client"], admin_call["vp"], admin_call["status"],
            admin_call["request_id"]) == ("ACME\\alice", "token", None, "200", None), admin_call

    # Diagnostics: the admin server's certificate, the shutdown.
    messages = [(e["level"], e["event"], e["message"]) for e in err]
    assert ("info", "diagnostic",
            f"generated a self-signed TLS certificate for the admin listener: "
            f"{tmp_path / 'admin.pem'}") in messages, messages
    assert ("info", "diagnostic",
            "shutting down: no new connections, finishing requests in flight") in messages


def test_values_cannot_break_a_json_line(pki, upstream, start_gateway):
    gw = start_gateway(json_config(pki, upstream))
    user = 'x"y\\z\u2028 w'
    r = http(gw.port, "GET", "/jwt/a%22b%FF", bearer(mint(pki, user=user)))
    assert r.status == 403, r  # not allocated
    line = gw.wait_for_lines('"event":"access_denied"')[0]
    assert json.loads(line)["user"] == "ACME\\" + user
    assert gw.stop() == 0
    [request] = of(events(gw.stdout()), "request")
    assert request["path"] == "/jwt/a%22b%FF"
    assert request["user"] is None


def test_a_request_id_is_kept_only_on_a_trusted_listener(pki, upstream, start_gateway):
    gw = start_gateway(json_config(pki, upstream))
    token = mint(pki)
    inside = http(gw.listener_ports["inside"], "GET", "/jwt/kept",
                  bearer(token, **{"X-Request-Id": "order-4711"}))
    assert inside.upstream_all("X-Request-Id") == ["order-4711"], inside
    outside = http(gw.port, "GET", "/jwt/replaced", bearer(token, **{"X-Request-Id": "order-4711"}))
    [generated] = outside.upstream_all("X-Request-Id")
    assert GENERATED_ID.fullmatch(generated), generated
    # Not sane on the trusted listener (a space, too long): replaced too; none sent: generated.
    for sent in ("a b", "x" * 129):
        r = http(gw.listener_ports["inside"], "GET", "/jwt/insane",
                 bearer(token, **{"X-Request-Id": sent}))
        [got] = r.upstream_all("X-Request-Id")
        assert GENERATED_ID.fullmatch(got), got
    r = http(gw.listener_ports["inside"], "GET", "/jwt/none", bearer(token))
    assert GENERATED_ID.fullmatch(r.upstream_header("X-Request-Id"))
    # Every spelling of the client's copy is removed on the untrusted listener.
    raw = raw_request(gw.port, (
        "GET /jwt/spellings HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: Bearer {token}\r\nX-Request-Id: one\r\nx-request-id: two\r\n"
        "X_Request_Id: three\r\nX-REQUEST-ID: four\r\n\r\n").encode())
    body = json.loads(raw.partition(b"\r\n\r\n")[2])
    ids = [v for k, v in body["headers"] if k.lower().replace("_", "-") == "x-request-id"]
    assert len(ids) == 1 and GENERATED_ID.fullmatch(ids[0]), body["headers"]
    assert gw.stop() == 0
    requests = {e["path"]: e for e in of(events(gw.stdout()), "request")}
    assert requests["/jwt/kept"]["request_id"] == "order-4711"
    assert requests["/jwt/replaced"]["request_id"] == generated
    assert requests["/jwt/spellings"]["request_id"] == ids[0]
    [sign_in] = of(events(gw.stdout()), "sign_in")
    assert sign_in["request_id"] == "order-4711"  # the first request signed in


def test_traceparent_is_forwarded_when_valid_and_replaced_otherwise(pki, upstream, start_gateway):
    gw = start_gateway(json_config(pki, upstream))
    token = mint(pki)
    valid = http(gw.port, "GET", "/jwt/valid",
                 bearer(token, traceparent=VALID, tracestate="vendor=abc"))
    assert valid.upstream_all("traceparent") == [VALID], valid
    assert valid.upstream_all("tracestate") == ["vendor=abc"]

    absent = http(gw.port, "GET", "/jwt/absent", bearer(token))
    [generated] = absent.upstream_all("traceparent")
    assert TRACEPARENT.fullmatch(generated), generated
    assert absent.upstream_all("tracestate") == []

    invalid = "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"  # upper case
    replaced = http(gw.port, "GET", "/jwt/invalid",
                    bearer(token, traceparent=invalid, tracestate="vendor=abc"))
    [new] = replaced.upstream_all("traceparent")
    assert TRACEPARENT.fullmatch(new) and new != generated, new
    assert replaced.upstream_all("tracestate") == []  # only with a valid traceparent

    r = http(gw.port, "GET", "/jwt/refused", {"traceparent": VALID})
    assert r.status == 401
    assert gw.stop() == 0
    parsed = events(gw.stdout())
    requests = {e["path"]: e for e in of(parsed, "request")}
    assert requests["/jwt/valid"]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert requests["/jwt/absent"]["trace_id"] == TRACEPARENT.fullmatch(generated).group(1)
    assert requests["/jwt/invalid"]["trace_id"] == TRACEPARENT.fullmatch(new).group(1)
    assert requests["/jwt/refused"]["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    [sign_in] = of(parsed, "sign_in")
    assert sign_in["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_audit_lines_of_the_last_requests_survive_sigterm(pki, upstream, start_gateway):
    config = json_config(pki, upstream)
    config["access"] = {"mode": "open"}
    gw = start_gateway(config)
    users = [f"user{i}" for i in range(200)]
    sign_in_each(gw, pki, users)
    assert gw.stop() == 0  # at once: most lines are still in the writer's buffer
    parsed = events(gw.stdout())
    assert [e["user"] for e in of(parsed, "sign_in")] == ["ACME\\" + u for u in users]
    assert [e["request_id"] for e in of(parsed, "sign_in")] == [
        e["request_id"] for e in of(parsed, "request")]
    assert parsed[-1]["event"] == "stopped"
