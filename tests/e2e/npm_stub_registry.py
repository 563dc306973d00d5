"""A stub of the public npm registry for the npm proxy tests: static packuments on loopback.

Serves, in the registry's standard layout (registry root = the stub's root):
  GET /<name>                        the packument; full, or abbreviated when the Accept
                                     header asks for application/vnd.npm.install-v1+json
  GET /<name>/<version-or-tag>       one version's manifest
  GET /<name>/-/<basename>-<v>.tgz   the tarball
Scoped names are accepted as "@scope%2fname", "@scope%2Fname" and "@scope/name". It
records every request, can be stopped and started again on the same port, can delay its
answers, go down (answer 503, or close connections unanswered), serve a tarball whose bytes
do not match the packument's integrity, link a tarball to another host, or serve a raw
packument. `npm install`'s advisory POST gets 200 {}; publishes are recorded (in
`published`) and answered 405 unless accept_publish is set, so a test can prove nothing
was published upstream. Use it as a context manager: `with NpmStubRegistry() as reg:`.
"""
from __future__ import annotations

import copy
import gzip
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

from npmdists import (basename, integrity_sha512, read_package_json, registry_tarball_path,
                      shasum_sha1)

ABBREVIATED = "application/vnd.npm.install-v1+json"
FIXED_TIME = "2024-01-02T03:04:06.000Z"

_NAME = r"(@[^/]+/[^/@][^/]*|[^@/][^/]*)"

# The fields the registry keeps in an abbreviated packument's versions (npm/registry's
# docs/responses/package-metadata.md, "Abbreviated metadata format").
_ABBREVIATED_FIELDS = ("name", "version", "dist", "deprecated", "dependencies",
                       "optionalDependencies", "devDependencies", "bundleDependencies",
                       "peerDependencies", "peerDependenciesMeta", "bin", "directories",
                       "engines", "cpu", "os", "_hasShrinkwrap", "hasInstallScript",
                       "funding", "license", "acceptDependencies")


def _lower(headers) -> dict:
    """A request's headers with lowercased names (clients differ in how they case them)."""
    return {k.lower(): v for k, v in headers.items()}


def _corrupted(data: bytes, how: str | None) -> bytes:
    if how == "recompress":
        try:
            other = gzip.compress(gzip.decompress(data), compresslevel=1, mtime=1)
        except (OSError, EOFError):
            other = data + b"\0"
        if other != data:
            return other
        how = "flip"
    if how == "flip":
        mid = len(data) // 2
        return data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:]
    return data


@dataclass
class StubVersion:
    name: str
    version: str
    data: bytes
    manifest: dict                    # package.json as published (no dist)
    integrity: str | None = None      # to publish; default of data; "" = none
    shasum: str | None = None         # likewise
    tarball_url: str | None = None    # absolute URL to link instead of the stub's own
    time: str = FIXED_TIME

    @property
    def tarball_path(self) -> str:
        return "/" + registry_tarball_path(self.name, self.version)

    @property
    def published_integrity(self) -> str:
        return integrity_sha512(self.data) if self.integrity is None else self.integrity

    @property
    def published_shasum(self) -> str:
        return shasum_sha1(self.data) if self.shasum is None else self.shasum


@dataclass
class NpmStubRegistry:
    delay: float = 0.0                   # seconds before every answer
    down: str | None = None              # None, "503", or "close"
    accept_publish: bool = False         # answer PUT /<name> 201 instead of 405
    packages: dict = field(default_factory=dict)   # name -> {version: StubVersion}
    dist_tags: dict = field(default_factory=dict)  # name -> {tag: version}
    raw_packuments: dict = field(default_factory=dict)  # name -> bytes served as is
    corrupt: dict = field(default_factory=dict)    # "name@version" -> how (corrupt_tarball)
    redirects: dict = field(default_factory=dict)  # request path -> Location
    requests: list = field(default_factory=list)   # (method, path, lowercased headers)
    published: list = field(default_factory=list)  # (path, headers dict, parsed body)
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        """The registry URL, with the trailing / clients need."""
        return f"http://127.0.0.1:{self.port}/"

    # --- content --------------------------------------------------------------------
    def add(self, tarball, *, tag: str | None = "latest", **kw) -> StubVersion:
        """Publishes a tarball (path or bytes) under its package.json's name and version.

        `tag` (default "latest") is pointed at it; kw are StubVersion fields (integrity,
        shasum, tarball_url, time, manifest to replace package.json).
        """
        data = tarball if isinstance(tarball, (bytes, bytearray)) else Path(tarball).read_bytes()
        manifest = kw.pop("manifest", None) or read_package_json(data)
        v = StubVersion(manifest["name"], manifest["version"], bytes(data), manifest, **kw)
        self.packages.setdefault(v.name, {})[v.version] = v
        if tag:
            self.dist_tags.setdefault(v.name, {})[tag] = v.version
        return v

    def corrupt_tarball(self, name: str, version: str, how: str = "recompress") -> None:
        """Serves name@version's tarball with bytes its integrity does not match.

        "recompress": the same tar gzip'd again at another level, a well-formed tarball
        only a digest check catches (npm reports EINTEGRITY); "flip": one byte flipped,
        which usually breaks the gzip stream as well.
        """
        assert how in ("recompress", "flip"), how
        self.corrupt[f"{name}@{version}"] = how

    def go_down(self, mode: str = "503") -> None:
        """"503": every request gets 503; "close": connections are closed unanswered."""
        assert mode in ("503", "close"), mode
        self.down = mode

    def come_up(self) -> None:
        self.down = None

    # --- request log ----------------------------------------------------------------
    def paths(self) -> list[str]:
        return [p for _, p, _ in self.requests]

    def count(self, path: str) -> int:
        """How many requests had exactly this path (query string included)."""
        return self.paths().count(path)

    def packument_requests(self, name: str) -> int:
        """Requests for name's packument, however its scope was escaped."""
        return sum(1 for p in self.paths() if self._route(p)[:2] == ("packument", name))

    def tarball_requests(self, name: str, version: str) -> int:
        return self.count("/" + registry_tarball_path(name, version))

    def headers_of(self, path_prefix: str) -> list[dict]:
        """The headers of every request whose path starts with path_prefix."""
        return [h for _, p, h in self.requests if p.startswith(path_prefix)]

    # --- lifecycle ------------------------------------------------------------------
    def __enter__(self) -> "NpmStubRegistry":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "NpmStubRegistry":
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self, method: str) -> None:
                body = b""
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    body = self.rfile.read(length)
                with stub._lock:
                    stub.requests.append((method, self.path, _lower(self.headers)))
                if stub.delay:
                    time.sleep(stub.delay)
                if stub.down == "close":
                    self.close_connection = True
                    return
                status, headers, out = stub._answer(method, self.path, self.headers, body)
                try:
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(out)))
                    self.end_headers()
                    if method != "HEAD":
                        self.wfile.write(out)
                except OSError:
                    pass

            def do_GET(self):
                self._serve("GET")

            def do_HEAD(self):
                self._serve("HEAD")

            def do_PUT(self):
                self._serve("PUT")

            def do_POST(self):
                self._serve("POST")

            def do_DELETE(self):
                self._serve("DELETE")

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # --- documents ------------------------------------------------------------------
    def version_manifest(self, v: StubVersion) -> dict:
        doc = copy.deepcopy(v.manifest)
        doc["_id"] = f"{v.name}@{v.version}"
        dist = {"tarball": v.tarball_url or self.url + registry_tarball_path(v.name, v.version)}
        if v.published_shasum:
            dist["shasum"] = v.published_shasum
        if v.published_integrity:
            dist["integrity"] = v.published_integrity
        doc["dist"] = dist
        return doc

    def packument(self, name: str, abbreviated: bool = False) -> dict:
        versions = self.packages[name]
        tags = dict(self.dist_tags.get(name, {}))
        times = sorted(v.time for v in versions.values())
        if abbreviated:
            return {
                "name": name,
                "modified": times[-1],
                "dist-tags": tags,
                "versions": {ver: {k: m[k] for k in _ABBREVIATED_FIELDS if k in m}
                             for ver, m in ((ver, self.version_manifest(v))
                                            for ver, v in versions.items())},
            }
        latest = versions.get(tags.get("latest", ""))
        doc = {
            "_id": name,
            "_rev": "1-" + hashlib.md5(name.encode()).hexdigest(),
            "name": name,
            "description": (latest.manifest.get("description", "") if latest else ""),
            "dist-tags": tags,
            "versions": {ver: self.version_manifest(v) for ver, v in versions.items()},
            "time": {"created": times[0], "modified": times[-1],
                     **{ver: v.time for ver, v in versions.items()}},
            "maintainers": [{"name": "stub", "email": "stub@example.invalid"}],
            "readme": "",
            "readmeFilename": "",
        }
        return doc

    # --- routing --------------------------------------------------------------------
    @staticmethod
    def _route(path: str) -> tuple:
        """("packument", name) / ("manifest", name, spec) / ("tarball", name, file)."""
        p = unquote(path.split("?", 1)[0])
        m = re.fullmatch("/" + _NAME, p)
        if m:
            return ("packument", m.group(1))
        m = re.fullmatch("/" + _NAME + r"/-/([^/]+\.tgz)", p)
        if m:
            return ("tarball", m.group(1), m.group(2))
        m = re.fullmatch("/" + _NAME + r"/([^/]+)", p)
        if m:
            return ("manifest", m.group(1), m.group(2))
        return ("other", p)

    def _json(self, status: int, doc, ctype: str = "application/json") -> tuple:
        return status, {"Content-Type": ctype}, json.dumps(doc).encode()

    def _answer(self, method: str, path: str, headers, body: bytes) -> tuple[int, dict, bytes]:
        if self.down == "503":
            return 503, {"Content-Type": "text/plain", "Retry-After": "1"}, b"down"
        if path in self.redirects:
            return 302, {"Location": self.redirects[path]}, b""
        route = self._route(path)
        if method == "POST" and route[1].startswith("/-/npm/v1/security/"):
            return self._json(200, {})
        if method in ("PUT", "POST", "DELETE"):
            try:
                parsed = json.loads(body) if body else None
            except ValueError:
                parsed = None
            with self._lock:
                self.published.append((path, _lower(headers), parsed))
            if method == "PUT" and route[0] == "packument" and self.accept_publish:
                return self._json(201, {"ok": True, "id": route[1]})
            return self._json(405, {"error": "the stub upstream takes no writes"})
        if route[0] == "packument":
            return self._packument(route[1], headers)
        if route[0] == "manifest":
            versions = self.packages.get(route[1])
            if versions is None:
                return self._json(404, {"error": "Not found"})
            ver = self.dist_tags.get(route[1], {}).get(route[2], route[2])
            if ver not in versions:
                return self._json(404, {"error": "version not found: " + route[2]})
            return self._json(200, self.version_manifest(versions[ver]))
        if route[0] == "tarball":
            for v in self.packages.get(route[1], {}).values():
                if f"{basename(v.name)}-{v.version}.tgz" != route[2]:
                    continue
                data = _corrupted(v.data, self.corrupt.get(f"{v.name}@{v.version}"))
                return 200, {"Content-Type": "application/octet-stream"}, data
        return self._json(404, {"error": "Not found"})

    def _packument(self, name: str, headers) -> tuple[int, dict, bytes]:
        if name in self.raw_packuments:
            return 200, {"Content-Type": "application/json"}, self.raw_packuments[name]
        if name not in self.packages:
            return self._json(404, {"error": "Not found"})
        abbreviated = ABBREVIATED in headers.get("Accept", "")
        doc = self.packument(name, abbreviated)
        out = json.dumps(doc).encode()
        etag = '"' + hashlib.sha256(out).hexdigest()[:16] + '"'
        common = {"ETag": etag, "Vary": "Accept, Accept-Encoding"}
        if headers.get("If-None-Match") == etag:
            return 304, common, b""
        ctype = ABBREVIATED if abbreviated else "application/json"
        return 200, {"Content-Type": ctype, **common}, out
