"""Fault injection for the end-to-end tests: a proxy in front of an HTTP server (the S3
test server) that breaks chosen requests, and a hostile upstream index / npm registry.

FaultProxy is a loopback TCP proxy that understands just enough HTTP/1.1 (request and
response heads, Content-Length and chunked bodies, keep-alive) to act per request. Rules
pick requests by method and path and say what goes wrong, a given number of times:

  "500", "503"       answer an S3 error document (InternalError, SlowDown) without
                     forwarding the request
  "reset_request"    take half the request body, then reset the connection (RST)
  "reset_response"   forward; send the answer's head and half its body, then reset
  "stall"            take the request and never answer (until the client gives up)
  "truncate"         forward; send the head as is and half the body, then close (FIN)
  "stall_body"       forward; send the head as is and half the body, then fall silent
                     with the connection open (until the client gives up)
  "short_length"     forward; send half the body with a Content-Length that says so (a
                     self-consistent answer with the wrong bytes)

Every request is logged with its fault (or None) and arrival time, so tests can count
attempts and measure the backoff between them.

HostileUpstream is a threaded HTTP server whose answer depends on the last path segment
(the project or package name): "trickle-*" answers one byte a second, "huge-*" sends a
page far over any limit, "badjson-*" sends invalid JSON (as PEP 691 JSON / a packument),
"loop-*" redirects in a circle, "foreign-*" redirects to another host (a ForeignHost that
records whether anyone came); any other name is 404. Requests are recorded.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

S3_ERRORS = {
    "500": (500, "Internal Server Error", "InternalError",
            "We encountered an internal error. Please try again."),
    "503": (503, "Slow Down", "SlowDown", "Please reduce your request rate."),
}


@dataclass
class Rule:
    fault: str
    method: str | None = None        # None = any
    path_re: str = ".*"              # matched against the path (query included)
    times: int | None = 1            # None = every matching request
    used: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.times is not None and self.used >= self.times:
            return False
        if self.method is not None and method != self.method:
            return False
        return re.search(self.path_re, path) is not None


@dataclass
class Logged:
    method: str
    path: str
    fault: str | None
    at: float


def _reset(sock: socket.socket) -> None:
    """Closes with an RST (SO_LINGER 0) instead of a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class _Closed(Exception):
    pass


class _Reader:
    """Buffered reads of one socket: heads and bodies of HTTP messages."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = b""

    def _fill(self) -> None:
        got = self.sock.recv(65536)
        if not got:
            raise _Closed()
        self.buf += got

    def head(self) -> bytes:
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > 1 << 20:
                raise _Closed()
            self._fill()
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        return head + b"\r\n\r\n"

    def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def chunked(self) -> bytes:
        """A whole chunked body, raw (chunk framing included)."""
        out = b""
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            line, _, self.buf = self.buf.partition(b"\r\n")
            out += line + b"\r\n"
            size = int(line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while not self.buf.startswith(b"\r\n") and b"\r\n\r\n" not in self.buf:
                    self._fill()
                if self.buf.startswith(b"\r\n"):
                    self.buf = self.buf[2:]
                    return out + b"\r\n"
                trailer, _, self.buf = self.buf.partition(b"\r\n\r\n")
                return out + trailer + b"\r\n\r\n"
            out += self.exactly(size + 2)


def _header(head: bytes, name: str) -> str | None:
    m = re.search(rb"(?im)^" + name.encode() + rb":[ \t]*([^\r\n]*)", head)
    return m.group(1).decode().strip() if m else None


def _body_length(head: bytes) -> int | None:
    v = _header(head, "content-length")
    return int(v) if v is not None else None


class FaultProxy:
    """A loopback proxy in front of `target` ("http://host:port") that injects faults."""

    def __init__(self, target: str):
        m = re.fullmatch(r"http://([^:/]+):(\d+)/?", target)
        assert m, target
        self.target = (m.group(1), int(m.group(2)))
        self.rules: list[Rule] = []
        self.log: list[Logged] = []
        self._mu = threading.Lock()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._stop = threading.Event()
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- control --------------------------------------------------------------------
    def add(self, fault: str, method: str | None = None, path_re: str = ".*",
            times: int | None = 1) -> Rule:
        rule = Rule(fault, method, path_re, times)
        with self._mu:
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._mu:
            self.rules.clear()

    def requests(self, method: str | None = None, path_re: str = ".*") -> list[Logged]:
        with self._mu:
            return [e for e in self.log if (method is None or e.method == method)
                    and re.search(path_re, e.path)]

    def _pick(self, method: str, path: str) -> str | None:
        with self._mu:
            fault = None
            for rule in self.rules:
                if rule.matches(method, path):
                    rule.used += 1
                    fault = rule.fault
                    break
            self.log.append(Logged(method, path, fault, time.monotonic()))
            return fault

    # --- lifecycle ------------------------------------------------------------------
    def start(self) -> "FaultProxy":
        self._listener = socket.socket()
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(64)
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None:
            self._listener.close()
        with self._mu:
            socks = list(self._open)
        for s in socks:
            try:
                s.close()
            except OSError:
                pass

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    # --- one client connection ------------------------------------------------------
    def _serve(self, client: socket.socket) -> None:
        upstream = None
        with self._mu:
            self._open.add(client)
        try:
            reader = _Reader(client)
            while not self._stop.is_set():
                head = reader.head()
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                method, path = line.split(" ")[:2]
                fault = self._pick(method, path)
                length = _body_length(head) or 0
                if fault == "reset_request":
                    reader.exactly(length // 2)
                    _reset(client)
                    return
                body = reader.exactly(length)
                if fault in S3_ERRORS:
                    client.sendall(self._error(fault))
                    continue
                if fault == "stall":
                    self._stop.wait(600)
                    return
                if upstream is None:
                    upstream = socket.create_connection(self.target, timeout=60)
                    up_reader = _Reader(upstream)
                upstream.sendall(head + body)
                rhead = up_reader.head()
                status = int(rhead.split(b" ", 2)[1])
                chunked = "chunked" in (_header(rhead, "transfer-encoding") or "").lower()
                if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
                    rbody = b""
                elif chunked:
                    rbody = up_reader.chunked()
                else:
                    rbody = up_reader.exactly(_body_length(rhead) or 0)
                if fault in ("reset_response", "truncate", "short_length", "stall_body") and \
                        method == "GET" and not chunked and len(rbody) > 1:
                    half = rbody[: len(rbody) // 2]
                    if fault == "stall_body":
                        client.sendall(rhead + half)
                        self._stop.wait(600)
                        return
                    if fault == "short_length":
                        rhead = re.sub(rb"(?im)^content-length:[^\r\n]*",
                                       f"Content-Length: {len(half)}".encode(), rhead)
                        client.sendall(rhead + half)
                        continue
                    client.sendall(rhead + half)
                    time.sleep(0.05)
                    if fault == "reset_response":
                        _reset(client)
                    else:
                        client.shutdown(socket.SHUT_RDWR)
                        client.close()
                    return
                client.sendall(rhead + rbody)
                if (_header(rhead, "connection") or "").lower() == "close":
                    return
        except (_Closed, OSError, ValueError, IndexError):
            return
        finally:
            with self._mu:
                self._open.discard(client)
            try:
                client.close()
            except OSError:
                pass
            if upstream is not None:
                upstream.close()

    @staticmethod
    def _error(fault: str) -> bytes:
        status, reason, code, message = S3_ERRORS[fault]
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                f"<Message>{message}</Message><RequestId>fault</RequestId></Error>").encode()
        return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body


# === a hostile upstream ==================================================================
class _Recording(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        pass  # a client that hung up on a fault is the point, not news


@dataclass
class ForeignHost:
    """A server on another loopback address that only records whether anyone came."""
    host: str = "127.0.0.2"
    requests: list = field(default_factory=list)
    port: int = 0
    _server: _Recording | None = None

    def start(self) -> "ForeignHost":
        me = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                me.requests.append(self.path)
                body = b'{"name": "stolen"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = _Recording((self.host, 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@dataclass
class HostileUpstream:
    """An upstream whose every answer is a fault, chosen by the requested name's prefix."""
    foreign: ForeignHost
    huge_bytes: int = 64 << 20
    requests: list = field(default_factory=list)
    port: int = 0
    stop_event: threading.Event = field(default_factory=threading.Event)
    _server: _Recording | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def count(self, fragment: str) -> int:
        return sum(1 for p in list(self.requests) if fragment in p)

    def start(self) -> "HostileUpstream":
        me = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                me.requests.append(self.path)
                try:
                    me._answer(self)
                except OSError:
                    pass  # the proxy gave up on us: what the faults are for

        self._server = _Recording(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _answer(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?")[0]
        name = [p for p in path.split("/") if p][-1] if path.strip("/") else ""
        name = name.split("%2f")[-1].split("%2F")[-1]
        is_npm = path.startswith("/npm/")
        ctype = "application/json" if is_npm else "application/vnd.pypi.simple.v1+json"
        if name.startswith("trickle"):
            body = b'{"meta": {"api-version": "1.1"}, "name": "x", "files": []}' + b" " * 4096
            h.send_response(200)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            for i in range(len(body)):
                if me_stopped(self):
                    return
                h.wfile.write(body[i:i + 1])
                h.wfile.flush()
                self.stop_event.wait(1.0)
            return
        if name.startswith("bomb"):
            # 64 MiB of JSON whitespace in a gzip body of about 64 KiB.
            body = _bomb(self.huge_bytes)
            h.send_response(200)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Encoding", "gzip")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        if name.startswith("endless"):
            # No Content-Length: the body ends when the connection does (never, here).
            h.send_response(200)
            h.send_header("Content-Type", ctype)
            h.send_header("Connection", "close")
            h.end_headers()
            piece = b" " * 65536
            while not me_stopped(self):
                h.wfile.write(piece)
            return
        if "/files/slowfile" in path or (is_npm and "/-/slowtar" in path):
            self._trickle_file(h)
            return
        if name.startswith("slowfile"):
            self._slow_file_page(h, name)
            return
        if is_npm and name.startswith("slowtar"):
            self._slow_packument(h, name)
            return
        if name.startswith("huge"):
            h.send_response(200)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(self.huge_bytes))
            h.end_headers()
            piece = b"[" * 65536
            sent = 0
            while sent < self.huge_bytes and not me_stopped(self):
                n = min(len(piece), self.huge_bytes - sent)
                h.wfile.write(piece[:n])
                sent += n
            return
        if name.startswith("badjson"):
            body = b'{"meta": {"api-version": "1.1"}, "name": "' + name.encode() + b'", "files": [{'
            h.send_response(200)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        if name.startswith("loop"):
            other = path.replace("loop-a", "loop-b") if "loop-a" in path else \
                path.replace("loop-b", "loop-a")
            self._redirect(h, other)
            return
        if name.startswith("foreign"):
            self._redirect(h, self.foreign.url + path)
            return
        body = b"not found"
        h.send_response(404)
        h.send_header("Content-Type", "text/plain")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    # A file the pages below link (and vouch for by its hashes), sent one byte a second.
    SLOW_FILE = bytes(range(256)) * 400

    def _trickle_file(self, h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Content-Length", str(len(self.SLOW_FILE)))
        h.end_headers()
        for i in range(len(self.SLOW_FILE)):
            if me_stopped(self):
                return
            h.wfile.write(self.SLOW_FILE[i:i + 1])
            h.wfile.flush()
            self.stop_event.wait(1.0)

    def _send_json(self, h: BaseHTTPRequestHandler, doc: dict, ctype: str) -> None:
        body = json.dumps(doc).encode()
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _slow_file_page(self, h: BaseHTTPRequestHandler, name: str) -> None:
        filename = f"{name.replace('-', '_')}-1.0-py3-none-any.whl"
        self._send_json(h, {"meta": {"api-version": "1.1"}, "name": name, "files": [{
            "filename": filename, "url": f"{self.url}/files/{filename}",
            "hashes": {"sha256": hashlib.sha256(self.SLOW_FILE).hexdigest()},
            "size": len(self.SLOW_FILE)}]}, "application/vnd.pypi.simple.v1+json")

    def _slow_packument(self, h: BaseHTTPRequestHandler, name: str) -> None:
        sri = "sha512-" + base64.b64encode(hashlib.sha512(self.SLOW_FILE).digest()).decode()
        manifest = {"name": name, "version": "1.0.0", "dist": {
            "tarball": f"{self.url}/npm/{name}/-/{name}-1.0.0.tgz", "integrity": sri,
            "shasum": hashlib.sha1(self.SLOW_FILE).hexdigest()}}
        self._send_json(h, {"_id": name, "name": name, "dist-tags": {"latest": "1.0.0"},
                            "versions": {"1.0.0": manifest},
                            "time": {"1.0.0": "2024-01-02T03:04:06.000Z"}},
                        "application/json")

    @staticmethod
    def _redirect(h: BaseHTTPRequestHandler, location: str) -> None:
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()


def _bomb(size: int) -> bytes:
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as z:
        z.write(b"[")
        for _ in range(size // 65536):
            z.write(b" " * 65536)
    return out.getvalue()


def me_stopped(upstream: HostileUpstream) -> bool:
    return upstream.stop_event.is_set()
