"""Scale out (issue 14): two gateway nodes, the same configuration but for their ports and
data_dir, sessions and tickets in one private redis-server (`session_store`), access data in one
private PostgreSQL (`database`), one upstream. A session, a ticket, a logout, a deleted session,
a revocation, a grant and the auto seats are the cluster's, not a node's; changes reach the other
node within a second; a Redis outage answers 503 SESSION_STORE_UNAVAILABLE (never 401) and heals
without a restart; a node killed with SIGKILL loses no session; a busy user does not write to
Redis on every request."""
import json
import threading
import time
import urllib.parse

import pytest

from gateway_harness import *  # noqa: F401,F403
from gateway_harness import READY
from stores import *  # noqa: F401,F403

COOKIE = "X-Jotgate-Session-jwt"
ADMIN_TOKEN = "admin-token-scale-out-41c9"
ALICE = "UserDirectory=ACME; UserId=alice"
NO_CREDENTIALS = "Could not authenticate the request: Expected an authentication header"
REVOKED_BODY = {"error": "TOKEN_REVOKED",
                "message": "Could not authenticate the request: the token has been revoked"}
REVOKED_CHALLENGE = 'Bearer error="invalid_token", error_description="the token has been revoked"'
JSON = {"Accept": "application/json"}
# A change made through one node is refused or applied on the other within this (issue 14, 2).
PROPAGATION = 1.0
# /readyz's problem entry for each store (docs/operations.md, "Not ready").
SESSION_STORE_COMPONENT = "session_store"
DATABASE_COMPONENT = "database"


def denied(user):
    return f"Access denied: ACME\\{user} has no access allocation"


# ----------------------------------------------------------------------------- the cluster
class Cluster:
    """Nodes `a` and `b` on one Redis and one PostgreSQL; `start_node` starts one more (a
    restart) on the same configuration with a data_dir of its own."""

    def __init__(self, pki, upstream, redis, postgres, start_gateway, tmp_path, **overrides):
        self.pki, self.upstream, self.redis, self.postgres = pki, upstream, redis, postgres
        self._start_gateway = start_gateway
        token_file = tmp_path / "admin.token"
        token_file.write_text(ADMIN_TOKEN + "\n")
        admin = {"address": "127.0.0.1:0",
                 "tls": {"certificate": str(pki.server), "key": str(pki.server_key)},
                 "token_file": str(token_file)}
        access = overrides.pop("access", None)
        self.config = gateway_config(pki, upstream.url, http_port=0, admin=admin,
                                     ops={"address": "127.0.0.1:0"}, **overrides)
        if access is not None:
            self.config["access"] = access
        self.config["session_store"] = redis.session_store()
        self.config["database"] = postgres.database_section()
        self.nodes = []
        # Both at once: the schema is created by whichever node comes first, safely.
        self.a, self.b = self.start_nodes("a", "b")

    def start_nodes(self, *names):
        started = [self._start_gateway(self.config, name=name, wait=False) for name in names]
        for gw in started:
            try:
                gw.listener_ports, gw.admin_port, gw.ops_port = printed_ports(
                    gw.wait_for_output(READY))
            except Exception as e:
                for other in started:
                    other.kill()
                raise AssertionError(f"{e}\nstdout:\n{gw.stdout()}\nstderr:\n{gw.stderr()}")
        self.nodes += started
        return started

    def start_node(self, name):
        return self.start_nodes(name)[0]

    def api(self, node, method, path, body=None):
        headers = {"Authorization": "Bearer " + ADMIN_TOKEN}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return http(node.admin_port, method, path, headers,
                    None if body is None else json.dumps(body), tls=client_context(self.pki.ca))

    def secrets(self):
        return [self.redis.password, self.postgres.password, ADMIN_TOKEN]


@pytest.fixture
def start_cluster(pki, upstream, redis_server, postgres_server, start_gateway, tmp_path):
    """start_cluster(**vp_overrides, access=...) -> Cluster. At the end: no node wrote a
    password or the admin token (gateways stop before the stores)."""
    clusters = []

    def start(**overrides):
        cluster = Cluster(pki, upstream, redis_server, postgres_server, start_gateway, tmp_path,
                          **overrides)
        clusters.append(cluster)
        return cluster

    yield start
    for cluster in clusters:
        for node in cluster.nodes:
            output = node.output()
            for secret in cluster.secrets():
                assert secret not in output, f"a secret in the output of {node.dir.name}"


@pytest.fixture
def cluster(start_cluster):
    return start_cluster(auth={"jwt": {"forward_claims": {"groups": "X-Groups"}}})


def sign_in(node, pki, user="alice", **claims):
    r = http(node.port, "GET", "/jwt/x", bearer(mint(pki, user=user, **claims)))
    assert r.status == 200, r
    cookie = r.cookie(COOKIE)
    assert cookie, r
    return cookie


def with_cookie(node, cookie, path="/jwt/x", **headers):
    return http(node.port, "GET", path, {"Cookie": f"{COOKIE}={cookie}", **headers})


def first_answer(request, status, limit=PROPAGATION):
    """Asks `request()` every 20 ms until it answers `status` (or for limit + 2 s). Returns that
    answer (or the last) and when its request was sent, in seconds since the call."""
    start = time.monotonic()
    while True:
        sent = time.monotonic() - start
        r = request()
        if r.status == status or sent > limit + 2:
            return r, sent
        time.sleep(0.02)


def assert_within_propagation(r, sent, status):
    assert r.status == status, r
    assert sent <= PROPAGATION, f"applied {sent:.2f}s after the change (at most {PROPAGATION}s)"


def assert_no_credentials(r):
    assert r.status == 401, r
    assert r.text == NO_CREDENTIALS, r


def wait_until(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout}s")
        time.sleep(0.05)


# ----------------------------------------------------------------------------- sessions
def test_a_session_signed_in_on_one_node_works_on_the_other(cluster, pki, upstream):
    cookie = sign_in(cluster.a, pki, groups=["g1", "g2"])
    for node in (cluster.b, cluster.a):
        r = with_cookie(node, cookie, "/jwt/page")
        assert r.status == 200, r
        assert r.set_cookie(COOKIE) is None  # the same session, not a new one
        assert r.upstream_header("X-Jotgate-User") == ALICE
        assert r.upstream_header("X-Groups") == "g1,g2"
    me = with_cookie(cluster.b, cookie, "/jwt/.auth/me")
    assert me.status == 200, me
    assert (me.json()["userDirectory"], me.json()["userId"]) == ("ACME", "alice"), me
    # Stored in Redis under the configured prefix only; the cookie value is not logged.
    keys = cluster.redis.keys()
    assert keys and all(k.startswith("jotgate:") for k in keys), keys
    for node in cluster.nodes:
        assert cookie not in node.output()


def test_a_session_made_by_the_admin_api_of_one_node_works_on_the_other(cluster):
    created = cluster.api(cluster.a, "POST", "/api/v1/virtual-proxies/jwt/sessions",
                          {"userDirectory": "ACME", "userId": "alice"})
    assert created.status == 201, created
    sid = created.json()["sessionId"]
    r = with_cookie(cluster.b, sid)
    assert r.status == 200, r
    assert r.upstream_header("X-Jotgate-User") == ALICE
    found = cluster.api(cluster.b, "GET", f"/api/v1/virtual-proxies/jwt/sessions/{sid}")
    assert found.status == 200, found
    assert found.json()["sessionId"] == sid and found.json()["userId"] == "alice"


def test_logout_on_one_node_is_refused_on_the_other_within_a_second(cluster, pki):
    cookie = sign_in(cluster.a, pki)
    assert with_cookie(cluster.a, cookie).status == 200  # node a may now cache it
    assert with_cookie(cluster.b, cookie).status == 200
    r = http(cluster.b.port, "POST", "/jwt/.auth/logout", {"Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 204, r
    r, sent = first_answer(lambda: with_cookie(cluster.a, cookie), 401)
    assert_within_propagation(r, sent, 401)
    assert_no_credentials(r)
    assert_no_credentials(with_cookie(cluster.b, cookie))
    assert with_cookie(cluster.a, cookie, "/jwt/.auth/me").status == 401


def test_a_session_deleted_through_one_node_is_refused_on_the_other_within_a_second(cluster,
                                                                                    pki):
    cookie = sign_in(cluster.b, pki)
    one = f"/api/v1/virtual-proxies/jwt/sessions/{urllib.parse.quote(cookie, safe='')}"
    found = cluster.api(cluster.a, "GET", one)
    assert found.status == 200, found
    assert found.json()["userId"] == "alice"
    assert with_cookie(cluster.b, cookie).status == 200  # node b may now cache it
    assert cluster.api(cluster.a, "DELETE", one).status == 204
    r, sent = first_answer(lambda: with_cookie(cluster.b, cookie), 401)
    assert_within_propagation(r, sent, 401)
    assert_no_credentials(r)
    gone = cluster.api(cluster.b, "GET", one)
    assert gone.status == 404 and gone.json()["error"] == "SESSION_NOT_FOUND", gone


def test_a_node_killed_with_sigkill_loses_no_session(cluster, pki, upstream):
    cookie = sign_in(cluster.a, pki)
    cluster.a.kill()  # SIGKILL at once: nothing saved on the way out
    assert with_cookie(cluster.b, cookie).status == 200
    # Started again on the same configuration; an empty data_dir of its own, so only the
    # shared store can know the session.
    again = cluster.start_node("a-again")
    r = with_cookie(again, cookie, "/jwt/after")
    assert r.status == 200, r
    assert r.set_cookie(COOKIE) is None
    assert r.upstream_header("X-Jotgate-User") == ALICE


def test_a_busy_user_does_not_write_to_redis_on_each_request(cluster, pki):
    cookie = sign_in(cluster.a, pki)
    writes, calls = cluster.redis.changes(), data_commands(cluster.redis)
    connections = {node: connection(node.port) for node in (cluster.a, cluster.b)}
    for i in range(50):
        node = cluster.a if i % 2 == 0 else cluster.b
        r = http(node.port, "GET", f"/jwt/busy/{i}", {"Cookie": f"{COOKIE}={cookie}"},
                 conn=connections[node])
        assert r.status == 200, r
    for conn in connections.values():
        conn.close()
    written = cluster.redis.changes() - writes
    # A sliding extension is written at most every tenth of inactivity_timeout (30m: 3 min).
    assert written <= 2, f"{written} writes to Redis for 50 requests of one session"
    # At most one round trip per request that misses a node's cache.
    asked = data_commands(cluster.redis) - calls
    assert asked <= 50, f"{asked} Redis commands for 50 requests"


def data_commands(redis):
    """Commands served so far, but for those of redis-cli itself."""
    own = {"info", "auth", "hello", "command", "client"}
    return sum(n for name, n in redis.command_calls().items() if name not in own)


def test_sliding_inactivity_is_shared_by_the_nodes(start_cluster, pki):
    cluster = start_cluster(session={"inactivity_timeout": "3s"})
    cookie = sign_in(cluster.a, pki)
    # Busy for twice the timeout, alternating nodes: every request extends the one session.
    deadline = time.monotonic() + 6
    i = 0
    while time.monotonic() < deadline:
        node = (cluster.a, cluster.b)[i % 2]
        r = with_cookie(node, cookie)
        assert r.status == 200, (i, r)
        i += 1
        time.sleep(0.25)
    time.sleep(3.5)  # idle past the timeout: Redis expired it
    for node in (cluster.a, cluster.b):
        assert_no_credentials(with_cookie(node, cookie))


# ----------------------------------------------------------------------------- tickets
def issue_ticket(cluster, node, user="alice"):
    r = cluster.api(node, "POST", "/api/v1/virtual-proxies/jwt/tickets",
                    {"userDirectory": "ACME", "userId": user})
    assert r.status == 201, r
    return r.json()["ticket"]


def test_a_ticket_issued_by_one_node_is_redeemed_once_on_the_other(cluster):
    ticket = issue_ticket(cluster, cluster.a)
    r = http(cluster.b.port, "GET", f"/jwt/app?a=1&jotgateTicket={ticket}")
    assert r.status == 303, r
    location = urllib.parse.urlsplit(r.header("Location"))
    assert (location.path, location.query) == ("/jwt/app", "a=1"), r
    cookie = r.cookie(COOKIE)
    assert cookie, r
    for node in (cluster.b, cluster.a):
        page = with_cookie(node, cookie, "/jwt/app?a=1")
        assert page.status == 200, page
        assert page.upstream_header("X-Jotgate-User") == ALICE
    for node in (cluster.a, cluster.b):
        again = http(node.port, "GET", f"/jwt/app?jotgateTicket={ticket}", JSON)
        assert again.status == 401, again
        assert again.json()["error"] == "TICKET_INVALID"
        assert again.cookie(COOKIE) is None


def test_a_ticket_sent_to_both_nodes_at_once_is_redeemed_once(cluster):
    ticket = issue_ticket(cluster, cluster.a)
    nodes = [cluster.a, cluster.b] * 5
    barrier = threading.Barrier(len(nodes))
    statuses = [None] * len(nodes)

    def redeem(i):
        conn = connection(nodes[i].port)
        conn.connect()
        barrier.wait()
        statuses[i] = http(nodes[i].port, "GET", f"/jwt/x?jotgateTicket={ticket}", JSON,
                           conn=conn).status
        conn.close()

    threads = [threading.Thread(target=redeem, args=(i,)) for i in range(len(nodes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [303] + [401] * (len(nodes) - 1), statuses


# ----------------------------------------------------------------------------- Redis outage
def test_redis_down_is_503_session_store_unavailable_and_heals_without_a_restart(
        cluster, pki, upstream):
    cookie = sign_in(cluster.a, pki)
    time.sleep(PROPAGATION + 0.2)  # no node holds it in its short cache any more
    forwarded = upstream.stats()["requests"]
    cluster.redis.stop()

    for node in (cluster.b, cluster.a):
        r = with_cookie(node, cookie, **JSON)
        assert_session_store_unavailable(r)
        # A new sign-in cannot start a session either.
        r = http(node.port, "GET", "/jwt/x", bearer(mint(pki, user="bob"), **JSON))
        assert_session_store_unavailable(r)
    assert upstream.stats()["requests"] == forwarded

    for node in (cluster.a, cluster.b):
        wait_until(lambda: http(node.ops_port, "GET", "/readyz").status == 503, 5,
                   "/readyz did not turn 503")
        ready = http(node.ops_port, "GET", "/readyz")
        assert ready.header("Content-Type").startswith("application/json"), ready
        body = ready.json()
        assert body["ready"] is False, body
        assert [p["component"] for p in body["problems"]] == [SESSION_STORE_COMPONENT], body
        assert cluster.redis.password not in ready.text

    cluster.redis.start_again()  # same port, same data
    # Each node reconnects on its own (with back-off): each is given the same time.
    for node in (cluster.b, cluster.a):
        r, _ = first_answer(lambda: with_cookie(node, cookie, **JSON), 200, limit=15)
        assert r.status == 200, r
        assert r.upstream_header("X-Jotgate-User") == ALICE
        assert r.set_cookie(COOKIE) is None
    for node in (cluster.a, cluster.b):
        wait_until(lambda: http(node.ops_port, "GET", "/readyz").body == b"ready\n", 15,
                   "/readyz did not turn ready again")
    assert sign_in(cluster.b, pki, user="bob")


def assert_session_store_unavailable(r):
    assert r.status == 503, r
    assert r.header("Content-Type").startswith("application/json"), r
    body = r.json()
    assert body["error"] == "SESSION_STORE_UNAVAILABLE", r
    assert set(body) == {"error", "message"} and body["message"], r
    retry_after = r.header("Retry-After")
    assert retry_after is not None and retry_after.isdigit() and int(retry_after) >= 1, r
    assert r.header("WWW-Authenticate") is None, r  # not a refusal: the session is not gone
    assert r.set_cookie(COOKIE) is None, r


# ----------------------------------------------------------------------------- access data
def access(node, *args):
    return run_jotgate("access", *args[:1], "--config", node.config_path, *args[1:])


def test_a_grant_and_a_revocation_through_one_node_apply_on_the_other_within_a_second(
        cluster, pki):
    r = http(cluster.b.port, "GET", "/jwt/x", bearer(mint(pki, user="carol")))
    assert (r.status, r.text) == (403, denied("carol")), r

    done = access(cluster.a, "grant", "ACME\\carol")
    assert (done.returncode, done.stdout) == (0, "Granted ACME\\carol\n"), done.stderr
    r, sent = first_answer(lambda: http(cluster.b.port, "GET", "/jwt/x",
                                        bearer(mint(pki, user="carol"))), 200)
    assert_within_propagation(r, sent, 200)
    cookie = r.cookie(COOKIE)
    listed = access(cluster.b, "list")
    assert listed.returncode == 0, listed.stderr
    assert "ACME\\carol" in listed.stdout

    assert with_cookie(cluster.b, cookie).status == 200
    done = access(cluster.a, "revoke", "ACME\\carol")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Revoked ACME\\carol"), done.stdout
    r, sent = first_answer(lambda: with_cookie(cluster.b, cookie), 401)
    assert_within_propagation(r, sent, 401)  # the revocation ended her session
    assert_no_credentials(r)
    r = http(cluster.b.port, "GET", "/jwt/x", bearer(mint(pki, user="carol")))
    assert (r.status, r.text) == (403, denied("carol")), r


def test_auto_seats_are_never_exceeded_by_sign_ins_on_both_nodes_at_once(start_cluster, pki):
    cluster = start_cluster(access={"mode": "allocated", "allocations": [],
                                    "auto_allocate_seats": 3})
    users = [f"user{i:02}" for i in range(20)]
    tokens = {user: mint(pki, user=user) for user in users}
    nodes = {user: (cluster.a, cluster.b)[i % 2] for i, user in enumerate(users)}
    barrier = threading.Barrier(len(users))
    answers = {}

    def sign_in_now(user):
        conn = connection(nodes[user].port)
        conn.connect()
        barrier.wait()
        answers[user] = http(nodes[user].port, "GET", "/jwt/x", bearer(tokens[user]), conn=conn)
        conn.close()

    threads = [threading.Thread(target=sign_in_now, args=(user,)) for user in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    granted = sorted(u for u, r in answers.items() if r.status == 200)
    assert len(granted) == 3, {u: r.status for u, r in answers.items()}
    for user in set(users) - set(granted):
        assert (answers[user].status, answers[user].text) == (403, denied(user)), answers[user]
    # The seats are the cluster's: each seated user passes on the other node too.
    for user in granted:
        other = cluster.b if nodes[user] is cluster.a else cluster.a
        assert http(other.port, "GET", "/jwt/x", bearer(tokens[user])).status == 200
    listed = access(cluster.a, "list")
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()
    assert sorted(line.split()[0] for line in rows[1:-1]) == [f"ACME\\{u}" for u in granted]
    assert rows[-1] == "3 allocations, 3 auto-allocated seats used"


def test_a_revocation_by_jti_on_one_node_refuses_the_token_on_the_other(cluster, pki):
    now = int(time.time())
    by_cli, by_api = mint(pki, now=now, jti="scale-leak-1"), mint(pki, now=now, jti="scale-leak-2")
    for token in (by_cli, by_api):
        assert http(cluster.b.port, "GET", "/jwt/x", bearer(token)).status == 200  # now cached

    done = run_jotgate("revoke", "--config", cluster.a.config_path, "--jti", "scale-leak-1")
    assert done.returncode == 0, done.stderr
    r, sent = first_answer(lambda: http(cluster.b.port, "GET", "/jwt/x", bearer(by_cli, **JSON)),
                           401)
    assert_within_propagation(r, sent, 401)
    assert r.json() == REVOKED_BODY, r
    assert r.header("WWW-Authenticate") == REVOKED_CHALLENGE, r

    created = cluster.api(cluster.a, "POST", "/api/v1/revocations", {"jti": "scale-leak-2"})
    assert created.status == 201, created
    r, sent = first_answer(lambda: http(cluster.b.port, "GET", "/jwt/x", bearer(by_api, **JSON)),
                           401)
    assert_within_propagation(r, sent, 401)
    assert r.json() == REVOKED_BODY, r
    listed = cluster.api(cluster.b, "GET", "/api/v1/revocations")
    assert sorted(x["jti"] for x in listed.json()["revocations"]) == ["scale-leak-1",
                                                                     "scale-leak-2"], listed


def test_postgresql_down_keeps_the_last_allocations_and_grants_fail(cluster, pki):
    assert http(cluster.b.port, "GET", "/jwt/x", bearer(mint(pki, user="carol"))).status == 403
    cluster.postgres.stop()
    for node in (cluster.a, cluster.b):
        assert http(node.port, "GET", "/jwt/x", bearer(mint(pki))).status == 200
        r = http(node.port, "GET", "/jwt/x", bearer(mint(pki, user="carol")))
        assert (r.status, r.text) == (403, denied("carol")), r
    done = access(cluster.a, "grant", "ACME\\carol")
    assert done.returncode == 1, done
    assert done.stdout == "" and done.stderr, done
    assert cluster.postgres.password not in done.stderr
    for node in (cluster.a, cluster.b):
        wait_until(lambda: http(node.ops_port, "GET", "/readyz").status == 503, 10,
                   "/readyz did not turn 503")
        problems = http(node.ops_port, "GET", "/readyz").json()["problems"]
        assert [p["component"] for p in problems] == [DATABASE_COMPONENT], problems

    cluster.postgres.start_again()
    for node in (cluster.a, cluster.b):
        wait_until(lambda: http(node.ops_port, "GET", "/readyz").body == b"ready\n", 20,
                   "/readyz did not turn ready again")
    done = access(cluster.a, "grant", "ACME\\carol")
    assert done.returncode == 0, done.stderr
    r, sent = first_answer(lambda: http(cluster.b.port, "GET", "/jwt/x",
                                        bearer(mint(pki, user="carol"))), 200)
    assert_within_propagation(r, sent, 200)
