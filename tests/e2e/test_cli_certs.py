"""`jotgate certs generate` end to end: files and modes, chains checked by `openssl verify`, a real
TLS handshake with the result, the signer pair used by `jotgate token`, and no overwriting."""
import datetime
import hashlib
import json
import os
import socket
import ssl
import stat
import subprocess
import threading

import pytest
from cryptography import x509

from conftest import run_jotgate

NAMES = ["ca.pem", "ca_key.pem", "server.pem", "server_key.pem", "signer.pem", "signer_key.pem"]
PRIVATE = {"ca_key.pem", "server_key.pem", "signer_key.pem"}


def digests(folder):
    """File name -> SHA-256 of its bytes (compared instead of contents: no key text in failures)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}


def generate(out, *args):
    return run_jotgate("certs", "generate", "--out", out, *args)


@pytest.fixture
def bundle(tmp_path):
    out = tmp_path / "certs"
    result = generate(out)
    assert result.returncode == 0, result.stderr
    return out, result


def openssl_verify(*args):
    return subprocess.run(["openssl", "verify", *map(str, args)], capture_output=True, text=True)


def test_help_has_examples():
    for command in (["certs"], ["certs", "generate"]):
        result = run_jotgate(*command, "--help")
        assert result.returncode == 0, result.stderr
        assert "Examples:" in result.stdout and "jotgate certs generate --out" in result.stdout


def test_writes_six_pem_files_with_private_keys_0600(bundle):
    out, result = bundle
    assert sorted(p.name for p in out.iterdir()) == sorted(NAMES)
    for name in NAMES:
        mode = stat.S_IMODE(os.stat(out / name).st_mode)
        if name in PRIVATE:
            assert mode == 0o600, (name, oct(mode))
            # Compare a prefix only, so a failure never shows key material.
            assert (out / name).read_bytes()[:27] == b"-----BEGIN PRIVATE KEY-----", name
        else:
            assert mode & 0o077 == 0o044 or mode == 0o644, (name, oct(mode))
            assert (out / name).read_bytes()[:27] == b"-----BEGIN CERTIFICATE-----", name
    # It says what it wrote and what to do next, and prints no key material.
    for name in NAMES:
        assert str(out / name) in result.stdout
    assert "jotgate token sign --key " + str(out / "signer_key.pem") in result.stdout
    assert "PRIVATE KEY" not in result.stdout + result.stderr


def test_openssl_verifies_the_chain(bundle):
    out, _ = bundle
    result = openssl_verify("-CAfile", out / "ca.pem", out / "server.pem", out / "signer.pem")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": OK") == 2
    result = openssl_verify("-CAfile", out / "ca.pem", "-purpose", "sslserver", out / "server.pem")
    assert result.returncode == 0, result.stdout + result.stderr


def test_chain_does_not_verify_against_another_ca(bundle, tmp_path):
    out, _ = bundle
    other = tmp_path / "other"
    assert generate(other).returncode == 0
    result = openssl_verify("-CAfile", other / "ca.pem", out / "server.pem")
    assert result.returncode != 0


def test_server_certificate_names_and_usage(tmp_path):
    out = tmp_path / "c"
    assert generate(out, "--cn", "gate.example.test", "--days", "10").returncode == 0
    cert = x509.load_pem_x509_certificate((out / "server.pem").read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["gate.example.test", "localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    ca = x509.load_pem_x509_certificate((out / "ca.pem").read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    lifetime = cert.not_valid_after - datetime.datetime.utcnow()  # naive UTC (cryptography 38)
    assert datetime.timedelta(days=9) < lifetime <= datetime.timedelta(days=10)


def test_real_tls_handshake_with_the_generated_certificates(bundle):
    out, _ = bundle
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(out / "server.pem", out / "server_key.pem")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]

    def serve(count):
        for _ in range(count):
            conn, _ = listener.accept()
            try:
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"hello")
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=serve, args=(3,), daemon=True)
    thread.start()
    client_ctx = ssl.create_default_context(cafile=str(out / "ca.pem"))
    for host in ("localhost", "127.0.0.1"):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with client_ctx.wrap_socket(raw, server_hostname=host) as tls:
                assert tls.recv(5) == b"hello"
    # A name the certificate does not carry fails the handshake.
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            client_ctx.wrap_socket(raw, server_hostname="evil.example.test")
    thread.join(timeout=10)
    listener.close()


def test_signer_pair_signs_and_verifies_tokens(bundle):
    out, _ = bundle
    signed = run_jotgate("token", "sign", "--key", out / "signer_key.pem",
                         "--claim", "userId=alice", "--claim", "userDirectory=ACME")
    assert signed.returncode == 0, signed.stderr
    verified = run_jotgate("token", "verify", "--key", out / "signer.pem", "-", input=signed.stdout)
    assert verified.returncode == 0, verified.stderr
    assert json.loads(verified.stdout)["user"] == {"directory": "ACME", "id": "alice"}
    # The TLS server key is not the token signer.
    wrong = run_jotgate("token", "verify", "--key", out / "server.pem", "--alg", "ES256", "-",
                        input=signed.stdout)
    assert wrong.returncode == 1


def test_refuses_to_overwrite_without_force(bundle):
    out, _ = bundle
    before = digests(out)
    result = generate(out)
    assert result.returncode == 1
    assert result.stderr.startswith("jotgate certs generate: FILE_EXISTS: ")
    assert "--force" in result.stderr
    assert digests(out) == before


def test_one_existing_file_blocks_all_six(tmp_path):
    out = tmp_path / "c"
    out.mkdir()
    (out / "signer_key.pem").write_text("keep me")
    result = generate(out)
    assert result.returncode == 1
    assert "signer_key.pem" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["signer_key.pem"]
    assert (out / "signer_key.pem").read_text() == "keep me"


def test_force_overwrites_everything(bundle):
    out, _ = bundle
    before = digests(out)
    os.chmod(out / "server_key.pem", 0o644)
    result = generate(out, "--force")
    assert result.returncode == 0, result.stderr
    after = digests(out)
    assert sorted(after) == sorted(NAMES), "no temporary files left behind"
    for name in NAMES:
        assert after[name] != before[name], name
    assert stat.S_IMODE(os.stat(out / "server_key.pem").st_mode) == 0o600
    result = openssl_verify("-CAfile", out / "ca.pem", out / "server.pem", out / "signer.pem")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("args,words", [
    (["--cn", "two words"], ["two words"]),
    (["--cn", "a.test,DNS:evil.test"], ["evil"]),
    (["--days", "0"], ["--days"]),
    (["--days", "many"], ["--days"]),
])
def test_usage_errors_write_nothing(tmp_path, args, words):
    out = tmp_path / "c"
    result = generate(out, *args)
    assert result.returncode == 2, result.stderr
    for word in words:
        assert word in result.stderr
    assert not out.exists() or list(out.iterdir()) == []


def test_out_is_required():
    result = run_jotgate("certs", "generate")
    assert result.returncode == 2
    assert "--out" in result.stderr
