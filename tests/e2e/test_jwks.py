"""Keys fetched from the identity provider (auth.jwt.jwks_uri, discovery): a real HTTPS
provider (identity_provider.py, its certificate from the test's PKI) that the tests rotate,
break and count, in front of the real gateway."""
import json
import signal
import stat
import threading
import time

import pytest

from conftest import run_jotgate
from gateway_harness import *  # noqa: F401,F403
from identity_provider import DISCOVERY_PATH, IdentityProvider
from test_ops_metrics import samples, value

VP = "Embedded analytics"
OPS = {"address": "127.0.0.1:0"}
JSON = {"Accept": "application/json"}
KEY_NOT_FOUND = {"error": "KEY_NOT_FOUND",
                 "message": "Could not authenticate the request: the identity provider publishes "
                            "no key with the token's kid"}
KEYS_UNAVAILABLE = {"error": "KEYS_UNAVAILABLE",
                    "message": "Service Unavailable: the virtual proxy has no usable keys to "
                               "verify tokens with"}


@pytest.fixture
def start_idp(pki):
    yield from stopped_after(lambda **kwargs: IdentityProvider.start(pki, **kwargs))


@pytest.fixture
def idp(start_idp):
    return start_idp()


def jwks_config(pki, idp, upstream, data_dir=None, **jwt):
    """gateway_config with keys from `idp` (trusted through the PKI's CA) and an ops listener."""
    config = gateway_config(pki, upstream.url, http_port=0, ops=OPS)
    section = config["virtual_proxies"][0]["auth"]["jwt"]
    del section["key"]
    section.update({"jwks_uri": idp.jwks_uri, "jwks_ca": str(pki.ca)})
    section.update(jwt)
    if data_dir is not None:
        config["data_dir"] = str(data_dir)
    return config


def get(gw, token, **headers):
    return http(gw.port, "GET", "/jwt/x", bearer(token, **headers))


def wait_for(predicate, timeout=10, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} not met within {timeout}s"
        time.sleep(0.02)


def test_keys_of_the_jwks_verify_tokens_and_a_rotation_is_picked_up_by_one_refetch(
        pki, idp, upstream, start_gateway):
    gw = start_gateway(jwks_config(pki, idp, upstream))
    idp.wait_for_hits(1)
    first = idp.mint()
    r = get(gw, first)
    assert r.status == 200, r
    assert idp.hits() == 1
    old_kid, old_key = idp.keys[-1]
    new_kid = idp.rotate()
    assert new_kid != old_kid
    r = get(gw, idp.mint())
    assert r.status == 200, r
    assert idp.hits() == 2  # exactly one refetch for the unknown kid
    gw.wait_for_lines(f"jwks {idp.jwks_uri}: 1 keys fetched from {idp.jwks_uri}", count=2,
                      stream="output")
    # The old key is gone from the provider, and so from the gateway (a token not seen before:
    # `first` is in the verified-token cache until its exp).
    r = http(gw.port, "GET", "/jwt/x",
             bearer(idp.mint(user="bob", kid=old_kid, key=old_key), **JSON))
    assert r.status == 401, r
    assert r.json() == KEY_NOT_FOUND
    assert idp.hits() == 2  # refetched a moment ago: not again


def test_forward_auth_and_sign_in_endpoints_wait_for_a_rotated_key_too(
        pki, idp, upstream, start_gateway):
    gw = start_gateway(jwks_config(pki, idp, upstream))
    idp.wait_for_hits(1)
    idp.rotate()
    # .auth/verify (nginx auth_request, Caddy forward_auth): one refetch, then the answer.
    r = http(gw.port, "GET", "/jwt/.auth/verify", bearer(idp.mint()))
    assert r.status == 200, r
    assert r.header("X-Jotgate-User") == "UserDirectory=ACME; UserId=alice"
    assert idp.hits() == 2
    # POST .auth/session with the bearer of a key rotated in later: waits as well.
    idp.rotate()
    time.sleep(1.1)  # past jwks_min_refetch (1s below)
    gw2 = start_gateway(jwks_config(pki, idp, upstream, jwks_min_refetch="1s"), name="gw2")
    wait_for(lambda: idp.hits() >= 3, what="gw2's first fetch")
    idp.rotate()
    r = http(gw2.port, "POST", "/jwt/.auth/session", bearer(idp.mint()))
    assert r.status == 204, r
    assert r.set_cookie("X-Jotgate-Session-jwt") is not None
    assert idp.hits() == 4


def test_a_flood_of_unknown_kids_refetches_once_and_is_refused_key_not_found(
        pki, idp, upstream, start_gateway):
    gw = start_gateway(jwks_config(pki, idp, upstream))
    idp.wait_for_hits(1)
    results = [None] * 30

    def send(i):
        results[i] = http(gw.port, "GET", "/jwt/x",
                          bearer(idp.mint(kid=f"unknown-{i}"), **JSON))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(results))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for r in results:
        assert r.status == 401, r
        assert r.json() == KEY_NOT_FOUND
        assert r.header("WWW-Authenticate") == (
            'Bearer error="invalid_token", error_description="the identity provider publishes no '
            'key with the token\'s kid"')
    assert idp.hits() == 2  # the first fetch and one refetch, shared by all 30
    # A rotation within jwks_min_refetch (30s) of that refetch waits for the next refresh.
    idp.rotate()
    r = http(gw.port, "GET", "/jwt/x", bearer(idp.mint(), **JSON))
    assert r.status == 401, r
    assert r.json() == KEY_NOT_FOUND
    assert idp.hits() == 2
    # The plain-text answer of the same refusal.
    r = get(gw, idp.mint(kid="another"))
    assert r.status == 401
    assert r.body == (b"Could not authenticate the request: the identity provider publishes no "
                      b"key with the token's kid")


@pytest.mark.parametrize("mode, problem", [
    ("500", "HTTP 500"),
    ("hang", "timed out after 1s"),
    ("garbage", "no usable JWKS: the key cannot be read"),
    ("huge", "document larger than 1 MiB"),
])
def test_an_outage_keeps_the_last_good_keys_logged_and_counted(
        pki, idp, upstream, start_gateway, mode, problem):
    gw = start_gateway(jwks_config(pki, idp, upstream, jwks_refresh="1s", jwks_timeout="1s"))
    idp.wait_for_hits(1)
    token = idp.mint()
    assert get(gw, token).status == 200
    idp.mode = mode
    line = gw.wait_for_lines(f"{idp.jwks_uri}: {problem}", stream="output", timeout=15)[0]
    assert f"jwks {idp.jwks_uri}: fetch failed, the keys fetched at " in line, line
    assert "stay in use" in line
    r = get(gw, token)
    assert r.status == 200, r
    assert http(gw.ops_port, "GET", "/readyz").body == b"ready\n"
    m = samples(gw.ops_port)
    # At least the first fetch, and never more than the provider served before the outage: the
    # 1s refresh may come again before the mode changes on a loaded machine (and a good answer
    # that arrives after jwks_timeout is an error).
    assert 1 <= value(m, "jotgate_jwks_fetches_total", vp=VP, source=idp.jwks_uri,
                      result="ok") <= idp.answered("ok")
    assert value(m, "jotgate_jwks_fetches_total", vp=VP, source=idp.jwks_uri,
                 result="error") >= 1
    assert value(m, "jotgate_keys_loaded", vp=VP) == 1
    assert 0 <= value(m, "jotgate_jwks_key_age_seconds", vp=VP, source=idp.jwks_uri) < 60
    idp.release_hanging()


def test_never_fetched_answers_503_with_retry_after_and_readyz_names_the_virtual_proxy(
        pki, idp, upstream, start_gateway):
    idp.mode = "500"
    gw = start_gateway(jwks_config(pki, idp, upstream))
    idp.wait_for_hits(1)
    gw.wait_for_lines(f"jwks {idp.jwks_uri}: fetch failed, no keys to verify tokens with: "
                      f"{idp.jwks_uri}: HTTP 500", stream="output")
    r = http(gw.port, "GET", "/jwt/x", bearer(idp.mint(), **JSON))
    assert r.status == 503, r
    assert r.header("Retry-After") == "5"
    assert r.header("WWW-Authenticate") is None
    assert r.json() == KEYS_UNAVAILABLE
    r = http(gw.ops_port, "GET", "/readyz")
    assert r.status == 503
    assert r.json() == {"ready": False, "problems": [
        {"component": "virtual_proxy", "name": VP,
         "problem": f"no usable verification key: {idp.jwks_uri}: HTTP 500"}]}
    m = samples(gw.ops_port)
    assert value(m, "jotgate_jwks_fetches_total", vp=VP, source=idp.jwks_uri, result="ok") == 0
    assert value(m, "jotgate_jwks_key_age_seconds", vp=VP, source=idp.jwks_uri) is None
    assert value(m, "jotgate_keys_loaded", vp=VP) == 0


def test_keys_past_max_stale_answer_503_while_cookie_sessions_keep_working(
        pki, idp, upstream, start_gateway):
    gw = start_gateway(jwks_config(pki, idp, upstream, jwks_refresh="1s", jwks_max_stale="3s"))
    idp.wait_for_hits(1)
    r = get(gw, idp.mint())
    assert r.status == 200, r
    cookie = r.cookie("X-Jotgate-Session-jwt")
    assert cookie
    idp.mode = "500"
    wait_for(lambda: http(gw.ops_port, "GET", "/readyz").status == 503, timeout=15,
             what="keys past jwks_max_stale")
    problem = http(gw.ops_port, "GET", "/readyz").json()["problems"][0]["problem"]
    assert problem.startswith("no usable verification key: the last good keys were fetched "), problem
    assert problem.endswith(f"s ago, longer than jwks_max_stale (3s): {idp.jwks_uri}: HTTP 500")
    r = http(gw.port, "GET", "/jwt/x", bearer(idp.mint(user="bob"), **JSON))
    assert r.status == 503, r
    assert r.json() == KEYS_UNAVAILABLE
    r = http(gw.port, "GET", "/jwt/x", {"Cookie": f"X-Jotgate-Session-jwt={cookie}"})
    assert r.status == 200, r
    # The provider back: keys again at the next fetch.
    idp.mode = "ok"
    wait_for(lambda: http(gw.ops_port, "GET", "/readyz").status == 200, timeout=15,
             what="keys fetched again")
    assert get(gw, idp.mint(user="bob")).status == 200


def test_a_restart_during_an_outage_uses_the_saved_document(
        pki, idp, upstream, start_gateway, tmp_path):
    data = tmp_path / "data"
    config = jwks_config(pki, idp, upstream, data_dir=data)
    first = start_gateway(config)
    idp.wait_for_hits(1)
    saved = list((data / "jwks").glob("*.json"))
    wait_for(lambda: len(list((data / "jwks").glob("*.json"))) == 1, what="the saved JWKS")
    saved = list((data / "jwks").glob("*.json"))
    assert stat.S_IMODE(saved[0].stat().st_mode) == 0o600
    document = json.loads(saved[0].read_text())
    assert document["source"] == idp.jwks_uri and document["jwks_uri"] == idp.jwks_uri
    assert json.loads(document["document"]) == idp.jwks()
    assert first.stop() == 0

    idp.mode = "500"
    second = start_gateway(config)
    r = get(second, idp.mint())
    assert r.status == 200, r
    second.wait_for_lines(f"jwks {idp.jwks_uri}: 1 keys read from {saved[0]}", stream="output")
    second.wait_for_lines(f"{idp.jwks_uri}: HTTP 500", stream="output")
    assert http(second.ops_port, "GET", "/readyz").body == b"ready\n"
    assert get(second, idp.mint()).status == 200


def test_discovery_takes_the_issuers_jwks_uri(pki, idp, upstream, start_gateway):
    config = jwks_config(pki, idp, upstream, discovery=True, issuer=idp.issuer)
    del config["virtual_proxies"][0]["auth"]["jwt"]["jwks_uri"]
    gw = start_gateway(config)
    idp.wait_for_hits(1)
    r = get(gw, idp.mint())
    assert r.status == 200, r
    assert idp.hits(DISCOVERY_PATH) == 1


def test_discovery_with_another_issuer_is_refused(pki, idp, upstream, start_gateway):
    idp.discovered_issuer = "https://impostor.example"
    config = jwks_config(pki, idp, upstream, discovery=True, issuer=idp.issuer)
    del config["virtual_proxies"][0]["auth"]["jwt"]["jwks_uri"]
    gw = start_gateway(config)
    idp.wait_for_hits(1, path=DISCOVERY_PATH)
    why = (f"{idp.url}{DISCOVERY_PATH}: its issuer \"https://impostor.example\" is not the "
           f"configured \"{idp.issuer}\"")
    gw.wait_for_lines(why, stream="output")
    assert idp.hits() == 0  # its JWKS is never fetched
    r = http(gw.port, "GET", "/jwt/x", bearer(idp.mint(), **JSON))
    assert r.status == 503, r
    assert r.json() == KEYS_UNAVAILABLE
    r = http(gw.ops_port, "GET", "/readyz")
    assert r.json()["problems"][0]["problem"] == "no usable verification key: " + why


def test_a_provider_whose_certificate_is_not_trusted_is_refused(
        pki, upstream, start_gateway, start_idp, tmp_path):
    other = Pki.generate(tmp_path / "other")
    idp = start_idp(certificate=other.server, key=other.server_key)
    for jwt in ({"jwks_ca": str(pki.ca)}, {"jwks_ca": None}):
        config = jwks_config(pki, idp, upstream)
        section = config["virtual_proxies"][0]["auth"]["jwt"]
        if jwt["jwks_ca"] is None:
            del section["jwks_ca"]  # the system store knows no test CA either
        gw = start_gateway(config)
        gw.wait_for_lines(f"jwks {idp.jwks_uri}: fetch failed, no keys to verify tokens with: "
                          f"{idp.jwks_uri}: certificate verify failed", stream="output")
        r = http(gw.port, "GET", "/jwt/x", bearer(idp.mint(), **JSON))
        assert r.status == 503, r
        gw.stop()
    assert idp.hits() == 0  # no request got past the handshake


def test_a_plain_http_jwks_uri_is_refused_by_config_check(pki, tmp_path):
    config = gateway_config(pki, "http://127.0.0.1:9", http_port=0)
    section = config["virtual_proxies"][0]["auth"]["jwt"]
    del section["key"]
    section["jwks_uri"] = "http://idp.example/keys"
    path = tmp_path / "jotgate.yaml"
    path.write_text(json.dumps(config, indent=2))
    done = run_jotgate("config", "check", path)
    assert done.returncode == 1, done.stdout
    assert "virtual_proxies[0].auth.jwt.jwks_uri: \"http://idp.example/keys\" is not an https:// " \
           "URL (keys are fetched over TLS only)" in done.stderr, done.stderr


def test_a_reload_with_the_same_settings_keeps_the_keys_without_fetching(
        pki, idp, upstream, start_gateway):
    gw = start_gateway(jwks_config(pki, idp, upstream))
    idp.wait_for_hits(1)
    token = idp.mint()
    assert get(gw, token).status == 200
    idp.mode = "500"
    gw.proc.send_signal(signal.SIGHUP)
    gw.wait_for_lines("reload", stream="output")
    time.sleep(0.5)
    assert idp.hits() == 1
    assert get(gw, idp.mint(user="bob")).status == 200


def test_one_provider_with_fetched_keys_beside_one_with_a_key_file(
        pki, idp, upstream, start_gateway):
    """auth.jwt.providers: the token's iss picks the provider; only the fetching one refetches,
    and /readyz names it by issuer when it has no keys."""
    config = gateway_config(pki, upstream.url, http_port=0, ops=OPS)
    config["virtual_proxies"][0]["auth"]["jwt"] = {"providers": [
        {"issuer": idp.issuer, "jwks_uri": idp.jwks_uri, "jwks_ca": str(pki.ca)},
        {"issuer": "https://files.example", "key": str(pki.signer)},
    ]}
    gw = start_gateway(config)
    idp.wait_for_hits(1)
    assert get(gw, idp.mint()).status == 200
    assert get(gw, mint(pki, user="bob", iss="https://files.example")).status == 200
    idp.rotate()
    assert get(gw, idp.mint(user="bob")).status == 200
    assert idp.hits() == 2
    m = samples(gw.ops_port)
    assert value(m, "jotgate_keys_loaded", vp=VP) == 2
    assert value(m, "jotgate_jwks_fetches_total", vp=VP, source=idp.jwks_uri, result="ok") == 2
