"""Revocation and session limits against the real binary: tokens revoked by jti (`jotgate revoke`
and POST /api/v1/revocations) and by user, applied by the running gateway within about a second,
to tokens already in its verified-token cache too (401 TOKEN_REVOKED), the sessions they signed in
ended; GET lists, DELETE lifts, entries past their `until` pruned; the command's exact output and
errors; session.max_per_user ending the oldest session (audit event=session_evicted)."""
import datetime
import json
import time

from gateway_harness import *  # noqa: F401,F403

COOKIE = "X-Jotgate-Session-jwt"
ADMIN_TOKEN = "admin-token-revocation-7d3e"
REVOKED_BODY = {"error": "TOKEN_REVOKED",
                "message": "Could not authenticate the request: the token has been revoked"}
REVOKED_CHALLENGE = 'Bearer error="invalid_token", error_description="the token has been revoked"'
APPLIED_WITHIN = 1.5  # seconds: the maintenance tick runs about once a second


def rfc3339(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def get(gw, token=None, cookie=None):
    headers = {"Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = "Bearer " + token
    if cookie is not None:
        headers["Cookie"] = f"{COOKIE}={cookie}"
    return http(gw.port, "GET", "/jwt/x", headers)


def within(seconds, request, status):
    """The first answer of `request()` with `status`, asked every 50 ms for `seconds`; else the
    last answer."""
    deadline = time.monotonic() + seconds
    while True:
        r = request()
        if r.status == status or time.monotonic() > deadline:
            return r
        time.sleep(0.05)


def assert_revoked(r):
    assert r.status == 401, r
    assert r.json() == REVOKED_BODY, r
    assert r.header("WWW-Authenticate") == REVOKED_CHALLENGE, r


def revoke(gw, *args):
    return run_jotgate("revoke", "--config", gw.config_path, *args)


# ----------------------------------------------------------------------------- gateway + admin API
def admin_config(pki, upstream, tmp_path, **vp):
    token_file = tmp_path / "admin.token"
    token_file.write_text(ADMIN_TOKEN + "\n")
    admin = {"address": "127.0.0.1:0",
             "tls": {"certificate": str(pki.server), "key": str(pki.server_key)},
             "token_file": str(token_file)}
    return gateway_config(pki, upstream.url, http_port=0, admin=admin, **vp)


def api(gw, pki, method, path, body=None):
    headers = {"Authorization": "Bearer " + ADMIN_TOKEN}
    if body is not None:
        headers["Content-Type"] = "application/json"
    data = json.dumps(body) if isinstance(body, dict) else body
    return http(gw.admin_port, method, path, headers, data, tls=client_context(pki.ca))


# ----------------------------------------------------------------------------- by jti, CLI
def test_cli_jti_revocation_refuses_a_cached_token_and_ends_its_session(pki, upstream,
                                                                        start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0))
    now = int(time.time())
    leaked = mint(pki, now=now, jti="leak-1")
    first = get(gw, leaked)
    assert first.status == 200, first
    cookie = first.cookie(COOKIE)
    assert get(gw, leaked).status == 200  # now in the verified-token cache
    other = mint(pki, jti="other-1")
    assert get(gw, other).status == 200

    until = now + 3600 + 60
    done = revoke(gw, "--jti", "leak-1", "--until", rfc3339(until))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"Revoked token leak-1 (revocation 1): refused until {rfc3339(until)}\n"
    assert done.stderr == ""
    assert_revoked(within(APPLIED_WITHIN, lambda: get(gw, leaked), 401))
    assert get(gw, cookie=cookie).status == 401  # the session it signed in has ended
    assert get(gw, other).status == 200
    applied = gw.wait_for_lines("event=revocation_applied")
    assert applied[0].endswith("event=revocation_applied id=1 jti=leak-1 sessions_ended=1"), applied
    gw.wait_for_lines("event=token_rejected vp=jwt reason=TOKEN_REVOKED client=127.0.0.1")

    listed = revoke(gw, "--list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["ID", "KIND", "SUBJECT", "REVOKED", "AT", "UNTIL"]
    assert lines[1].split()[:3] == ["1", "jti", "leak-1"]
    assert lines[1].split()[4] == rfc3339(until)
    assert lines[-1] == "1 revocation"

    lifted = revoke(gw, "--lift", "1")
    assert (lifted.returncode, lifted.stdout) == (0, "Lifted revocation 1\n"), lifted
    assert within(APPLIED_WITHIN, lambda: get(gw, leaked), 200).status == 200
    assert revoke(gw, "--list").stdout.splitlines()[-1] == "0 revocations"


def test_cli_user_revocation_refuses_older_tokens_and_ends_sessions(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0))
    old = mint(pki, now=int(time.time()) - 30)
    cookie = get(gw, old).cookie(COOKIE)
    bobs = get(gw, mint(pki, "bob")).cookie(COOKIE)
    done = revoke(gw, "--user", "ACME\\alice")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Revoked user ACME\\alice (revocation 1): tokens issued up to ")
    assert done.stdout.endswith(" are refused until lifted\n")
    assert_revoked(within(APPLIED_WITHIN, lambda: get(gw, old), 401))
    assert within(APPLIED_WITHIN, lambda: get(gw, cookie=cookie), 401).status == 401
    assert get(gw, cookie=bobs).status == 200
    gw.wait_for_lines("event=revocation_applied id=1 user=ACME\\alice sessions_ended=1")
    # A token issued after the revocation's second is accepted.
    revoked_at = int(time.time())
    time.sleep(max(0.0, revoked_at + 1 - time.time()) + 0.05)
    fresh = get(gw, mint(pki, now=int(time.time())))
    assert fresh.status == 200, fresh


def test_cli_rejects_bad_input_with_exact_errors(pki, upstream, start_gateway, tmp_path):
    data = tmp_path / "data"
    cases = [
        ((), 2, "jotgate revoke: give exactly one of --jti, --user, --list, --lift"),
        (("--jti", "a", "--user", "ACME\\alice"), 2,
         "jotgate revoke: give exactly one of --jti, --user, --list, --lift"),
        (("--list", "--until", "1"), 2, "jotgate revoke: --until goes with --jti or --user"),
        (("--jti", "a", "--until", "tomorrow"), 2,
         "jotgate revoke: --until 'tomorrow' is not a time (RFC 3339 such as "
         "2030-01-31T12:00:00Z, or Unix seconds)"),
        (("--jti", "a", "--until", "2001-01-01T00:00:00Z"), 2,
         "jotgate revoke: --until '2001-01-01T00:00:00Z' is not in the future"),
        (("--user", "alice"), 2,
         "jotgate revoke: \"alice\" is not DIRECTORY\\id (e.g. ACME\\alice; in a shell: "
         "'ACME\\alice')"),
    ]
    for args, status, message in cases:
        done = run_jotgate("revoke", "--data-dir", data, *args)
        assert (done.returncode, done.stdout, done.stderr) == (status, "", message + "\n"), args
    assert not (data / "jotgate.db").exists()  # nothing was opened for a usage error
    missing = run_jotgate("revoke", "--data-dir", data, "--lift", "99")
    assert (missing.returncode, missing.stderr) == (1, "jotgate revoke: no revocation has id 99\n")
    assert run_jotgate("revoke", "--data-dir", data, "--lift", "x").returncode == 2
    unix = run_jotgate("revoke", "--data-dir", data, "--jti", "b", "--until", "4102444800")
    assert unix.stdout == "Revoked token b (revocation 1): refused until 2100-01-01T00:00:00Z\n"


# ----------------------------------------------------------------------------- admin API
def test_api_revokes_lists_and_lifts(pki, upstream, start_gateway, tmp_path):
    gw = start_gateway(admin_config(pki, upstream, tmp_path))
    old = mint(pki, now=int(time.time()) - 30, jti="api-1")
    cookie = get(gw, old).cookie(COOKIE)
    assert get(gw, old).status == 200  # cached

    by_jti = api(gw, pki, "POST", "/api/v1/revocations", {"jti": "api-1"})
    assert by_jti.status == 201, by_jti
    entry = by_jti.json()
    assert entry == {"id": 1, "kind": "jti", "jti": "api-1", "revokedAt": entry["revokedAt"],
                     "until": None}
    assert_revoked(get(gw, old))  # the API puts it in force at once
    assert within(APPLIED_WITHIN, lambda: get(gw, cookie=cookie), 401).status == 401

    by_user = api(gw, pki, "POST", "/api/v1/revocations",
                  {"userDirectory": "ACME", "userId": "bob", "until": rfc3339(int(time.time()) + 600)})
    assert by_user.status == 201, by_user
    assert by_user.json()["kind"] == "user" and by_user.json()["userId"] == "bob"
    assert_revoked(get(gw, mint(pki, "bob", now=int(time.time()) - 5)))

    listed = api(gw, pki, "GET", "/api/v1/revocations")
    assert listed.status == 200, listed
    assert [e["id"] for e in listed.json()["revocations"]] == [1, 2]
    assert listed.header("Cache-Control") == "no-store"

    lifted = api(gw, pki, "DELETE", "/api/v1/revocations/1")
    assert (lifted.status, lifted.body) == (204, b""), lifted
    assert get(gw, old).status == 200  # accepted again
    again = api(gw, pki, "DELETE", "/api/v1/revocations/1")
    assert again.status == 404, again
    assert again.json() == {"error": "REVOCATION_NOT_FOUND", "message": "no revocation has this id"}
    assert [e["id"] for e in api(gw, pki, "GET", "/api/v1/revocations").json()["revocations"]] == [2]

    invalid = api(gw, pki, "POST", "/api/v1/revocations", {"jti": "", "until": "soon"})
    assert invalid.status == 400, invalid
    assert invalid.json() == {"error": "VALIDATION_FAILED", "errors": [
        {"field": "jti", "message": "must not be empty"},
        {"field": "until", "message": "must be a time: Unix seconds, or RFC 3339 in a string"}]}
    not_allowed = api(gw, pki, "PUT", "/api/v1/revocations")
    assert not_allowed.status == 405 and not_allowed.header("Allow") == "GET, POST", not_allowed
    calls = gw.wait_for_lines("route=/revocations/{id}")
    assert "method=DELETE" in calls[0], calls


def test_entries_past_their_until_are_pruned(pki, upstream, start_gateway, tmp_path):
    gw = start_gateway(admin_config(pki, upstream, tmp_path))
    token = mint(pki, jti="short-lived")
    until = int(time.time()) + 2
    added = api(gw, pki, "POST", "/api/v1/revocations", {"jti": "short-lived", "until": until})
    assert added.status == 201, added
    assert_revoked(get(gw, token))
    time.sleep(max(0.0, until - time.time()) + APPLIED_WITHIN)
    assert get(gw, token).status == 200
    assert api(gw, pki, "GET", "/api/v1/revocations").json() == {"revocations": []}
    assert revoke(gw, "--list").stdout.splitlines()[-1] == "0 revocations"


# ----------------------------------------------------------------------------- max_per_user
def test_signing_in_beyond_max_per_user_ends_the_oldest_session(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0,
                                      session={"max_per_user": 2}))
    cookies = []
    for i in range(3):
        r = get(gw, mint(pki, jti=f"device-{i}"))
        assert r.status == 200, r
        cookies.append(r.cookie(COOKIE))
    assert get(gw, cookie=cookies[0]).status == 401
    assert get(gw, cookie=cookies[1]).status == 200
    assert get(gw, cookie=cookies[2]).status == 200
    bob = get(gw, mint(pki, "bob")).cookie(COOKIE)  # another user's count is their own
    assert get(gw, cookie=bob).status == 200
    evicted = gw.wait_for_lines("event=session_evicted")
    assert len(evicted) == 1 and evicted[0].endswith("event=session_evicted vp=jwt user=ACME\\alice")
