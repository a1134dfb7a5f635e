"""`jotgate config check`: a valid file passes with a summary; each kind of mistake is reported
on standard error with file:line:column and its YAML path, all of them in one run."""
import shutil

from conftest import TEST_DATA, run_jotgate

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


def check_errors(tmp_path, text):
    path = write(tmp_path, text)
    done = run_jotgate("config", "check", path)
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
