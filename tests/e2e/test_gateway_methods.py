"""The other sign-in methods: a trusted header set by a fronting SSO (only on listeners marked
trusted), anonymous users (allow, always), and tickets only."""
from gateway_harness import *  # noqa: F401,F403

COOKIE = "X-Jotgate-Session-jwt"
USER = "X-Jotgate-User"


def two_listeners(pki, upstream, auth, **extra):
    """A trusted listener (behind the SSO) and an ordinary one, both serving the vp."""
    config = gateway_config(pki, upstream.url, http_port=0, auth=auth, **extra)
    config["listeners"][0]["trusted"] = True
    config["listeners"].append({"name": "public", "address": "127.0.0.1:0"})
    config["virtual_proxies"][0]["listeners"] = ["http", "public"]
    del config["virtual_proxies"][0]["auth"]["jwt"]
    return config


HEADER_AUTH = {"method": "header", "header": {"user_header": "X-Sso-User", "directory": "ACME"}}


def test_header_sign_in_on_a_trusted_listener(pki, upstream, start_gateway):
    gw = start_gateway(two_listeners(pki, upstream, HEADER_AUTH))
    r = http(gw.ports[0], "GET", "/jwt/x", {"X-Sso-User": "alice"})
    assert r.status == 200, r
    assert r.upstream_header(USER) == "UserDirectory=ACME; UserId=alice"
    assert r.upstream_header("X-Sso-User") is None  # the SSO's header stays at the gateway
    cookie = r.cookie(COOKIE)
    assert cookie
    # The session carries on without the header; another user's header replaces it.
    r = http(gw.ports[0], "GET", "/jwt/x", {"Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 200 and r.upstream_header(USER).endswith("UserId=alice")
    r = http(gw.ports[0], "GET", "/jwt/x", {"Cookie": f"{COOKIE}={cookie}", "X-Sso-User": "bob"})
    assert r.status == 200 and r.upstream_header(USER).endswith("UserId=bob")
    assert r.cookie(COOKIE) not in (None, cookie)
    gw.wait_for_lines("event=sign_in vp=jwt user=ACME\\bob method=header")


def test_header_on_an_untrusted_listener_is_refused(pki, upstream, start_gateway):
    gw = start_gateway(two_listeners(pki, upstream, HEADER_AUTH))
    r = http(gw.ports[1], "GET", "/jwt/x", {"X-Sso-User": "alice"})
    assert r.status == 401, r
    assert "identity headers are accepted only on listeners marked trusted" in r.text
    r = http(gw.ports[1], "GET", "/jwt/x", {"X-Sso-User": "alice", "Accept": "application/json"})
    assert r.json()["error"] == "HEADER_UNTRUSTED"
    # No header, no session: the usual 401.
    r = http(gw.ports[1], "GET", "/jwt/x")
    assert r.status == 401 and "Expected an authentication header" in r.text
    assert upstream.stats()["requests"] == 0


def test_header_directory_from_a_second_header_or_the_qualified_form(pki, upstream, start_gateway):
    gw = start_gateway(two_listeners(pki, upstream, {
        "method": "header", "header": {"user_header": "X-Sso-User",
                                       "directory_header": "X-Sso-Dir"}}))
    r = http(gw.ports[0], "GET", "/jwt/x", {"X-Sso-User": "bob", "X-Sso-Dir": "ACME"})
    assert r.status == 200 and r.upstream_header(USER) == "UserDirectory=ACME; UserId=bob"
    assert r.upstream_header("X-Sso-Dir") is None
    r = http(gw.ports[0], "GET", "/jwt/x", {"X-Sso-User": "bob", "Accept": "application/json"})
    assert r.status == 401 and r.json()["error"] == "IDENTITY_INVALID"

    gw2 = start_gateway(two_listeners(pki, upstream, {
        "method": "header", "header": {"user_header": "X-Sso-User"}}))
    r = http(gw2.ports[0], "GET", "/jwt/x", {"X-Sso-User": "ACME\\alice"})
    assert r.status == 200 and r.upstream_header(USER) == "UserDirectory=ACME; UserId=alice"
    for bad in ("alice", "ACME\\", "A\\B\\c", "ANONYMOUS\\anon-1"):
        r = http(gw2.ports[0], "GET", "/jwt/x", {"X-Sso-User": bad, "Accept": "application/json"})
        assert r.status == 401 and r.json()["error"] == "IDENTITY_INVALID", (bad, r)


def test_header_users_need_an_allocation_and_bearer_tokens_are_not_accepted(
        pki, upstream, start_gateway):
    gw = start_gateway(two_listeners(pki, upstream, HEADER_AUTH))
    r = http(gw.ports[0], "GET", "/jwt/x", {"X-Sso-User": "mallory"})
    assert r.status == 403 and "ACME\\mallory has no access allocation" in r.text
    r = http(gw.ports[0], "GET", "/jwt/x", {**bearer(mint(pki)), "Accept": "application/json"})
    assert r.status == 401 and r.json()["error"] == "CREDENTIALS_NOT_ACCEPTED"


def test_anonymous_allow_and_signing_in_still_works(pki, upstream, start_gateway):
    config = gateway_config(pki, upstream.url, http_port=0, auth={"anonymous": "allow"})
    config["access"]["allocations"] = ["ACME\\alice"]  # anonymous users need none
    gw = start_gateway(config)
    r = http(gw.port, "GET", "/jwt/x")
    assert r.status == 200, r
    anonymous = r.upstream_header(USER)
    assert anonymous.startswith("UserDirectory=ANONYMOUS; UserId=anon-"), anonymous
    cookie = r.cookie(COOKIE)
    # The same anonymous user on the next request; another client is another anonymous user.
    r = http(gw.port, "GET", "/jwt/x", {"Cookie": f"{COOKIE}={cookie}"})
    assert r.upstream_header(USER) == anonymous and r.cookie(COOKIE) is None
    assert http(gw.port, "GET", "/jwt/x").upstream_header(USER) != anonymous
    # Signing in replaces the anonymous session with the user's.
    r = http(gw.port, "GET", "/jwt/x", {"Cookie": f"{COOKIE}={cookie}", **bearer(mint(pki))})
    assert r.status == 200 and r.upstream_header(USER) == "UserDirectory=ACME; UserId=alice"
    assert r.cookie(COOKIE) not in (None, cookie)
    r = http(gw.port, "GET", "/jwt/x", {"Cookie": f"{COOKIE}={cookie}"})
    assert r.upstream_header(USER) != anonymous  # the anonymous session is over
    # No token may claim the anonymous directory.
    r = http(gw.port, "GET", "/jwt/x", {**bearer(mint(pki, directory="ANONYMOUS", user="anon-1")),
                                        "Accept": "application/json"})
    assert r.status == 401 and r.json()["error"] == "IDENTITY_INVALID"


def test_anonymous_always_ignores_credentials(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0,
                                      auth={"anonymous": "always"}))
    r = http(gw.port, "GET", "/jwt/x", bearer(mint(pki)))
    assert r.status == 200
    assert r.upstream_header(USER).startswith("UserDirectory=ANONYMOUS; UserId=anon-")


def test_ticket_method_refuses_tokens(pki, upstream, start_gateway):
    config = gateway_config(pki, upstream.url, http_port=0, auth={"method": "ticket"})
    del config["virtual_proxies"][0]["auth"]["jwt"]
    gw = start_gateway(config)
    r = http(gw.port, "GET", "/jwt/x", {**bearer(mint(pki)), "Accept": "application/json"})
    assert r.status == 401 and r.json()["error"] == "CREDENTIALS_NOT_ACCEPTED"
    r = http(gw.port, "POST", "/jwt/.auth/session", bearer(mint(pki)))
    assert r.status == 401 and "does not sign users in with this kind of credentials" in r.text
    r = http(gw.port, "GET", "/jwt/x")
    assert r.status == 401 and "Expected an authentication header" in r.text
    r = http(gw.port, "GET", "/jwt/x?jotgateTicket=" + "A" * 43, {"Accept": "application/json"})
    assert r.status == 401 and r.json()["error"] == "TICKET_INVALID"
    assert upstream.stats()["requests"] == 0
