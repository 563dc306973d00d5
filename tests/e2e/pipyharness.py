"""Starts and stops a real `pipy serve`, runs its CLI, and talks HTTP to it.

Everything here follows the public contract in DESIGN.md only: the CLI flags, the
/healthz readiness probe, SIGTERM for a graceful stop, and the HTTP routes.
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
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PIPY_BIN = Path(os.environ.get("PIPY_BIN", str(REPO / "build" / "src" / "pipy")))
PIP_JSON = "application/vnd.pypi.simple.v1+json"
PIP_ACCEPT = ("application/vnd.pypi.simple.v1+json, "
              "application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01")
HEX64 = re.compile(r"[0-9a-f]{64}")


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
    port: int = 0
    proc: subprocess.Popen | None = None
    _tokens: dict = field(default_factory=dict)
    _starts: int = 0

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
        if self.config_text is not None:
            cfg = self.root / "pipy.toml"
            cfg.write_text(self.config_text)
            args = ["--config", str(cfg)]
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
        """Runs `pipy SUB --data DATA REST` for args = (SUB, *REST)."""
        sub, *rest = args
        return run_cli(*sub.split(), "--data", str(self.data), *rest, timeout=timeout)

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
        """Every file under the data folder named by a sha256 (the blob store's keys)."""
        return [p for p in self.data.rglob("*") if p.is_file() and HEX64.fullmatch(p.name)]

    def blob_path(self, sha256: str) -> Path:
        hits = [p for p in self.blob_files() if p.name == sha256]
        assert len(hits) == 1, f"blob {sha256} found {len(hits)} times under {self.data}"
        return hits[0]


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
