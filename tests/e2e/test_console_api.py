"""The admin API routes the console's Overview, Users and access, Sessions and Audit pages read,
against the real binary: GET /api/v1/overview (listeners, virtual proxies, upstream health,
sessions, key status, the last hour's decisions by reason, the last reload), GET /api/v1/audit
(the in-memory history with its filters), /api/v1/allocations (list with search, seats, grant,
revoke ending the user's sessions) and GET /api/v1/virtual-proxies/{prefix}/sessions."""
import time
import urllib.parse

import pytest

from gateway_harness import *  # noqa: F401,F403
from test_admin_api import Admin, admin_section, token_file  # noqa: F401 (a fixture)

COOKIE = "X-Jotgate-Session-jwt"


@pytest.fixture
def admin(pki, upstream, start_gateway, token_file):
    config = gateway_config(pki, upstream.url, http_port=0, admin=admin_section(pki, 0, token_file))
    return Admin(start_gateway(config), pki)


@pytest.fixture
def admin_with_seats(pki, upstream, start_gateway, token_file):
    config = gateway_config(pki, upstream.url, http_port=0, admin=admin_section(pki, 0, token_file))
    config["access"]["auto_allocate_seats"] = 2
    return Admin(start_gateway(config), pki)


def sign_in(admin, pki, user="alice"):
    r = http(admin.http_port, "GET", "/jwt/", {"Authorization": "Bearer " + mint(pki, user=user)})
    assert r.status == 200, r
    return r.cookie(COOKIE)


def wait_until(check, timeout=5):
    deadline = time.time() + timeout
    while True:
        result = check()
        if result or time.time() > deadline:
            return result
        time.sleep(0.05)


# ----------------------------------------------------------------------------- overview
def test_the_overview_shows_listeners_virtual_proxies_keys_and_decisions(admin, pki, upstream):
    cookie = sign_in(admin, pki)
    assert http(admin.http_port, "GET", "/jwt/", {"Cookie": f"{COOKIE}={cookie}"}).status == 200
    expired = mint(pki, expires_in=-3600)
    assert http(admin.http_port, "GET", "/jwt/", {"Authorization": "Bearer " + expired}).status == 401
    assert http(admin.http_port, "GET", "/jwt/").status == 401

    r = admin.call("GET", "/api/v1/overview")
    assert r.status == 200, r
    assert r.header("Cache-Control") == "no-store"
    o = r.json()
    assert o["version"].startswith("0.1.0")
    assert abs(o["startedAt"] - time.time()) < 120
    assert o["listeners"] == [{"name": "http", "address": f"http://127.0.0.1:{admin.http_port}",
                               "tls": False, "connections": o["listeners"][0]["connections"]}]
    [vp] = o["virtualProxies"]
    assert vp == {"name": "Embedded analytics", "prefix": "jwt", "source": "file", "method": "jwt",
                  "listeners": ["http"], "sessions": 1,
                  "upstreams": [{"url": upstream.url, "healthy": True}],
                  "keys": [{"source": "file", "location": str(pki.signer), "count": 1,
                            "loadedAt": vp["keys"][0]["loadedAt"],
                            "ageSeconds": vp["keys"][0]["ageSeconds"], "nextRefreshAt": None,
                            "problem": ""}]}
    assert abs(vp["keys"][0]["loadedAt"] - time.time()) < 120
    assert 0 <= vp["keys"][0]["ageSeconds"] < 120
    d = o["decisions"]
    assert d["bucketSeconds"] == 60
    assert d["start"] % 60 == 0 and d["start"] <= time.time() - 59 * 60 + 60
    assert {k: sum(v) for k, v in d["reasons"].items()} == {
        "accepted:jwt": 1, "accepted:session": 1, "TOKEN_EXPIRED": 1, "NO_CREDENTIALS": 1}
    assert all(len(v) == 60 for v in d["reasons"].values())
    assert d["reasons"]["TOKEN_EXPIRED"][-1] + d["reasons"]["TOKEN_EXPIRED"][-2] == 1
    assert o["lastReload"] == {"at": None, "result": None, "problems": [], "warnings": []}


def test_the_overview_shows_the_last_reload(admin):
    r = admin.call("POST", "/api/v1/config/reload")
    assert r.status == 200, r
    last = admin.call("GET", "/api/v1/overview").json()["lastReload"]
    assert last["result"] == "ok" and last["problems"] == [] and abs(last["at"] - time.time()) < 60
    admin.gw.config_path.write_text("listeners: [")
    assert admin.call("POST", "/api/v1/config/reload").status == 422
    last = admin.call("GET", "/api/v1/overview").json()["lastReload"]
    assert last["result"] == "error" and len(last["problems"]) == 1


def test_the_overview_marks_an_upstream_down(pki, start_gateway, token_file):
    dead = f"http://127.0.0.1:{free_port()}"
    config = gateway_config(pki, dead, http_port=0, admin=admin_section(pki, 0, token_file))
    admin = Admin(start_gateway(config), pki)
    token = mint(pki)
    assert http(admin.http_port, "GET", "/jwt/", {"Authorization": "Bearer " + token}).status == 502
    [vp] = admin.call("GET", "/api/v1/overview").json()["virtualProxies"]
    assert vp["upstreams"] == [{"url": dead, "healthy": False}]


# ----------------------------------------------------------------------------- audit
def test_the_audit_history_is_newest_first_and_filtered(admin, pki):
    sign_in(admin, pki, "alice")
    sign_in(admin, pki, "bob")
    http(admin.http_port, "GET", "/jwt/", {"Authorization": "Bearer " + mint(pki, expires_in=-3600)})

    def events(query=""):
        r = admin.call("GET", "/api/v1/audit" + query)
        assert r.status == 200, r
        assert r.json()["capacity"] == 1000
        return r.json()["events"]

    assert wait_until(lambda: len(events("?event=token_rejected")) == 1)
    sign_ins = events("?event=sign_in&vp=jwt")
    assert [e["user"] for e in sign_ins] == ["ACME\\bob", "ACME\\alice"]
    e = sign_ins[1]
    assert e["event"] == "sign_in" and e["vp"] == "jwt" and e["reason"] == "" and e["admin"] == ""
    assert e["fields"]["method"] == "jwt"
    assert e["time"].endswith("Z") and len(e["time"]) == 24
    [rejected] = events("?reason=TOKEN_EXPIRED")
    assert rejected["event"] == "token_rejected" and rejected["vp"] == "jwt"
    assert [x["user"] for x in events("?user=BOB&event=sign_in")] == ["ACME\\bob"]
    assert events("?vp=other") == []
    assert len(events("?limit=1")) == 1
    # The admin API's own calls are there, naming the administrator.
    calls = events("?event=admin_call")
    assert calls and calls[0]["admin"] == "token" and calls[0]["fields"]["route"] == "/audit"


@pytest.mark.parametrize("query,field,message", [
    ("?limit=0", "limit", "must be a number from 1 to 1000"),
    ("?limit=1001", "limit", "must be a number from 1 to 1000"),
    ("?limit=x", "limit", "must be a number from 1 to 1000"),
    ("?user=%zz", "user", "malformed percent-encoding"),
])
def test_a_bad_audit_query_is_400_naming_the_parameter(admin, query, field, message):
    r = admin.call("GET", "/api/v1/audit" + query)
    assert r.status == 400, r
    assert r.json() == {"error": "VALIDATION_FAILED", "errors": [{"field": field, "message": message}]}


def test_the_audit_history_never_holds_a_token_or_session_id(admin, pki):
    token = mint(pki, user="alice")
    r = http(admin.http_port, "GET", "/jwt/", {"Authorization": "Bearer " + token})
    cookie = r.cookie(COOKIE)
    admin.call("GET", f"/api/v1/virtual-proxies/jwt/sessions/{cookie}")
    body = admin.call("GET", "/api/v1/audit?limit=1000").text
    assert token not in body and token.split(".")[2] not in body
    assert cookie not in body


# ----------------------------------------------------------------------------- allocations
def allocation_users(r):
    return [a["userDirectory"] + "\\" + a["userId"] for a in r.json()["allocations"]]


def test_allocations_are_listed_with_seats_and_searched(admin_with_seats, pki):
    admin = admin_with_seats
    sign_in(admin, pki, "carol")  # takes an auto seat
    r = admin.call("GET", "/api/v1/allocations")
    assert r.status == 200, r
    body = r.json()
    assert body["mode"] == "allocated"
    assert body["seats"] == {"total": 2, "used": 1, "left": 1}
    assert sorted(allocation_users(r)) == ["ACME\\alice", "ACME\\bob", "ACME\\carol"]
    carol = next(a for a in body["allocations"] if a["userId"] == "carol")
    assert carol["auto"] is True and abs(carol["grantedAt"] - time.time()) < 60
    alice = next(a for a in body["allocations"] if a["userId"] == "alice")
    assert alice["auto"] is False
    r = admin.call("GET", "/api/v1/allocations?search=CAR")
    assert allocation_users(r) == ["ACME\\carol"] and r.json()["matching"] == 1
    r = admin.call("GET", "/api/v1/allocations?limit=1")
    assert len(r.json()["allocations"]) == 1 and r.json()["matching"] == 3


def test_last_use_is_shown_once_recorded(admin, pki):
    sign_in(admin, pki, "alice")

    def alice_last_use():
        r = admin.call("GET", "/api/v1/allocations?search=alice")
        return r.json()["allocations"][0]["lastUse"]
    assert wait_until(alice_last_use, timeout=5) is not None


def test_a_grant_lets_the_user_in_at_once_and_a_revoke_ends_their_sessions(admin, pki):
    token = mint(pki, user="dave")
    r = admin.call("POST", "/api/v1/allocations", {"userDirectory": "ACME", "userId": "dave"})
    assert r.status == 201, r
    assert r.json()["userId"] == "dave" and r.json()["auto"] is False and r.json()["lastUse"] is None
    again = admin.call("POST", "/api/v1/allocations", {"userDirectory": "ACME", "userId": "dave"})
    assert again.status == 200 and again.json() == r.json()
    signed = http(admin.http_port, "GET", "/jwt/", {"Authorization": "Bearer " + token})
    assert signed.status == 200, signed
    cookie = signed.cookie(COOKIE)

    r = admin.call("DELETE", "/api/v1/allocations/ACME/dave")
    assert r.status == 204, r
    r = http(admin.http_port, "GET", "/jwt/", {"Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 401, r
    r = http(admin.http_port, "GET", "/jwt/", {"Authorization": "Bearer " + token})
    assert r.status == 403, r
    assert "ACME\\dave" not in allocation_users(admin.call("GET", "/api/v1/allocations"))
    assert admin.gw.wait_for_lines("event=access_granted user=ACME\\dave admin=token")
    assert admin.gw.wait_for_lines("event=access_revoked user=ACME\\dave sessions_ended=1")


def test_revoking_a_user_without_an_allocation_is_404(admin):
    r = admin.call("DELETE", "/api/v1/allocations/ACME/nobody")
    assert r.status == 404, r
    assert r.json() == {"error": "ALLOCATION_NOT_FOUND",
                        "message": "ACME\\nobody has no access allocation"}


@pytest.mark.parametrize("body,errors", [
    ({"userDirectory": "ACME"}, [{"field": "userId", "message": "is required"}]),
    ({"userDirectory": "ACME", "userId": 5}, [{"field": "userId", "message": "must be a string"}]),
    ({"userDirectory": "ACME", "userId": "x", "role": "a"},
     [{"field": "role", "message": "is not a known field"}]),
    ({"userDirectory": "AC\\ME", "userId": "x"}, None),
])
def test_a_bad_grant_is_400_with_its_fields(admin, body, errors):
    r = admin.call("POST", "/api/v1/allocations", body)
    assert r.status == 400, r
    assert r.json()["error"] == "VALIDATION_FAILED"
    if errors is not None:
        assert r.json()["errors"] == errors
    else:
        assert r.json()["errors"][0]["field"] == "(body)"


def test_allocation_routes_refuse_other_methods(admin):
    r = admin.call("PUT", "/api/v1/allocations", {})
    assert r.status == 405 and r.header("Allow") == "GET, POST", r
    r = admin.call("GET", "/api/v1/allocations/ACME/alice")
    assert r.status == 405 and r.header("Allow") == "DELETE", r


# ----------------------------------------------------------------------------- sessions
def test_sessions_are_listed_by_virtual_proxy_and_user(admin, pki):
    alice = sign_in(admin, pki, "alice")
    bob = sign_in(admin, pki, "bob")
    r = admin.call("GET", "/api/v1/virtual-proxies/jwt/sessions")
    assert r.status == 200, r
    sessions = r.json()["sessions"]
    assert sorted(s["sessionId"] for s in sessions) == sorted([alice, bob])
    one = next(s for s in sessions if s["userId"] == "alice")
    assert one["virtualProxy"] == "jwt" and one["cookieName"] == COOKIE
    assert one["userDirectory"] == "ACME" and one["attributes"] == {}
    r = admin.call("GET", "/api/v1/virtual-proxies/jwt/sessions?user=" + urllib.parse.quote("ACME\\bob"))
    assert [s["sessionId"] for s in r.json()["sessions"]] == [bob]
    assert len(admin.call("GET", "/api/v1/virtual-proxies/jwt/sessions?limit=1").json()["sessions"]) == 1
    # Ending one from the list: its cookie is refused.
    assert admin.call("DELETE", f"/api/v1/virtual-proxies/jwt/sessions/{alice}").status == 204
    assert http(admin.http_port, "GET", "/jwt/", {"Cookie": f"{COOKIE}={alice}"}).status == 401
    assert [s["userId"] for s in admin.call("GET", "/api/v1/virtual-proxies/jwt/sessions").json()["sessions"]] == ["bob"]


def test_a_bad_session_listing_is_refused(admin):
    r = admin.call("GET", "/api/v1/virtual-proxies/jwt/sessions?user=alice")
    assert r.status == 400, r
    assert r.json() == {"error": "VALIDATION_FAILED",
                        "errors": [{"field": "user", "message": "must be DIRECTORY\\id"}]}
    r = admin.call("GET", "/api/v1/virtual-proxies/nope/sessions")
    assert r.status == 404 and r.json()["error"] == "VIRTUAL_PROXY_NOT_FOUND", r
