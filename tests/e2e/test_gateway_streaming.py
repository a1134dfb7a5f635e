"""Bodies stream through the gateway in bounded memory: large downloads (sized and chunked),
large uploads (sized and chunked), and server-sent events arriving one by one.

Sizes: 1 GiB each way, as the spec says (about 5-8 s per transfer with the ASan debug build on
the 2-core machine when it is otherwise idle; ~30 s for this file). JOTGATE_E2E_UPLOAD_MIB and
JOTGATE_E2E_DOWNLOAD_MIB make them smaller on a busy machine. The memory bound is independent of
the size: RSS may not grow by more than 64 MiB. ASan's quarantine of freed blocks (256 MiB by
default) would count as growth, so the gateway runs here with a 16 MiB quarantine."""
import hashlib
import json
import os
import threading
import time

import pytest

import upstream_server
from gateway_harness import *  # noqa: F401,F403

MIB = 1024 * 1024
UPLOAD_BYTES = int(os.environ.get("JOTGATE_E2E_UPLOAD_MIB", "1024")) * MIB
DOWNLOAD_BYTES = int(os.environ.get("JOTGATE_E2E_DOWNLOAD_MIB", "1024")) * MIB
RSS_GROWTH_LIMIT_KIB = 64 * 1024


class RssWatch:
    """Samples the gateway's VmRSS every 50 ms while a transfer runs."""

    def __init__(self, gw):
        self.gw, self.peak, self.stop = gw, 0, threading.Event()
        self.baseline = gw.rss_kib()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, self.gw.rss_kib())
            except OSError:
                return
            time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()

    def assert_bounded(self):
        assert self.baseline > 0 and self.peak > 0, "VmRSS was never sampled"
        growth = self.peak - self.baseline
        assert growth < RSS_GROWTH_LIMIT_KIB, f"RSS grew by {growth} KiB (baseline {self.baseline} KiB)"


@pytest.fixture
def gateway(pki, upstream, start_gateway):
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS", ""), "quarantine_size_mb=16"]))
    return start_gateway(gateway_config(pki, upstream.url, http_port=0), env=env)


def _warm_up(gw, token):
    # A few requests first so allocator pools and upstream connections exist before the baseline.
    for _ in range(3):
        assert http(gw.port, "GET", "/jwt/download?size=1048576", bearer(token)).status == 200


@pytest.mark.parametrize("chunked", [False, True], ids=["sized", "chunked"])
def test_large_download_in_bounded_memory(gateway, pki, chunked):
    token = mint(pki)
    _warm_up(gateway, token)
    conn = connection(gateway.port, timeout=120)
    with RssWatch(gateway) as watch:
        conn.request("GET", f"/jwt/download?size={DOWNLOAD_BYTES}&chunked={int(chunked)}", headers=bearer(token))
        r = conn.getresponse()
        assert r.status == 200
        if chunked:
            assert r.getheader("Content-Length") is None
        else:
            assert r.getheader("Content-Length") == str(DOWNLOAD_BYTES)
        received, first = 0, None
        while True:
            piece = r.read(MIB)
            if not piece:
                break
            if first is None:
                first = piece[:32]
            received += len(piece)
    conn.close()
    assert received == DOWNLOAD_BYTES
    assert first == upstream_server.PATTERN[:32]
    watch.assert_bounded()


def _body(total, digest):
    piece = upstream_server.PATTERN * 16  # 1 MiB
    left = total
    while left:
        chunk = piece[:min(left, len(piece))]
        digest.update(chunk)
        left -= len(chunk)
        yield chunk


@pytest.mark.parametrize("chunked", [False, True], ids=["sized", "chunked"])
def test_large_upload_in_bounded_memory(gateway, pki, chunked):
    token = mint(pki)
    _warm_up(gateway, token)
    digest = hashlib.sha256()
    conn = connection(gateway.port, timeout=120)
    headers = bearer(token)
    if not chunked:
        headers["Content-Length"] = str(UPLOAD_BYTES)
    with RssWatch(gateway) as watch:
        conn.request("POST", "/jwt/upload", body=_body(UPLOAD_BYTES, digest), headers=headers,
                     encode_chunked=chunked)
        r = conn.getresponse()
        answer = r.read()
    conn.close()
    assert r.status == 200, answer
    result = json.loads(answer)
    assert result["bytes"] == UPLOAD_BYTES
    assert result["sha256"] == digest.hexdigest()
    watch.assert_bounded()


def test_server_sent_events_arrive_incrementally(gateway, pki):
    conn = connection(gateway.port, timeout=30)
    started = time.time()
    conn.request("GET", "/jwt/sse?count=20", headers=bearer(mint(pki), Accept="text/event-stream"))
    r = conn.getresponse()
    assert r.status == 200
    assert r.getheader("Content-Type") == "text/event-stream"
    data = b""
    while b"\n\n" not in data:
        piece = r.read1(64)  # whatever has arrived, without waiting for more
        assert piece, data
        data += piece
    first_event_after = time.time() - started
    rest = r.read()
    total = time.time() - started
    conn.close()
    assert data.startswith(b"id: 0\ndata: event 0\n\n"), data
    assert (data + rest).count(b"data: event") == 20
    assert first_event_after < 1.0, f"first event after {first_event_after:.2f}s of a {total:.2f}s stream"
    assert total >= 1.8
