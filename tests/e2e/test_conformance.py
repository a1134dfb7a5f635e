"""Raw-socket conformance of the gateway's HTTP/1.1 framing (RFC 9112), against the real binary
and an upstream that records the exact bytes it received (raw_upstream.py).

Each case sends exact bytes and checks both the client's answer (status, body, whether the
connection closed) and what the upstream got: the exact body bytes, one framing header, and
nothing at all for a refused request."""
import socket
import ssl
import time

import pytest

from gateway_harness import *  # noqa: F401,F403
from raw_upstream import RawUpstream


@pytest.fixture
def raw_upstream():
    yield from stopped_after(RawUpstream.start)


@pytest.fixture
def token(pki):
    return mint(pki)


def start_gw(start_gateway, pki, up, limits=None, **overrides):
    """One I/O thread: every client connection shares one upstream pool, so a connection left
    in a bad state would be handed to the next request (with more threads, to the next request
    on the same thread)."""
    config = gateway_config(pki, up.url, http_port=0, **overrides)
    if limits:
        config["limits"] = limits
    return start_gateway(config, extra_args=("--threads", "1"))


# ----------------------------------------------------------------------------- client side
class Client:
    """One raw connection to the gateway; reads answers strictly (sized or chunked)."""

    def __init__(self, port, timeout=10, tls=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock, server_hostname="localhost")
        self.data = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, done):
        while not done(self.data):
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("closed by the gateway")
            self.data += chunk

    def _take(self, n):
        out, self.data = self.data[:n], self.data[n:]
        return out

    def response(self, head_request=False):
        """(status, headers dict lower-case -> list, raw body bytes as framed on the wire)."""
        self._fill(lambda d: b"\r\n\r\n" in d)
        head = self._take(self.data.index(b"\r\n\r\n") + 4).decode("latin-1")
        lines = head.split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            if line:
                name, value = line.split(":", 1)
                headers.setdefault(name.strip().lower(), []).append(value.strip())
        if head_request or status in (204, 304):
            return status, headers, b""
        if headers.get("transfer-encoding") == ["chunked"]:
            raw = b""
            while True:
                self._fill(lambda d: b"\r\n" in d)
                line = self._take(self.data.index(b"\r\n") + 2)
                raw += line
                size = int(line[:-2], 16)
                self._fill(lambda d: len(d) >= size + 2)
                raw += self._take(size + 2)
                if size == 0:
                    return status, headers, raw
        if "content-length" in headers:
            n = int(headers["content-length"][0])
            self._fill(lambda d: len(d) >= n)
            return status, headers, self._take(n)
        try:
            self._fill(lambda d: False)
        except EOFError:
            pass
        return status, headers, self._take(len(self.data))

    def closed(self, wait=3.0):
        """True when the gateway closed the connection (no more bytes) within `wait`."""
        self.sock.settimeout(wait)
        try:
            return self.data == b"" and self.sock.recv(1) == b""
        except socket.timeout:
            return False
        except ConnectionResetError:
            return True

    def close(self):
        self.sock.close()


def request_bytes(method, target, token=None, extra=b"", version=b"HTTP/1.1", host=b"localhost"):
    head = method.encode() + b" " + target.encode() + b" " + version + b"\r\n"
    if host is not None:
        head += b"Host: " + host + b"\r\n"
    if token:
        head += b"Authorization: Bearer " + token.encode() + b"\r\n"
    return head + extra


def split_upstream(received):
    """One request's bytes at the upstream: (head text, body bytes after the blank line)."""
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


def framing_headers(head):
    lines = [l.lower() for l in head.split("\r\n")[1:]]
    return ([l for l in lines if l.startswith("transfer-encoding:")],
            [l for l in lines if l.startswith("content-length:")])


# ----------------------------------------------------------------------------- 1. chunked bodies
CHUNKED_CASES = {
    # name: (body as the client frames it, its data, body as the upstream must receive it)
    "small": (b"5\r\nhello\r\n0\r\n\r\n", b"hello", b"5\r\nhello\r\n0\r\n\r\n"),
    "empty": (b"0\r\n\r\n", b"", b"0\r\n\r\n"),
    # Chunks read together may leave as one: checked de-chunked.
    "two chunks": (b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", b"abcde", None),
    "extension": (b"5;name=value\r\nhello\r\n0\r\n\r\n", b"hello", b"5\r\nhello\r\n0\r\n\r\n"),
    "trailers dropped": (b"5\r\nhello\r\n0\r\nX-Jotgate-User: forged\r\nExpires: 0\r\n\r\n",
                         b"hello", b"5\r\nhello\r\n0\r\n\r\n"),
}


def dechunk(raw):
    """The data of a chunked body, asserting exactly one last chunk and nothing after it."""
    data, rest = b"", raw
    while True:
        line, _, rest = rest.partition(b"\r\n")
        size = int(line, 16)
        if size == 0:
            assert rest == b"\r\n", f"bytes after the last chunk: {rest!r}"
            return data
        data += rest[:size]
        assert rest[size:size + 2] == b"\r\n"
        rest = rest[size + 2:]


@pytest.mark.parametrize("case", list(CHUNKED_CASES))
def test_chunked_upload_reaches_the_upstream_framed_exactly_once(
        case, raw_upstream, start_gateway, pki, token):
    sent, data, expected = CHUNKED_CASES[case]
    up = raw_upstream()
    gw = start_gw(start_gateway, pki, up)
    client = Client(gw.port)
    client.send(request_bytes("POST", "/jwt/upload", token,
                              b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + sent))
    status, _, body = client.response()
    assert status == 200
    assert body == b"0:1 POST /upload"
    up.wait_quiet()
    assert len(up.connections) == 1
    head, received_body = split_upstream(up.connections[0].received)
    assert framing_headers(head) == (["transfer-encoding: chunked"], [])
    if expected is not None:
        assert received_body == expected
    assert dechunk(received_body) == data
    assert "forged" not in head


def test_large_chunked_upload_is_rechunked_with_one_last_chunk(
        raw_upstream, start_gateway, pki, token):
    up = raw_upstream()
    gw = start_gw(start_gateway, pki, up)
    payload = bytes(range(256)) * 400  # 100 KiB
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(payload[i:i + 7000]), payload[i:i + 7000])
                      for i in range(0, len(payload), 7000))
    client = Client(gw.port)
    client.send(request_bytes("POST", "/jwt/upload", token,
                              b"Transfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n"))
    status, _, body = client.response()
    assert (status, body) == (200, b"0:1 POST /upload")
    up.wait_quiet()
    _, received_body = split_upstream(up.connections[0].received)
    assert dechunk(received_body) == payload


def test_chunked_upload_does_not_leave_bytes_that_answer_the_next_user(
        raw_upstream, start_gateway, pki):
    """The attack of issue 10: a lenient upstream answers a stray last chunk, and the next
    request on the pooled connection (another user's) used to get that answer."""
    up = raw_upstream(lenient=True)
    gw = start_gw(start_gateway, pki, up)
    alice, bob = mint(pki, user="alice"), mint(pki, user="bob")
    client = Client(gw.port)
    client.send(request_bytes("POST", "/jwt/upload", alice,
                              b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                              b"5\r\nhello\r\n0\r\n\r\n"))
    assert client.response()[2] == b"0:1 POST /upload"
    time.sleep(0.3)  # the lenient upstream would have answered a stray request by now
    for i in range(3):
        r = http(gw.port, "GET", f"/jwt/bob{i}", bearer(bob))
        assert r.status == 200
        assert r.text.endswith(f" GET /bob{i}"), r
    up.wait_quiet()
    head, body = up.connections[0].requests[0]
    assert body == b"5\r\nhello\r\n0\r\n\r\n"
    for connection in up.connections:
        # Every byte the upstream got belongs to a well-formed request: no stray last chunk.
        assert all(h[:1].isalpha() for h, _ in connection.requests), connection.requests
        assert b"".join(h + b for h, b in connection.requests) == bytes(connection.received)


def test_sized_upload_and_bodiless_request_exact_bytes(raw_upstream, start_gateway, pki, token):
    up = raw_upstream()
    gw = start_gw(start_gateway, pki, up)
    client = Client(gw.port)
    client.send(request_bytes("POST", "/jwt/upload", token, b"Content-Length: 5\r\n\r\nhello"))
    assert client.response()[:3:2] == (200, b"0:1 POST /upload")
    client.send(request_bytes("GET", "/jwt/next", token, b"\r\n"))
    assert client.response()[:3:2] == (200, b"0:2 GET /next")
    up.wait_quiet()
    (head1, body1), (head2, body2) = up.connections[0].requests
    assert framing_headers(head1.decode()) == ([], ["content-length: 5"])
    assert body1 == b"hello"
    assert framing_headers(head2.decode()) == ([], [])
    assert body2 == b""
    assert bytes(up.connections[0].received) == head1 + b"hello" + head2


def test_pipelined_requests_keep_their_bounds(raw_upstream, start_gateway, pki, token):
    """Three requests in one write (chunked, bodiless, sized): three answers in order, and the
    upstream gets each request exactly once, bodies framed exactly."""
    up = raw_upstream()
    gw = start_gw(start_gateway, pki, up)
    client = Client(gw.port)
    client.send(request_bytes("POST", "/jwt/one", token,
                              b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n") +
                request_bytes("GET", "/jwt/two", token, b"\r\n") +
                request_bytes("POST", "/jwt/three", token, b"Content-Length: 3\r\n\r\nabc"))
    assert [client.response()[2] for _ in range(3)] == [
        b"0:1 POST /one", b"0:2 GET /two", b"0:3 POST /three"]
    up.wait_quiet()
    requests = up.connections[0].requests
    assert [body for _, body in requests] == [b"5\r\nhello\r\n0\r\n\r\n", b"", b"abc"]
    assert b"".join(h + b for h, b in requests) == bytes(up.connections[0].received)


# ----------------------------------------------------------------------------- 2. refused heads
def assert_refused(gw, up, data, status, text, closes=True):
    client = Client(gw.port)
    client.send(data)
    got_status, headers, body = client.response()
    assert got_status == status, body
    assert body.decode() == text + "\n"
    if closes:
        assert headers.get("connection") == ["close"]
        assert client.closed()
    client.close()
    up.wait_quiet(0.2)
    assert up.all_received() == b"", "a refused request reached the upstream"


REFUSED_HEADS = {
    "TE final not chunked": (b"POST /jwt/x HTTP/1.1\r\nHost: localhost\r\n"
                             b"Transfer-Encoding: chunked, identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                             400, "Bad Request: the final transfer coding must be chunked"),
    "TE identity alone": (b"POST /jwt/x HTTP/1.1\r\nHost: localhost\r\n"
                          b"Transfer-Encoding: identity\r\n\r\nGET /jwt/smuggled HTTP/1.1\r\n\r\n",
                          400, "Bad Request: the final transfer coding must be chunked"),
    "TE unknown coding alone": (b"POST /jwt/x HTTP/1.1\r\nHost: localhost\r\n"
                                b"Transfer-Encoding: foo\r\n\r\n0\r\n\r\n",
                                501, "Not Implemented: unknown transfer coding"),
    "TE coding not implemented": (b"POST /jwt/x HTTP/1.1\r\nHost: localhost\r\n"
                          b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
                          501, "Not Implemented: the only transfer coding accepted is chunked"),
    "TE chunked twice": (b"POST /jwt/x HTTP/1.1\r\nHost: localhost\r\n"
                         b"Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
                         400, "Bad Request: chunked is applied more than once"),
    "TE in HTTP/1.0": (b"POST /jwt/x HTTP/1.0\r\nHost: localhost\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                       400, "Bad Request: Transfer-Encoding is not allowed in an HTTP/1.0 request"),
    "Host missing": (b"GET /jwt/x HTTP/1.1\r\n\r\n", 400, "Bad Request: the Host header is missing"),
    "Host repeated": (b"GET /jwt/x HTTP/1.1\r\nHost: localhost\r\nHost: evil.test\r\n\r\n",
                      400, "Bad Request: more than one Host header"),
    "Host with userinfo": (b"GET /jwt/x HTTP/1.1\r\nHost: evil@localhost\r\n\r\n",
                           400, "Bad Request: the Host header is not a valid host"),
    "Host with space": (b"GET /jwt/x HTTP/1.1\r\nHost: local host\r\n\r\n",
                        400, "Bad Request: the Host header is not a valid host"),
    "CONNECT origin-form": (b"CONNECT /jwt/x HTTP/1.1\r\nHost: localhost\r\n\r\n",
                            405, "Method Not Allowed: CONNECT is not served here"),
    # Refused before this issue; kept that way.
    "CL and TE": (b"POST /jwt/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                  400, "Bad Request: malformed HTTP request"),
    "duplicate CL": (b"POST /jwt/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
                     b"Content-Length: 6\r\n\r\nhello!",
                     400, "Bad Request: malformed HTTP request"),
    "duplicate CL, same value": (b"POST /jwt/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
                                 b"Content-Length: 5\r\n\r\nhello",
                                 400, "Bad Request: more than one Content-Length header"),
    "obs-fold": (b"GET /jwt/x HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\n  folded\r\n\r\n",
                 400, "Bad Request: obsolete line folding (obs-fold) is not accepted"),
    "obs-fold in TE": (b"POST /jwt/x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip,\r\n"
                       b" chunked\r\n\r\n0\r\n\r\n",
                       400, "Bad Request: obsolete line folding (obs-fold) is not accepted"),
    "TE chunked in two lines": (b"POST /jwt/x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: "
                                b"chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                                400, "Bad Request: malformed HTTP request"),
    "bare LF in head": (b"GET /jwt/x HTTP/1.1\nHost: localhost\n\n",
                        400, "Bad Request: malformed HTTP request"),
    "bare CR in head": (b"GET /jwt/x HTTP/1.1\r\nHost: local\rhost\r\n\r\n",
                        400, "Bad Request: malformed HTTP request"),
}


@pytest.mark.parametrize("case", list(REFUSED_HEADS))
def test_refused_framing_is_answered_and_never_forwarded(
        case, raw_upstream, start_gateway, pki, token):
    data, status, text = REFUSED_HEADS[case]
    up = raw_upstream()
    gw = start_gw(start_gateway, pki, up)
    # With a token, so that only the framing can be the reason.
    line, newline, rest = data.partition(b"\n")
    ending = b"\r\n" if line.endswith(b"\r") else b"\n"
    data = line + newline + b"Authorization: Bearer " + token.encode() + ending + rest
    assert_refused(gw, up, data, status, text)


@pytest.mark.parametrize("folded", [False, True])
def test_a_head_sent_in_pieces_is_read_whole_and_obs_fold_found_in_any(
        folded, raw_upstream, start_gateway, pki, token):
    """A 10 KiB head in four writes: parsed across reads, and a fold in a later piece (even
    right at a piece's start) is still refused."""
    up = raw_upstream()
    gw = start_gw(start_gateway, pki, up)
    fields = b"".join(b"X-Field-%03d: %s\r\n" % (i, b"v" * 100) for i in range(90))
    head = request_bytes("GET", "/jwt/big", token, fields + b"X-Last: 1\r\n")
    pieces = [head[:3000], head[3000:6000], head[6000:], b"\r\n"]
    if folded:
        pieces[3] = b" folded\r\n\r\n"  # continues X-Last on the next line
    client = Client(gw.port)
    for piece in pieces:
        client.send(piece)
        time.sleep(0.05)
    status, _, body = client.response()
    if folded:
        assert (status, body) == (
            400, b"Bad Request: obsolete line folding (obs-fold) is not accepted\n")
        up.wait_quiet(0.2)
        assert up.all_received() == b""
    else:
        assert (status, body) == (200, b"0:1 GET /big")
        head_received, _ = up.connections[0].requests[0]
        assert head_received.count(b"X-Field-") == 90


@pytest.mark.parametrize("target,text", [
    ("http://localhost/jwt/x",
     'Bad Request: only origin-form request targets ("/path") are accepted'),
    ("*", 'Bad Request: only origin-form request targets ("/path") are accepted'),
])
def test_absolute_form_and_asterisk_are_refused(target, text, raw_upstream, start_gateway, pki,
                                                token):
    up = raw_upstream()
    gw = start_gw(start_gateway, pki, up)
    method = "OPTIONS" if target == "*" else "GET"
    client = Client(gw.port)
    client.send(request_bytes(method, target, token, b"\r\n"))
    status, _, body = client.response()
    assert status == 400
    assert body.decode() == text + "\n"
    up.wait_quiet(0.2)
    assert up.all_received() == b""


def test_invalid_host_never_builds_a_redirect(raw_upstream, start_gateway, pki):
    up = raw_upstream()
    gw = start_gw(start_gateway, pki, up, auth={"redirect_uri": "/login"})
    client = Client(gw.port)
    client.send(b"GET /jwt/page HTTP/1.1\r\nHost: evil@localhost\r\nAccept: text/html\r\n\r\n")
    status, headers, body = client.response()
    assert status == 400
    assert "location" not in headers
    assert body == b"Bad Request: the Host header is not a valid host\n"


BAD_CHUNKS = {
    "size overflows": b"ffffffffffffffff1\r\nhello\r\n0\r\n\r\n",
    "negative size": b"-5\r\nhello\r\n0\r\n\r\n",
    "hex prefix": b"0x5\r\nhello\r\n0\r\n\r\n",
    "bare LF": b"5\nhello\n0\n\n",
    "no CRLF after data": b"5\r\nhelloX\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("case", list(BAD_CHUNKS))
def test_malformed_chunk_gets_400_and_the_upstream_connection_is_dropped(
        case, raw_upstream, start_gateway, pki, token):
    up = raw_upstream()
    gw = start_gw(start_gateway, pki, up)
    # A first request leaves a pooled connection, which the broken one may then take.
    assert http(gw.port, "GET", "/jwt/first", bearer(token)).status == 200
    client = Client(gw.port)
    client.send(request_bytes("POST", "/jwt/upload", token,
                              b"Transfer-Encoding: chunked\r\n\r\n" + BAD_CHUNKS[case]))
    status, headers, body = client.response()
    assert status == 400
    assert body == b"Bad Request: the request body's chunked framing is malformed\n"
    assert headers.get("connection") == ["close"]
    assert client.closed()
    # The upstream connection that saw part of it is closed, never handed to the next request.
    assert up.connections[0].closed.wait(5)
    r = http(gw.port, "GET", "/jwt/after", bearer(token))
    assert r.status == 200
    assert r.text.endswith(":1 GET /after"), r  # the first request on a fresh connection
    for connection in up.connections:
        assert all(not head.startswith(b"POST") or raw == b"" for head, raw in connection.requests)


# ----------------------------------------------------------------------------- responses
def chunked_answer(connection, head, raw_body):
    if head.startswith(b"HEAD /chunked "):
        return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    if head.startswith(b"GET /chunked "):
        return (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
    if head.startswith(b"GET /until-close "):
        # No Content-Length, no chunks: the body ends when the upstream closes.
        return b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close", "close"
    if head.startswith(b"GET /extra "):
        # An answer followed by bytes nobody asked for: the connection must not be reused.
        return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"
    return None


def test_chunked_answer_reaches_the_client_with_one_last_chunk(raw_upstream, start_gateway, pki,
                                                               token):
    up = raw_upstream(respond=chunked_answer)
    gw = start_gw(start_gateway, pki, up)
    client = Client(gw.port)
    client.send(request_bytes("GET", "/jwt/chunked", token, b"\r\n"))
    status, headers, raw = client.response()
    assert status == 200
    assert headers["transfer-encoding"] == ["chunked"]
    assert dechunk(raw) == b"hello world"
    assert b"X-Trailer" not in raw
    # The client connection is still in step: the next answer is its own.
    client.send(request_bytes("GET", "/jwt/next", token, b"\r\n"))
    status, _, body = client.response()
    assert (status, body) == (200, b"0:2 GET /next")
    client.send(request_bytes("HEAD", "/jwt/chunked", token, b"\r\n"))
    status, headers, _ = client.response(head_request=True)
    assert status == 200
    client.send(request_bytes("GET", "/jwt/next", token, b"\r\n"))
    assert client.response()[2] == b"0:4 GET /next"


def test_close_delimited_answer_is_chunked_for_http11_and_streamed_for_http10(
        raw_upstream, start_gateway, pki, token):
    up = raw_upstream(respond=chunked_answer)
    gw = start_gw(start_gateway, pki, up)
    client = Client(gw.port)
    client.send(request_bytes("GET", "/jwt/until-close", token, b"\r\n"))
    status, headers, raw = client.response()
    assert status == 200
    assert headers["transfer-encoding"] == ["chunked"]
    assert raw == b"b\r\nuntil close\r\n0\r\n\r\n"
    client.send(request_bytes("GET", "/jwt/next", token, b"\r\n"))
    assert client.response()[2] == b"1:1 GET /next"  # the closed one is not reused
    old = Client(gw.port)
    old.send(request_bytes("GET", "/jwt/until-close", token, b"\r\n", version=b"HTTP/1.0"))
    status, headers, raw = old.response()
    assert status == 200
    assert "transfer-encoding" not in headers and "content-length" not in headers
    assert headers["connection"] == ["close"]
    assert raw == b"until close"


def test_connection_with_bytes_past_the_answer_is_not_reused(raw_upstream, start_gateway, pki,
                                                             token):
    up = raw_upstream(respond=chunked_answer)
    gw = start_gw(start_gateway, pki, up)
    r = http(gw.port, "GET", "/jwt/extra", bearer(token))
    assert (r.status, r.body) == (200, b"ok")
    r = http(gw.port, "GET", "/jwt/next", bearer(token))
    assert (r.status, r.body) == (200, b"1:1 GET /next")  # a new connection, not the stale answer


def test_connection_that_received_bytes_while_idle_is_not_reused(raw_upstream, start_gateway,
                                                                 pki, token):
    up = raw_upstream()
    gw = start_gw(start_gateway, pki, up)
    assert http(gw.port, "GET", "/jwt/first", bearer(token)).body == b"0:1 GET /first"
    up.wait_quiet()
    # The upstream now sends an answer nobody asked for on the idle pooled connection.
    up.sockets[0].sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale")
    time.sleep(0.2)
    r = http(gw.port, "GET", "/jwt/mine", bearer(token))
    assert (r.status, r.body) == (200, b"1:1 GET /mine")


# ----------------------------------------------------------------------------- body timeout
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_trickled_body_is_cut_with_408(scheme, raw_upstream, start_gateway, pki, token):
    up = raw_upstream()
    config = gateway_config(pki, up.url, **{f"{scheme}_port": 0})
    config["limits"] = {"body_timeout": "800ms", "body_min_rate": 1000}
    gw = start_gateway(config, extra_args=("--threads", "1"))
    client = Client(gw.port, tls=client_context(pki.ca) if scheme == "https" else None)
    client.send(request_bytes("POST", "/jwt/upload", token, b"Content-Length: 100\r\n\r\n"))
    start = time.time()
    for _ in range(40):  # one byte every 0.25 s: never idle for 0.8 s, far below 1000 B/s
        try:
            client.send(b"x")
        except OSError:
            break
        time.sleep(0.25)
        client.sock.settimeout(0.01)
        try:
            chunk = client.sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            continue
        client.data += chunk
        break
    client.sock.settimeout(5)
    assert_cut_with_408(client, up, start)


def test_a_body_that_stops_coming_is_cut_with_408(raw_upstream, start_gateway, pki, token):
    up = raw_upstream()
    gw = start_gw(start_gateway, pki, up, limits={"body_timeout": "800ms", "body_min_rate": 0})
    client = Client(gw.port)
    client.send(request_bytes("POST", "/jwt/upload", token,
                              b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"))
    assert_cut_with_408(client, up, time.time())


def assert_cut_with_408(client, up, start):
    status, headers, body = client.response()
    elapsed = time.time() - start
    assert status == 408
    assert body == (b"Request Timeout: the request body came too slowly "
                    b"(limits.body_timeout, limits.body_min_rate)\n")
    assert 0.6 < elapsed < 5, elapsed  # body_timeout 800ms
    assert headers.get("connection") == ["close"]
    # The upstream connection that got the head is closed too, never pooled.
    assert up.connections[0].closed.wait(5)
