"""jotgate as a system service: `--version`, the systemd notifications of `serve` (a real unix
datagram socket as NOTIFY_SOCKET, as systemd gives a Type=notify unit), and the unit file
(`systemd-analyze verify`)."""
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import run_jotgate
from gateway_harness import READY, Gateway, gateway_config, pki, start_upstream, upstream  # noqa: F401

SOURCE = pathlib.Path(__file__).resolve().parents[2]
UNIT = SOURCE / "packaging" / "jotgate.service"


def project_version():
    cmake = (SOURCE / "CMakeLists.txt").read_text()
    return re.search(r"project\(jotgate VERSION (\S+)", cmake).group(1)


def test_version_is_the_project_version_and_the_git_revision():
    done = run_jotgate("--version")
    assert done.returncode == 0, done.stderr
    revision = subprocess.run(["git", "-C", str(SOURCE), "rev-parse", "--short=7", "HEAD"],
                              capture_output=True, text=True)
    expected = revision.stdout.strip() if revision.returncode == 0 else "unknown"
    assert done.stdout == f"jotgate {project_version()} (git {expected})\n"


@pytest.fixture
def notify_socket(tmp_path):
    """A unix datagram socket as systemd's NOTIFY_SOCKET, and the messages it receives."""
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(30)
    yield path, sock
    sock.close()


def test_ready_after_the_listening_lines_and_stopping_on_sigterm(pki, upstream, tmp_path,
                                                                notify_socket):
    path, sock = notify_socket
    config = gateway_config(pki, upstream.url, http_port=0)
    gw = Gateway.start(tmp_path / "gw", config, wait=False,
                       env=dict(os.environ, NOTIFY_SOCKET=str(path)))
    try:
        assert sock.recv(4096) == b"READY=1"
        # Told only once listening: the addresses are printed already.
        output = gw.stdout()
        assert "jotgate is listening on:\n  http://127.0.0.1:" in output and READY in output
        gw.proc.send_signal(signal.SIGTERM)
        assert sock.recv(4096) == b"STOPPING=1"
        assert gw.proc.wait(20) == 0
    finally:
        gw.kill()
    sock.settimeout(0.2)
    with pytest.raises(socket.timeout):  # nothing else: one READY, one STOPPING
        sock.recv(4096)


def test_reloading_then_ready_around_a_reload(pki, upstream, tmp_path, notify_socket):
    """Type=notify with ExecReload: RELOADING=1 (with MONOTONIC_USEC) when a reload starts,
    READY=1 when it is over, whether or not it applied."""
    path, sock = notify_socket
    config = gateway_config(pki, upstream.url, http_port=0)
    gw = Gateway.start(tmp_path / "gw", config, env=dict(os.environ, NOTIFY_SOCKET=str(path)))
    try:
        assert sock.recv(4096) == b"READY=1"
        for _ in range(2):
            before = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
            gw.proc.send_signal(signal.SIGHUP)
            message = sock.recv(4096).decode()
            lines = message.split("\n")
            assert lines[0] == "RELOADING=1", message
            assert lines[1].startswith("MONOTONIC_USEC=") and int(lines[1][15:]) >= before, message
            assert sock.recv(4096) == b"READY=1"
            gw.config_path.write_text("listeners: [")  # the second reload fails: READY=1 still
        gw.proc.send_signal(signal.SIGTERM)
        assert sock.recv(4096) == b"STOPPING=1"
        assert gw.proc.wait(20) == 0
    finally:
        gw.kill()


def test_the_packaged_example_configuration_is_valid(tmp_path):
    # packaging/jotgate.yaml with its /etc/jotgate files made, in a folder of its own.
    etc = tmp_path / "etc"
    generated = run_jotgate("certs", "generate", "--out", etc / "tls")
    assert generated.returncode == 0, generated.stderr
    shutil.move(etc / "tls" / "signer.pem", etc / "signer.pem")
    (etc / "admin.token").write_text("a-token\n")
    text = (SOURCE / "packaging" / "jotgate.yaml").read_text()
    config = etc / "jotgate.yaml"
    config.write_text(text.replace("/etc/jotgate", str(etc))
                          .replace("/var/lib/jotgate", str(tmp_path / "state")))
    env = {k: v for k, v in os.environ.items() if k != "CREDENTIALS_DIRECTORY"}
    done = run_jotgate("config", "check", config, env=env)
    assert (done.returncode, done.stdout, done.stderr) == (
        0, f"{config}: OK (1 listener, 1 virtual proxy)\n", "")


SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed (systemd)")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path):
    # verify checks that ExecStart's binary exists: a copy of the unit with the built binary's
    # path in place of /usr/bin/jotgate (the package installs it there).
    from conftest import JOTGATE_BIN
    unit = tmp_path / "jotgate.service"
    text = UNIT.read_text()
    assert "ExecStart=/usr/bin/jotgate serve --config /etc/jotgate/jotgate.yaml\n" in text
    unit.write_text(text.replace("/usr/bin/jotgate", JOTGATE_BIN))
    done = subprocess.run([SYSTEMD_ANALYZE, "verify", "--man=no", str(unit)],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
