"""Starts and stops a real `pipy serve`, runs its CLI, and talks HTTP to it.

Everything here follows the public contract in DESIGN.md only: the CLI flags, the
/healthz readiness probe, SIGTERM for a graceful stop, and the HTTP routes.

Backends: with PIPY_E2E_BACKENDS=s3-postgres every server keeps its blobs in the tests' S3
server (a key prefix of its own in the bucket) and its catalog in the tests' PostgreSQL (a
database of its own), unless the test's config text chooses its own [storage] / [catalog].
The services come from the ctest fixtures "s3" and "postgres" (tests/services/*.sh), found
through PIPY_TEST_S3_ENDPOINT and PIPY_TEST_POSTGRES_URL. Several servers given one
`SharedBackends` serve one repository (several nodes).
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PIPY_BIN = Path(os.environ.get("PIPY_BIN", str(REPO / "build" / "src" / "pipy")))
PIP_JSON = "application/vnd.pypi.simple.v1+json"
PIP_ACCEPT = ("application/vnd.pypi.simple.v1+json, "
              "application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01")
HEX64 = re.compile(r"[0-9a-f]{64}")

BACKENDS = os.environ.get("PIPY_E2E_BACKENDS", "").strip() or "default"
assert BACKENDS in ("default", "s3-postgres"), f"unknown PIPY_E2E_BACKENDS={BACKENDS}"
S3_ENDPOINT = os.environ.get("PIPY_TEST_S3_ENDPOINT", "http://127.0.0.1:17900")
S3_BUCKET = "pipy-test"  # created by tests/services/s3.sh
POSTGRES_URL = os.environ.get("PIPY_TEST_POSTGRES_URL",
                              "postgresql://postgres@127.0.0.1:17432/pipy_test")
S3RVER_OBJECT = "._S3rver_object"  # s3rver keeps object KEY in the file KEY._S3rver_object


def s3_postgres_mode() -> bool:
    """True when every harness server runs on S3 + PostgreSQL (PIPY_E2E_BACKENDS)."""
    return BACKENDS == "s3-postgres"


def s3rver_directory(endpoint: str = S3_ENDPOINT) -> Path:
    """Where the s3rver of tests/services/s3.sh on `endpoint`'s port keeps its buckets."""
    port = urllib.parse.urlsplit(endpoint).port
    return Path(f"/tmp/pipy-s3-{port}/data")


def psql(server_url: str, sql: str) -> None:
    """Runs `sql` on the maintenance database of the PostgreSQL at `server_url`
    (postgresql://user@host:port, no database)."""
    res = subprocess.run(["psql", f"{server_url}/postgres", "-qc", sql],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, f"psql {sql!r}: {res.stderr}"


class S3rverObject(type(Path())):
    """The file s3rver keeps an object in; `name` is the object's own name (its blob key),
    so code written for blob files on disk reads, flips and ages S3 blobs alike."""

    @property
    def name(self) -> str:
        n = super().name
        return n[: -len(S3RVER_OBJECT)] if n.endswith(S3RVER_OBJECT) else n


@dataclass
class SharedBackends:
    """One repository in the test services: a key prefix in the S3 bucket and a PostgreSQL
    database of its own. Servers given the same object serve the same repository."""
    endpoint: str = S3_ENDPOINT
    bucket: str = S3_BUCKET
    postgres_server: str = POSTGRES_URL.rsplit("/", 1)[0]
    s3_timeout: str = "10s"
    pool_size: int = 4
    prefix: str = field(default_factory=lambda: f"e2e-{uuid.uuid4().hex[:12]}/")
    database: str = field(default_factory=lambda: f"pipy_e2e_{uuid.uuid4().hex[:12]}")
    s3rver_dir: Path | None = None  # default: the one tests/services/s3.sh uses for endpoint
    _created: bool = False

    @property
    def database_url(self) -> str:
        return f"{self.postgres_server}/{self.database}"

    def create(self) -> None:
        """Creates the database (once); the bucket exists already."""
        if not self._created:
            psql(self.postgres_server, f"CREATE DATABASE {self.database}")
            self._created = True

    def drop(self) -> None:
        """Drops the database and the prefix's objects (after its servers stopped)."""
        if self._created:
            psql(self.postgres_server, f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
            self._created = False
        subprocess.run(["rm", "-rf", str(self.s3rver_prefix_dir())], check=False)

    def storage_toml(self) -> str:
        return (f'[storage]\nbackend = "s3"\nendpoint = "{self.endpoint}"\n'
                f'bucket = "{self.bucket}"\nprefix = "{self.prefix}"\n'
                f'access_key_id = "S3RVER"\nsecret_access_key = "S3RVER"\n'
                f'timeout = "{self.s3_timeout}"\n\n')

    def catalog_toml(self) -> str:
        return (f'[catalog]\nbackend = "postgres"\nurl = "{self.database_url}"\n'
                f'pool_size = {self.pool_size}\n')

    def s3rver_prefix_dir(self) -> Path:
        root = self.s3rver_dir or s3rver_directory(self.endpoint)
        return root / self.bucket / self.prefix.rstrip("/")

    def blob_files(self) -> list[Path]:
        """The s3rver files of every object under `<prefix>blobs/` (S3BlobStore's layout)."""
        root = self.s3rver_prefix_dir() / "blobs"
        return [S3rverObject(p) for p in root.rglob("*" + S3RVER_OBJECT) if p.is_file()]

    def blob_file_for(self, key: str) -> Path:
        """Where s3rver would keep the blob `key` (for planting orphans)."""
        return S3rverObject(self.s3rver_prefix_dir() / "blobs" / (key + S3RVER_OBJECT))


def _has_table(config_text: str, table: str) -> bool:
    return re.search(rf"(?m)^\s*\[\s*{table}\s*\]", config_text) is not None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def basic_auth(token: str) -> dict:
    raw = base64.b64encode(f"__token__:{token}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def bearer_auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Response:
    status: int
    reason: str
    headers: http.client.HTTPMessage
    body: bytes

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Runs `pipy ARGS`, capturing output as text."""
    return subprocess.run([str(PIPY_BIN), *args], capture_output=True, text=True,
                          timeout=timeout)


@dataclass
class PipyServer:
    """One `pipy serve` process over one data folder; restartable on the same data."""
    root: Path                      # a private temp folder; data/ and logs live below it
    config_text: str | None = None
    # S3 + PostgreSQL for the tables config_text leaves out; None = the defaults. In
    # s3-postgres mode a server gets backends of its own unless it is given some.
    backends: SharedBackends | None = None
    port: int = 0
    proc: subprocess.Popen | None = None
    _tokens: dict = field(default_factory=dict)
    _starts: int = 0
    _owns_backends: bool = False

    def __post_init__(self) -> None:
        if self.backends is None and s3_postgres_mode():
            self.backends = SharedBackends()
            self._owns_backends = True

    @property
    def s3_storage(self) -> bool:
        """Whether the harness put this server's blobs in S3 (else: its own choice)."""
        return self.backends is not None and not _has_table(self.config_text or "", "storage")

    def effective_config_text(self) -> str | None:
        """config_text with the harness's [storage] / [catalog] tables appended."""
        if self.backends is None:
            return self.config_text
        text = self.config_text or ""
        extra = ""
        if not _has_table(text, "storage"):
            extra += self.backends.storage_toml()
        if not _has_table(text, "catalog"):
            extra += self.backends.catalog_toml()
        return text + ("\n" if text and not text.endswith("\n") else "") + "\n" + extra

    @property
    def config_path(self) -> Path | None:
        """The config file `pipy serve` (and the CLI helpers) read, if any."""
        return self.root / "pipy.toml" if self.effective_config_text() is not None else None

    def cleanup(self) -> None:
        """Releases the service resources this server owns (its database, its prefix)."""
        if self._owns_backends and self.backends is not None:
            self.backends.drop()

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.root / f"serve-{self._starts}.log"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def start(self, timeout: float = 20) -> None:
        assert PIPY_BIN.exists(), f"pipy binary not found at {PIPY_BIN} (set PIPY_BIN)"
        args = []
        text = self.effective_config_text()
        if text is not None:
            if self.backends is not None:
                self.backends.create()
            self.config_path.write_text(text)
            args = ["--config", str(self.config_path)]
        (self.root / "cwd").mkdir(exist_ok=True)
        for _attempt in range(3):
            self._starts += 1
            self.port = free_port()
            logf = open(self.log_path, "wb")
            self.proc = subprocess.Popen(
                [str(PIPY_BIN), "serve", "--data", str(self.data),
                 "--listen", f"127.0.0.1:{self.port}", *args],
                stdout=logf, stderr=subprocess.STDOUT, cwd=self.root / "cwd")
            logf.close()
            if self._wait_ready(timeout):
                return
            if self.proc.poll() is None:
                self.kill()
                break
            if "in use" not in self.log().lower():
                break
        raise AssertionError(f"pipy serve did not become ready:\n{self.log()}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                if self.get("/healthz", timeout=2).status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def stop(self, timeout: float = 10) -> int:
        """SIGTERM; returns the exit code. Fails when the process outlives `timeout`."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"pipy serve ignored SIGTERM for {timeout} s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def restart(self) -> None:
        self.kill()
        self.start()

    # --- CLI -------------------------------------------------------------------------
    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """Runs `pipy SUB --data DATA [--config CONFIG] REST` for args = (SUB, *REST); the
        config is the one the server was last started with."""
        sub, *rest = args
        cfg = ["--config", str(self.config_path)] if self.config_path is not None else []
        if cfg and not self.config_path.exists():
            cfg = []
        return run_cli(*sub.split(), "--data", str(self.data), *cfg, *rest, timeout=timeout)

    def token(self, *scopes: str, name: str | None = None) -> str:
        """A token with exactly `scopes`, created through the CLI (cached per scope set)."""
        key = tuple(sorted(scopes))
        if name is None and key in self._tokens:
            return self._tokens[key]
        name = name or f"e2e-{len(self._tokens)}-{time.monotonic_ns()}"
        scope_args = [a for s in scopes for a in ("--scope", s)]
        res = self.cli("token create", "--name", name, *scope_args)
        assert res.returncode == 0, f"token create failed: {res.stdout}{res.stderr}"
        lines = [ln.strip() for ln in res.stdout.splitlines() if ln.strip()]
        assert lines, f"token create printed nothing: {res.stderr}"
        if name.startswith("e2e-"):
            self._tokens[key] = lines[-1]
        return lines[-1]

    # --- HTTP ------------------------------------------------------------------------
    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None, timeout: float = 30) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            return Response(r.status, r.reason, r.headers, r.read())
        finally:
            conn.close()

    def get(self, path: str, headers: dict | None = None, timeout: float = 30) -> Response:
        return self.request("GET", path, headers=headers, timeout=timeout)

    def path_of(self, url: str) -> str:
        """The path+query of an absolute or server-relative URL (fragment dropped)."""
        parts = urllib.parse.urlsplit(urllib.parse.urljoin(self.url + "/", url))
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def project_json(self, name: str, headers: dict | None = None) -> Response:
        return self.get(f"/simple/{name}/", {"Accept": PIP_JSON, **(headers or {})})

    def files(self, name: str) -> dict:
        """filename -> PEP 691 file dict (url made absolute) of project `name`."""
        r = self.project_json(name)
        assert r.status == 200, f"/simple/{name}/ -> {r.status} {r.reason}: {r.text[:300]}"
        page = f"{self.url}/simple/{name}/"
        out = {}
        for f in r.json()["files"]:
            f = dict(f)
            f["url"] = urllib.parse.urljoin(page, f["url"]).split("#")[0]
            out[f["filename"]] = f
        return out

    def fetch_file(self, name: str, filename: str) -> Response:
        return self.get(self.path_of(self.files(name)[filename]["url"]))

    def blob_files(self) -> list[Path]:
        """Every blob file, as a Path whose `name` is the blob's key (a sha256): files
        under the data folder named by a sha256, or, when the harness put the blobs in S3,
        the files the S3 server keeps this server's objects in."""
        if self.s3_storage:
            return self.backends.blob_files()
        return [p for p in self.data.rglob("*") if p.is_file() and HEX64.fullmatch(p.name)]

    def plant_orphan_blob(self, data: bytes, key: str) -> Path:
        """Writes `data` as blob `key` straight into the store, beside the blobs it keeps,
        bypassing pipy (an unreferenced blob, as a crash mid-upload leaves); returns its
        file. Needs at least one blob stored already (its place gives the layout)."""
        if self.s3_storage:
            path = self.backends.blob_file_for(key)
        else:
            existing = self.blob_files()
            assert existing, "plant_orphan_blob needs one stored blob to copy the layout of"
            path = _path_like(existing[0], existing[0].name, key, self.data)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    def blob_path(self, sha256: str) -> Path:
        hits = [p for p in self.blob_files() if p.name == sha256]
        assert len(hits) == 1, f"blob {sha256} found {len(hits)} times under {self.data}"
        return hits[0]


def _path_like(existing: Path, existing_key: str, new_key: str, data_dir: Path) -> Path:
    """Where the filesystem store would keep `new_key`, given where it keeps `existing_key`:
    fan-out folders named by successive slices of the key (ab/cd/abcd...) get the new key's."""
    rel = existing.relative_to(data_dir)
    parts, offset = [], 0
    for p in rel.parts[:-1]:
        if p and existing_key[offset:offset + len(p)] == p:
            parts.append(new_key[offset:offset + len(p)])
            offset += len(p)
        else:
            parts.append(p)
    return data_dir.joinpath(*parts, new_key)


def raw_exchange(port: int, data: bytes, timeout: float = 10) -> tuple[int | None, bytes]:
    """Sends raw bytes on a fresh connection, returns (status or None, everything read)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass  # the server may answer and close before taking everything
        buf = b""
        try:
            while True:
                got = s.recv(65536)
                if not got:
                    break
                buf += got
                if _complete(buf):
                    break
        except OSError:
            pass
    m = re.match(rb"HTTP/1\.[01] (\d{3})", buf)
    return (int(m.group(1)) if m else None), buf


def _complete(buf: bytes) -> bool:
    head, _, body = buf.partition(b"\r\n\r\n")
    if not _:
        return False
    m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
    if m is not None:
        return len(body) >= int(m.group(1))
    return body.endswith(b"0\r\n\r\n")
