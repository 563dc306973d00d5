"""Fault injection (issue 12 item 3): the object store and the database misbehave while a
scaled-out Pipy (S3 + PostgreSQL) runs.

test_outage.py covers a service that is down and comes back. Here the services are up but
misbehave:
- S3, through faultproxy.FaultProxy in front of the tests' S3 server: 500 and 503
  SlowDown answers, connections reset mid-body, stalls past [storage] timeout (before the
  answer and in the middle of its body), truncated
  GET bodies. Pipy retries a bounded number of times with a growing backoff
  (S3ClientOptions: 4 attempts, 100 ms doubling), then answers 503; no catalog row ever
  points at an incomplete blob; a truncated object is never served as a complete 200.
- PostgreSQL, a server of this module's own: Pipy's connections are terminated
  (pg_terminate_backend) in the middle of a load, and the server is restarted under load.
  Answers are 200 or, during the gap only, 503; nothing is half-committed; Pipy heals
  within seconds, without a restart.

Needs the fixtures "s3" and "postgres" (PIPY_TEST_S3_ENDPOINT, PIPY_TEST_POSTGRES_URL).
"""
from __future__ import annotations

import hashlib
import http.client
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from faultproxy import FaultProxy
from pipyharness import (REPO, S3_ENDPOINT, PipyServer, SharedBackends, free_port, psql,
                         s3rver_directory)
from pydists import make_wheel, sha256_of, upload

SERVICES = REPO / "tests" / "services"
S3_TIMEOUT_S = 2.0
ATTEMPTS = 4                  # S3ClientOptions::max_attempts
BACKOFFS = (0.1, 0.2, 0.4)    # before attempts 2, 3, 4
RECOVERY_S = 5.0              # from the database's return to the first accepted upload


# --- S3 ---------------------------------------------------------------------------------
@pytest.fixture
def proxy():
    p = FaultProxy(S3_ENDPOINT).start()
    yield p
    p.stop()


@pytest.fixture
def s3_backends(proxy):
    b = SharedBackends(endpoint=proxy.endpoint, s3rver_dir=s3rver_directory(S3_ENDPOINT),
                       s3_timeout=f"{S3_TIMEOUT_S:g}s")
    yield b
    b.drop()


def storage_without_cache(backends: SharedBackends) -> str:
    """The backends' [storage] with the node's read-through cache off, so every download
    is a GET through the proxy."""
    return backends.storage_toml() + "cache_size = 0\n"


def s3_objects(backends: SharedBackends) -> set[str]:
    return {p.name for p in backends.blob_files()}


def listed_by_a_fresh_node(server_factory, backends, project: str) -> list[str]:
    fresh = server_factory(storage_without_cache(backends), backends=backends)
    try:
        r = fresh.project_json(project)
        return sorted(f["filename"] for f in r.json()["files"]) if r.status == 200 else []
    finally:
        assert fresh.stop() == 0


def assert_backoff(proxy: FaultProxy, method: str, key: str, attempts: int) -> None:
    """`attempts` requests for `key`, spaced by at least the growing backoff."""
    seen = proxy.requests(method, key)
    assert len(seen) == attempts, [(e.method, e.fault) for e in seen]
    for i in range(1, len(seen)):
        gap = seen[i].at - seen[i - 1].at
        assert gap >= BACKOFFS[i - 1] * 0.9, (i, gap)


def test_s3_write_faults_are_retried_then_503_and_never_half_committed(
        server_factory, proxy, s3_backends, tmp_path):
    server = server_factory(None, backends=s3_backends)
    token = server.token("upload:*")
    project = "pipyf-s3w"
    first = make_wheel(tmp_path / "first", project, "1.0")
    assert upload(server, first, token).status == 200
    listing = server.project_json(project).body

    # Passing faults are absorbed by the retries: the upload succeeds, whole.
    for i, fault in enumerate(("503", "500", "reset_request")):
        w = make_wheel(tmp_path / f"ok{i}", project, f"2.{i}", payload=os.urandom(300_000))
        proxy.add(fault, "PUT", w.sha256, times=2)
        r = upload(server, w, token)
        assert r.status == 200, (fault, r.status, r.reason)
        if fault != "reset_request":  # (libcurl itself re-sends once on a reused connection)
            assert_backoff(proxy, "PUT", w.sha256, 3)
        got = server.fetch_file(project, w.filename)
        assert got.status == 200 and sha256_of(got.body) == w.sha256, fault
    listing = server.project_json(project).body

    # Lasting faults: bounded attempts, then 503 with a reason; no row, no object.
    for i, fault in enumerate(("503", "500", "reset_request", "stall")):
        w = make_wheel(tmp_path / f"bad{i}", project, f"3.{i}", payload=os.urandom(300_000))
        proxy.clear()
        proxy.add(fault, "PUT", w.sha256, times=None)
        t0 = time.monotonic()
        r = upload(server, w, token, timeout=90)
        took = time.monotonic() - t0
        assert r.status == 503, (fault, r.status, r.reason, r.text[:300])
        assert r.reason.strip(), fault
        bound = 3 if fault != "stall" else ATTEMPTS * (S3_TIMEOUT_S + 1) + 3
        assert took < bound, (fault, f"{took:.1f} s")
        if fault == "reset_request":
            assert ATTEMPTS <= len(proxy.requests("PUT", w.sha256)) <= 2 * ATTEMPTS, fault
        elif fault == "stall":
            assert len(proxy.requests("PUT", w.sha256)) == ATTEMPTS, fault
        else:
            assert_backoff(proxy, "PUT", w.sha256, ATTEMPTS)
        assert server.project_json(project).body == listing, fault
        assert w.sha256 not in s3_objects(s3_backends), fault
        assert server.get("/healthz").status == 200
    proxy.clear()
    assert listed_by_a_fresh_node(server_factory, s3_backends, project) == \
        sorted(f["filename"] for f in server.project_json(project).json()["files"])
    res = server.cli("check")
    assert res.returncode == 0, res.stdout + res.stderr
    # And the store heals by itself: the last refused upload now goes through.
    assert upload(server, w, token).status == 200
    assert sha256_of(server.fetch_file(project, w.filename).body) == w.sha256


def get_raw(server: PipyServer, path: str, timeout: float = 60):
    """(status, body, complete, declared length or None)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        length = r.getheader("Content-Length")
        try:
            return r.status, r.read(), True, length
        except (http.client.IncompleteRead, ConnectionError) as e:
            return r.status, getattr(e, "partial", b""), False, length
    finally:
        conn.close()


def assert_never_wrong(what: str, got, data: bytes) -> None:
    """A download either is the file, or visibly is not: an error status, or a body cut
    off with the connection broken. Never a complete 200 of other bytes."""
    status, body, complete, length = got
    if status == 200 and complete:
        assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest(), \
            (what, "a complete 200 of the wrong bytes", len(body), len(data), length)
    else:
        assert status in (200, 502, 503, 504), (what, status, body[:200])


@pytest.mark.parametrize("cache", ["no-cache", "read-through-cache"])
def test_s3_read_faults_never_serve_wrong_bytes(server_factory, proxy, s3_backends, tmp_path,
                                                cache):
    storage = storage_without_cache(s3_backends) if cache == "no-cache" else None
    writer = server_factory(storage, backends=s3_backends)
    token = writer.token("upload:*")
    project = f"pipyf-s3r-{cache}"
    # A small file (kept in memory once read) and a large one (streamed).
    small = make_wheel(tmp_path / "s", project, "1.0", payload=os.urandom(20_000))
    large = make_wheel(tmp_path / "l", project, "2.0", payload=os.urandom(3_000_000))
    for d in (small, large):
        assert upload(writer, d, token).status == 200
    urls = {d.filename: writer.path_of(writer.files(project)[d.filename]["url"])
            for d in (small, large)}

    # stall_body: S3 sends half the object, then nothing, with the connection open; every
    # resumed (Range) attempt stalls the same way. The client must see the download cut
    # short within the bound, and the cache must not keep the half.
    stalls = ("stall", "stall_body")
    faults = ["truncate", "short_length", "stall_body"]
    if cache == "no-cache":  # the same GETs either way: the rest once
        faults += ["reset_response", "503", "stall"]
    for fault in faults:
        # A node that has read nothing yet, so every download goes to S3.
        reader = server_factory(storage, backends=s3_backends)
        for d in (small, large) if fault not in stalls else (large,):
            proxy.clear()
            proxy.add(fault, "GET", d.sha256, times=None)
            t0 = time.monotonic()
            got = get_raw(reader, urls[d.filename])
            took = time.monotonic() - t0
            assert_never_wrong(f"{fault} {d.filename}", got, d.data)
            bound = 5 if fault not in stalls else 2 * ATTEMPTS * (S3_TIMEOUT_S + 1) + 5
            assert took < bound, (fault, d.filename, f"{took:.1f} s")
            if fault == "stall_body":
                assert not (got[0] == 200 and got[2]), "a stalled download came out whole"
            # Whatever broke is not remembered: with S3 healthy the file is whole.
            proxy.clear()
            again = get_raw(reader, urls[d.filename])
            assert again[0] == 200 and again[2] and sha256_of(again[1]) == d.sha256, \
                (fault, d.filename, again[0], len(again[1]))
        assert reader.stop() == 0

    # A single break mid-body is resumed (Range) and the download is whole.
    reader = server_factory(storage, backends=s3_backends)
    proxy.clear()
    proxy.add("reset_response", "GET", large.sha256, times=1)
    got = get_raw(reader, urls[large.filename])
    assert got[0] == 200 and got[2] and sha256_of(got[1]) == large.sha256
    res = writer.cli("check")
    assert res.returncode == 0, res.stdout + res.stderr


# --- PostgreSQL -------------------------------------------------------------------------
class PrivatePostgres:
    """A PostgreSQL of this module's own (tests/services/postgres.sh PORT)."""

    def __init__(self):
        self.port = free_port()

    def script(self, action: str) -> str:
        res = subprocess.run([str(SERVICES / "postgres.sh"), action, str(self.port)],
                             capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, f"postgres.sh {action}: {res.stdout}{res.stderr}"
        return res.stdout.strip()

    @property
    def server_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}"


@pytest.fixture(scope="module")
def private_postgres():
    pg = PrivatePostgres()
    pg.script("start")
    yield pg
    pg.script("stop")
    Path(f"/tmp/pipy-postgres-{pg.port}.lock").unlink(missing_ok=True)


class Load:
    """Clients uploading new files and reading pages in a loop, recording every answer."""

    def __init__(self, server: PipyServer, token: str, folder: Path, project: str,
                 uploaders: int = 2, readers: int = 2):
        self.server, self.token, self.folder, self.project = server, token, folder, project
        self.results: list[tuple[float, str, int, str]] = []   # (time, kind, status, reason)
        self.uploads: dict = {}                                 # filename -> (dist, status)
        self._mu = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._upload, args=(i,), daemon=True)
                         for i in range(uploaders)]
        self._threads += [threading.Thread(target=self._read, daemon=True)
                          for _ in range(readers)]

    def _record(self, kind: str, status: int, reason: str) -> None:
        with self._mu:
            self.results.append((time.monotonic(), kind, status, reason))

    def _upload(self, n: int) -> None:
        i = 0
        while not self._stop.is_set():
            i += 1
            d = make_wheel(self.folder / f"u{n}-{i}", self.project, f"{n}.{i}")
            try:
                r = upload(self.server, d, self.token, timeout=30)
                status, reason = r.status, r.reason
            except OSError as e:
                status, reason = 0, repr(e)
            with self._mu:
                self.uploads[d.filename] = (d, status)
            self._record("upload", status, reason)
            if status != 200:
                self._stop.wait(0.2)  # as a client backs off

    def _read(self) -> None:
        i = 0
        while not self._stop.is_set():
            i += 1
            # A page never read before needs the catalog; the project page changes often.
            path = f"/simple/{self.project}/" if i % 2 else f"/simple/pipyf-none-{i}/"
            try:
                r = self.server.get(path, timeout=30)
                status, reason = r.status, r.reason
                if status == 404 and "none" in path:
                    status = 200  # the right answer for a project that does not exist
            except OSError as e:
                status, reason = 0, repr(e)
            self._record("read", status, reason)
            self._stop.wait(0.02)

    def __enter__(self) -> "Load":
        seed = make_wheel(self.folder / "seed", self.project, "0.1")
        assert upload(self.server, seed, self.token).status == 200
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(60)

    def since(self, t: float) -> list:
        with self._mu:
            return [r for r in self.results if r[0] >= t]


def assert_only_200_or_503(load: Load) -> None:
    bad = [r for r in load.results if r[2] not in (200, 503)]
    assert not bad, bad[:5]
    assert all(r[3].strip() for r in load.results if r[2] == 503)


def wait_healed(load: Load, since: float, seconds: float) -> float:
    """Waits until every answer for a second is a 200; returns when that started."""
    deadline = since + seconds
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = time.monotonic()
        window = [r for r in load.since(now - 1.0)]
        if window and all(r[2] == 200 for r in window) and \
                any(r[1] == "upload" for r in window):
            return now - 1.0 - since
    raise AssertionError(f"not healed within {seconds} s: "
                         f"{[r for r in load.since(deadline - 2)][:10]}")


def assert_nothing_half_committed(server: PipyServer, load: Load, token: str) -> None:
    """Every upload answered 200 is listed and whole; one answered 503 may have committed
    (the answer was lost with the connection) or not — uploading it again is a 200 either
    way, after which it is listed and whole too."""
    listed = server.files(load.project)
    for filename, (d, status) in load.uploads.items():
        if status == 200:
            assert filename in listed, filename
        elif status != 0:
            r = upload(server, d, token)
            assert r.status == 200, (filename, r.status, r.reason)
    listed = server.files(load.project)
    for filename, (d, status) in load.uploads.items():
        if status in (200, 503):
            got = server.get(server.path_of(listed[filename]["url"]))
            assert got.status == 200 and sha256_of(got.body) == d.sha256, filename
    res = server.cli("check")
    assert res.returncode == 0, res.stdout + res.stderr


def pipy_backends(pg: PrivatePostgres, database: str) -> int:
    """How many connections to `database` exist (Pipy's)."""
    res = subprocess.run(["psql", f"{pg.server_url}/postgres", "-tAc",
                          f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}'"],
                         capture_output=True, text=True, timeout=30)
    return int(res.stdout.strip() or 0)


def test_postgres_connections_killed_mid_load_heal_without_a_restart(
        server_factory, private_postgres, tmp_path):
    backends = SharedBackends(postgres_server=private_postgres.server_url)
    server = server_factory(None, backends=backends)
    other = server_factory(None, backends=backends)  # a second node: LISTEN/NOTIFY too
    token = server.token("upload:*")
    pid = server.proc.pid
    try:
        with Load(server, token, tmp_path, "pipyf-pgkill") as load:
            time.sleep(1.0)
            for _ in range(8):  # often enough to land inside transactions
                assert pipy_backends(private_postgres, backends.database) > 0
                psql(private_postgres.server_url,
                     "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     f"WHERE datname = '{backends.database}' AND pid <> pg_backend_pid()")
                time.sleep(0.3)
            killed_at = time.monotonic()
            healed = wait_healed(load, killed_at, RECOVERY_S)
            time.sleep(1.0)
        assert_only_200_or_503(load)
        assert healed < RECOVERY_S, healed
        assert server.proc.pid == pid and server.proc.poll() is None
        assert_nothing_half_committed(server, load, token)
        # The other node's change feed survived its killed LISTEN connection: what this
        # node accepts now, the other serves within two seconds (DESIGN).
        late = make_wheel(tmp_path / "late", "pipyf-pgkill", "99.0")
        assert upload(server, late, token).status == 200
        deadline = time.monotonic() + 2.5
        while late.filename not in other.files("pipyf-pgkill"):
            assert time.monotonic() < deadline, "the other node never saw the new file"
            time.sleep(0.1)
    finally:
        server.stop()
        other.stop()
        backends.drop()


def test_postgres_restart_under_load_gives_503_only_during_the_gap(
        server_factory, private_postgres, tmp_path):
    backends = SharedBackends(postgres_server=private_postgres.server_url)
    server = server_factory(None, backends=backends)
    token = server.token("upload:*")
    pid = server.proc.pid
    try:
        with Load(server, token, tmp_path, "pipyf-pgrestart") as load:
            time.sleep(1.0)
            down_at = time.monotonic()
            private_postgres.script("pause")     # pg_ctl stop -m fast: in-flight work dies
            time.sleep(1.5)
            private_postgres.script("resume")
            up_at = time.monotonic()
            healed = wait_healed(load, up_at, RECOVERY_S)
            time.sleep(1.0)
        assert_only_200_or_503(load)
        before_gap = [r for r in load.results if r[0] < down_at - 0.2]
        assert before_gap and all(r[2] == 200 for r in before_gap), before_gap[-5:]
        assert any(r[2] == 503 for r in load.results), "the gap was not felt at all"
        assert healed < RECOVERY_S, healed
        assert server.proc.pid == pid and server.proc.poll() is None
        assert_nothing_half_committed(server, load, token)
    finally:
        private_postgres.script("resume")
        server.stop()
        backends.drop()
