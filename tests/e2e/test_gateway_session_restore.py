"""Sessions across a restart: SIGTERM writes <data_dir>/sessions.db (0600), the next start reads
it back into the virtual proxies of the same prefix and drops the expired; a corrupt file is
logged and survived; a periodic save keeps sessions through kill -9."""
import os
import stat
import time

from gateway_harness import *  # noqa: F401,F403

NO_CREDENTIALS = "Could not authenticate the request: Expected an authentication header"
COOKIE = "X-Jotgate-Session-jwt"
ALICE = "UserDirectory=ACME; UserId=alice"


def restartable(pki, upstream, tmp_path, **vp_overrides):
    """A config whose data_dir is shared by every gateway started on it."""
    config = gateway_config(pki, upstream.url, http_port=0, **vp_overrides)
    config["data_dir"] = str(tmp_path / "data")
    return config


def sign_in(gw, pki, prefix="jwt", **claims):
    r = http(gw.port, "GET", f"/{prefix}/x", bearer(mint(pki, **claims)))
    assert r.status == 200, r
    cookie = r.cookie(f"X-Jotgate-Session-{prefix}")
    assert cookie
    return cookie


def restored(gw):
    """The sessions_restored audit line of a start, as a dict."""
    lines = audit_events(gw.stdout(), "sessions_restored")
    assert len(lines) == 1, gw.stdout()
    return dict(lines[0][1:])


def test_a_cookie_keeps_working_across_sigterm_and_start(pki, upstream, start_gateway, tmp_path):
    config = restartable(pki, upstream, tmp_path,
                         auth={"jwt": {"forward_claims": {"groups": "X-Groups"}}})
    first = start_gateway(config)
    cookie = sign_in(first, pki, groups=["g1", "g2"])
    assert first.stop() == 0
    assert dict(audit_events(first.stdout(), "sessions_saved")[-1][1:]) == {"count": "1"}
    sessions_db = tmp_path / "data" / "sessions.db"
    assert stat.S_IMODE(os.stat(sessions_db).st_mode) == 0o600
    assert not (tmp_path / "data" / "sessions.db.tmp").exists()

    second = start_gateway(config)
    assert restored(second) == {"count": "1", "dropped_expired": "0", "dropped_removed_prefix": "0"}
    r = http(second.port, "GET", "/jwt/y", {"Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 200, r
    assert r.set_cookie(COOKIE) is None  # the same session, not a new one
    assert r.upstream_header("X-Jotgate-User") == ALICE
    assert r.upstream_header("X-Groups") == "g1,g2"
    assert second.stop() == 0
    # The file holds session ids, the output never does.
    for gw in (first, second):
        assert cookie not in gw.output()


def test_sessions_of_a_removed_prefix_are_not_restored(pki, upstream, start_gateway, tmp_path):
    config = restartable(pki, upstream, tmp_path, session={"cookie_name": "sid"})
    keep = dict(config["virtual_proxies"][0], name="kept", prefix="keep")
    keep.pop("session")
    config["virtual_proxies"].append(keep)
    first = start_gateway(config)
    moved_cookie = http(first.port, "GET", "/jwt/x", bearer(mint(pki))).cookie("sid")
    kept_cookie = sign_in(first, pki, prefix="keep")
    assert moved_cookie
    assert first.stop() == 0

    # The first virtual proxy now serves another prefix, with the same cookie name.
    config["virtual_proxies"][0]["prefix"] = "moved"
    second = start_gateway(config)
    assert restored(second) == {"count": "1", "dropped_expired": "0", "dropped_removed_prefix": "1"}
    r = http(second.port, "GET", "/moved/x", {"Cookie": f"sid={moved_cookie}"})
    assert r.status == 401, r
    assert r.text == NO_CREDENTIALS
    r = http(second.port, "GET", "/keep/x", {"Cookie": f"X-Jotgate-Session-keep={kept_cookie}"})
    assert r.status == 200, r
    assert r.upstream_header("X-Jotgate-User") == ALICE


def test_a_session_expired_while_stopped_is_dropped(pki, upstream, start_gateway, tmp_path):
    config = restartable(pki, upstream, tmp_path, session={"inactivity_timeout": "2s"})
    first = start_gateway(config)
    cookie = sign_in(first, pki)
    assert first.stop() == 0
    time.sleep(2.5)
    second = start_gateway(config)
    assert restored(second) == {"count": "0", "dropped_expired": "1", "dropped_removed_prefix": "0"}
    r = http(second.port, "GET", "/jwt/y", {"Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 401, r
    assert r.text == NO_CREDENTIALS


def test_a_corrupt_sessions_file_is_logged_and_survived(pki, upstream, start_gateway, tmp_path):
    config = restartable(pki, upstream, tmp_path)
    first = start_gateway(config)
    cookie = sign_in(first, pki)
    assert first.stop() == 0
    sessions_db = tmp_path / "data" / "sessions.db"
    sessions_db.write_bytes(os.urandom(8192))

    second = start_gateway(config)
    lines = [l for l in second.stderr().splitlines() if "sessions" in l]
    assert len(lines) == 1, second.stderr()
    assert lines[0].endswith(f"[warning] saved sessions ignored: {sessions_db}: file is not a "
                             "database; starting with no sessions"), lines[0]
    assert restored(second) == {"count": "0", "dropped_expired": "0", "dropped_removed_prefix": "0"}
    r = http(second.port, "GET", "/jwt/y", {"Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 401, r
    assert r.text == NO_CREDENTIALS
    assert sign_in(second, pki)  # serving as usual
    assert second.stop() == 0
    assert stat.S_IMODE(os.stat(sessions_db).st_mode) == 0o600  # replaced by a good file


def test_a_missing_sessions_file_starts_with_none(pki, upstream, start_gateway, tmp_path):
    gw = start_gateway(restartable(pki, upstream, tmp_path))
    assert restored(gw) == {"count": "0", "dropped_expired": "0", "dropped_removed_prefix": "0"}
    lines = [l for l in gw.stderr().splitlines() if "sessions" in l]
    assert len(lines) == 1 and lines[0].endswith(
        f"[info] no saved sessions in {tmp_path / 'data' / 'sessions.db'}: starting with none"), lines


def test_kill_9_after_a_periodic_save_keeps_the_session(pki, upstream, start_gateway, tmp_path):
    config = restartable(pki, upstream, tmp_path)
    config["session_store"] = {"type": "memory", "save_interval": "1s"}
    first = start_gateway(config)
    cookie = sign_in(first, pki)
    deadline = time.monotonic() + 10
    while {"count": "1"} not in [dict(e[1:]) for e in audit_events(first.stdout(), "sessions_saved")]:
        assert time.monotonic() < deadline, first.stdout()
        time.sleep(0.05)
    first.kill()
    assert first.proc.returncode == -9

    second = start_gateway(config)
    assert restored(second)["count"] == "1"
    r = http(second.port, "GET", "/jwt/y", {"Cookie": f"{COOKIE}={cookie}"})
    assert r.status == 200, r
    assert r.upstream_header("X-Jotgate-User") == ALICE


def test_save_interval_0_saves_only_at_a_graceful_stop(pki, upstream, start_gateway, tmp_path):
    config = restartable(pki, upstream, tmp_path)
    config["session_store"] = {"save_interval": 0}
    gw = start_gateway(config)
    sign_in(gw, pki)
    time.sleep(1.5)
    assert audit_events(gw.stdout(), "sessions_saved") == []
    assert not (tmp_path / "data" / "sessions.db").exists()
    assert gw.stop() == 0
    assert dict(audit_events(gw.stdout(), "sessions_saved")[0][1:]) == {"count": "1"}


def test_an_unknown_session_store_type_is_refused(pki, upstream, tmp_path):
    config = restartable(pki, upstream, tmp_path)
    config["session_store"] = {"type": "disk"}
    gw = Gateway.start(tmp_path / "gw", config, wait=False)
    assert gw.proc.wait(20) == 1
    written = gw.config_path.read_text().splitlines()
    line = next(i for i, text in enumerate(written) if '"disk"' in text)
    column = written[line].index('"disk"') + 1
    place = f"{gw.config_path}:{line + 1}:{column}"
    assert gw.stderr().splitlines()[1:] == [
        f'  {place}: session_store.type: "disk" is not a session store type (expected: memory, '
        'redis)'
    ], gw.stderr()
