"""The private store servers of tests/e2e/stores.py: each starts on its port, asks for its
password, and an outage (stop, start) keeps the port and the data, as test_scale_out.py needs."""
import os
import subprocess

from gateway_harness import *  # noqa: F401,F403
from stores import *  # noqa: F401,F403
from stores import POSTGRES_BIN


def test_redis_asks_for_its_password_and_keeps_keys_across_an_outage(redis_server):
    anonymous = subprocess.run(["redis-cli", "-p", str(redis_server.port), "GET", "k"],
                               capture_output=True, text=True, timeout=10)
    assert anonymous.stdout.startswith("NOAUTH"), anonymous
    assert redis_server.cli("SET", "k", "v") == "OK"
    port = redis_server.port
    redis_server.stop()
    refused = subprocess.run(["redis-cli", "-p", str(port), "PING"], capture_output=True,
                             text=True, timeout=10)
    assert "Connection refused" in refused.stdout + refused.stderr, refused
    redis_server.start_again()
    assert redis_server.port == port
    assert redis_server.cli("GET", "k") == "v"
    assert redis_server.keys() == ["k"]
    assert redis_server.changes() == 0
    redis_server.cli("SET", "k2", "v")
    assert redis_server.changes() == 1
    assert redis_server.command_calls()["set"] == 1


def test_redis_without_keep_data_loses_its_keys(start_redis):
    redis = start_redis()
    assert redis.session_store() == {"type": "redis", "url": f"redis://127.0.0.1:{redis.port}/0",
                                     "key_prefix": "jotgate:"}
    redis.cli("SET", "k", "v")
    redis.stop(keep_data=False)
    redis.start_again()
    assert redis.keys() == []


def psql_tcp(server, password, statement):
    return subprocess.run([str(POSTGRES_BIN / "psql"), "-X", "-At", "-h", "127.0.0.1", "-p",
                           str(server.port), "-U", server.user, "-d", server.database, "-c",
                           statement], capture_output=True, text=True, timeout=30,
                          env=dict(os.environ, PGPASSWORD=password))


def test_postgres_role_and_database_over_tcp_and_an_outage(postgres_server, tmp_path):
    assert postgres_server.database_section() == {
        "type": "postgresql",
        "url": f"postgresql://jotgate@127.0.0.1:{postgres_server.port}/jotgate",
        "password_file": str(tmp_path / "postgres" / "db.password")}
    assert postgres_server.password_file.read_text() == postgres_server.password + "\n"
    wrong = psql_tcp(postgres_server, "wrong", "SELECT 1")
    assert wrong.returncode == 2
    assert 'password authentication failed for user "jotgate"' in wrong.stderr, wrong
    created = psql_tcp(postgres_server, postgres_server.password,
                       "CREATE TABLE t (v int); INSERT INTO t VALUES (7)")
    assert created.returncode == 0, created.stderr
    port = postgres_server.port
    postgres_server.stop()
    assert not postgres_server.is_ready()
    postgres_server.start_again()
    assert postgres_server.port == port
    again = psql_tcp(postgres_server, postgres_server.password, "SELECT v FROM t")
    assert (again.returncode, again.stdout) == (0, "7\n"), again.stderr
    if os.getuid() == 0:
        assert postgres_server.sql("SELECT current_setting('data_directory')") == str(
            postgres_server.data)
