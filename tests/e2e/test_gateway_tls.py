"""TLS listeners (certificates from `jotgate certs generate`, and generated at start when both
files are missing) and the embedded default `jotgate serve` with its printed curl command."""
import json
import pathlib
import re
import signal
import socket
import ssl
import subprocess
import time

from gateway_harness import *  # noqa: F401,F403

COOKIE = "X-Jotgate-Session-jwt"


def test_tls_listener_with_generated_certificates(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, https_port=0))
    tls = client_context(pki.ca)
    r = http(gw.port, "GET", "/jwt/x", bearer(mint(pki)), tls=tls)
    assert r.status == 200, r
    assert r.upstream_header("X-Forwarded-Proto") == "https"
    assert r.upstream_header("X-Jotgate-User") == "UserDirectory=ACME; UserId=alice"
    set_cookie = r.set_cookie(COOKIE)
    attrs = [p.strip().lower() for p in set_cookie.split(";")]
    assert "secure" in attrs and "httponly" in attrs, set_cookie
    # The cookie works over TLS.
    r = http(gw.port, "GET", "/jwt/x", {"Cookie": f"{COOKIE}={r.cookie(COOKIE)}"}, tls=tls)
    assert r.status == 200, r
    # An unauthenticated TLS request gets the same 401.
    r = http(gw.port, "GET", "/jwt/x", tls=tls)
    assert r.status == 401 and r.header("WWW-Authenticate") == 'Bearer realm="jwt"'


def test_tls_and_plain_listeners_side_by_side(pki, upstream, start_gateway):
    gw = start_gateway(gateway_config(pki, upstream.url, http_port=0, https_port=0))
    http_port, https_port = gw.listener_ports["http"], gw.listener_ports["https"]
    token = mint(pki)
    plain = http(http_port, "GET", "/jwt/x", bearer(token))
    secure = http(https_port, "GET", "/jwt/x", bearer(token), tls=client_context(pki.ca))
    assert plain.status == secure.status == 200
    assert "secure" not in [p.strip().lower() for p in plain.set_cookie(COOKIE).split(";")]
    assert "secure" in [p.strip().lower() for p in secure.set_cookie(COOKIE).split(";")]
    assert gw.proc.poll() is None


def test_missing_tls_files_are_generated_at_start(pki, upstream, start_gateway, tmp_path):
    config = gateway_config(pki, upstream.url, https_port=0)
    cert, key = tmp_path / "gen" / "server.pem", tmp_path / "gen" / "server_key.pem"
    (tmp_path / "gen").mkdir()
    config["listeners"][0]["tls"] = {"certificate": str(cert), "key": str(key)}
    gw = start_gateway(config)
    assert cert.exists() and key.exists()
    assert (key.stat().st_mode & 0o077) == 0, oct(key.stat().st_mode)
    r = http(gw.port, "GET", "/jwt/x", bearer(mint(pki)), tls=client_context(verify=False))
    assert r.status == 200, r


def test_only_one_tls_file_missing_refuses_to_start(pki, upstream, tmp_path):
    config = gateway_config(pki, upstream.url, https_port=0)
    config["listeners"][0]["tls"] = {"certificate": str(pki.server), "key": str(tmp_path / "nope.pem")}
    config["data_dir"] = str(tmp_path / "data")
    path = tmp_path / "one_missing.yaml"
    path.write_text(json.dumps(config))
    done = run_jotgate("serve", "--config", path, timeout=30)
    assert done.returncode != 0
    assert "nope.pem" in done.stderr or "listeners[0]" in done.stderr, done.stderr


def test_default_serve_prints_a_working_curl_command(tmp_path):
    out = open(tmp_path / "serve.out", "wb")
    proc = subprocess.Popen([JOTGATE_BIN, "serve", "--data-dir", str(tmp_path / "jotgate-data"),
                             "--port", "0", "--ops-port", "0"], cwd=tmp_path, stdout=out, stderr=subprocess.PIPE)
    out.close()
    try:
        deadline = time.time() + 40
        text = ""
        while time.time() < deadline and READY not in text:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.1)
            text = (tmp_path / "serve.out").read_text()
        line = next(l for l in text.splitlines() if "curl" in l)
        ca = re.search(r"--cacert (\S+)", line).group(1)
        token = re.search(r"Bearer ([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)", line).group(1)
        url = re.search(r"(https://127\.0\.0\.1:(\d+)(/\S*))", line)
        # --port 0: the command names the port the system chose, as the listener line does.
        port = printed_ports(text)[0]["https"]
        assert int(url.group(2)) == port != 0
        ca_path = pathlib.Path(ca) if pathlib.Path(ca).is_absolute() else tmp_path / ca
        r = http(port, "GET", url.group(3), bearer(token), tls=client_context(ca_path))
        assert r.status == 200, r
        assert "ACME" in r.text and "demo" in r.text, r
        assert r.cookie(COOKIE) is not None
        # The token is printed once, on purpose; it is not logged for the request.
        assert text.count(token) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(20) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
            err = proc.stderr.read().decode(errors="replace")
            proc.stderr.close()
    assert token not in err
    # A second start reuses the generated certificates.
    assert (tmp_path / "jotgate-data" / "certs" / "ca.pem").exists()


def test_cross_site_cookie_is_secure_samesite_none_and_partitioned(pki, upstream, start_gateway):
    # Browsers that drop third-party cookies keep a Partitioned (CHIPS) one for the embedding
    # site: on by default with same_site none; `partitioned: false` turns it off.
    gw = start_gateway(gateway_config(pki, upstream.url, https_port=0,
                                      session={"same_site": "none"}))
    https_port = gw.port
    r = http(https_port, "GET", "/jwt/x", bearer(mint(pki)), tls=client_context(pki.ca))
    attributes = [p.strip() for p in r.set_cookie(COOKIE).split(";")][1:]
    assert {"Secure", "SameSite=None", "Partitioned", "HttpOnly"} <= set(attributes), attributes
    assert gw.proc.poll() is None


def test_partitioned_can_be_turned_off(pki, upstream, start_gateway):
    https_port = start_gateway(gateway_config(pki, upstream.url, https_port=0,
                                              session={"same_site": "none", "partitioned": False})).port
    r = http(https_port, "GET", "/jwt/x", bearer(mint(pki)), tls=client_context(pki.ca))
    attributes = [p.strip() for p in r.set_cookie(COOKIE).split(";")][1:]
    assert "SameSite=None" in attributes and "Secure" in attributes
    assert "Partitioned" not in attributes, attributes


# ----------------------------------------------------------------------------- versions and suites
def tls12_client(pki, ciphers):
    ctx = client_context(pki.ca)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(ciphers)
    return ctx


def handshake(port, ctx):
    """The (version, cipher) the gateway agreed to, or the SSLError it refused with."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        try:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                return tls.version(), tls.cipher()[0]
        except ssl.SSLError as e:
            return e


def test_tls12_offers_only_ecdhe_aead_suites(pki, upstream, start_gateway):
    https_port = start_gateway(gateway_config(pki, upstream.url, https_port=0)).port
    # The test certificate has an EC P-256 key: ECDHE-ECDSA suites. CBC ones are refused.
    for cbc in ("ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "ECDHE-ECDSA-AES128-SHA256",
                "ECDHE-ECDSA-AES256-SHA384"):
        refused = handshake(https_port, tls12_client(pki, cbc))
        assert isinstance(refused, ssl.SSLError), (cbc, refused)
        assert "HANDSHAKE_FAILURE" in str(refused) or "NO_SHARED_CIPHER" in str(refused), refused
    for aead in ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                 "ECDHE-ECDSA-CHACHA20-POLY1305"):
        assert handshake(https_port, tls12_client(pki, aead)) == ("TLSv1.2", aead)
    # A default client gets TLS 1.3.
    version, _ = handshake(https_port, client_context(pki.ca))
    assert version == "TLSv1.3"
    r = http(https_port, "GET", "/jwt/x", bearer(mint(pki)),
             tls=tls12_client(pki, "ECDHE-ECDSA-CHACHA20-POLY1305"))
    assert r.status == 200, r


def test_min_version_13_refuses_tls12_clients(pki, upstream, start_gateway):
    config = gateway_config(pki, upstream.url, https_port=0)
    config["listeners"][0]["tls"]["min_version"] = "1.3"
    https_port = start_gateway(config).port
    refused = handshake(https_port, tls12_client(pki, "ECDHE-ECDSA-AES128-GCM-SHA256"))
    assert isinstance(refused, ssl.SSLError) and "PROTOCOL_VERSION" in str(refused), refused
    tls13 = client_context(pki.ca)
    tls13.minimum_version = ssl.TLSVersion.TLSv1_3
    assert handshake(https_port, tls13)[0] == "TLSv1.3"
    r = http(https_port, "GET", "/jwt/x", bearer(mint(pki)), tls=tls13)
    assert r.status == 200, r


def test_a_bad_min_version_is_a_config_error_with_its_place(pki, upstream, tmp_path):
    config = gateway_config(pki, upstream.url, https_port=0)
    config["listeners"][0]["tls"]["min_version"] = "1.0"
    path = tmp_path / "old_tls.yaml"
    path.write_text(json.dumps(config, indent=2))
    done = run_jotgate("config", "check", path)
    assert done.returncode == 1
    assert re.search(r'old_tls\.yaml:\d+:\d+: listeners\[0\]\.tls\.min_version: "1\.0" is not a '
                     r'TLS version this gateway offers \(expected "1\.2" or "1\.3"\)',
                     done.stderr), done.stderr
