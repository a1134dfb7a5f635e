"""The admin listener and its /api/v1 against the real binary: who is admitted (admin-CA client
certificate, bearer token) and what everyone else gets, every route, every validation error,
tickets redeemed on the gateway, sessions whose cookies work until they are ended, the audit
log, and start-up errors."""
import datetime
import http.client as httpclient
import json
import socket
import time
import urllib.parse

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gateway_harness import *  # noqa: F401,F403

TOKEN = "admin-token-4f1c9a7e2b"
COOKIE = "X-Jotgate-Session-jwt"
TICKETS = "/api/v1/virtual-proxies/jwt/tickets"
SESSIONS = "/api/v1/virtual-proxies/jwt/sessions"


# ----------------------------------------------------------------------------- certificates
def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(key, path):
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def _certificate(subject_cn, subject_key, issuer, issuer_key, ca):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject_cn)).issuer_name(issuer)
               .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


class ClientCerts:
    """A client certificate of the gateway PKI's CA (the admin CA) and one of another CA."""

    def __init__(self, folder, pki):
        folder.mkdir(parents=True, exist_ok=True)
        ca_cert = x509.load_pem_x509_certificate(pki.ca.read_bytes())
        ca_key = serialization.load_pem_private_key(pki.ca_key.read_bytes(), None)
        self.trusted = self._client(folder, "trusted", "sso-module", ca_cert.subject, ca_key)
        other_key = ec.generate_private_key(ec.SECP256R1())
        self.other_ca = folder / "other_ca.pem"
        self.other_ca.write_bytes(_certificate("Other CA", other_key, _name("Other CA"), other_key, True)
                                  .public_bytes(serialization.Encoding.PEM))
        self.untrusted = self._client(folder, "untrusted", "intruder", _name("Other CA"), other_key)

    @staticmethod
    def _client(folder, stem, cn, issuer, issuer_key):
        key = ec.generate_private_key(ec.SECP256R1())
        cert, key_path = folder / f"{stem}.pem", folder / f"{stem}_key.pem"
        cert.write_bytes(_certificate(cn, key, issuer, issuer_key, False)
                         .public_bytes(serialization.Encoding.PEM))
        _write_key(key, key_path)
        return cert, key_path


@pytest.fixture(scope="session")
def client_certs(pki, tmp_path_factory):
    return ClientCerts(tmp_path_factory.mktemp("admin-clients"), pki)


# ----------------------------------------------------------------------------- gateway and client
class Admin:
    """A gateway with the admin listener, and a client for its API."""

    def __init__(self, gw, pki):
        self.gw, self.port, self.http_port, self.pki = gw, gw.admin_port, gw.port, pki

    def context(self, cert=None):
        ctx = client_context(self.pki.ca)
        if cert is not None:
            ctx.load_cert_chain(*cert)
        return ctx

    def call(self, method, path, body=None, token=TOKEN, cert=None, headers=None, conn=None,
             content_type="application/json"):
        h = {}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if body is not None and content_type is not None:
            h["Content-Type"] = content_type
        h.update(headers or {})
        data = json.dumps(body) if isinstance(body, (dict, list)) else body
        return http(self.port, method, path, h, data, tls=self.context(cert), conn=conn)

    def gateway_get(self, path, cookie=None, **headers):
        if cookie is not None:
            headers["Cookie"] = f"{COOKIE}={cookie}"
        return http(self.http_port, "GET", path, headers)

    def audit_lines(self, count=1):
        """The admin_call lines, once there are `count` (they trail the answers a little)."""
        return self.gw.wait_for_lines("event=admin_call", count)


def admin_section(pki, port, token_file, client_ca=True):
    """`port` 0: one the system chooses (Gateway.admin_port)."""
    section = {"address": f"127.0.0.1:{port}",
               "tls": {"certificate": str(pki.server), "key": str(pki.server_key)},
               "token_file": str(token_file)}
    if client_ca:
        section["client_ca"] = str(pki.ca)
    return section


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "admin.token"
    path.write_text(TOKEN + "\n")
    return path


@pytest.fixture
def admin(pki, upstream, start_gateway, token_file):
    config = gateway_config(pki, upstream.url, http_port=0,
                            admin=admin_section(pki, 0, token_file),
                            auth={"forward_attributes": {"role": "X-Jotgate-Role"}})
    return Admin(start_gateway(config), pki)


def user(user_id="alice", **more):
    return {"userDirectory": "ACME", "userId": user_id, **more}


def identity_of(r):
    return r.upstream_header("X-Jotgate-User")


# ----------------------------------------------------------------------------- who is admitted
def test_the_admin_address_is_printed_at_start(admin):
    assert f"https://127.0.0.1:{admin.port} (admin API)" in admin.gw.stdout()


def test_no_credentials_is_401_with_a_bearer_challenge(admin):
    r = admin.call("GET", "/api/v1/users/ACME/alice/sessions", token=None)
    assert r.status == 401, r
    assert r.header("WWW-Authenticate") == 'Bearer realm="jotgate-admin"'
    assert r.json()["error"] == "NO_CREDENTIALS"


@pytest.mark.parametrize("authorization", ["Bearer wrong-token", f"Bearer {TOKEN}x",
                                           f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", "Bearer "])
def test_a_wrong_token_is_401_invalid_token(admin, authorization):
    r = admin.call("GET", "/api/v1/users/ACME/alice/sessions", token=None,
                   headers={"Authorization": authorization})
    assert r.status == 401, r
    assert r.header("WWW-Authenticate") == 'Bearer realm="jotgate-admin", error="invalid_token"'
    assert r.json()["error"] == "INVALID_TOKEN"


def test_the_token_admits(admin):
    r = admin.call("GET", "/api/v1/users/ACME/alice/sessions")
    assert r.status == 200, r
    assert r.json() == {"sessions": []}
    assert r.header("Cache-Control") == "no-store"
    assert admin.audit_lines()[-1].endswith(
        "event=admin_call method=GET route=/users/{directory}/{id}/sessions vp=- "
        "user=ACME\\alice client=token status=200")


def test_a_certificate_of_the_admin_ca_admits_without_a_token(admin, client_certs):
    r = admin.call("POST", SESSIONS, user(), token=None, cert=client_certs.trusted)
    assert r.status == 201, r
    assert "client=sso-module status=201" in admin.audit_lines()[-1]


def test_a_certificate_of_another_ca_is_403_with_the_reason(admin, client_certs):
    r = admin.call("POST", SESSIONS, user(), token=None, cert=client_certs.untrusted)
    assert r.status == 403, r
    assert r.json() == {"error": "CERTIFICATE_UNTRUSTED",
                        "message": "client certificate not signed by the admin CA"}
    assert r.header("WWW-Authenticate") is None
    # Nothing was created: the user has no session.
    assert admin.call("GET", "/api/v1/users/ACME/alice/sessions").json() == {"sessions": []}
    # With the token as well, the token admits.
    r = admin.call("POST", SESSIONS, user(), cert=client_certs.untrusted)
    assert r.status == 201, r


def test_plain_http_to_the_tls_port_is_told_to_use_tls(admin):
    raw = raw_request(admin.port, b"GET /api/v1/users/ACME/alice/sessions HTTP/1.1\r\n"
                                  b"Host: x\r\nAuthorization: Bearer " + TOKEN.encode() + b"\r\n\r\n")
    assert raw_status(raw) == 400, raw
    assert json.loads(raw.split(b"\r\n\r\n", 1)[1])["error"] == "TLS_REQUIRED"
    assert admin.gw.proc.poll() is None


def test_the_gateway_listener_does_not_serve_the_admin_api(admin):
    r = http(admin.http_port, "POST", SESSIONS, bearer(TOKEN, **{"Content-Type": "application/json"}),
             json.dumps(user()))
    assert r.status == 404, r
    assert admin.call("GET", "/api/v1/users/ACME/alice/sessions").json() == {"sessions": []}


def test_keep_alive_serves_several_calls_on_one_connection(admin):
    conn = httpclient.HTTPSConnection("127.0.0.1", admin.port, timeout=10, context=admin.context())
    try:
        first = admin.call("POST", SESSIONS, user(), conn=conn)
        second = admin.call("GET", "/api/v1/users/ACME/alice/sessions", conn=conn)
        sock = conn.sock
        third = admin.call("DELETE", "/api/v1/users/ACME/alice/sessions", conn=conn)
        assert conn.sock is sock  # the same TLS connection all along
    finally:
        conn.close()
    assert (first.status, second.status, third.status) == (201, 200, 200)
    assert third.json() == {"ended": 1}


def test_a_refused_client_with_a_body_gets_its_answer_and_the_connection_closes(admin):
    conn = httpclient.HTTPSConnection("127.0.0.1", admin.port, timeout=10, context=admin.context())
    try:
        r = admin.call("POST", SESSIONS, user(), token="wrong", conn=conn)
        assert r.status == 401 and r.header("Connection") == "close", r
    finally:
        conn.close()


def tls_socket(admin):
    sock = socket.create_connection(("127.0.0.1", admin.port), timeout=10)
    return admin.context().wrap_socket(sock, server_hostname="localhost")


def test_expect_100_continue_is_answered_before_the_body(admin):
    body = json.dumps(user()).encode()
    with tls_socket(admin) as sock:
        sock.sendall(b"POST " + SESSIONS.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
                     b"Content-Type: application/json\r\nExpect: 100-continue\r\n"
                     b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
        interim = sock.recv(1024)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim
        sock.sendall(body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
    assert raw_status(answer) == 201, answer


def test_an_idle_connection_is_closed_after_the_header_timeout(pki, upstream, start_gateway, token_file):
    config = gateway_config(pki, upstream.url, http_port=0,
                            admin=admin_section(pki, 0, token_file))
    config["limits"] = {"header_timeout": "300ms"}
    quick = Admin(start_gateway(config), pki)
    with tls_socket(quick) as sock:
        started = time.monotonic()
        assert sock.recv(1024) == b""  # closed by the server, nothing sent
        assert 0.2 < time.monotonic() - started < 5


def test_an_oversized_header_is_431(admin):
    r = admin.call("GET", "/api/v1/users/ACME/alice/sessions", headers={"X-Big": "a" * 20000})
    assert r.status == 431, r
    assert r.json()["error"] == "HEADERS_TOO_LARGE"


# ----------------------------------------------------------------------------- sessions
def test_a_session_created_by_the_api_works_on_the_gateway_until_it_is_deleted(admin):
    created = admin.call("POST", SESSIONS, user(attributes={"role": "analyst"}))
    assert created.status == 201, created
    session = created.json()
    assert session["cookieName"] == COOKIE
    assert (session["virtualProxy"], session["userDirectory"], session["userId"]) == ("jwt", "ACME", "alice")
    assert abs(session["expiresAt"] - (time.time() + 1800)) < 60, session
    sid = session["sessionId"]
    assert len(sid) >= 32

    r = admin.gateway_get("/jwt/page", cookie=sid)
    assert r.status == 200, r
    assert identity_of(r) == "UserDirectory=ACME; UserId=alice"
    assert r.upstream_header("X-Jotgate-Role") == "analyst"

    one = f"{SESSIONS}/{urllib.parse.quote(sid, safe='')}"
    found = admin.call("GET", one)
    assert found.status == 200, found
    assert found.json()["sessionId"] == sid and found.json()["userId"] == "alice"

    assert admin.call("DELETE", one).status == 204
    r = admin.gateway_get("/jwt/page", cookie=sid)
    assert r.status == 401, r
    gone = admin.call("GET", one)
    assert gone.status == 404 and gone.json()["error"] == "SESSION_NOT_FOUND", gone
    assert admin.call("DELETE", one).status == 404
    # The same session id under the root prefix "~": no such virtual proxy here.
    assert admin.call("GET", f"/api/v1/virtual-proxies/~/sessions/{sid}").json()["error"] == \
        "VIRTUAL_PROXY_NOT_FOUND"


def test_a_user_is_signed_out_everywhere(admin):
    sids = [admin.call("POST", SESSIONS, user("bob")).json()["sessionId"] for _ in range(2)]
    alice = admin.call("POST", SESSIONS, user("alice")).json()["sessionId"]
    listed = admin.call("GET", "/api/v1/users/ACME/bob/sessions")
    assert listed.status == 200, listed
    assert sorted(s["sessionId"] for s in listed.json()["sessions"]) == sorted(sids)
    assert all(s["userId"] == "bob" and s["virtualProxy"] == "jwt" for s in listed.json()["sessions"])

    ended = admin.call("DELETE", "/api/v1/users/ACME/bob/sessions")
    assert ended.status == 200 and ended.json() == {"ended": 2}, ended
    for sid in sids:
        assert admin.gateway_get("/jwt/x", cookie=sid).status == 401
    assert admin.gateway_get("/jwt/x", cookie=alice).status == 200
    assert admin.call("GET", "/api/v1/users/ACME/bob/sessions").json() == {"sessions": []}
    assert admin.call("DELETE", "/api/v1/users/ACME/bob/sessions").json() == {"ended": 0}


def test_path_segments_are_percent_decoded(admin):
    created = admin.call("POST", SESSIONS, user("alice")).json()
    listed = admin.call("GET", "/api/v1/users/%41CME/%61lice/sessions")
    assert [s["sessionId"] for s in listed.json()["sessions"]] == [created["sessionId"]]


# ----------------------------------------------------------------------------- tickets
def test_a_ticket_is_issued_for_a_target(admin):
    r = admin.call("POST", TICKETS, user(targetUri="/jwt/app?x=1"))
    assert r.status == 201, r
    body = r.json()
    assert set(body) == {"ticket", "expiresAt", "targetUri", "virtualProxy"}
    assert body["targetUri"] == "/jwt/app?x=1" and body["virtualProxy"] == "jwt"
    assert abs(body["expiresAt"] - (time.time() + 60)) < 10, body
    assert len(body["ticket"]) >= 40


def issue(admin, **more):
    r = admin.call("POST", TICKETS, user(**more))
    assert r.status == 201, r
    return r.json()["ticket"]


def test_a_ticket_signs_a_browser_in_once(admin):
    ticket = issue(admin, targetUri="/jwt/app", attributes={"role": "analyst"})
    r = admin.gateway_get(f"/jwt/app?a=1&jotgateTicket={ticket}&b=2")
    assert r.status == 303, r
    location = urllib.parse.urlsplit(r.header("Location"))
    assert (location.path, location.query) == ("/jwt/app", "a=1&b=2"), r
    sid = r.cookie(COOKIE)
    assert sid, r
    page = admin.gateway_get("/jwt/app?a=1&b=2", cookie=sid)
    assert page.status == 200, page
    assert identity_of(page) == "UserDirectory=ACME; UserId=alice"
    assert page.upstream_header("X-Jotgate-Role") == "analyst"
    listed = admin.call("GET", "/api/v1/users/ACME/alice/sessions").json()["sessions"]
    assert [s["sessionId"] for s in listed] == [sid]
    # The same ticket again: used up.
    again = admin.gateway_get(f"/jwt/app?jotgateTicket={ticket}", Accept="application/json")
    assert again.status == 401, again
    assert again.json()["error"] == "TICKET_INVALID"
    assert again.cookie(COOKIE) is None


@pytest.mark.parametrize("forge", [lambda t: "A" * len(t), lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),
                                   lambda t: t + "x", lambda t: ""])
def test_unknown_and_forged_tickets_are_refused(admin, forge):
    ticket = issue(admin)
    r = admin.gateway_get(f"/jwt/x?jotgateTicket={urllib.parse.quote(forge(ticket))}",
                          Accept="application/json")
    assert r.status == 401, r
    assert r.json()["error"] == "TICKET_INVALID"
    # The real ticket still works once.
    assert admin.gateway_get(f"/jwt/x?jotgateTicket={ticket}").status == 303


def test_an_expired_ticket_is_refused(pki, upstream, start_gateway, token_file):
    config = gateway_config(pki, upstream.url, http_port=0,
                            admin=admin_section(pki, 0, token_file),
                            auth={"ticket_lifetime": "1s"})
    short = Admin(start_gateway(config), pki)
    r = short.call("POST", TICKETS, user())
    assert r.status == 201 and abs(r.json()["expiresAt"] - (time.time() + 1)) < 3, r
    time.sleep(2.2)
    late = short.gateway_get(f"/jwt/x?jotgateTicket={r.json()['ticket']}", Accept="application/json")
    assert late.status == 401, late
    assert late.json()["error"] == "TICKET_INVALID"


@pytest.mark.parametrize("target", ["https://evil.example/jwt/", "//evil.example/jwt/", "/other/",
                                    "/jwtx/", "/jwt/../other/", "jwt/"])
def test_a_ticket_outside_the_prefix_is_a_field_error(admin, target):
    r = admin.call("POST", TICKETS, user(targetUri=target))
    assert r.status == 400, r
    [error] = r.json()["errors"]
    assert error["field"] == "targetUri", r


# ----------------------------------------------------------------------------- refusals
def field_errors(r):
    assert r.status == 400, r
    assert r.json()["error"] == "VALIDATION_FAILED", r
    return [(e["field"], e["message"]) for e in r.json()["errors"]]


@pytest.mark.parametrize("body, expected", [
    ({}, [("userDirectory", "is required"), ("userId", "is required")]),
    ({"userDirectory": 1, "userId": ["a"]}, [("userDirectory", "must be a string"),
                                             ("userId", "must be a string")]),
    ({"userDirectory": "", "userId": "a"}, [("userDirectory", "must not be empty")]),
    (user(attributes="role=x"), [("attributes", "must be an object of strings")]),
    (user(attributes={"role": 5}), [("attributes.role", "must be a string")]),
    (user(targetUri=7), [("targetUri", "must be a string")]),
    (user(ticket="x", extra=None), [("extra", "is not a known field"), ("ticket", "is not a known field")]),
    ("not json", [("(body)", "is not valid JSON")]),
    ('{"userId": "a",', [("(body)", "is not valid JSON")]),
    ("[1, 2]", [("(body)", "must be a JSON object")]),
])
def test_ticket_bodies_are_validated_field_by_field(admin, body, expected):
    data = body if isinstance(body, str) else json.dumps(body)
    assert field_errors(admin.call("POST", TICKETS, data)) == expected
    admin.audit_lines()  # the call's line: a ticket_issued line would have come before it
    assert all("event=ticket_issued" not in l for l in admin.gw.stdout().splitlines())


def test_a_session_body_has_no_target(admin):
    assert field_errors(admin.call("POST", SESSIONS, user(targetUri="/jwt/"))) == \
        [("targetUri", "is not a known field")]


def test_attributes_not_configured_for_forwarding_are_refused_by_field(admin):
    errors = field_errors(admin.call("POST", SESSIONS, user(attributes={"X-Evil": "1"})))
    assert len(errors) == 1 and errors[0][0].startswith("attributes."), errors


@pytest.mark.parametrize("value", ["", "a;b", "a\x01b"])
def test_an_attribute_value_that_cannot_be_forwarded_is_refused_by_field(admin, value):
    errors = field_errors(admin.call("POST", TICKETS, user(attributes={"role": value})))
    assert errors == [("attributes.role", "the value is empty or holds control characters or ';'")]


def test_a_ticket_is_redeemed_by_get_only(admin):
    ticket = issue(admin)
    r = http(admin.http_port, "POST", f"/jwt/app?jotgateTicket={ticket}",
             {"Content-Length": "0"}, body=b"")
    assert r.status == 400 and "redeemed by opening the URL with GET" in r.text, r
    # Refused without being used: the ticket still signs in by GET.
    assert admin.gateway_get(f"/jwt/app?jotgateTicket={ticket}").status == 303


@pytest.mark.parametrize("body, field", [(user("ali;ce"), "userId"),
                                         (user("al\x01ice"), "userId"),
                                         ({"userDirectory": "AC\\ME", "userId": "alice"}, "userDirectory"),
                                         ({"userDirectory": "AC;ME", "userId": "alice"}, "userDirectory")])
def test_identity_that_cannot_be_forwarded_is_a_field_error(admin, body, field):
    assert field_errors(admin.call("POST", SESSIONS, body)) == [
        (field, "the user id or user directory contains characters that cannot be forwarded")]
    assert admin.call("GET", "/api/v1/users/ACME/alice/sessions").json() == {"sessions": []}


def test_a_user_without_an_allocation_is_403(admin):
    r = admin.call("POST", TICKETS, user("carol"))
    assert r.status == 403, r
    assert r.json()["error"] == "ACCESS_DENIED"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_by_its_type_is_415(admin, content_type):
    r = admin.call("POST", TICKETS, json.dumps(user()), content_type=content_type)
    assert r.status == 415, r
    assert r.json()["error"] == "UNSUPPORTED_MEDIA_TYPE"


def test_a_body_over_64_kib_is_413_and_the_gateway_keeps_serving(admin):
    big = json.dumps(user(attributes={"role": "x" * (70 * 1024)}))
    r = admin.call("POST", TICKETS, big)
    assert r.status == 413, r
    assert r.json()["error"] == "PAYLOAD_TOO_LARGE"
    # Chunked, so the size is only known while reading.
    conn = httpclient.HTTPSConnection("127.0.0.1", admin.port, timeout=10, context=admin.context())
    try:
        conn.putrequest("POST", TICKETS)
        conn.putheader("Authorization", "Bearer " + TOKEN)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for _ in range(5):
            chunk = b" " * 16384
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
        r = conn.getresponse()
        assert r.status == 413, r.read()
    finally:
        conn.close()
    assert admin.call("POST", TICKETS, user()).status == 201


def test_unknown_routes_virtual_proxies_and_methods(admin):
    for path in ["/api/v1/", "/api/v1/virtual-proxies/jwt/x", "/api/v2/users/ACME/alice/sessions",
                 "/api/v1/users/ACME/alice", "/api/v1/virtual-proxies/jwt/tickets/extra", "/"]:
        r = admin.call("GET", path)
        assert r.status == 404 and r.json()["error"] == "NOT_FOUND", (path, r)
    r = admin.call("POST", "/api/v1/virtual-proxies/nope/tickets", user())
    assert r.status == 404 and r.json()["error"] == "VIRTUAL_PROXY_NOT_FOUND", r
    r = admin.call("GET", TICKETS)
    assert r.status == 405 and r.header("Allow") == "POST", r
    r = admin.call("PUT", f"{SESSIONS}/abc", user())
    assert r.status == 405 and r.header("Allow") == "GET, DELETE", r
    r = admin.call("POST", "/api/v1/users/ACME/alice/sessions", user())
    assert r.status == 405 and r.header("Allow") == "GET, DELETE", r
    r = admin.call("GET", f"{SESSIONS}/%zz")
    assert r.status == 400 and r.json()["error"] == "BAD_REQUEST", r
    r = admin.call("POST", "/api/v1/virtual-proxies/jwt", {})
    assert r.status == 405 and r.header("Allow") == "GET, PUT, PATCH, DELETE", r


# ----------------------------------------------------------------------------- audit
def test_every_call_is_audited_without_secrets(admin, client_certs):
    ticket = admin.call("POST", TICKETS, user()).json()["ticket"]
    sid = admin.call("POST", SESSIONS, user()).json()["sessionId"]
    admin.call("GET", f"{SESSIONS}/{sid}")
    admin.call("DELETE", f"{SESSIONS}/{sid}")
    admin.call("GET", "/api/v1/users/ACME/alice/sessions", token="wrong")
    admin.call("POST", TICKETS, "{}", token=None, cert=client_certs.untrusted)
    lines = admin.audit_lines(6)
    assert [l.split("event=admin_call ", 1)[1] for l in lines] == [
        "method=POST route=/virtual-proxies/{prefix}/tickets vp=jwt user=ACME\\alice client=token status=201",
        "method=POST route=/virtual-proxies/{prefix}/sessions vp=jwt user=ACME\\alice client=token status=201",
        "method=GET route=/virtual-proxies/{prefix}/sessions/{id} vp=jwt user=ACME\\alice client=token status=200",
        "method=DELETE route=/virtual-proxies/{prefix}/sessions/{id} vp=jwt user=- client=token status=204",
        "method=GET route=/users/{directory}/{id}/sessions vp=- user=ACME\\alice client=- status=401",
        "method=POST route=/virtual-proxies/{prefix}/tickets vp=jwt user=- client=- status=403",
    ]
    output = admin.gw.output()
    for secret in (ticket, sid, TOKEN):
        assert secret not in output


# ----------------------------------------------------------------------------- start-up
def start_failure(pki, upstream, tmp_path, admin):
    config = gateway_config(pki, upstream.url, http_port=0, admin=admin)
    gw = Gateway.start(tmp_path / "bad", config, wait=False)
    try:
        gw.proc.wait(30)
    finally:
        gw.kill()
    return gw.proc.returncode, gw.stderr()


def test_an_empty_token_file_stops_the_start_naming_it(pki, upstream, tmp_path):
    empty = tmp_path / "empty.token"
    empty.write_text("\n")
    code, err = start_failure(pki, upstream, tmp_path, admin_section(pki, 0, empty, False))
    assert code == 1
    assert f"admin.token_file: {empty}: is empty" in err, err


def test_a_client_ca_that_is_not_a_certificate_stops_the_start(pki, upstream, tmp_path, token_file):
    section = admin_section(pki, 0, token_file)
    section["client_ca"] = str(token_file)
    code, err = start_failure(pki, upstream, tmp_path, section)
    assert code == 1
    assert f"admin.client_ca: {token_file}: not a PEM CA certificate" in err, err


def test_config_errors_name_the_admin_section(pki, upstream, tmp_path):
    code, err = start_failure(pki, upstream, tmp_path, {"address": "127.0.0.1:1", "port": 2})
    assert code == 1
    assert "admin.port: unknown key" in err and "admin.tls: a tls section" in err, err
    assert "admin: client_ca or token_file is required" in err, err


def test_a_generated_admin_certificate_serves(pki, upstream, start_gateway, tmp_path, token_file):
    section = admin_section(pki, 0, token_file, client_ca=False)
    section["tls"] = {"certificate": str(tmp_path / "admin.pem"), "key": str(tmp_path / "admin_key.pem")}
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0, admin=section))
    assert (tmp_path / "admin.pem").exists()
    r = http(gw.admin_port, "GET", "/api/v1/users/ACME/alice/sessions", bearer(TOKEN),
             tls=client_context(tmp_path / "admin.pem"))
    assert r.status == 200, r


def test_the_root_virtual_proxy_is_addressed_as_tilde(pki, upstream, start_gateway, token_file):
    config = gateway_config(pki, upstream.url, http_port=0, prefix="",
                            admin=admin_section(pki, 0, token_file))
    admin = Admin(start_gateway(config), pki)
    http_port = admin.http_port
    r = admin.call("POST", "/api/v1/virtual-proxies/~/tickets", user(targetUri="/reports?id=1"))
    assert r.status == 201, r
    assert r.json()["virtualProxy"] == ""
    redeemed = http(http_port, "GET", "/reports?id=1&jotgateTicket=" + r.json()["ticket"])
    assert redeemed.status == 303 and redeemed.header("Location") == "/reports?id=1"
    # A path that starts with two slashes must not leave as "//host" (another site).
    r = admin.call("POST", "/api/v1/virtual-proxies/~/tickets", user())
    redeemed = http(http_port, "GET", "//evil.test/x?jotgateTicket=" + r.json()["ticket"])
    assert redeemed.status == 303, redeemed
    assert redeemed.header("Location") == "/evil.test/x"
    # The prefix "jwt" is not the root's.
    r = admin.call("POST", "/api/v1/virtual-proxies/jwt/tickets", user())
    assert r.status == 404
