"""A soak: N minutes of mixed load on one `pipy serve` (one backend pair), sampling the
server's RSS, open fds and threads every 10 s.

The load, each kind in threads of its own at a modest pace: page reads (/, /simple/,
project pages HTML and JSON), downloads of acknowledged files (checked against their sha256),
twine-style uploads of generated wheels, yanks, upstream fetches through the proxy
(tests/e2e/stub_upstream.py as the upstream, with a short ttl so pages are re-fetched),
webhook-triggered builds of a git monorepo ([[sources]], a version bump per push), npm
publishes and installs (packument + tarball over HTTP, and the real `npm install` now and
then when npm is on PATH).

Prints: requests and 5xx per kind, RSS / fds / threads slopes after the warm-up (least
squares over the samples), and at the end `pipy check` plus a read-back of every
acknowledged upload and npm publish with its exact bytes. Exit 1 when any 5xx was seen, the
check failed or an acknowledged upload is missing or altered.

    /usr/bin/python3 bench/soak.py --pair fs-sqlite --minutes 30
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests" / "e2e"))

from crashloop import PAIRS, new_repo, verify_served  # noqa: E402
from npmdists import escaped_name, make_npm_tarball, publish_body  # noqa: E402
from pipyharness import PIP_JSON, basic_auth, bearer_auth  # noqa: E402
from pydists import make_wheel, upload  # noqa: E402
from stub_upstream import StubUpstream  # noqa: E402

SECRET = "soak-hook-secret"
SAMPLE_EVERY = 10.0


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def proc_figures(pid: int) -> tuple[float, int, int]:
    """(RSS MiB, open fds, threads) of process `pid`."""
    status = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        status[k] = v.split()
    return (int(status["VmRSS"][0]) / 1024, len(os.listdir(f"/proc/{pid}/fd")),
            int(status["Threads"][0]))


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    den = sum((t - mx) ** 2 for t, _ in points)
    return 0.0 if den == 0 else 60 * sum((t - mx) * (v - my) for t, v in points) / den


class Git:
    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "soak@example.com")
        self.git("config", "user.name", "soak")

    def git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.path), *args], check=True,
                              capture_output=True, text=True, timeout=60).stdout.strip()

    def module(self, version: str) -> str:
        d = self.path / "soakmod"
        d.mkdir(exist_ok=True)
        (d / "pyproject.toml").write_text(
            f'[project]\nname = "soakb-mod"\nversion = "{version}"\n'
            '[tool.pipy]\ntest = "python3 -m pytest -q -p no:cacheprovider"\n'
            '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
            '[tool.setuptools]\npy-modules = ["soakb_mod"]\n')
        (d / "soakb_mod.py").write_text(f'VERSION = "{version}"\n')
        (d / "test_soakb_mod.py").write_text(
            "import soakb_mod\n\ndef test_version():\n    assert soakb_mod.VERSION\n")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", f"soakb-mod {version}")
        return self.git("rev-parse", "HEAD")


class Soak:
    def __init__(self, server, stub: StubUpstream, git: Git, workdir: Path, minutes: float,
                 read_only_minutes: float = 0.0):
        self.s, self.stub, self.git, self.workdir = server, stub, git, workdir
        self.t0 = time.monotonic()
        self.writes_end = self.t0 + minutes * 60
        self.end = self.writes_end + read_only_minutes * 60
        self.lock = threading.Lock()
        self.requests: dict = {}      # kind -> count
        self.fivexx: dict = {}        # kind -> count
        self.errors: list = []        # unexpected 4xx, wrong bytes, connection errors
        self.uploads: dict = {}       # filename -> (project, sha256, None)
        self.npm: dict = {}           # (name, version) -> sha256 of the tarball
        self.yanks: set = set()
        self.builds_triggered = 0
        self.upload_token = server.token("upload:*")
        self.admin = server.token("admin")

    # --- bookkeeping -------------------------------------------------------------
    def note(self, kind: str, status: int | None, what: str = "", ok=(200,)) -> bool:
        with self.lock:
            self.requests[kind] = self.requests.get(kind, 0) + 1
            if status is None:
                self.errors.append(f"{kind}: connection error {what}")
            elif status >= 500:
                self.fivexx[kind] = self.fivexx.get(kind, 0) + 1
                self.errors.append(f"{kind}: {status} {what}")
            elif status not in ok:
                self.errors.append(f"{kind}: {status} {what}")
        return status in ok

    def call(self, kind: str, method: str, path: str, ok=(200,), **kw):
        try:
            r = self.s.request(method, path, timeout=60, **kw)
        except OSError as e:
            self.note(kind, None, f"{path}: {e}")
            return None
        self.note(kind, r.status, f"{method} {path} {r.reason}", ok)
        return r

    def running(self) -> bool:
        return time.monotonic() < self.end

    def writing(self) -> bool:
        """False in the read-only tail: the repository stops growing, so the slopes
        there tell a leak from caches filling with new data."""
        return time.monotonic() < self.writes_end

    # --- the load kinds -----------------------------------------------------------
    def reads(self, rng: random.Random) -> None:
        while self.running():
            with self.lock:
                projects = list({p for p, _, _ in self.uploads.values()})[:200]
            path = rng.choice(["/", "/simple/"] + [f"/simple/{p}/" for p in projects[:50]] +
                              [f"/project/{p}/" for p in projects[:10]])
            accept = rng.choice([PIP_JSON, "text/html"])
            self.call("read", "GET", path, ok=(200, 404), headers={"Accept": accept})
            time.sleep(0.01)

    def downloads(self, rng: random.Random) -> None:
        while self.running():
            with self.lock:
                items = list(self.uploads.items())
            if not items:
                time.sleep(0.2)
                continue
            filename, (project, sha, _data) = rng.choice(items)
            r = self.call("page", "GET", f"/simple/{project}/", headers={"Accept": PIP_JSON})
            if r is not None and r.status == 200:
                files = {f["filename"]: f for f in r.json()["files"]}
                if filename not in files:
                    self.note("download", 0, f"{filename} not listed")
                    continue
                url = urllib.parse.urljoin(f"{self.s.url}/simple/{project}/",
                                           files[filename]["url"])
                got = self.call("download", "GET", self.s.path_of(url))
                if got is not None and got.status == 200 and sha256(got.body) != sha:
                    self.note("download", 0, f"{filename}: wrong bytes")
            time.sleep(0.02)

    def uploads_(self, rng: random.Random, worker: int) -> None:
        n = 0
        while self.writing():
            n += 1
            w = make_wheel(self.workdir / f"up{worker}", f"soak-w{worker}-{n // 4}",
                           f"1.{n % 4}", payload=os.urandom(rng.randint(1, 256) * 1024))
            try:
                r = upload(self.s, w, self.upload_token)
            except OSError as e:
                self.note("upload", None, str(e))
                continue
            if self.note("upload", r.status, f"{w.filename} {r.reason}"):
                with self.lock:
                    self.uploads[w.filename] = (w.name, w.sha256, None)
            w.path.unlink(missing_ok=True)
            time.sleep(rng.uniform(0.1, 0.4))

    def yanks_(self, rng: random.Random) -> None:
        while self.writing():
            time.sleep(rng.uniform(0.5, 1.5))
            with self.lock:
                items = list(self.uploads.items())
            if not items:
                continue
            filename, (project, _, _) = rng.choice(items)
            version = filename.split("-")[1]
            r = self.call("yank", "POST", f"/api/python/{project}/{version}/yank",
                          body=b'{"reason": "soak"}',
                          headers={**basic_auth(self.upload_token),
                                   "Content-Type": "application/json"})
            if r is not None and r.status == 200:
                with self.lock:
                    self.yanks.add((project, version))

    def upstream(self, rng: random.Random) -> None:
        names = sorted(self.stub.projects)
        while self.running():
            name = rng.choice(names)
            r = self.call("upstream", "GET", f"/simple/{name}/", headers={"Accept": PIP_JSON})
            if r is not None and r.status == 200:
                f = rng.choice(r.json()["files"])
                url = urllib.parse.urljoin(f"{self.s.url}/simple/{name}/", f["url"])
                got = self.call("upstream-file", "GET", self.s.path_of(url))
                want = {x.filename: x.published_sha256 for x in self.stub.projects[name]}
                if got is not None and got.status == 200 and \
                        sha256(got.body) != want.get(f["filename"]):
                    self.note("upstream-file", 0, f"{f['filename']}: wrong bytes")
            time.sleep(rng.uniform(0.05, 0.3))

    def builds(self, rng: random.Random) -> None:
        version = 0
        while self.writing():
            version += 1
            head = self.git.module(f"0.{version}")
            body = json.dumps({"ref": "refs/heads/main", "after": head}).encode()
            sig = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            r = self.call("webhook", "POST", "/hooks/git/soak", body=body, ok=(202,),
                          headers={"Content-Type": "application/json",
                                   "X-GitHub-Event": "push", "X-Hub-Signature-256": sig})
            if r is not None and r.status == 202:
                self.builds_triggered += 1
            time.sleep(min(30.0, max(0.0, self.writes_end - time.monotonic())))

    def npm_(self, rng: random.Random) -> None:
        n = 0
        last_client = 0.0
        while self.running():
            n += 1
            if not self.writing():  # installs only
                with self.lock:
                    pick = rng.choice(list(self.npm.items())) if self.npm else None
                if pick is not None:
                    self.npm_install_http(*pick[0], pick[1])
                time.sleep(rng.uniform(0.1, 0.3))
                continue
            name, version = f"@soak/pkg{n // 5}", f"1.0.{n % 5}"
            tgz = make_npm_tarball(self.workdir / "npm", name, version)
            data = tgz.read_bytes()
            body = json.dumps(publish_body(name, version, tgz,
                                           registry_url=f"{self.s.url}/npm/")).encode()
            r = self.call("npm-publish", "PUT", f"/npm/{escaped_name(name)}", body=body,
                          ok=(200, 201), headers={**bearer_auth(self.upload_token),
                                                  "Content-Type": "application/json"})
            tgz.unlink(missing_ok=True)
            if r is not None and r.status in (200, 201):
                with self.lock:
                    self.npm[(name, version)] = sha256(data)
            # An install, as npm does it over HTTP: the packument, then the tarball.
            with self.lock:
                pick = rng.choice(list(self.npm.items())) if self.npm else None
            if pick is not None:
                self.npm_install_http(*pick[0], pick[1])
            if shutil.which("npm") and time.monotonic() - last_client > 60 and pick:
                last_client = time.monotonic()
                self.npm_client(pick[0][0], pick[0][1])
            time.sleep(rng.uniform(0.3, 1.0))

    def npm_install_http(self, name: str, version: str, sha: str) -> None:
        r = self.call("npm-install", "GET", f"/npm/{escaped_name(name)}",
                      headers={"Accept": "application/vnd.npm.install-v1+json"})
        if r is None or r.status != 200:
            return
        meta = r.json()["versions"].get(version)
        if meta is None:
            self.note("npm-install", 0, f"{name}@{version} missing from its packument")
            return
        got = self.call("npm-tarball", "GET", self.s.path_of(meta["dist"]["tarball"]))
        if got is not None and got.status == 200 and sha256(got.body) != sha:
            self.note("npm-tarball", 0, f"{name}@{version}: wrong bytes")

    def npm_client(self, name: str, version: str) -> None:
        d = Path(tempfile.mkdtemp(dir=self.workdir))
        (d / "package.json").write_text('{"name": "soak-consumer", "version": "1.0.0"}')
        res = subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--registry", f"{self.s.url}/npm/",
             "--cache", str(d / "cache"), f"{name}@{version}"],
            cwd=d, capture_output=True, text=True, timeout=180)
        self.note("npm-client", 200 if res.returncode == 0 else 0,
                  f"npm install {name}@{version}: {res.stderr[-300:]}")
        shutil.rmtree(d, ignore_errors=True)

    # --- the run ------------------------------------------------------------------
    def run(self, log=print) -> list[tuple[float, float, int, int]]:
        rng = random.Random(7)
        jobs = [(self.reads, ()), (self.reads, ()), (self.downloads, ()),
                (self.uploads_, (0,)), (self.uploads_, (1,)), (self.yanks_, ()),
                (self.upstream, ()), (self.builds, ()), (self.npm_, ())]
        threads = [threading.Thread(target=f, args=(random.Random(rng.random()), *a),
                                    daemon=True) for f, a in jobs]
        t0 = self.t0
        for t in threads:
            t.start()
        samples = []
        while self.running():
            rss, fds, nthreads = proc_figures(self.s.proc.pid)
            samples.append((time.monotonic() - t0, rss, fds, nthreads))
            with self.lock:
                total, bad = sum(self.requests.values()), sum(self.fivexx.values())
            log(f"  t={samples[-1][0]:5.0f} s  rss {rss:6.1f} MiB  fds {fds:4d}  threads "
                f"{nthreads:3d}  requests {total}  5xx {bad}  uploads {len(self.uploads)}")
            time.sleep(max(0.0, min(SAMPLE_EVERY, self.end - time.monotonic())))
        for t in threads:
            t.join(240)
        return samples


def soak(pair: str, minutes: float, workdir: Path, s3: str, pg: str, read_only: float = 0.0,
         log=print) -> dict:
    stub = StubUpstream()
    for i in range(20):
        for v in ("1.0", "2.0"):
            stub.add(make_wheel(workdir / "upstream", f"soakup-{i}", v,
                                payload=os.urandom(32 * 1024)))
    stub.start()
    git = Git(workdir / "mono")
    git.module("0.0")
    config = (f'[server]\naccess_log = false\n\n[upstream]\nurl = "{stub.simple_url}"\n'
              f'ttl = "5s"\n\n[[sources]]\nname = "soak"\nrepo = "{git.path}"\n'
              f'branch = "main"\npoll_interval = "1h"\nscope = "soakb-*"\n'
              f'webhook_secret = "{SECRET}"\n[builder]\nconcurrency = 1\ntimeout = "120s"\n')
    repo = new_repo(pair, workdir, "repo", s3, pg)
    server = repo.server()
    server.config_text = config + (server.config_text or "")
    server.start(timeout=60)
    try:
        run = Soak(server, stub, git, workdir / "work", minutes, read_only)
        log(f"{pair}: soak for {minutes} min" +
            (f", then {read_only} min read-only" if read_only else ""))
        samples = run.run(log)
        mixed = [s for s in samples if s[0] < minutes * 60]
        warm = [s for s in mixed if s[0] >= min(120.0, 0.3 * minutes * 60)]
        # The read-only tail, after a short settling: no new data, so no growth expected.
        tail = [s for s in samples if s[0] >= minutes * 60 + 20]
        r = server.get("/api/builds?limit=1000")
        builds = r.json() if r.status == 200 else []
        check = server.cli("check", timeout=900)
        lost = ""
        try:
            verify_served(server, run.uploads, run.yanks)
        except AssertionError as e:
            lost = str(e)
        npm_lost = []
        for (name, version), sha in run.npm.items():
            r = server.get(f"/npm/{escaped_name(name)}")
            ok = r.status == 200 and version in r.json().get("versions", {})
            if ok:
                got = server.get(server.path_of(r.json()["versions"][version]["dist"]["tarball"]))
                ok = got.status == 200 and sha256(got.body) == sha
            if not ok:
                npm_lost.append(f"{name}@{version}")
        figures = {
            "pair": pair, "minutes": minutes, "requests": run.requests, "5xx": run.fivexx,
            "5xx_total": sum(run.fivexx.values()), "other_errors": len(run.errors),
            "first_errors": run.errors[:5],
            "acknowledged_uploads": len(run.uploads), "acknowledged_yanks": len(run.yanks),
            "npm_publishes": len(run.npm), "builds_triggered": run.builds_triggered,
            "builds": {st: sum(1 for b in builds if b.get("status") == st)
                       for st in ("passed", "failed", "skipped", "queued", "running")},
            "samples": len(samples), "warmup_s": round(warm[0][0]) if warm else None,
            "rss_mib": [round(samples[0][1], 1), round(max(s[1] for s in samples), 1),
                        round(samples[-1][1], 1)],
            "rss_slope_mib_per_min": round(slope_per_minute([(s[0], s[1]) for s in warm]), 2),
            "fds": [samples[0][2], max(s[2] for s in samples), samples[-1][2]],
            "fds_slope_per_min": round(slope_per_minute([(s[0], s[2]) for s in warm]), 2),
            "threads": [samples[0][3], max(s[3] for s in samples), samples[-1][3]],
            "threads_slope_per_min": round(slope_per_minute([(s[0], s[3]) for s in warm]), 2),
            "read_only_minutes": read_only,
            "read_only_rss_slope_mib_per_min":
                round(slope_per_minute([(s[0], s[1]) for s in tail]), 2) if tail else None,
            "read_only_fds_slope_per_min":
                round(slope_per_minute([(s[0], s[2]) for s in tail]), 2) if tail else None,
            "check_rc": check.returncode,
            "check_summary": (check.stdout.strip().splitlines() or [""])[-1],
            "uploads_lost": lost, "npm_lost": npm_lost,
        }
        return figures
    finally:
        server.stop(timeout=30)
        stub.stop()
        repo.drop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pair", action="append", choices=PAIRS)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--read-only-minutes", type=float, default=0,
                    help="a tail of reads only (no uploads, yanks, builds, publishes) after it")
    ap.add_argument("--s3-endpoint", default=os.environ.get("PIPY_TEST_S3_ENDPOINT",
                                                            "http://127.0.0.1:17900"))
    ap.add_argument("--postgres-url", default=os.environ.get(
        "PIPY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:17432/pipy_test"))
    args = ap.parse_args()
    bad = False
    for pair in args.pair or PAIRS:
        work = Path(tempfile.mkdtemp(prefix=f"pipy-soak-{pair}-"))
        figures = soak(pair, args.minutes, work, args.s3_endpoint,
                       args.postgres_url.rsplit("/", 1)[0], args.read_only_minutes)
        print("RESULT " + json.dumps(figures), flush=True)
        print(f"{pair}: {figures['5xx_total']} 5xx, RSS slope "
              f"{figures['rss_slope_mib_per_min']} MiB/min, fds slope "
              f"{figures['fds_slope_per_min']}/min after {figures['warmup_s']} s warm-up"
              + (f" (read-only tail: RSS {figures['read_only_rss_slope_mib_per_min']} MiB/min, "
                 f"fds {figures['read_only_fds_slope_per_min']}/min)" if args.read_only_minutes
                 else "") + "; "
              f"check rc {figures['check_rc']} ({figures['check_summary']}); "
              f"{figures['acknowledged_uploads']} acknowledged uploads "
              + ("ALL PRESENT" if not figures["uploads_lost"]
                 else "LOST: " + figures["uploads_lost"]), flush=True)
        bad |= bool(figures["5xx_total"] or figures["check_rc"] or figures["uploads_lost"] or
                    figures["npm_lost"])
        if not bad:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
