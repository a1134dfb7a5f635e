"""Access data in PostgreSQL (`database: {type: postgresql}`) with the real binary and a private
PostgreSQL 15 server: `jotgate access grant` and `jotgate revoke` against the configured database
apply in the running gateway within a second; with the server stopped, the allocations last read
keep applying, the commands fail with a clear error (exit 1), /readyz reports it, and the gateway
recovers once the server is back. A minimal local server fixture (tests/e2e/stores.py, with the
cluster tests' fixtures, replaces it once on main)."""
import os
import pathlib
import pwd
import shutil
import subprocess
import time

import pytest

from gateway_harness import *  # noqa: F401,F403
from test_revocation import within

PG_BIN = pathlib.Path("/usr/lib/postgresql/15/bin")
APPLIED_WITHIN = 1.5  # seconds: NOTIFY wakes the gateway at once; a margin for a loaded machine


class Postgres:
    """initdb + pg_ctl in `folder` on a free port; as the `postgres` user (or nobody) when root."""

    def __init__(self, folder):
        self.folder = folder
        self.port = free_port()
        self.user = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
                self.user = "postgres"
            except KeyError:
                self.user = "nobody"
            entry = pwd.getpwnam(self.user)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        self.run(f"{PG_BIN}/initdb --no-sync -A trust -U postgres -E UTF8 -D {folder}/data")
        self.start()
        subprocess.run(["psql", "-q", "-h", str(folder), "-p", str(self.port), "-U", "postgres",
                        "-c", "CREATE DATABASE jotgate"], check=True)

    def run(self, command):
        line = ["sh", "-c", command]
        if self.user:
            line = ["runuser", "-u", self.user, "--"] + line
        subprocess.run(line, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self):
        self.run(f"{PG_BIN}/pg_ctl -w -D {self.folder}/data -l {self.folder}/server.log "
                 f"-o '-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off' "
                 "start")

    def stop(self):
        self.run(f"{PG_BIN}/pg_ctl -w -m immediate -D {self.folder}/data stop")

    @property
    def url(self):
        return f"postgresql://postgres@127.0.0.1:{self.port}/jotgate"


@pytest.fixture
def postgres(tmp_path_factory):
    if not (PG_BIN / "initdb").exists():
        pytest.skip("PostgreSQL 15 is not installed: scripts/install-deps installs postgresql")
    folder = pathlib.Path(f"/tmp/jotgate-e2e-pg-{os.getpid()}-{time.monotonic_ns()}")
    folder.mkdir()
    server = Postgres(folder)
    yield server
    try:
        server.stop()
    except subprocess.CalledProcessError:
        pass  # stopped by the test
    shutil.rmtree(folder, ignore_errors=True)


def get(gw, token):
    return http(gw.port, "GET", "/jwt/x", {"Authorization": "Bearer " + token,
                                           "Accept": "application/json"})


def postgres_config(pki, upstream, postgres):
    config = gateway_config(pki, upstream.url, http_port=0, ops={"address": "127.0.0.1:0"})
    config["access"] = {"mode": "allocated"}
    config["database"] = {"type": "postgresql", "url": postgres.url}
    return config


def test_grants_and_revocations_from_the_cli_apply_in_the_gateway(pki, upstream, start_gateway,
                                                                  postgres, tmp_path):
    config = postgres_config(pki, upstream, postgres)
    config_path = tmp_path / "pg.yaml"
    config_path.write_text(json.dumps(config))  # JSON is YAML

    granted = run_jotgate("access", "grant", "--config", config_path, "ACME\\alice")
    assert (granted.returncode, granted.stdout) == (0, "Granted ACME\\alice\n"), granted
    assert not (tmp_path / "jotgate-data" / "jotgate.db").exists()  # not SQLite

    gw = start_gateway(config)
    alice = mint(pki, user="alice")
    assert get(gw, alice).status == 200
    bob = mint(pki, user="bob")
    denied = get(gw, bob)
    assert denied.status == 403, denied
    assert denied.json()["error"] == "ACCESS_DENIED"

    done = run_jotgate("access", "grant", "--config", gw.config_path, "ACME\\bob")
    assert done.returncode == 0, done.stderr
    assert within(APPLIED_WITHIN, lambda: get(gw, bob), 200).status == 200

    done = run_jotgate("revoke", "--config", gw.config_path, "--user", "ACME\\alice")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Revoked user ACME\\alice (revocation 1)"), done.stdout
    refused = within(APPLIED_WITHIN, lambda: get(gw, alice), 401)
    assert refused.status == 401, refused
    assert refused.json()["error"] == "TOKEN_REVOKED"

    done = run_jotgate("access", "revoke", "--config", gw.config_path, "ACME\\bob")
    assert done.returncode == 0, done.stderr
    assert within(APPLIED_WITHIN, lambda: get(gw, bob), 403).status == 403
    listed = run_jotgate("access", "list", "--config", gw.config_path)
    assert listed.stdout.splitlines()[-1] == "1 allocation, 0 auto-allocated seats used", listed


def test_server_down_keeps_the_allocations_and_reports_it(pki, upstream, start_gateway, postgres):
    gw = start_gateway(postgres_config(pki, upstream, postgres))
    assert run_jotgate("access", "grant", "--config", gw.config_path, "ACME\\alice").returncode == 0
    alice = mint(pki, user="alice")
    assert within(APPLIED_WITHIN, lambda: get(gw, alice), 200).status == 200
    ready = http(gw.ops_port, "GET", "/readyz")
    assert (ready.status, ready.text) == (200, "ready\n")

    postgres.stop()
    problem = within(10, lambda: http(gw.ops_port, "GET", "/readyz"), 503)
    assert problem.status == 503, problem
    problems = problem.json()["problems"]
    assert [(p["component"], p["name"]) for p in problems] == [("database", "postgresql")]
    assert problems[0]["problem"].startswith("unreachable (database unavailable: "), problems
    assert get(gw, alice).status == 200  # the allocations last read still apply

    failed = run_jotgate("access", "grant", "--config", gw.config_path, "ACME\\bob")
    assert failed.returncode == 1, failed
    assert "database unavailable: " in failed.stderr, failed.stderr
    failed = run_jotgate("revoke", "--config", gw.config_path, "--user", "ACME\\alice")
    assert failed.returncode == 1, failed
    assert "database unavailable: " in failed.stderr, failed.stderr

    postgres.start()
    ready = within(15, lambda: http(gw.ops_port, "GET", "/readyz"), 200)
    assert (ready.status, ready.text) == (200, "ready\n")
    assert run_jotgate("access", "grant", "--config", gw.config_path, "ACME\\bob").returncode == 0
    assert within(APPLIED_WITHIN, lambda: get(gw, mint(pki, user="bob")), 200).status == 200
