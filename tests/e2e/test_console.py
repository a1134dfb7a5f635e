"""The console on the admin listener against the real binary: its page and files with the
security headers, sign-in (token or client certificate) with the __Host- session cookie, the
cookie admitting /api/v1 calls whose changes need the CSRF token, cross-site changes refused
before anything else, sign-out, and the demo's admin listener (`serve --admin-port`)."""
import os
import re
import socket
import signal
import stat
import subprocess
import time

import pytest

from gateway_harness import *  # noqa: F401,F403
from test_admin_api import ClientCerts, admin_section, client_certs  # noqa: F401

TOKEN = "console-token-71c2e9"
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Frame-Options": "DENY",
                    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                    "Cache-Control": "no-store"}
CROSS_SITE = {"error": "CSRF_REJECTED",
              "message": "a change sent from another site (Origin, Sec-Fetch-Site) is refused"}
NO_CSRF_TOKEN = {"error": "CSRF_REJECTED",
                 "message": "a change from the console needs the session's X-CSRF-Token header"}
COOKIE_FORMAT = re.compile(
    r"__Host-jotgate-console=([0-9a-f]{64}); Path=/; Secure; HttpOnly; SameSite=Strict")


class Console:
    def __init__(self, gw, pki):
        self.gw, self.port, self.pki = gw, gw.admin_port, pki
        self.origin = f"https://127.0.0.1:{self.port}"

    def call(self, method, path, body=None, headers=None, cert=None):
        ctx = client_context(self.pki.ca)
        if cert is not None:
            ctx.load_cert_chain(*cert)
        h = dict(headers or {})
        if body is not None:
            h.setdefault("Content-Type", "application/json")
        data = json.dumps(body) if isinstance(body, (dict, list)) else body
        return http(self.port, method, path, h, data, tls=ctx)

    def sign_in(self):
        r = self.call("POST", "/console/sign-in", {"token": TOKEN})
        assert r.status == 200, r
        session_id = COOKIE_FORMAT.fullmatch(r.header("Set-Cookie")).group(1)
        return session_id, r.json()["csrfToken"]


@pytest.fixture
def console(pki, upstream, start_gateway, tmp_path):
    token_file = tmp_path / "admin.token"
    token_file.write_text(TOKEN + "\n")
    config = gateway_config(pki, upstream.url, http_port=0, admin=admin_section(pki, 0, token_file))
    return Console(start_gateway(config), pki)


def cookie(session_id):
    return {"Cookie": f"theme=dark; __Host-jotgate-console={session_id}"}


def test_the_page_its_files_and_every_answer_carry_the_security_headers(console):
    redirect = console.call("GET", "/console")
    assert (redirect.status, redirect.header("Location")) == (301, "/console/")
    page = console.call("GET", "/console/")
    assert page.status == 200
    assert page.header("Content-Type") == "text/html; charset=utf-8"
    assert page.text.startswith("<!doctype html>")
    assert '<script type="module" src="assets/app.js"></script>' in page.text
    script = console.call("GET", "/console/assets/app.js")
    assert script.status == 200
    assert script.header("Content-Type") == "text/javascript; charset=utf-8"
    etag = script.header("ETag")
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    unchanged = console.call("GET", "/console/assets/app.js", headers={"If-None-Match": etag})
    assert (unchanged.status, unchanged.body) == (304, b"")
    missing = console.call("GET", "/console/assets/nope.js")
    assert missing.status == 404
    assert missing.json() == {"error": "NOT_FOUND", "message": "no such page of the console"}
    for r in (redirect, page, script, unchanged, missing):
        for name, value in SECURITY_HEADERS.items():
            assert r.header(name) == value, (name, r)


def test_head_gets_the_headers_of_get_and_no_body(console):
    # Two requests on one connection: after HEAD's header block (its Content-Length that of the
    # file) comes the GET's answer at once, not the file.
    get = console.call("GET", "/console/assets/app.js")
    sock = client_context(console.pki.ca).wrap_socket(
        socket.create_connection(("127.0.0.1", console.port), timeout=10), server_hostname="localhost")
    with sock:
        sock.sendall(b"HEAD /console/assets/app.js HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"GET /console/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n"), data[:200]
    assert f"Content-Length: {len(get.body)}".encode() in head.split(b"\r\n"), head
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n"), rest[:200]
    assert rest.endswith(b"</html>\n"), rest[-100:]


def test_sign_in_sets_the_host_cookie_and_the_session_names_the_admin(console):
    wrong = console.call("POST", "/console/sign-in", {"token": TOKEN + "x"})
    assert wrong.status == 401
    assert wrong.body == b'{"error":"INVALID_TOKEN","message":"the token is not the admin token"}'
    assert wrong.header("Set-Cookie") is None
    r = console.call("POST", "/console/sign-in", {"token": TOKEN})
    assert r.status == 200, r
    session_id = COOKIE_FORMAT.fullmatch(r.header("Set-Cookie")).group(1)
    body = r.json()
    assert list(body) == ["admin", "csrfToken", "idleTimeout"]
    assert (body["admin"], body["idleTimeout"]) == ("token", 900)
    assert re.fullmatch("[0-9a-f]{64}", body["csrfToken"])

    now = int(time.time())
    session = console.call("GET", "/console/session", headers=cookie(session_id))
    assert session.status == 200
    assert session.json()["admin"] == "token"
    assert session.json()["csrfToken"] == body["csrfToken"]
    assert now + 895 <= session.json()["expiresAt"] <= now + 905
    none = console.call("GET", "/console/session", headers=cookie("0" * 64))
    assert none.status == 401
    assert none.json() == {"error": "NO_SESSION", "message": "sign in to the console"}

    lines = console.gw.wait_for_lines("event=console_sign_in", 2)
    assert lines[0].endswith("event=console_sign_in result=refused admin=- client=127.0.0.1")
    assert lines[1].endswith("event=console_sign_in result=ok admin=token client=127.0.0.1")
    output = console.gw.stdout() + console.gw.stderr()
    assert session_id not in output and body["csrfToken"] not in output and TOKEN not in output


def test_a_client_certificate_of_the_admin_ca_signs_in_without_a_token(pki, upstream, start_gateway,
                                                                       tmp_path, client_certs):
    token_file = tmp_path / "admin.token"
    token_file.write_text(TOKEN + "\n")
    config = gateway_config(pki, upstream.url, http_port=0,
                            admin=admin_section(pki, 0, token_file, client_ca=True))
    console = Console(start_gateway(config), pki)
    r = console.call("POST", "/console/sign-in", cert=client_certs.trusted)
    assert r.status == 200, r
    assert r.json()["admin"] == "sso-module"
    refused = console.call("POST", "/console/sign-in", cert=client_certs.untrusted)
    assert refused.status == 401
    assert refused.json() == {"error": "INVALID_TOKEN", "message":
                              "give the admin token, or a client certificate of the admin CA"}


def test_the_cookie_admits_reads_and_changes_need_the_csrf_token(console):
    session_id, csrf = console.sign_in()
    read = console.call("GET", "/api/v1/revocations", headers=cookie(session_id))
    assert (read.status, read.json()) == (200, {"revocations": []})
    for headers in ({}, {"X-CSRF-Token": "0" * 64}, {"X-CSRF-Token": session_id}):
        refused = console.call("POST", "/api/v1/revocations", {"jti": "a"},
                               headers={**cookie(session_id), **headers})
        assert refused.status == 403
        assert refused.json() == NO_CSRF_TOKEN
    made = console.call("POST", "/api/v1/revocations", {"jti": "a"},
                        headers={**cookie(session_id), "X-CSRF-Token": csrf})
    assert made.status == 201, made
    lines = console.gw.wait_for_lines("event=admin_call", 5)
    assert lines[-1].endswith("method=POST route=/revocations vp=- user=- client=token status=201")
    assert lines[-2].endswith("method=POST route=/revocations vp=- user=- client=- status=403")
    # An unknown cookie admits nobody.
    stranger = console.call("GET", "/api/v1/revocations", headers=cookie("f" * 64))
    assert stranger.status == 401
    assert stranger.json()["error"] == "NO_CREDENTIALS"


@pytest.mark.parametrize("headers", [{"Origin": "https://evil.example"}, {"Origin": "null"},
                                     {"Origin": "http://127.0.0.1"},
                                     {"Sec-Fetch-Site": "cross-site"},
                                     {"Sec-Fetch-Site": "same-site"}])
def test_changes_from_another_site_are_refused_whatever_the_credentials(console, headers):
    session_id, csrf = console.sign_in()
    with_token = console.call("POST", "/api/v1/revocations", {"jti": "b"},
                              headers={"Authorization": f"Bearer {TOKEN}", **headers})
    assert with_token.status == 403
    assert with_token.json() == CROSS_SITE
    with_cookie = console.call("POST", "/api/v1/revocations", {"jti": "b"},
                               headers={**cookie(session_id), "X-CSRF-Token": csrf, **headers})
    assert with_cookie.json() == CROSS_SITE
    sign_in = console.call("POST", "/console/sign-in", {"token": TOKEN}, headers=headers)
    assert (sign_in.status, sign_in.json()) == (403, CROSS_SITE)
    assert sign_in.header("Content-Security-Policy") == CSP
    assert sign_in.header("Set-Cookie") is None
    listed = console.call("GET", "/api/v1/revocations", headers={"Authorization": f"Bearer {TOKEN}",
                                                                 **headers})
    assert (listed.status, listed.json()) == (200, {"revocations": []})


def test_changes_from_the_listeners_own_origin_pass(console):
    session_id, csrf = console.sign_in()
    r = console.call("POST", "/api/v1/revocations", {"jti": "c"},
                     headers={**cookie(session_id), "X-CSRF-Token": csrf, "Origin": console.origin,
                              "Sec-Fetch-Site": "same-origin"})
    assert r.status == 201, r


def test_sign_out_needs_the_csrf_token_and_ends_the_session(console):
    session_id, csrf = console.sign_in()
    refused = console.call("POST", "/console/sign-out", headers=cookie(session_id))
    assert refused.status == 403
    assert refused.json() == {"error": "CSRF_REJECTED",
                              "message": "the X-CSRF-Token header is missing or not this session's"}
    done = console.call("POST", "/console/sign-out", headers={**cookie(session_id),
                                                              "X-CSRF-Token": csrf})
    assert done.status == 204
    assert done.header("Set-Cookie") == \
        "__Host-jotgate-console=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"
    after = console.call("GET", "/api/v1/revocations", headers=cookie(session_id))
    assert after.status == 401


def test_the_demo_with_admin_port_prints_the_console_and_where_its_token_is(tmp_path):
    with demo(tmp_path, "--ops-port", "0", "--admin-port", "0") as text:
        _, admin_port, _ = printed_ports(text)
        token_path = tmp_path / "data" / "admin-token"
        assert (f"The console: https://127.0.0.1:{admin_port}/console/\n"
                f"  sign in with the admin token in {token_path} (cat it; the browser trusts the "
                f"certificate once {tmp_path / 'data' / 'certs' / 'ca.pem'} is imported as a "
                "certificate authority)\n") in text
        assert stat.S_IMODE(os.stat(token_path).st_mode) == 0o600
        token = token_path.read_text().strip()
        assert re.fullmatch("[0-9a-f]{64}", token) and token not in text
        ctx = client_context(tmp_path / "data" / "certs" / "ca.pem")
        r = http(admin_port, "POST", "/console/sign-in", {"Content-Type": "application/json"},
                 json.dumps({"token": token}), tls=ctx)
        assert r.status == 200, r
