"""Forward authentication: jotgate decides (GET|HEAD /<prefix>/.auth/verify), another proxy
forwards. Directly against jotgate, then through the real nginx (auth_request) and Caddy
(forward_auth) of Debian running examples/forward-auth/nginx.conf and Caddyfile as written, only
their addresses replaced, in front of the real upstream (upstream_server.py echoes headers).
Also auth.failure_limit (429 TOO_MANY_FAILURES)."""
import pathlib
import shutil
import subprocess
import time
import urllib.parse

import pytest

from gateway_harness import Gateway, Pki, Upstream, free_port, gateway_config, http, mint

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples" / "forward-auth"
SIGN_IN = "https://login.test/sign-in"
SPOOF = "ACME\\admin"
NAVIGATION = {"Accept": "text/html,application/xhtml+xml", "Sec-Fetch-Mode": "navigate"}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return Pki.generate(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    up = Upstream.start(tmp_path_factory.mktemp("upstream"))
    yield up
    up.stop()


def authorizer_config(pki, **vp):
    """As examples/forward-auth/jotgate.yaml: virtual proxy "app" without upstreams, on a trusted
    listener (X-Forwarded-* read) and an untrusted one (ignored)."""
    config = gateway_config(pki, [], http_port=0, **vp)
    config["listeners"][0]["trusted"] = True
    config["listeners"].append({"name": "untrusted", "address": "127.0.0.1:0"})
    app = config["virtual_proxies"][0]
    del app["upstreams"]
    app["prefix"] = "app"
    app["listeners"] = ["http", "untrusted"]
    app["auth"]["redirect_uri"] = SIGN_IN
    app["auth"]["jwt"]["forward_claims"] = {"email": "X-Email"}
    return config


@pytest.fixture(scope="module")
def jotgate(tmp_path_factory, pki):
    gw = Gateway.start(tmp_path_factory.mktemp("jotgate"), authorizer_config(pki))
    yield gw
    gw.stop()


def verify(port, method="GET", query="", headers=None):
    return http(port, method, "/app/.auth/verify" + query, headers)


def bearer(pki, user="alice", **claims):
    return {"Authorization": "Bearer " + mint(pki, user=user, **claims)}


# ----------------------------------------------------------------------------- .auth/verify
def test_verify_signs_in_as_a_proxied_request_would(jotgate, pki):
    r = verify(jotgate.port, headers={**bearer(pki, email="alice@acme.test"),
                                      "X-Jotgate-User": SPOOF, "X-Email": "spoof@evil.test"})
    assert r.status == 200, r
    assert r.header("X-Jotgate-User") == "UserDirectory=ACME; UserId=alice"
    assert r.header("X-Email") == "alice@acme.test"
    assert r.header("Cache-Control") == "no-store"
    assert r.header("Authorization") is None
    cookie = r.set_cookie("X-Jotgate-Session-app")
    assert cookie is not None and "Path=/app" in cookie
    # The cookie alone: the same user, its claims, no new cookie; spoofed headers never echoed.
    session = {"Cookie": "X-Jotgate-Session-app=" + r.cookie("X-Jotgate-Session-app")}
    r = verify(jotgate.port, headers={**session, "X-Jotgate-User": SPOOF})
    assert r.status == 200, r
    assert r.all("X-Jotgate-User") == ["UserDirectory=ACME; UserId=alice"]
    assert r.header("X-Email") == "alice@acme.test"
    assert r.header("Set-Cookie") is None
    # HEAD: the same header, no body.
    r = verify(jotgate.port, "HEAD", headers=session)
    assert (r.status, r.body) == (200, b"")
    assert r.header("X-Jotgate-User") == "UserDirectory=ACME; UserId=alice"


def test_verify_refusals_are_those_of_a_proxied_request(jotgate, pki):
    r = verify(jotgate.port, headers={"X-Jotgate-User": SPOOF})
    assert r.status == 401
    assert r.header("WWW-Authenticate") == 'Bearer realm="app"'
    assert r.header("X-Jotgate-User") is None
    assert r.header("Cache-Control") == "no-store"
    assert r.text == "Could not authenticate the request: Expected an authentication header"
    r = verify(jotgate.port, headers={**bearer(pki, expires_in=-600), "Accept": "application/json"})
    assert r.status == 401
    assert r.json()["error"] == "TOKEN_EXPIRED"
    assert r.header("WWW-Authenticate").startswith('Bearer error="invalid_token"')
    r = verify(jotgate.port, headers=bearer(pki, user="carol"))
    assert r.status == 403
    assert r.text == "Access denied: ACME\\carol has no access allocation"
    assert r.header("Cache-Control") == "no-store"
    r = verify(jotgate.port, "HEAD")
    assert (r.status, r.body) == (401, b"")


def test_verify_takes_get_and_head_only(jotgate, pki):
    for method in ("POST", "PUT", "DELETE", "OPTIONS"):
        r = verify(jotgate.port, method, headers=bearer(pki))
        assert r.status == 405, (method, r)
        assert r.header("Allow") == "GET, HEAD"


def test_verify_under_envoys_path_prefix(jotgate, pki):
    # ext_authz asks for <path_prefix><original path>.
    r = http(jotgate.port, "GET", "/app/.auth/verify/app/page?x=1", bearer(pki))
    assert r.status == 200, r
    assert r.header("X-Jotgate-User") == "UserDirectory=ACME; UserId=alice"
    assert http(jotgate.port, "GET", "/app/.auth/verify/app/page").status == 401
    assert http(jotgate.port, "GET", "/app/.auth/verifyx").status == 404


def test_verify_never_redeems_a_ticket(jotgate):
    r = verify(jotgate.port, query="?jotgateTicket=abc")
    assert r.status == 401
    assert r.header("Location") is None


def test_a_proxied_request_to_a_virtual_proxy_without_upstreams_is_502(jotgate, pki):
    r = http(jotgate.port, "GET", "/app/page", bearer(pki))
    assert r.status == 502
    assert r.text == "Bad Gateway: no upstream server answered\n"


def sign_in_location(port, headers, query="?redirect=1"):
    r = verify(port, query=query, headers={**NAVIGATION, **headers})
    return r.status, r.header("Location")


def return_to(location):
    assert location.startswith(SIGN_IN)
    query = urllib.parse.urlsplit(location).query
    return urllib.parse.parse_qs(query).get("returnTo", [None])[0]


def test_redirect_takes_the_original_url_on_a_trusted_listener(jotgate):
    trusted = jotgate.listener_ports["http"]
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.test:8443",
                 "X-Forwarded-Uri": "/app/report?id=7&x=a%20b"}
    status, location = sign_in_location(trusted, forwarded)
    assert status == 302
    assert location == SIGN_IN + "?returnTo=" + urllib.parse.quote(
        "https://app.test:8443/app/report?id=7&x=a%20b", safe="-._~")
    status, location = sign_in_location(trusted, {"X-Original-URL": "http://shop.test/app/x?y=1"})
    assert (status, return_to(location)) == (302, "http://shop.test/app/x?y=1")
    # X-Forwarded-* come first: the client's X-Original-URL that Caddy or Traefik passes on
    # never wins over what they set.
    status, location = sign_in_location(
        trusted, {**forwarded, "X-Original-URL": "https://evil.test/"})
    assert return_to(location) == "https://app.test:8443/app/report?id=7&x=a%20b"
    # Without redirect=1, or for an API call, the refusal itself.
    assert sign_in_location(trusted, forwarded, query="")[0] == 401
    r = verify(trusted, query="?redirect=1", headers={**forwarded, "Accept": "application/json"})
    assert (r.status, r.header("Location")) == (401, None)


def test_redirect_ignores_forwarding_headers_elsewhere_and_bad_values(jotgate):
    untrusted = jotgate.listener_ports["untrusted"]
    trusted = jotgate.listener_ports["http"]
    # Anyone can send these to an untrusted listener: the sign-in page, no way back to evil.
    for headers in ({"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.test",
                     "X-Forwarded-Uri": "/"}, {"X-Original-URL": "https://evil.test/"}):
        assert sign_in_location(untrusted, headers) == (302, SIGN_IN)
    bad = [{"X-Original-URL": "javascript://evil.test/%0aalert(1)"},
           {"X-Original-URL": "https://app.test@evil.test/"},
           {"X-Original-URL": "/app/x"},
           {"X-Original-URL": "https://app.test//evil.test/"},
           {"X-Original-URL": "https://app.test/a\\b"},
           {"X-Forwarded-Proto": "ftp", "X-Forwarded-Host": "app.test", "X-Forwarded-Uri": "/"},
           {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.test/x", "X-Forwarded-Uri": "/"},
           {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "app.test", "X-Forwarded-Uri": "//evil"},
           {"X-Forwarded-Host": "app.test", "X-Forwarded-Uri": "/app/"}]
    for headers in bad:
        assert sign_in_location(trusted, headers) == (302, SIGN_IN), headers


# ----------------------------------------------------------------------------- failure_limit
def test_failure_limit_answers_429_past_it_and_never_limits_success(tmp_path, pki):
    gw = Gateway.start(tmp_path, authorizer_config(pki, auth={"failure_limit": "3/m"}))
    try:
        bad = {"Authorization": "Bearer " + mint(pki, expires_in=-600)}
        for _ in range(5):  # without credentials: no failed sign-in
            assert verify(gw.port).status == 401
        for i in range(3):
            assert verify(gw.port, headers=bad).status == 401, i
        r = verify(gw.port, headers={**bad, "Accept": "application/json"})
        assert r.status == 429
        assert r.json() == {"error": "TOO_MANY_FAILURES",
                            "message": "Too Many Requests: too many failed sign-ins from this "
                                       "address"}
        assert 1 <= int(r.header("Retry-After")) <= 20
        assert r.header("WWW-Authenticate") is None
        # A proxied request counts alike; success never does.
        assert http(gw.port, "GET", "/app/x", bad).status == 429
        assert verify(gw.port, query="", headers=bearer(pki)).status == 200
        assert http(gw.port, "GET", "/app/x", bearer(pki)).status == 502  # allowed, no upstream
        assert verify(gw.port, headers=bad).status == 429
    finally:
        gw.stop()


# ----------------------------------------------------------------------------- nginx and Caddy
def from_example(name, replacements):
    """An example file with its addresses replaced; each must be there (the test follows it)."""
    text = (EXAMPLES / name).read_text()
    for old, new in replacements.items():
        assert old in text, f"{name} no longer holds {old}"
        text = text.replace(old, new)
    return text


def wait_for_port(proc, port, what, timeout=15):
    import socket
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not listen on {port}")


def stop(proc):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module", params=["nginx", "caddy"])
def front(request, tmp_path_factory, jotgate, upstream):
    """nginx or Caddy on a free port, running the example in front of jotgate and the upstream."""
    name = request.param
    binary = shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    assert binary is not None, f"{name} is not installed (scripts/install-deps)"
    folder = tmp_path_factory.mktemp(name)
    port = free_port()
    addresses = {"127.0.0.1:8080": f"127.0.0.1:{port}",
                 "127.0.0.1:4180": f"127.0.0.1:{jotgate.listener_ports['http']}",
                 "127.0.0.1:9000": f"127.0.0.1:{upstream.port}"}
    log = open(folder / f"{name}.log", "wb")
    if name == "nginx":
        (folder / "nginx.conf").write_text(from_example("nginx.conf", addresses))
        command = [binary, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", "stderr",
                   "-g", "daemon off;"]
    else:
        (folder / "Caddyfile").write_text(from_example("Caddyfile", addresses))
        command = [binary, "run", "--adapter", "caddyfile", "--config", str(folder / "Caddyfile")]
    proc = subprocess.Popen(command, cwd=folder, stdout=log, stderr=log,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(folder),
                                 "XDG_DATA_HOME": str(folder), "XDG_CONFIG_HOME": str(folder)})
    try:
        wait_for_port(proc, port, name)
    except AssertionError as e:
        stop(proc)
        raise AssertionError(f"{e}\n{(folder / f'{name}.log').read_text()}")
    yield name, port
    stop(proc)
    log.close()


def test_without_credentials_the_front_answers_401(front):
    name, port = front
    r = http(port, "GET", "/app/page", {"X-Jotgate-User": SPOOF})
    assert r.status == 401, r
    assert r.header("WWW-Authenticate") == 'Bearer realm="app"'


def test_a_token_then_its_cookie_reach_the_upstream_as_the_user(front, pki):
    name, port = front
    token = bearer(pki, email="alice@acme.test")
    r = http(port, "GET", "/app/page?x=1", {**token, "X-Jotgate-User": SPOOF,
                                            "X-Email": "spoof@evil.test"})
    assert r.status == 200, r
    assert r.json()["path"] == "/app/page"
    assert r.upstream_all("X-Jotgate-User") == ["UserDirectory=ACME; UserId=alice"]
    assert r.upstream_all("X-Email") == ["alice@acme.test"]
    cookie = r.cookie("X-Jotgate-Session-app")
    assert cookie, r.all("Set-Cookie")
    r = http(port, "GET", "/app/other", {"Cookie": f"X-Jotgate-Session-app={cookie}",
                                        "X-Jotgate-User": SPOOF})
    assert r.status == 200, r
    assert r.upstream_all("X-Jotgate-User") == ["UserDirectory=ACME; UserId=alice"]
    assert r.upstream_all("X-Jotgate-Set-Cookie") == []
    assert r.all("Set-Cookie") == []


def test_a_claim_the_token_lacks_is_never_the_clients(front, pki):
    name, port = front
    r = http(port, "GET", "/app/page", {**bearer(pki), "X-Email": "spoof@evil.test"})
    assert r.status == 200, r
    assert r.upstream_all("X-Email") == []
    assert r.all("Set-Cookie") == [r.set_cookie("X-Jotgate-Session-app")]


def test_identity_headers_spelled_with_underscores_never_reach_the_app(front, pki):
    # CGI and WSGI frameworks read X_Jotgate_User as X-Jotgate-User: the front must drop these
    # spellings, in any case, as jotgate does when it proxies itself.
    name, port = front
    r = http(port, "GET", "/app/page", {**bearer(pki), "X_Jotgate_User": "UserId=root",
                                        "x_jotgate_user": "UserId=root", "X_Email": "spoof@evil"})
    assert r.status == 200, r
    received = [k.lower() for k, _ in r.json()["headers"]]
    assert "x_jotgate_user" not in received and "x_email" not in received, (name, received)
    assert r.upstream_all("X-Jotgate-User") == ["UserDirectory=ACME; UserId=alice"]


def test_other_methods_are_asked_about_with_get(front, pki):
    name, port = front
    r = http(port, "POST", "/app/form", {**bearer(pki), "Content-Type": "text/plain"}, body=b"x=1")
    assert r.status == 200, r
    assert (r.json()["method"], r.upstream_all("X-Jotgate-User")) == (
        "POST", ["UserDirectory=ACME; UserId=alice"])
    assert http(port, "DELETE", "/app/form").status == 401


def test_an_unallocated_user_is_403(front, pki):
    name, port = front
    r = http(port, "GET", "/app/page", bearer(pki, user="carol"))
    assert r.status == 403, r


def test_a_browser_without_a_session_is_sent_to_sign_in(front):
    name, port = front
    r = http(port, "GET", "/app/page?id=7", NAVIGATION)
    assert r.status == 302, r
    assert r.header("Location") == SIGN_IN + "?returnTo=" + urllib.parse.quote(
        f"http://127.0.0.1:{port}/app/page?id=7", safe="-._~")
