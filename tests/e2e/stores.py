"""Private Redis and PostgreSQL servers for the end-to-end tests (the Debian packages
`redis-server` and `postgresql`), each in a temporary folder on a free port, stopped at the end.
stop() and start() again keep the port and the data, to test a store's outage.

    redis = RedisServer.start(tmp_path / "redis", password="pw")   # or the fixture redis_server
    config["session_store"] = redis.session_store()                # {type: redis, url, ...}
    redis.stop(); ...; redis.start()                               # an outage, same port, same keys
"""
import os
import pathlib
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from gateway_harness import free_port, stopped_after

REDIS_SERVER = "/usr/bin/redis-server"
REDIS_CLI = "/usr/bin/redis-cli"
POSTGRES_BIN = pathlib.Path("/usr/lib/postgresql/15/bin")
START_TIMEOUT = 30
# PostgreSQL refuses to run as root: when the tests do, it runs as this system user (the
# `postgresql` package creates it).
POSTGRES_USER = "postgres"


def _wait(ready, what, proc, log):
    """Returns once `ready()` is true; fails when `proc` exits first or after START_TIMEOUT."""
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{_tail(log)}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not answer within {START_TIMEOUT}s:\n{_tail(log)}")
        time.sleep(0.05)


def _tail(path, size=3000):
    try:
        return pathlib.Path(path).read_text(errors="replace")[-size:]
    except OSError:
        return ""


def _stop_process(proc, sig, timeout=20):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ----------------------------------------------------------------------------- Redis
class RedisServer:
    """`redis-server` on 127.0.0.1:port, no persistence of its own (`--save ''`, no AOF), its
    folder `dir`; `password`: requirepass (also written to `password_file`)."""

    def __init__(self, folder, port, password):
        self.dir, self.port, self.password = pathlib.Path(folder), port, password
        self.proc = None
        self.password_file = None
        if password is not None:
            self.password_file = self.dir / "redis.password"
            self.password_file.write_text(password + "\n")
            self.password_file.chmod(0o600)

    @classmethod
    def start(cls, folder, password=None, port=None):
        """A running server; without `port`, a free one (another is tried if it was taken)."""
        folder = pathlib.Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for attempt in range(3):
            server = cls(folder, port or free_port(), password)
            try:
                return server.start_again()
            except RuntimeError:
                if port is not None or attempt == 2 or "Address already in use" not in _tail(
                        server.log):
                    raise

    @property
    def log(self):
        return self.dir / "redis.log"

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def session_store(self, key_prefix="jotgate:"):
        """The gateway's `session_store` section for this server."""
        section = {"type": "redis", "url": self.url, "key_prefix": key_prefix}
        if self.password_file is not None:
            section["password_file"] = str(self.password_file)
        return section

    def start_again(self):
        """Starts the server on its port; the keys of the last stop(keep_data=True) come back."""
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.dir), "--logfile", str(self.log),
                "--daemonize", "no"]
        if self.password is not None:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        _wait(self.answers_ping, f"redis-server on port {self.port}", self.proc, self.log)
        return self

    def answers_ping(self):
        done = self.cli_run("PING")
        return done.returncode == 0 and done.stdout.strip() == "PONG"

    def cli_run(self, *args):
        env = dict(os.environ)
        if self.password is not None:
            env["REDISCLI_AUTH"] = self.password  # not on the command line, where ps shows it
        return subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(self.port), *map(str, args)],
                              capture_output=True, text=True, timeout=30, env=env)

    def cli(self, *args):
        """`redis-cli ARGS...` against this server: its output, stripped."""
        done = self.cli_run(*args)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def info(self, section):
        """`INFO section` as {field: text}."""
        fields = {}
        for line in self.cli("INFO", section).splitlines():
            if ":" in line and not line.startswith("#"):
                key, value = line.split(":", 1)
                fields[key] = value
        return fields

    def command_calls(self):
        """{command: calls} from `INFO commandstats` (lower case, e.g. "get", "set")."""
        calls = {}
        for key, value in self.info("commandstats").items():
            stats = dict(item.split("=", 1) for item in value.split(","))
            calls[key.removeprefix("cmdstat_")] = int(stats["calls"])
        return calls

    def changes(self):
        """How many writes changed the data set since the start (`rdb_changes_since_last_save`:
        with `--save ''` nothing resets it but stop(keep_data=True))."""
        return int(self.info("persistence")["rdb_changes_since_last_save"])

    def keys(self, pattern="*"):
        output = self.cli("--scan", "--pattern", pattern)
        return sorted(output.splitlines()) if output else []

    def stop(self, keep_data=True):
        """Stops the server. keep_data: `SHUTDOWN SAVE` writes dump.rdb, which the next start
        reads, so the stored sessions survive the outage; otherwise SIGKILL, and they are gone."""
        if self.proc is None or self.proc.poll() is not None:
            return
        if keep_data:
            self.cli_run("SHUTDOWN", "SAVE")
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                pass
        else:
            (self.dir / "dump.rdb").unlink(missing_ok=True)
        _stop_process(self.proc, signal.SIGKILL)

    def close(self):
        self.stop(keep_data=False)


# ----------------------------------------------------------------------------- PostgreSQL
class PostgresServer:
    """A PostgreSQL 15 cluster of its own (initdb), `postgres` on 127.0.0.1:port with its socket
    in the same folder, a database `database` owned by the role `user` with `password`
    (scram-sha-256 over TCP; the superuser `postgres` over the socket only). As root, the folder
    belongs to the `postgres` system user and the server runs as it."""

    def __init__(self, folder, port, user, password, database, password_folder):
        self.dir, self.port = pathlib.Path(folder), port
        self.user, self.password, self.database = user, password, database
        self.data = self.dir / "data"
        self.socket_dir = self.dir / "socket"
        self.proc = None
        self.password_file = pathlib.Path(password_folder) / "db.password"
        self.password_file.write_text(password + "\n")
        self.password_file.chmod(0o600)

    @classmethod
    def start(cls, password_folder, user="jotgate", password="db-secret-5c1e",
              database="jotgate"):
        """initdb, start, create the role and database; `password_folder` receives db.password."""
        password_folder = pathlib.Path(password_folder)
        password_folder.mkdir(parents=True, exist_ok=True)
        # Not under pytest's folder: the server's user must reach it, and the socket path must
        # stay under the 107 bytes of sun_path.
        folder = pathlib.Path(tempfile.mkdtemp(prefix="jotgate-pg-"))
        server = cls(folder, free_port(), user, password, database, password_folder)
        server.socket_dir.mkdir()
        if os.getuid() == 0:
            account = pwd.getpwnam(POSTGRES_USER)
            for path in (folder, server.socket_dir):
                os.chown(path, account.pw_uid, account.pw_gid)
        init = server._as_server_user(
            [str(POSTGRES_BIN / "initdb"), "-D", str(server.data), "-U", "postgres",
             "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync"])
        done = subprocess.run(init, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            server._remove()
            raise RuntimeError(f"initdb failed:\n{done.stdout}{done.stderr}")
        for attempt in range(3):
            try:
                server.start_again()
                break
            except RuntimeError:
                if attempt == 2 or "Address already in use" not in _tail(server.log):
                    server._remove()
                    raise
                server.port = free_port()
        quoted = password.replace("'", "''")
        server.sql(f"CREATE ROLE {user} LOGIN PASSWORD '{quoted}'")
        server.sql(f"CREATE DATABASE {database} OWNER {user}")
        return server

    @property
    def log(self):
        return self.dir / "postgres.log"

    @property
    def url(self):
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def database_section(self):
        """The gateway's `database` section for this server."""
        return {"type": "postgresql", "url": self.url, "password_file": str(self.password_file)}

    def _as_server_user(self, args):
        return ["runuser", "-u", POSTGRES_USER, "--", *args] if os.getuid() == 0 else args

    def start_again(self):
        """Starts the server on its port (after stop(): the same data)."""
        command = self._as_server_user(
            [str(POSTGRES_BIN / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-k", str(self.socket_dir), "-c", "listen_addresses=127.0.0.1",
             "-c", "fsync=off", "-c", "full_page_writes=off"])
        # postgres writes its log on stderr; the file is opened by us, then handed over.
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=log)
        _wait(self.is_ready, f"postgres on port {self.port}", self.proc, self.log)
        return self

    def is_ready(self):
        done = subprocess.run([str(POSTGRES_BIN / "pg_isready"), "-q", "-h", str(self.socket_dir),
                               "-p", str(self.port)], capture_output=True, timeout=30)
        return done.returncode == 0

    def sql(self, statement, database="postgres"):
        """Runs `statement` as the superuser over the socket; the rows, `|`-separated lines."""
        done = subprocess.run(
            [str(POSTGRES_BIN / "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
             "-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres", "-d", database,
             "-c", statement], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def _postmaster_pid(self):
        try:
            return int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def stop(self):
        """A fast shutdown (SIGINT to the postmaster): connections are closed, data kept."""
        if self.proc is None or self.proc.poll() is not None:
            return
        pid = self._postmaster_pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGINT)  # runuser does not pass SIGINT on
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
            _stop_process(self.proc, signal.SIGKILL)

    def close(self):
        self.stop()
        self._remove()

    def _remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


# ----------------------------------------------------------------------------- fixtures
# Test files do `from stores import *` to get these (with gateway_harness' fixtures).
@pytest.fixture
def start_redis(tmp_path):
    """start_redis(name="redis", password=None) -> RedisServer in tmp_path/name."""
    yield from stopped_after(
        lambda name="redis", password=None: RedisServer.start(tmp_path / name, password), "close")


@pytest.fixture
def redis_server(start_redis):
    """A private redis-server with a password (requirepass; `password_file` for the gateway)."""
    return start_redis(password="redis-secret-" + os.urandom(6).hex())


@pytest.fixture
def start_postgres(tmp_path):
    """start_postgres() -> PostgresServer; db.password in tmp_path/<name>."""
    yield from stopped_after(lambda name="postgres": PostgresServer.start(tmp_path / name),
                             "close")


@pytest.fixture
def postgres_server(start_postgres):
    """A private PostgreSQL with the database `jotgate` owned by the role `jotgate`."""
    return start_postgres()


__all__ = ["RedisServer", "PostgresServer", "start_redis", "redis_server", "start_postgres",
           "postgres_server"]
