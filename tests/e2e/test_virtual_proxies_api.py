"""Virtual proxies managed through /api/v1/virtual-proxies with the real binary: created with a
pasted certificate (auth.jwt.key_pem), stored in the database and served at once on the gateway
listener to a user granted with `jotgate access grant` and a token of `jotgate token sign`;
changed (a shorter inactivity timeout applies to the open session) and deleted live, sessions of
the other virtual proxies kept; every refusal with its exact answer (a bad field, a prefix of the
configuration file, a file virtual proxy read-only, an unknown prefix, a file that no longer
loads); kept across a restart; audited with the administrator; the PEM text never logged; and
with PostgreSQL, served by another node within seconds."""
import json
import time

import pytest

from gateway_harness import *  # noqa: F401,F403
from test_access_postgres import Postgres, postgres  # noqa: F401 (fixture)
from test_admin_api import Admin, admin_section
from test_revocation import within

TOKEN = "admin-token-vp-3b9d71"
API = "/api/v1/virtual-proxies"
FILE_COOKIE = "X-Jotgate-Session-jwt"
SALES_COOKIE = "X-Jotgate-Session-sales"


@pytest.fixture(scope="session")
def pki2(tmp_path_factory):
    """Another signer: its certificate is pasted into the new virtual proxy."""
    return Pki.generate(tmp_path_factory.mktemp("pki-vp") / "certs")


def config_with_admin(pki, upstream, tmp_path, **extra):
    token_file = tmp_path / "admin.token"
    token_file.write_text(TOKEN + "\n")
    config = gateway_config(pki, upstream.url, http_port=0,
                            admin=admin_section(pki, 0, token_file, client_ca=False))
    config["data_dir"] = str(tmp_path / "data")  # the same for a restart
    config.update(extra)
    return config


def call(admin, method, path, body=None):
    return admin.call(method, path, body, token=TOKEN)


def sales(pki2, upstream, **changes):
    document = {"name": "Sales", "prefix": "sales", "listeners": ["http"],
                "upstreams": [upstream.url],
                "auth": {"method": "jwt",
                         "jwt": {"key_pem": pki2.signer.read_text(), "algorithms": ["RS256"]}}}
    deep_update(document, changes)
    return document


def signed(pki2, user):
    done = run_jotgate("token", "sign", "--key", pki2.signer_key, "--claim", f"userId={user}",
                       "--claim", "userDirectory=ACME")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def grant(gw, user):
    done = run_jotgate("access", "grant", "--config", gw.config_path, f"ACME\\{user}")
    assert done.returncode == 0, done.stderr


def pem_body_lines(pki2):
    return [line for line in pki2.signer.read_text().splitlines() if not line.startswith("-----")]


@pytest.fixture
def admin(pki, upstream, start_gateway, tmp_path):
    return Admin(start_gateway(config_with_admin(pki, upstream, tmp_path)), pki)


def test_created_with_a_pasted_certificate_and_served_at_once(admin, pki, pki2, upstream):
    gw = admin.gw
    file_cookie = http(gw.port, "GET", "/jwt/x", bearer(mint(pki))).cookie(FILE_COOKIE)
    assert file_cookie

    r = call(admin, "POST", API, sales(pki2, upstream))
    assert r.status == 201, r
    created = r.json()
    assert created["source"] == "database" and created["readOnly"] is False
    assert created["prefix"] == "sales" and created["name"] == "Sales"
    assert created["session"]["inactivity_timeout"] == "30m"  # the default, filled in
    assert created["session"]["cookie_name"] == SALES_COOKIE
    assert created["auth"]["jwt"]["key_pem"] == pki2.signer.read_text()  # public: as stored
    assert created["auth"]["jwt"]["user_id_claim"] == "userId"

    grant(gw, "carol")
    token = signed(pki2, "carol")
    r = within(5, lambda: http(gw.port, "GET", "/sales/report", bearer(token)), 200)
    assert r.status == 200, r
    assert r.upstream_header("X-Jotgate-User") == "UserDirectory=ACME; UserId=carol"
    # The other signer's token is not accepted there, nor this one on the file's proxy.
    assert http(gw.port, "GET", "/sales/x", bearer(mint(pki, user="carol"))).status == 401
    assert http(gw.port, "GET", "/jwt/x", bearer(token)).status == 401
    # The file's virtual proxy kept its session.
    assert http(gw.port, "GET", "/jwt/y", {"Cookie": f"{FILE_COOKIE}={file_cookie}"}).status == 200

    listed = call(admin, "GET", API)
    assert listed.status == 200, listed
    by_prefix = {vp["prefix"]: vp for vp in listed.json()["virtualProxies"]}
    assert sorted(by_prefix) == ["jwt", "sales"]
    assert by_prefix["jwt"]["source"] == "file" and by_prefix["jwt"]["readOnly"] is True
    assert by_prefix["jwt"]["auth"]["jwt"]["key"] == str(pki.signer)  # the path, not the key
    assert by_prefix["sales"] == created
    one = call(admin, "GET", API + "/sales")
    assert one.status == 200 and one.json() == created

    [line] = gw.wait_for_lines("event=virtual_proxy_created")
    assert "vp=sales" in line and "admin=token" in line, line
    output = gw.stdout() + gw.stderr()
    for pem_line in pem_body_lines(pki2):
        assert pem_line not in output


def test_a_shorter_inactivity_timeout_applies_and_other_sessions_survive(admin, pki, pki2,
                                                                         upstream):
    gw = admin.gw
    file_cookie = http(gw.port, "GET", "/jwt/x", bearer(mint(pki))).cookie(FILE_COOKIE)
    assert call(admin, "POST", API, sales(pki2, upstream)).status == 201
    grant(gw, "carol")
    first = within(5, lambda: http(gw.port, "GET", "/sales/a", bearer(signed(pki2, "carol"))), 200)
    cookie = first.cookie(SALES_COOKIE)
    assert cookie, first

    # PUT: the whole document, here as GET shows it (source and readOnly are ignored); its
    # prefix may be left out (it is the path's).
    document = call(admin, "GET", API + "/sales").json()
    document["session"]["inactivity_timeout"] = "3s"
    del document["prefix"]
    r = call(admin, "PUT", API + "/sales", document)
    assert r.status == 200, r
    assert r.json()["session"]["inactivity_timeout"] == "3s"
    assert call(admin, "GET", API + "/sales").json()["session"]["inactivity_timeout"] == "3s"
    [line] = gw.wait_for_lines("event=virtual_proxy_updated")
    assert "vp=sales" in line and "admin=token" in line, line

    # The edited virtual proxy kept its session, which now ends after 3 s without use.
    assert http(gw.port, "GET", "/sales/b", {"Cookie": f"{SALES_COOKIE}={cookie}"}).status == 200
    time.sleep(4.5)
    r = http(gw.port, "GET", "/sales/c", {"Cookie": f"{SALES_COOKIE}={cookie}"})
    assert r.status == 401, r
    assert r.text == "Could not authenticate the request: Expected an authentication header"

    # Deleted: the prefix is no longer served; the file's session survived all of it.
    r = call(admin, "DELETE", API + "/sales")
    assert r.status == 204 and r.body == b"", r
    assert http(gw.port, "GET", "/sales/d", bearer(signed(pki2, "carol"))).status == 404
    assert call(admin, "GET", API + "/sales").status == 404
    [line] = gw.wait_for_lines("event=virtual_proxy_deleted")
    assert "vp=sales" in line and "admin=token" in line, line
    assert http(gw.port, "GET", "/jwt/z", {"Cookie": f"{FILE_COOKIE}={file_cookie}"}).status == 200


def test_field_errors_are_the_yaml_parsers(admin, pki2, upstream):
    r = call(admin, "POST", API, sales(pki2, upstream, prefix="Sales Team"))
    assert r.status == 400, r
    assert r.json() == {"error": "VALIDATION_FAILED", "errors": [
        {"field": "prefix",
         "message": "\"Sales Team\" may only contain a-z, 0-9, '.', '_' and '-' "
                    "(\"\" serves the root)"}]}
    r = call(admin, "POST", API, sales(pki2, upstream, session={"inactivity_timeout": "soon"},
                                       auth={"jwt": {"key_pem": "not a key"}}))
    assert r.status == 400, r
    assert r.json() == {"error": "VALIDATION_FAILED", "errors": [
        {"field": "session.inactivity_timeout",
         "message": "expected a duration such as 90s, 30m, 8h, 2d or whole seconds"},
        {"field": "auth.jwt.key_pem",
         "message": "expected PEM text: a certificate (-----BEGIN CERTIFICATE-----) or a public "
                    "key (-----BEGIN PUBLIC KEY-----)"}]}
    r = call(admin, "POST", API, sales(pki2, upstream, listeners=["nowhere"]))
    assert r.json() == {"error": "VALIDATION_FAILED", "errors": [
        {"field": "listeners[0]", "message": "no listener is named \"nowhere\""}]}
    r = call(admin, "POST", API, sales(pki2, upstream, name="Embedded analytics"))
    assert r.json() == {"error": "VALIDATION_FAILED", "errors": [
        {"field": "name",
         "message": "\"Embedded analytics\" is already used by the virtual proxy with prefix "
                    "\"jwt\""}]}
    r = call(admin, "POST", API, [1, 2])
    assert r.json() == {"error": "VALIDATION_FAILED",
                        "errors": [{"field": "(body)", "message": "must be a JSON object"}]}
    # The PUT's prefix must be the path's.
    assert call(admin, "POST", API, sales(pki2, upstream)).status == 201
    r = call(admin, "PUT", API + "/sales", sales(pki2, upstream, prefix="other"))
    assert r.status == 400, r
    assert r.json() == {"error": "VALIDATION_FAILED", "errors": [
        {"field": "prefix", "message": "must be the prefix of the path (\"sales\") or left out"}]}
    # Nothing refused was stored.
    assert [vp["prefix"] for vp in call(admin, "GET", API).json()["virtualProxies"]] == \
        ["jwt", "sales"]


def test_prefix_conflicts_read_only_and_not_found(admin, pki, pki2, upstream):
    r = call(admin, "POST", API, sales(pki2, upstream, prefix="jwt", name="Other"))
    assert r.status == 409, r
    assert r.json() == {"error": "PREFIX_CONFLICT", "message": "another virtual proxy has this prefix",
                        "errors": [{"field": "prefix", "message": "\"jwt\" is already used by a "
                                    "virtual proxy of the configuration file"}]}
    assert call(admin, "POST", API, sales(pki2, upstream)).status == 201
    r = call(admin, "POST", API, sales(pki2, upstream, name="Sales again"))
    assert r.status == 409, r
    assert r.json()["errors"] == [{"field": "prefix", "message": "\"sales\" is already used by a "
                                   "virtual proxy in the database"}]

    read_only = {"error": "VIRTUAL_PROXY_READ_ONLY",
                 "message": "this virtual proxy is defined in the configuration file: change it "
                            "there"}
    for method, body in (("PUT", sales(pki2, upstream, prefix="jwt")),
                         ("PATCH", {"session": {"inactivity_timeout": "1m"}}), ("DELETE", None)):
        r = call(admin, method, API + "/jwt", body)
        assert r.status == 409, r
        assert r.json() == read_only
    assert http(admin.gw.port, "GET", "/jwt/x", bearer(mint(pki))).status == 200

    not_found = {"error": "VIRTUAL_PROXY_NOT_FOUND",
                 "message": "no virtual proxy has this prefix (\"~\" names the one at the root)"}
    for method, body in (("GET", None), ("PUT", sales(pki2, upstream, prefix="nope")),
                         ("PATCH", {"name": "x"}), ("DELETE", None)):
        r = call(admin, method, API + "/nope", body)
        assert r.status == 404, r
        assert r.json() == not_found
    r = call(admin, "POST", API + "/sales", {})
    assert r.status == 405 and r.header("Allow") == "GET, PUT, PATCH, DELETE", r


def test_a_merge_patch_changes_only_what_it_names(admin, pki2, upstream):
    assert call(admin, "POST", API, sales(pki2, upstream)).status == 201
    before = call(admin, "GET", API + "/sales").json()
    r = call(admin, "PATCH", API + "/sales",
             {"session": {"inactivity_timeout": "5m"}, "identity_header": "X-Sales-User"})
    assert r.status == 200, r
    after = call(admin, "GET", API + "/sales").json()
    assert after["session"]["inactivity_timeout"] == "5m"
    assert after["identity_header"] == "X-Sales-User"
    assert r.json() == after
    for key in ("name", "listeners", "upstreams", "auth"):
        assert after[key] == before[key], key
    [line] = admin.gw.wait_for_lines("event=virtual_proxy_updated")
    assert "vp=sales" in line and "admin=token" in line, line
    # null takes a key back to its default; a bad value is refused at its place.
    r = call(admin, "PATCH", API + "/sales", {"identity_header": None})
    assert r.status == 200 and r.json()["identity_header"] == "X-Jotgate-User", r
    r = call(admin, "PATCH", API + "/sales", {"session": {"inactivity_timeout": "soon"}})
    assert r.status == 400, r
    assert [e["field"] for e in r.json()["errors"]] == ["session.inactivity_timeout"]
    assert call(admin, "GET", API + "/sales").json()["session"]["inactivity_timeout"] == "5m"


def test_a_file_that_no_longer_loads_stores_nothing(admin, pki2, upstream):
    gw = admin.gw
    good = gw.config_path.read_text()
    gw.config_path.write_text(good.replace('"virtual_proxies"', '"virtual_proxiez"'))
    r = call(admin, "POST", API, sales(pki2, upstream))
    assert r.status == 422, r
    body = r.json()
    assert body["error"] == "CONFIG_INVALID"
    assert body["message"] == ("the configuration file does not load: nothing was stored; the "
                               "configuration in force keeps serving")
    assert any("virtual_proxiez: unknown key" in p for p in body["problems"]), body
    gw.config_path.write_text(good)
    assert [vp["prefix"] for vp in call(admin, "GET", API).json()["virtualProxies"]] == ["jwt"]
    assert call(admin, "POST", API, sales(pki2, upstream)).status == 201


def test_stored_virtual_proxies_survive_a_restart(pki, pki2, upstream, start_gateway, tmp_path):
    config = config_with_admin(pki, upstream, tmp_path)
    first = Admin(start_gateway(config), pki)
    assert call(first, "POST", API, sales(pki2, upstream, session={"max_lifetime": "8h"})).status == 201
    grant(first.gw, "carol")
    assert first.gw.stop() == 0

    again = Admin(start_gateway(config), pki)
    r = http(again.gw.port, "GET", "/sales/x", bearer(signed(pki2, "carol")))
    assert r.status == 200, r
    shown = call(again, "GET", API + "/sales").json()
    assert shown["session"]["max_lifetime"] == "8h" and shown["source"] == "database"


def test_a_stored_prefix_the_file_now_uses_is_left_out_with_a_warning(admin, pki, pki2, upstream):
    gw = admin.gw
    assert call(admin, "POST", API, sales(pki2, upstream)).status == 201
    config = json.loads(gw.config_path.read_text())
    clash = dict(config["virtual_proxies"][0], name="File sales", prefix="sales")
    config["virtual_proxies"].append(clash)
    gw.config_path.write_text(json.dumps(config))
    r = call(admin, "POST", "/api/v1/config/reload")
    assert r.status == 200, r
    assert r.json()["warnings"] == ["virtual proxy \"sales\" (database) is left out: its prefix is "
                                    "used by the configuration file's \"File sales\""]
    shown = call(admin, "GET", API + "/sales").json()
    assert shown["source"] == "file" and shown["name"] == "File sales"
    assert http(gw.port, "GET", "/sales/x", bearer(mint(pki))).status == 200


def test_postgresql_another_node_serves_a_new_virtual_proxy_within_seconds(
        pki, pki2, upstream, start_gateway, postgres, tmp_path):
    def node(name):
        (tmp_path / name).mkdir()
        config = config_with_admin(pki, upstream, tmp_path / name)
        config["database"] = {"type": "postgresql", "url": postgres.url}
        config["access"] = {"mode": "allocated", "allocations": ["ACME\\carol"]}
        return config

    a = Admin(start_gateway(node("a"), name="a"), pki)
    b = Admin(start_gateway(node("b"), name="b"), pki)
    token = signed(pki2, "carol")
    assert http(b.gw.port, "GET", "/sales/x", bearer(token)).status == 404
    assert call(a, "POST", API, sales(pki2, upstream)).status == 201
    started = time.monotonic()
    r = within(5, lambda: http(b.gw.port, "GET", "/sales/x", bearer(token)), 200)
    assert r.status == 200, r
    assert time.monotonic() - started < 3
    assert call(b, "GET", API + "/sales").json()["source"] == "database"
    assert call(a, "DELETE", API + "/sales").status == 204
    r = within(5, lambda: http(b.gw.port, "GET", "/sales/x", bearer(token)), 404)
    assert r.status == 404, r
