"""An upstream that records the exact bytes each connection received, for framing tests.

It runs in the test's process (a thread per connection). Requests are delimited strictly
(RFC 9112: Content-Length, or chunked with trailers) and answered with a small sized response
whose body names the request (`<connection>:<request number> <method> <target>`), so a client
can tell whose answer it got.

`lenient=True` acts like the lenient servers of the issue: bytes left on a connection that do
not start a request line (such as a stray `0\\r\\n\\r\\n`) are answered too, as a request of
their own, with `stray` in the body. A gateway that leaves bytes behind on a pooled connection
then hands that answer to the next client: the tests below catch exactly that.

    up = RawUpstream.start()
    ... send requests through the gateway to up.url ...
    up.connections[0].received == b"POST /upload HTTP/1.1\\r\\n...\\r\\n\\r\\n5\\r\\nhello\\r\\n0\\r\\n\\r\\n"
    up.stop()
"""
import socket
import threading
import time


class Connection:
    def __init__(self, index):
        self.index = index
        self.received = bytearray()
        self.requests = []  # (head bytes, body bytes as received, including chunk framing)
        self.closed = threading.Event()


class RawUpstream:
    def __init__(self, lenient=False, respond=None):
        self.lenient = lenient
        # respond(connection, head, raw_body) -> bytes to send, (bytes, "close") to close after
        # sending them, or None for the default answer.
        self.respond = respond
        self.connections = []
        self.sockets = []  # the accepted sockets, by connection index (to push stray bytes)
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stopping = False
        self._threads = []

    @classmethod
    def start(cls, **kwargs):
        up = cls(**kwargs)
        thread = threading.Thread(target=up._accept, daemon=True)
        thread.start()
        up._threads.append(thread)
        return up

    def stop(self):
        self._stopping = True
        try:
            self._sock.close()
        except OSError:
            pass

    def wait_quiet(self, seconds=0.3):
        """Waits until no bytes arrived for `seconds` (bounded to 5 s)."""
        deadline = time.time() + 5
        last = -1
        while time.time() < deadline:
            total = sum(len(c.received) for c in self.connections)
            if total == last:
                return
            last = total
            time.sleep(seconds)

    def all_received(self):
        return b"".join(bytes(c.received) for c in self.connections)

    # ------------------------------------------------------------------ serving
    def _accept(self):
        while not self._stopping:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            with self._lock:
                connection = Connection(len(self.connections))
                self.connections.append(connection)
                self.sockets.append(client)
            thread = threading.Thread(target=self._serve, args=(client, connection), daemon=True)
            thread.start()

    def _serve(self, client, connection):
        reader = _Reader(client, connection)
        try:
            while True:
                if not reader.fill_until(lambda data: len(data) > 0):
                    return
                if self.lenient and not reader.data[:1].isalpha():
                    # A lenient server's take on bytes that are no request: skip to the blank
                    # line and answer them anyway.
                    if not reader.fill_until(lambda data: b"\r\n\r\n" in data):
                        return
                    stray = reader.take(reader.data.index(b"\r\n\r\n") + 4)
                    connection.requests.append((stray, b""))
                    body = f"{connection.index}:{len(connection.requests)} stray".encode()
                    client.sendall(_answer(body))
                    continue
                request = reader.read_request()
                if request is None:
                    return
                connection.requests.append(request)
                head, raw_body = request
                answer = self.respond(connection, head, raw_body) if self.respond else None
                if answer is None:
                    line = head.split(b"\r\n", 1)[0].decode("latin-1")
                    method, target = line.split(" ")[:2]
                    body = f"{connection.index}:{len(connection.requests)} {method} {target}"
                    answer = _answer(body.encode(), head_only=method == "HEAD")
                close = isinstance(answer, tuple)  # (bytes, "close"): closes after sending
                client.sendall(answer[0] if close else answer)
                if close:
                    return
        except (OSError, ValueError):
            return
        finally:
            connection.closed.set()
            try:
                client.close()
            except OSError:
                pass


def _answer(body, head_only=False):
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: text/plain\r\n\r\n" % len(body)
    return head if head_only else head + body


class _Reader:
    """Strict request framing over a socket; every byte read is recorded."""

    def __init__(self, sock, connection):
        self.sock, self.connection = sock, connection
        self.data = b""

    def fill_until(self, done):
        while not done(self.data):
            chunk = self.sock.recv(65536)
            if not chunk:
                return False
            self.connection.received += chunk
            self.data += chunk
        return True

    def take(self, n):
        out, self.data = self.data[:n], self.data[n:]
        return out

    def read_line(self):
        if not self.fill_until(lambda d: b"\r\n" in d):
            raise ValueError("eof in a line")
        return self.take(self.data.index(b"\r\n") + 2)

    def read_request(self):
        if not self.fill_until(lambda d: b"\r\n\r\n" in d):
            return None
        head = self.take(self.data.index(b"\r\n\r\n") + 4)
        fields = [line.split(b":", 1) for line in head.split(b"\r\n")[1:] if line]
        names = [name.strip().lower() for name, _ in fields]
        if names.count(b"transfer-encoding") > 1 or names.count(b"content-length") > 1:
            raise ValueError("repeated framing header")
        values = {name.strip().lower(): value.strip() for name, value in fields}
        if b"transfer-encoding" in values:
            if values[b"transfer-encoding"].lower() != b"chunked" or b"content-length" in values:
                raise ValueError("framing the upstream refuses")
            raw = b""
            while True:
                size_line = self.read_line()
                raw += size_line
                size = int(size_line[:-2].split(b";")[0], 16)
                if size == 0:
                    while True:  # trailers, then the blank line
                        line = self.read_line()
                        raw += line
                        if line == b"\r\n":
                            return head, raw
                if not self.fill_until(lambda d: len(d) >= size + 2):
                    raise ValueError("eof in a chunk")
                chunk = self.take(size + 2)
                if not chunk.endswith(b"\r\n"):
                    raise ValueError("chunk not followed by CRLF")
                raw += chunk
        length = int(values.get(b"content-length", b"0"))
        if not self.fill_until(lambda d: len(d) >= length):
            raise ValueError("eof in the body")
        return head, self.take(length)
