"""`jotgate config check`: a valid file passes with a summary; each kind of mistake is reported
on standard error with file:line:column and its YAML path, all of them in one run."""
import os
import shutil
import signal
import subprocess

from conftest import JOTGATE_BIN, TEST_DATA, run_jotgate
from gateway_harness import (READY, Gateway, client_context, gateway_config, http, pki,  # noqa: F401
                             upstream)
from gateway_harness import start_upstream  # noqa: F401

VALID = """\
listeners:
  - name: https
    address: 127.0.0.1:8443
    tls: { certificate: server.pem, key: server_key.pem }
  - name: http
    address: "[::1]:8080"
virtual_proxies:
  - name: Embedded analytics
    prefix: jwt
    listeners: [https, http]
    upstreams: [http://127.0.0.1:9000, http://127.0.0.1:9001]
    session: { inactivity_timeout: 30m, same_site: lax, secure: auto }
    auth:
      method: jwt
      jwt:
        key: signer.pem
        algorithms: [RS256, RS384, RS512]
        leeway: 60s
        forward_claims: { groups: X-Jotgate-Groups }
    response_headers: { X-Frame-Options: SAMEORIGIN }
access:
  mode: allocated
  allocations: ["ACME\\\\alice"]
"""


def write(tmp_path, text, name="jotgate.yaml"):
    shutil.copy(TEST_DATA / "keys" / "rsa_cert.pem", tmp_path / "signer.pem")
    path = tmp_path / name
    path.write_text(text)
    return path


def test_valid_file_is_ok_with_a_summary(tmp_path):
    path = write(tmp_path, VALID)
    done = run_jotgate("config", "check", path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{path}: OK (2 listeners, 1 virtual proxy)\n"
    assert done.stderr == ""


def check_errors(tmp_path, text, env=None):
    path = write(tmp_path, text)
    done = run_jotgate("config", "check", path, env=env)
    assert done.returncode == 1, done.stdout
    assert done.stdout == ""
    return [line.replace(str(path), "F") for line in done.stderr.splitlines()]


def test_duplicate_prefix_names_the_place(tmp_path):
    text = VALID.replace("access:", """\
  - name: Second
    prefix: jwt
    listeners: [http]
    upstreams: [http://127.0.0.1:9000]
    auth: { method: jwt, jwt: { key: signer.pem } }
access:""")
    assert check_errors(tmp_path, text) == [
        'F:22:13: virtual_proxies[1].prefix: "jwt" is already used by virtual_proxies[0]']


def test_every_error_is_reported_in_one_run(tmp_path):
    text = (VALID.replace("[https, http]", "[https, htttp]")
                 .replace("RS512]", "XS256]")
                 .replace("http://127.0.0.1:9001", "ftp://x")
                 .replace("same_site: lax", "same_site: loose")
                 .replace("leeway: 60s", "leeway: soon")
                 .replace("key: signer.pem", "key: missing.pem")
                 .replace('"ACME\\\\alice"', "alice")
                 .replace("prefix: jwt", "prefix: JWT")
                 .replace("  mode: allocated", "  mode: allocated\n  seats: 3"))
    errors = check_errors(tmp_path, text)
    expected = [
        'virtual_proxies[0].prefix: "JWT" may only contain',
        'virtual_proxies[0].listeners[1]: no listener is named "htttp"',
        'virtual_proxies[0].upstreams[1]: "ftp://x" is not http(s)://host:port[/path]',
        'virtual_proxies[0].session.same_site: "loose" is not lax, strict or none',
        'virtual_proxies[0].auth.jwt.algorithms[2]: unknown algorithm "XS256"',
        "virtual_proxies[0].auth.jwt.leeway: expected a duration",
        "virtual_proxies[0].auth.jwt.key: the file cannot be read",
        "access.seats: unknown key",
        'access.allocations[0]: "alice" is not DIRECTORY\\id',
    ]
    for fragment in expected:
        assert any(fragment in line for line in errors), (fragment, errors)
    assert len(errors) == len(expected), errors
    for line in errors:
        place = line.split(": ", 1)[0]
        file, row, column = place.split(":")
        assert file == "F" and int(row) > 0 and int(column) > 0, line


def test_one_tls_file_missing_is_an_error(tmp_path):
    (tmp_path / "server.pem").write_text("x")
    errors = check_errors(tmp_path, VALID)
    assert len(errors) == 1, errors
    assert errors[0].startswith("F:4:10: listeners[0].tls: "), errors
    assert "server_key.pem is missing" in errors[0]


def test_unknown_auth_method_and_unreadable_yaml(tmp_path):
    errors = check_errors(tmp_path, VALID.replace("method: jwt", "method: saml"))
    assert errors == ['F:14:15: virtual_proxies[0].auth.method: "saml" is not jwt, header or '
                      'ticket']
    errors = check_errors(tmp_path, "listeners: [\n  - name: x\n")
    assert len(errors) == 1 and errors[0].startswith("F:") and "not valid YAML" in errors[0]


def test_missing_file(tmp_path):
    done = run_jotgate("config", "check", tmp_path / "none.yaml")
    assert done.returncode == 1
    assert "none.yaml" in done.stderr


# ${NAME} and ${NAME:-default} in values: docs/configuration.md, "Values from the environment".
def environment(**values):
    """This process's environment with `values` set (None: unset)."""
    env = dict(os.environ)
    for name, value in values.items():
        env.pop(name, None)
        if value is not None:
            env[name] = value
    return env


def test_values_come_from_the_environment(tmp_path):
    text = (VALID.replace("address: 127.0.0.1:8443", "address: 127.0.0.1:${JG_HTTPS_PORT}")
                 .replace("key: signer.pem", "key: ${JG_KEYS:-.}/signer.pem")
                 .replace("mode: allocated", "mode: ${JG_ACCESS_MODE:-allocated}"))
    path = write(tmp_path, text)
    done = run_jotgate("config", "check", path,
                       env=environment(JG_HTTPS_PORT="9443", JG_KEYS=str(tmp_path),
                                       JG_ACCESS_MODE=None))
    assert (done.returncode, done.stdout, done.stderr) == (
        0, f"{path}: OK (2 listeners, 1 virtual proxy)\n", "")
    # The substituted value is validated like a written one.
    errors = check_errors(tmp_path, text, env=environment(
        JG_HTTPS_PORT="9443", JG_KEYS=str(tmp_path), JG_ACCESS_MODE="closed"))
    assert errors == ['F:22:9: access.mode: "closed" is not allocated or open']


def test_unset_and_malformed_references_are_errors_at_their_place(tmp_path):
    text = (VALID.replace("address: 127.0.0.1:8443", "address: 127.0.0.1:${JG_HTTPS_PORT}")
                 .replace("key: signer.pem", 'key: "${JG_KEYS/signer.pem"')
                 .replace("prefix: jwt", "prefix: ${jg-prefix}")
                 .replace("leeway: 60s", "leeway: ${JG_LEEWAY:-soon}"))
    errors = check_errors(tmp_path, text, env=environment(JG_HTTPS_PORT=None, JG_LEEWAY=None))
    assert errors == [
        "F:3:24: listeners[0].address: the environment variable JG_HTTPS_PORT is not set "
        "(${JG_HTTPS_PORT:-default} gives a default)",
        'F:9:13: virtual_proxies[0].prefix: "${jg-prefix}" is not ${NAME} or ${NAME:-default} '
        "(NAME: letters, digits and _, not starting with a digit)",
        'F:16:15: virtual_proxies[0].auth.jwt.key: "${" is not closed by "}" '
        '(a literal "${" is written "$${")',
        # A default is validated like a written value.
        "F:18:17: virtual_proxies[0].auth.jwt.leeway: expected a duration such as 90s, 30m, 8h, "
        "2d or whole seconds",
    ]


def test_double_dollar_is_a_literal_reference(tmp_path):
    path = write(tmp_path, VALID.replace("name: Embedded analytics", "name: cost $${HOME}"))
    done = run_jotgate("config", "check", path, env=environment(HOME=None))
    assert done.returncode == 0, done.stderr


def test_serve_reads_the_admin_token_file_path_from_the_environment(pki, upstream, tmp_path):
    token = "env-admin-token-5d2e8b"
    secrets = tmp_path / "credentials"
    secrets.mkdir()
    (secrets / "admin.token").write_text(token + "\n")
    admin = {"address": "127.0.0.1:0",
             "tls": {"certificate": str(pki.server), "key": str(pki.server_key)},
             "token_file": "${JG_CREDENTIALS}/admin.token"}
    config = gateway_config(pki, upstream.url, http_port=0, admin=admin)
    # As systemd's LoadCredential= hands a service its secrets: a folder named in the environment.
    gw = Gateway.start(tmp_path / "gw", config, env=environment(JG_CREDENTIALS=str(secrets)))
    try:
        sessions = "/api/v1/users/ACME/alice/sessions"
        tls = client_context(pki.ca)
        r = http(gw.admin_port, "GET", sessions, {"Authorization": "Bearer " + token}, tls=tls)
        assert r.status == 200, r
        r = http(gw.admin_port, "GET", sessions, {"Authorization": "Bearer other"}, tls=tls)
        assert r.status == 401, r
    finally:
        assert gw.stop() == 0
    # Unset: serve refuses to start and names the place, as config check does.
    done = run_jotgate("serve", "--config", gw.config_path, env=environment(JG_CREDENTIALS=None))
    assert done.returncode == 1, done.stdout
    row, line = next((row, line) for row, line in
                     enumerate(gw.config_path.read_text().splitlines(), 1) if "token_file" in line)
    assert done.stderr == (
        f"jotgate serve: {gw.config_path} is not valid:\n"
        f"  {gw.config_path}:{row}:{line.index('$') + 1}: admin.token_file: the environment variable JG_CREDENTIALS "
        "is not set (${JG_CREDENTIALS:-default} gives a default)\n")


def test_the_embedded_demo_takes_a_data_dir_with_a_dollar_brace_literally(tmp_path):
    # The demo's configuration is YAML made by the gateway: a path is never a reference.
    data_dir = tmp_path / "data-${JG_UNSET}"
    out = open(tmp_path / "gateway.out", "wb")
    proc = subprocess.Popen([JOTGATE_BIN, "serve", "--data-dir", str(data_dir), "--port", "0"],
                            cwd=tmp_path, stdout=out, stderr=subprocess.PIPE,
                            env=environment(JG_UNSET=None))
    out.close()
    try:
        Gateway(proc, tmp_path, None).wait_for_output(READY)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, proc.stderr.read()
        proc.stderr.close()
    assert (data_dir / "jotgate.db").exists()

def test_ops_section_errors_name_their_place(tmp_path):
    text = VALID + "ops:\n  address: localhost\n  port: 9100\n"
    assert check_errors(tmp_path, text) == [
        "F:26:3: ops.port: unknown key (expected one of: address)",
        'F:25:12: ops.address: "localhost" is not host:port (IPv6: [::1]:9100)',
    ]
    assert check_errors(tmp_path, VALID + "ops: 9100\n") == [
        "F:24:6: ops: expected a mapping"]


def test_ops_section_is_valid(tmp_path):
    path = write(tmp_path, VALID + "ops: { address: \"[::1]:0\" }\n")
    done = run_jotgate("config", "check", path)
    assert done.returncode == 0, done.stderr
