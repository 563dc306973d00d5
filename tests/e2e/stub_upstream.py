"""A stub upstream index for the proxy tests: a static simple index on loopback.

Serves PEP 503 HTML and (unless json=False) PEP 691 JSON project pages at
/simple/<name>/, files at /files/<filename> and PEP 658 metadata at
/files/<filename>.metadata. It records every request, can be stopped and started again
on the same port, can delay its answers, serve a file with corrupted bytes, link a file
to another host, redirect a file URL elsewhere, or send files slowly (file_rate).
"""
from __future__ import annotations

import hashlib
import html
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pydists import Dist


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class StubFile:
    filename: str
    data: bytes
    metadata: bytes | None = None     # served at <url>.metadata when set
    requires_python: str | None = None
    yanked: str | bool | None = None  # a reason, True, or None
    url: str | None = None            # absolute URL to link instead of /files/<filename>
    sha256: str | None = None         # the hash to publish (default: of data); "" = none

    @property
    def published_sha256(self) -> str:
        if self.sha256 is not None:
            return self.sha256
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class StubUpstream:
    json: bool = True                    # offer PEP 691 JSON when asked
    delay: float = 0.0                   # seconds before every answer
    projects: dict = field(default_factory=dict)     # normalized -> [StubFile]
    corrupt: set = field(default_factory=set)        # filenames served with other bytes
    redirects: dict = field(default_factory=dict)    # /files/<filename> -> Location
    requests: list = field(default_factory=list)     # (path, headers dict)
    file_rate: float = 0.0               # bytes per second for /files/ bodies; 0 = no limit
    sent: list = field(default_factory=list)         # paths whose whole body was sent
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def simple_url(self) -> str:
        return f"{self.url}/simple/"

    def add(self, dist: Dist, **kw) -> StubFile:
        """Publishes a pydists.Dist (its METADATA as the .metadata file of wheels)."""
        kw.setdefault("metadata", dist.metadata if dist.is_wheel else None)
        f = StubFile(dist.filename, dist.data, **kw)
        self.projects.setdefault(normalize(dist.name), []).append(f)
        return f

    def paths(self) -> list[str]:
        return [p for p, _ in self.requests]

    # --- lifecycle ------------------------------------------------------------------
    def start(self) -> "StubUpstream":
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                stub.requests.append((self.path, dict(self.headers.items())))
                if stub.delay:
                    time.sleep(stub.delay)
                status, headers, body = stub._answer(self.path, self.headers)
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if stub.file_rate and self.path.startswith("/files/"):
                        stub._send_slowly(self.wfile, body)
                    else:
                        self.wfile.write(body)
                    stub.sent.append(self.path)
                except OSError:
                    pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def fetches(self, filename: str) -> int:
        """How many times /files/<filename> was requested."""
        return self.paths().count(f"/files/{filename}")

    def _send_slowly(self, out, body: bytes) -> None:
        piece = 64 * 1024
        start = time.monotonic()
        for at in range(0, len(body), piece):
            out.write(body[at:at + piece])
            ahead = (at + piece) / self.file_rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- pages ----------------------------------------------------------------------
    def _file_url(self, f: StubFile) -> str:
        # Relative, as PyPI's pages are, so the proxy must resolve it.
        return f.url or f"../../files/{f.filename}"

    def _html(self, files: list[StubFile]) -> bytes:
        out = ["<!DOCTYPE html><html><head><title>Links</title></head><body>"]
        for f in files:
            sha = f.published_sha256
            href = self._file_url(f) + (f"#sha256={sha}" if sha else "")
            attrs = f'href="{html.escape(href)}"'
            if f.requires_python:
                attrs += f' data-requires-python="{html.escape(f.requires_python)}"'
            if f.yanked is not None and f.yanked is not False:
                reason = "" if f.yanked is True else f.yanked
                attrs += f' data-yanked="{html.escape(reason)}"'
            if f.metadata is not None:
                meta = hashlib.sha256(f.metadata).hexdigest()
                attrs += f' data-dist-info-metadata="sha256={meta}"'
            out.append(f"<a {attrs}>{html.escape(f.filename)}</a><br/>")
        out.append("</body></html>")
        return "\n".join(out).encode()

    def _json(self, name: str, files: list[StubFile]) -> bytes:
        entries = []
        for f in files:
            e = {"filename": f.filename, "url": self._file_url(f),
                 "hashes": {"sha256": f.published_sha256} if f.published_sha256 else {},
                 "size": len(f.data), "upload-time": "2024-01-02T03:04:06.000000Z"}
            if f.requires_python:
                e["requires-python"] = f.requires_python
            e["yanked"] = f.yanked if f.yanked is not None else False
            if f.metadata is not None:
                e["core-metadata"] = {"sha256": hashlib.sha256(f.metadata).hexdigest()}
            entries.append(e)
        return json.dumps({"meta": {"api-version": "1.1"}, "name": name,
                           "files": entries}).encode()

    def _answer(self, path: str, headers) -> tuple[int, dict, bytes]:
        path = path.split("?")[0]
        m = re.fullmatch(r"/simple/([^/]+)/", path)
        if m:
            files = self.projects.get(m.group(1))
            if files is None:
                return 404, {"Content-Type": "text/plain"}, b"not found"
            accept = headers.get("Accept", "")
            if self.json and "application/vnd.pypi.simple.v1+json" in accept:
                body, ctype = self._json(m.group(1), files), "application/vnd.pypi.simple.v1+json"
            else:
                body, ctype = self._html(files), "text/html"
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            if headers.get("If-None-Match") == etag:
                return 304, {"ETag": etag}, b""
            return 200, {"Content-Type": ctype, "ETag": etag}, body
        if path in self.redirects:
            return 302, {"Location": self.redirects[path]}, b""
        m = re.fullmatch(r"/files/([^/]+)", path)
        if m:
            name = m.group(1)
            want_meta = name.endswith(".metadata")
            if want_meta:
                name = name[: -len(".metadata")]
            for files in self.projects.values():
                for f in files:
                    if f.filename != name:
                        continue
                    if want_meta:
                        if f.metadata is None:
                            return 404, {}, b""
                        return 200, {"Content-Type": "text/plain"}, f.metadata
                    data = f.data
                    if name in self.corrupt:
                        mid = len(data) // 2
                        data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:]
                    return 200, {"Content-Type": "application/octet-stream"}, data
        return 404, {"Content-Type": "text/plain"}, b"not found"
