"""A minimal HTTP/1.1 keep-alive client for the benchmark (loopback only).

Requests are pre-serialized bytes so that the client spends as little time as possible per
request while a server is being measured. Handles Content-Length and chunked responses and
reconnects when the server closed a kept-alive connection.
"""

import base64
import hashlib
import socket

CRLF = b"\r\n"


class HttpError(Exception):
    pass


class Response:
    __slots__ = ("status", "reason", "headers", "body")

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # lower-case name -> value (last one wins)
        self.body = body


class Connection:
    """One persistent connection to 127.0.0.1:port."""

    def __init__(self, port, host="127.0.0.1", timeout=120.0):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the benchmark only talks to loopback")
        self.addr = (host, port)
        self.timeout = timeout
        self.sock = None
        self.buf = b""
        self.connects = 0  # how many TCP connections this client opened

    def _connect(self):
        self.close()
        self.connects += 1
        self.sock = socket.create_connection(self.addr, timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionResetError("server closed the connection")
        self.buf += data

    def _read_until(self, marker):
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out = self.buf[:i]
                self.buf = self.buf[i + len(marker):]
                return out
            if len(self.buf) > (1 << 20):
                raise HttpError("response header too large")
            self._fill()

    def _read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out = self.buf[:n]
        self.buf = self.buf[n:]
        return out

    def _read_response(self, head_request):
        head = self._read_until(CRLF + CRLF).decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise HttpError("bad status line: %r" % lines[0])
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = b""
        if head_request or status in (204, 304) or 100 <= status < 200:
            pass
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self._read_until(CRLF).split(b";")[0], 16)
                if size == 0:
                    # trailers end with an empty line
                    while self._read_until(CRLF):
                        pass
                    break
                chunks.append(self._read_exact(size))
                self._read_exact(2)
            body = b"".join(chunks)
        elif "content-length" in headers:
            body = self._read_exact(int(headers["content-length"]))
        else:
            # read to close
            try:
                while True:
                    self._fill()
            except ConnectionResetError:
                pass
            body, self.buf = self.buf, b""
            self.close()
        if headers.get("connection", "").lower() == "close" or parts[0] == "HTTP/1.0":
            self.close()
        return Response(status, reason, headers, body)

    def send(self, raw, head_request=False, retry=True):
        """Sends one serialized request and returns its Response.

        On a connection the server had already closed (nothing received yet), reconnects and
        retries once; every request the benchmark sends is safe to repeat (an identical
        re-upload is a no-op by contract)."""
        fresh = self.sock is None
        if fresh:
            self._connect()
        try:
            self.sock.sendall(raw)
            return self._read_response(head_request)
        except (ConnectionResetError, BrokenPipeError) as e:
            self.close()
            if fresh or not retry:
                raise HttpError("connection failed: %s" % e)
            return self.send(raw, head_request, retry=False)

    def get(self, path, headers=None):
        return self.send(build_get(path, headers))


def build_get(path, headers=None):
    lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1"]
    for k, v in (headers or {}).items():
        lines.append("%s: %s" % (k, v))
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def basic_auth(token):
    return "Basic " + base64.b64encode(("__token__:" + token).encode()).decode()


def build_upload(dist, content, auth):
    """Serializes twine's `POST /legacy/` multipart form for one distribution.

    `dist` is a manifest row: dict with name, version, filetype, filename."""
    boundary = "----pipybench" + hashlib.sha1(dist["filename"].encode()).hexdigest()
    is_wheel = dist["filetype"] == "bdist_wheel"
    fields = [
        (":action", "file_upload"),
        ("protocol_version", "1"),
        ("name", dist["name"]),
        ("version", dist["version"]),
        ("filetype", dist["filetype"]),
        ("pyversion", "py3" if is_wheel else "source"),
        ("metadata_version", "2.1"),
        ("summary", "benchmark project " + dist["name"]),
        ("sha256_digest", hashlib.sha256(content).hexdigest()),
        ("md5_digest", hashlib.md5(content).hexdigest()),
    ]
    parts = []
    for k, v in fields:
        parts.append(
            ('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n'
             % (boundary, k, v)).encode())
    parts.append(
        ('--%s\r\nContent-Disposition: form-data; name="content"; filename="%s"\r\n'
         'Content-Type: application/octet-stream\r\n\r\n' % (boundary, dist["filename"])).encode())
    parts.append(content)
    parts.append(("\r\n--%s--\r\n" % boundary).encode())
    body = b"".join(parts)
    head = ("POST /legacy/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n"
            "Content-Type: multipart/form-data; boundary=%s\r\nContent-Length: %d\r\n\r\n"
            % (auth, boundary, len(body))).encode()
    return head + body


def _wait_main(argv):
    """`httpclient.py wait PORT PATH SECONDS [PID]`: exits 0 at the first 200, 1 when the
    deadline passes or process PID is gone."""
    import os
    import time
    port, path, seconds = int(argv[0]), argv[1], float(argv[2])
    pid = int(argv[3]) if len(argv) > 3 else None
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pid is not None:
            try:
                os.kill(pid, 0)
            except OSError:
                return 1
        conn = Connection(port, timeout=5)
        try:
            if conn.get(path).status == 200:
                return 0
        except (OSError, HttpError):
            pass
        finally:
            conn.close()
        time.sleep(0.02)
    return 1


if __name__ == "__main__":
    import sys
    if len(sys.argv) >= 5 and sys.argv[1] == "wait":
        sys.exit(_wait_main(sys.argv[2:]))
    sys.exit("usage: httpclient.py wait PORT PATH SECONDS [PID]")
