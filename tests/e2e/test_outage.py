"""Outages of the services a scaled-out Pipy depends on (DESIGN.md, the public contract):
while S3 or PostgreSQL is down, uploads answer 503 and leave nothing half-committed, cached
pages keep being served; when the service returns, Pipy recovers by itself within seconds,
without a restart. An unreachable or misconfigured bucket or database stops `pipy serve` at
start with a message naming it (the cases test_s3_storage.py / test_postgres_catalog.py do
not cover already).

The services that go down are private to this module — an s3rver (tests/services/
s3server.js) and a PostgreSQL (tests/services/postgres.sh PORT, pause / resume) on ports of
their own — so the shared fixtures "s3" and "postgres", which provide the other half of
each setup, are never disturbed.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pipyharness import REPO, PipyServer, SharedBackends, basic_auth, free_port, run_cli
from pydists import make_wheel, sha256_of, upload

SERVICES = REPO / "tests" / "services"
RECOVERY = 10.0  # seconds from the service's return to the first accepted upload


class PrivateS3:
    """An s3rver of this module's own, stoppable and restartable on the same data."""

    def __init__(self, root: Path):
        self.dir = root / "s3rver"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "NODE_OPTIONS": "--openssl-legacy-provider"}
        self.proc = subprocess.Popen(
            ["node", str(SERVICES / "s3server.js"), str(self.port), str(self.dir), "pipy-test"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.endpoint + "/", timeout=1)
                return
            except urllib.error.HTTPError:
                return  # any HTTP answer (an unsigned request gets 403) means it is up
            except OSError:
                assert self.proc.poll() is None, "s3rver exited at start"
                time.sleep(0.1)
        raise AssertionError(f"s3rver did not start on {self.endpoint}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


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
def private_s3(tmp_path_factory):
    s3 = PrivateS3(tmp_path_factory.mktemp("outage-s3"))
    s3.start()
    yield s3
    s3.stop()


@pytest.fixture(scope="module")
def private_postgres():
    pg = PrivatePostgres()
    pg.script("start")
    yield pg
    pg.script("stop")
    Path(f"/tmp/pipy-postgres-{pg.port}.lock").unlink(missing_ok=True)  # a port of its own


def wait_for(seconds: float, probe, what: str):
    start = time.monotonic()
    while True:
        got = probe()
        if got:
            return got, time.monotonic() - start
        assert time.monotonic() - start < seconds, f"{what}: not within {seconds} s"
        time.sleep(0.2)


def filenames(server: PipyServer, project: str) -> list[str]:
    return sorted(server.files(project))


def warm_caches(server: PipyServer, project: str) -> dict:
    """Fetches the pages a client reads, so the server has them cached; returns them.
    Waits first for the node's own last write to reach its cache (the NOTIFY it sent
    itself and the 250 ms change-sequence check each drop the pages once)."""
    time.sleep(1.0)
    pages = {
        "json": server.project_json(project),
        "html": server.get(f"/simple/{project}/", {"Accept": "text/html"}),
        "root": server.get("/simple/"),
    }
    for name, r in pages.items():
        assert r.status == 200, (name, r.status, r.reason)
    return pages


def assert_cached_pages_still_served(server: PipyServer, project: str, before: dict):
    for name, r in warm_caches(server, project).items():
        assert r.body == before[name].body, f"the cached {name} page changed during the outage"


def listed_by_a_fresh_node(server_factory, backends, project: str) -> list[str]:
    """The project's files as a node that starts now (nothing cached) sees them."""
    fresh = server_factory(None, backends=backends)
    try:
        return filenames(fresh, project)
    finally:
        assert fresh.stop() == 0


def upload_until_accepted(server, dist, token, seconds: float):
    def attempt():
        r = upload(server, dist, token, timeout=30)
        assert r.status in (200, 503), (r.status, r.reason, r.text[:300])
        return r.status == 200

    return wait_for(seconds, attempt, "an upload after the service came back")


def test_s3_outage_gives_503_and_heals_without_a_restart(server_factory, private_s3,
                                                          tmp_path):
    # Blobs in the private s3rver, which goes down; the catalog in the shared PostgreSQL
    # (a database of its own).
    backends = SharedBackends(endpoint=private_s3.endpoint, s3rver_dir=private_s3.dir,
                              s3_timeout="2s")
    server = server_factory(None, backends=backends)
    try:
        token = server.token("upload:*")
        project = "pipyo-s3"
        before = make_wheel(tmp_path / "1", project, "1.0")
        during = make_wheel(tmp_path / "2", project, "2.0")
        assert upload(server, before, token).status == 200
        pages = warm_caches(server, project)
        blobs_before = {p.name for p in server.blob_files()}
        assert before.sha256 in blobs_before

        private_s3.stop()
        t0 = time.monotonic()
        r = upload(server, during, token, timeout=60)
        assert r.status == 503, (r.status, r.reason, r.text[:300])
        assert r.reason.strip()
        assert time.monotonic() - t0 < 30, "an upload hung on the S3 outage"
        # Nothing half-committed: no catalog row, the pages are the cached ones.
        assert filenames(server, project) == [before.filename]
        assert_cached_pages_still_served(server, project, pages)
        # A file whose bytes are in S3 only is either served (from a node cache) or 503,
        # never a wrong answer.
        got = server.fetch_file(project, before.filename)
        assert got.status in (200, 503), (got.status, got.reason)
        if got.status == 200:
            assert sha256_of(got.body) == before.sha256
        assert server.get("/healthz").status == 200

        private_s3.start()
        # The refused upload left no catalog row: a node with nothing cached agrees.
        assert listed_by_a_fresh_node(server_factory, backends, project) == [before.filename]
        upload_until_accepted(server, during, token, RECOVERY)
        assert server.proc.poll() is None, "pipy serve restarted or died"
        assert filenames(server, project) == sorted([before.filename, during.filename])
        for d in (before, during):
            got = server.fetch_file(project, d.filename)
            assert got.status == 200 and sha256_of(got.body) == d.sha256
        res = server.cli("check")
        assert res.returncode == 0, res.stdout + res.stderr
    finally:
        if private_s3.proc.poll() is not None:
            private_s3.start()
        server.stop()
        backends.drop()


def test_postgres_outage_gives_503_and_heals_without_a_restart(server_factory,
                                                                private_postgres, tmp_path):
    # Blobs in the shared S3 fixture (a prefix of its own); the catalog in the private
    # PostgreSQL, which goes down.
    backends = SharedBackends(postgres_server=private_postgres.server_url)
    server = server_factory(None, backends=backends)
    try:
        token = server.token("upload:*")
        project = "pipyo-pg"
        before = make_wheel(tmp_path / "1", project, "1.0")
        during = make_wheel(tmp_path / "2", project, "2.0")
        assert upload(server, before, token).status == 200
        pages = warm_caches(server, project)
        files_before = server.files(project)

        private_postgres.script("pause")
        t0 = time.monotonic()
        r = upload(server, during, token, timeout=60)
        assert r.status == 503, (r.status, r.reason, r.text[:300])
        assert r.reason.strip()
        assert time.monotonic() - t0 < 30, "an upload hung on the PostgreSQL outage"
        # Cached pages are still served, unchanged, while the catalog is down; a page that
        # was never cached cannot be built: 503, not 404 or 500.
        assert_cached_pages_still_served(server, project, pages)
        r = server.project_json("pipyo-never-read")
        assert r.status == 503, (r.status, r.reason)
        got = server.get(server.path_of(files_before[before.filename]["url"]))
        assert got.status in (200, 503), (got.status, got.reason)
        if got.status == 200:
            assert sha256_of(got.body) == before.sha256
        assert server.get("/healthz").status == 200

        private_postgres.script("resume")
        # The refused upload left no catalog row: a node with nothing cached agrees.
        assert listed_by_a_fresh_node(server_factory, backends, project) == [before.filename]
        upload_until_accepted(server, during, token, RECOVERY)
        assert server.proc.poll() is None, "pipy serve restarted or died"
        assert filenames(server, project) == sorted([before.filename, during.filename])
        got = server.fetch_file(project, during.filename)
        assert got.status == 200 and sha256_of(got.body) == during.sha256
        res = server.cli("check")
        assert res.returncode == 0, res.stdout + res.stderr
    finally:
        private_postgres.script("resume")
        server.stop()
        backends.drop()


def test_a_catalog_outage_never_turns_a_valid_token_into_a_401(server_factory,
                                                              private_postgres, tmp_path):
    # A node that has not seen the token yet must not call it invalid just because the
    # database cannot be asked: 503, not 401 (else twine users would blame their token).
    backends = SharedBackends(postgres_server=private_postgres.server_url)
    server = server_factory("[access]\nanonymous_read = false\n", backends=backends)
    try:
        token = server.token("upload:*")
        private_postgres.script("pause")
        r = upload(server, make_wheel(tmp_path, "pipyo-tok", "1.0"), token, timeout=60)
        assert r.status == 503, (r.status, r.reason)
        r = server.get("/simple/pipyo-tok/", basic_auth(token))
        assert r.status in (404, 503), (r.status, r.reason)
        private_postgres.script("resume")
        wait_for(RECOVERY, lambda: server.get("/simple/", basic_auth(token)).status
                        == 200, "reads with the token after PostgreSQL came back")
    finally:
        private_postgres.script("resume")
        server.stop()
        backends.drop()


@pytest.mark.parametrize("case", ["s3-unknown-access-key", "postgres-unknown-role",
                                  "postgres-unreachable-with-s3"])
def test_serve_refuses_to_start_naming_the_bucket_or_database(tmp_path, case):
    backends = SharedBackends()
    if case == "s3-unknown-access-key":
        text = backends.storage_toml().replace('access_key_id = "S3RVER"',
                                               'access_key_id = "NOT-A-KEY"')
        name = backends.bucket
    elif case == "postgres-unknown-role":
        # The right server and database (the fixture's), credentials it does not know.
        server = backends.postgres_server.replace("//postgres@", "//pipy_no_such_role@")
        text = f'[catalog]\nbackend = "postgres"\nurl = "{server}/pipy_test"\n'
        name = "pipy_test"
    else:
        text = backends.storage_toml() + (
            '[catalog]\nbackend = "postgres"\n'
            'url = "postgresql://postgres@127.0.0.1:1/pipy_gone?connect_timeout=2"\n')
        name = "pipy_gone"
    cfg = tmp_path / "pipy.toml"
    cfg.write_text(text)
    start = time.monotonic()
    res = run_cli("serve", "--data", str(tmp_path / "data"), "--listen", "127.0.0.1:0",
                  "--config", str(cfg), timeout=60)
    assert res.returncode != 0, res.stdout + res.stderr
    assert name in res.stderr, res.stderr
    assert time.monotonic() - start < 20, "start-up must fail fast"
