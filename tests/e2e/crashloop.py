"""Crash loops: `pipy serve`, `pipy gc`, `pipy import` and `pipy migrate` killed with SIGKILL
at random moments, again and again, on one backend pair (filesystem + SQLite, or S3 +
PostgreSQL); after every kill the repository must be whole (DESIGN.md, "Data and the one
commit point"):

- `pipy check` exits 0: every catalog file's blob is there with its size and sha256
  (unreferenced blobs a kill leaves behind are listed, not errors);
- every upload that was acknowledged (200) is served with its exact bytes, and every
  acknowledged yank is still a yank;
- an upload that was in flight when the server died can be retried with the same bytes and
  succeeds (200, never a 409 against a half-stored file);
- a killed `gc`, `import` or `migrate` re-run to the end finishes cleanly: gc removes every
  old orphan, import and migrate end with every file present and nothing refused.

test_durability.py has the single, deterministic kills (mid-upload, right after the 200);
this drives the same invariants through many random kills under concurrent load.

Used by tests/e2e/test_crash_loop.py (a short run in CI) and bench/crashloop.sh (a long one):

    /usr/bin/python3 tests/e2e/crashloop.py --pair fs-sqlite --serve-kills 300 --cli-rounds 20
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipyharness import (PIPY_BIN, PipyServer, SharedBackends,  # noqa: E402
                         basic_auth, run_cli)
from pydists import make_wheel, upload  # noqa: E402

PAIRS = ("fs-sqlite", "s3-postgres")
FS_SQLITE = '[storage]\nbackend = "filesystem"\n\n[catalog]\nbackend = "sqlite"\n'
IMPORT_SUMMARY = re.compile(r"import: (\d+) imported, (\d+) already present, (\d+) refused, "
                            r"(\d+) skipped")
MIGRATE_SUMMARY = re.compile(r"migrated \d+ projects: (\d+) files copied, (\d+) already "
                             r"present .*?; (\d+) target files verified; (\d+) problems")


class CrashLoopFailure(AssertionError):
    """An invariant broke: a lost or altered acknowledged upload, a failing check, ..."""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Repo:
    """Where one repository lives: a root folder (data/ below it) and, for S3 + PostgreSQL,
    a bucket prefix and database of its own."""
    root: Path
    backends: SharedBackends | None

    def server(self) -> PipyServer:
        cfg = None if self.backends is not None else FS_SQLITE
        return PipyServer(root=self.root, config_text=cfg, backends=self.backends)

    def config_file(self) -> Path:
        """A config file naming this repository's backends (for the CLI)."""
        s = self.server()
        path = self.root / "pipy.toml"
        if self.backends is not None:
            self.backends.create()
        path.write_text(s.effective_config_text())
        return path

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        sub, *rest = args
        return run_cli(*sub.split(), "--data", str(self.root / "data"), "--config",
                       str(self.config_file()), *rest, timeout=timeout)

    def drop(self) -> None:
        if self.backends is not None:
            self.backends.drop()


def new_repo(pair: str, parent: Path, name: str, s3_endpoint: str, pg_server: str) -> Repo:
    root = parent / name
    root.mkdir(parents=True, exist_ok=True)
    if pair == "fs-sqlite":
        return Repo(root, None)
    return Repo(root, SharedBackends(endpoint=s3_endpoint, postgres_server=pg_server))


@dataclass
class Ledger:
    """What the server acknowledged, and what went wrong, shared by the load threads."""
    uploads: dict = field(default_factory=dict)   # filename -> (project, sha256, None)
    yanks: set = field(default_factory=set)       # (project, version) acknowledged yanked
    statuses: dict = field(default_factory=dict)  # HTTP status (or "conn") -> count
    retried_ok: int = 0                           # in-flight uploads that a retry stored
    errors: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, key) -> None:
        with self.lock:
            self.statuses[key] = self.statuses.get(key, 0) + 1

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


class Load:
    """Threads uploading generated wheels (twine's multipart POST /legacy/) and yanking
    acknowledged releases against whatever port the server has now; a request that fails
    because the server died is retried with the same bytes once it is back."""

    def __init__(self, server: PipyServer, token: str, workdir: Path, ledger: Ledger,
                 rng: random.Random, threads: int = 4, big_every: int = 6,
                 pace: float = 0.0):
        self.server, self.token, self.workdir, self.ledger = server, token, workdir, ledger
        self.rng = random.Random(rng.random())
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(threads)]
        self.big_every = big_every
        self.pace = pace  # mean pause between one thread's requests, seconds
        self.stop_event = threading.Event()
        self.go = threading.Event()  # cleared while the loop checks a restarted server
        self.go.set()

    def start(self) -> "Load":
        for t in self.threads:
            t.start()
        return self

    def pause(self) -> None:
        self.go.clear()

    def resume(self) -> None:
        self.go.set()

    def _wait_turn(self, rng: random.Random) -> None:
        if self.pace:
            time.sleep(rng.uniform(0, 2 * self.pace))
        while not self.go.wait(0.2) and not self.stop_event.is_set():
            pass

    def stop(self) -> None:
        self.stop_event.set()
        self.go.set()
        for t in self.threads:
            t.join(60)

    def _run(self, worker: int) -> None:
        rng = random.Random(self.rng.random() + worker)
        n = 0
        while not self.stop_event.is_set():
            self._wait_turn(rng)
            n += 1
            if self.ledger.uploads and rng.random() < 0.15:
                self._yank(rng)
                continue
            big = n % self.big_every == 0
            payload = os.urandom(rng.randint(1, 4) * 1024 * 1024 if big
                                 else rng.randint(1, 128) * 1024)
            # Three releases per project, every filename once: a 409 is always a defect.
            version = f"1.{n % 3}"
            project = f"pipycl-w{worker}-{n // 3}"
            wheel = make_wheel(self.workdir / f"w{worker}", project, version,
                               payload=payload, salt=f"{n}")
            self._upload(wheel)
            wheel.path.unlink(missing_ok=True)

    def _upload(self, wheel) -> None:
        data = wheel.data
        for attempt in range(200):
            if self.stop_event.is_set() and attempt > 0:
                return  # in doubt; check and the exact-bytes rule still cover it
            try:
                r = upload(self.server, wheel, self.token, timeout=60)
            except OSError:
                self.ledger.count("conn")
                time.sleep(0.1)
                self._wait_turn(random.Random())
                continue
            self.ledger.count(r.status)
            if r.status == 200:
                with self.ledger.lock:
                    self.ledger.uploads[wheel.filename] = (wheel.name, _sha(data), None)
                    self.ledger.retried_ok += 1 if attempt else 0
                return
            if r.status >= 500:
                time.sleep(0.1)
                continue
            self.ledger.error(f"upload {wheel.filename} (attempt {attempt + 1}): "
                              f"{r.status} {r.reason} {r.text[:200]}")
            return

    def _yank(self, rng: random.Random) -> None:
        with self.ledger.lock:
            filename = rng.choice(list(self.ledger.uploads))
            project = self.ledger.uploads[filename][0]
        version = filename.split("-")[1]
        try:
            r = self.server.request(
                "POST", f"/api/python/{project}/{version}/yank", body=b'{"reason": "crash"}',
                headers={**basic_auth(self.token), "Content-Type": "application/json"},
                timeout=30)
        except OSError:
            self.ledger.count("conn")
            time.sleep(0.1)
            return
        self.ledger.count(r.status)
        if r.status == 200:
            with self.ledger.lock:
                self.ledger.yanks.add((project, version))
        elif r.status < 500:
            self.ledger.error(f"yank {project} {version}: {r.status} {r.text[:200]}")


def verify_served(server: PipyServer, uploads: dict, yanks: set) -> None:
    """Every upload in `uploads` is listed and served with its exact bytes; every release
    in `yanks` is yanked."""
    by_project: dict = {}
    for filename, (project, sha, _data) in uploads.items():
        by_project.setdefault(project, {})[filename] = sha
    for project, files in by_project.items():
        r = server.project_json(project)
        if r.status != 200:
            raise CrashLoopFailure(f"/simple/{project}/ -> {r.status} after the restart; "
                                   f"acknowledged: {sorted(files)}")
        listed = {f["filename"]: f for f in r.json()["files"]}
        for filename, sha in files.items():
            if filename not in listed:
                raise CrashLoopFailure(f"acknowledged upload {filename} lost (listed: "
                                       f"{sorted(listed)})")
            page = f"{server.url}/simple/{project}/"
            got = server.get(server.path_of(urllib.parse.urljoin(page, listed[filename]["url"])))
            if got.status != 200 or _sha(got.body) != sha:
                raise CrashLoopFailure(f"{filename} served {got.status} with sha256 "
                                       f"{_sha(got.body)}, acknowledged {sha}")
            version = filename.split("-")[1]
            if (project, version) in yanks and not listed[filename].get("yanked"):
                raise CrashLoopFailure(f"acknowledged yank of {project} {version} lost")


def check_clean(repo_or_server, what: str) -> str:
    res = repo_or_server.cli("check", timeout=300)
    out = res.stdout + res.stderr
    if res.returncode != 0:
        raise CrashLoopFailure(f"pipy check after {what} exited {res.returncode}:\n"
                               f"{out[-3000:]}")
    return out


def run_killed(cmd: list[str], delay: float) -> tuple[bool, subprocess.CompletedProcess | None]:
    """Runs `cmd`, SIGKILLs it after `delay` s; (True, None) when it was killed mid-run,
    (False, its result) when it finished first."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=delay)
        return False, subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        return True, None


# --- pipy serve ----------------------------------------------------------------------
def serve_loop(repo: Repo, kills: int, rng: random.Random, workdir: Path,
               run_window=(0.3, 2.0), threads: int = 4, pace: float = 0.0,
               log=print) -> dict:
    """Kills `pipy serve` `kills` times under upload + yank load; checks after each restart.
    Returns the tally; leaves the server running (returned under "server")."""
    server = repo.server()
    server.start()
    token = server.token("upload:*")
    ledger = Ledger()
    load = Load(server, token, workdir, ledger, rng, threads=threads, pace=pace).start()
    verified: set = set()
    t0 = time.monotonic()
    try:
        for k in range(kills):
            time.sleep(rng.uniform(*run_window))
            server.kill()
            load.pause()  # the checks below see one restart's worth of uploads
            t_kill = time.monotonic()
            server.start(timeout=60)
            t_up = time.monotonic()
            check_clean(server, f"kill {k + 1}")
            t_checked = time.monotonic()
            with ledger.lock:
                snapshot = dict(ledger.uploads)
                yanks = set(ledger.yanks)
            fresh = {f: v for f, v in snapshot.items() if f not in verified}
            old = [f for f in snapshot if f in verified]
            sample = {f: snapshot[f] for f in rng.sample(old, min(10, len(old)))}
            verify_served(server, {**fresh, **sample}, yanks)
            verified.update(fresh)
            load.resume()
            if os.environ.get("PIPY_CRASHLOOP_VERBOSE"):
                log(f"  kill {k + 1}: restart {t_up - t_kill:.2f} s, check "
                    f"{t_checked - t_up:.2f} s, verify {time.monotonic() - t_checked:.2f} s, "
                    f"{len(snapshot)} acknowledged")
            if ledger.errors:
                raise CrashLoopFailure("; ".join(ledger.errors[:5]))
            if (k + 1) % 25 == 0:
                log(f"  serve: {k + 1}/{kills} kills, {len(snapshot)} acknowledged uploads")
    finally:
        load.stop()
    verify_served(server, dict(ledger.uploads), set(ledger.yanks))
    check_clean(server, "the serve loop")
    if ledger.errors:
        raise CrashLoopFailure("; ".join(ledger.errors[:5]))
    return {"server": server, "token": token, "ledger": ledger, "kills": kills,
            "seconds": round(time.monotonic() - t0, 1),
            "acknowledged_uploads": len(ledger.uploads), "acknowledged_yanks": len(ledger.yanks),
            "retried_in_flight_ok": ledger.retried_ok,
            "statuses": {str(k): v for k, v in sorted(ledger.statuses.items(), key=str)}}


# --- pipy gc -------------------------------------------------------------------------
def gc_loop(repo: Repo, server: PipyServer, ledger: Ledger, rounds: int, rng: random.Random,
            orphans: int) -> dict:
    """With the server up: plants `orphans` old unreferenced blobs, kills `pipy gc` midway,
    checks, re-runs gc to the end (every planted orphan gone), `rounds` times."""
    cfg = repo.config_file()
    cmd = [str(PIPY_BIN), "gc", "--data", str(repo.root / "data"), "--config", str(cfg)]
    window, midway = 0.3, 0
    for rnd in range(rounds):
        planted = []
        old = time.time() - 2 * 3600
        for _ in range(orphans):
            data = os.urandom(rng.randint(100, 4000))
            path = server.plant_orphan_blob(data, _sha(data))
            os.utime(path, (old, old))
            planted.append(_sha(data))
        t = time.monotonic()
        killed, res = run_killed(cmd, rng.uniform(0.05, 0.95) * window)
        midway += killed
        if not killed:
            window = max(0.02, time.monotonic() - t)  # it was faster: aim inside it
            if res.returncode != 0:
                raise CrashLoopFailure(f"gc exited {res.returncode}: {res.stderr[-2000:]}")
        check_clean(server, f"gc kill {rnd + 1}")
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if res.returncode != 0:
            raise CrashLoopFailure(f"gc re-run exited {res.returncode}: {res.stderr[-2000:]}")
        left = {p.name for p in server.blob_files()} & set(planted)
        if left:
            raise CrashLoopFailure(f"gc re-run left {len(left)} old orphans")
        check_clean(server, f"gc round {rnd + 1}")
    with ledger.lock:
        verify_served(server, dict(ledger.uploads), set(ledger.yanks))
    return {"rounds": rounds, "killed_midway": midway}


# --- pipy import and pipy migrate ----------------------------------------------------
def kill_until_done(cmd: list[str], est: float, rng: random.Random, after_kill,
                    max_kills: int = 3) -> tuple[int, subprocess.CompletedProcess, float]:
    """Runs `cmd` killed at random moments within `est` s, `after_kill()` after each kill,
    up to `max_kills` kills, then to the end. Returns (kills mid-run, the last result, the
    updated estimate)."""
    midway = 0
    for _ in range(rng.randint(1, max_kills)):
        t = time.monotonic()
        killed, res = run_killed(cmd, rng.uniform(0.05, 0.95) * est)
        if not killed:
            est = max(0.05, (time.monotonic() - t) * 0.9)
            return midway, res, est
        midway += 1
        after_kill(midway)
    t = time.monotonic()
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    return midway, res, max(est, time.monotonic() - t)


def make_wheel_folder(folder: Path, n: int, rng: random.Random) -> dict:
    """`n` wheels over a few projects; filename -> (project, sha256, data)."""
    out = {}
    for i in range(n):
        w = make_wheel(folder / f"d{i % 7}", f"pipycl-imp-{i % 9}", f"{i // 9}.0",
                       payload=os.urandom(rng.randint(1, 64) * 1024))
        out[w.filename] = (w.name, w.sha256, w.data)
    return out


def serve_and_verify(repo: Repo, wheels: dict) -> None:
    server = repo.server()
    server.start(timeout=60)
    try:
        verify_served(server, wheels, set())
    finally:
        server.stop()


def import_loop(pair: str, parent: Path, wheels_dir: Path, wheels: dict, rounds: int,
                rng: random.Random, s3: str, pg: str, est: float) -> dict:
    midway = 0
    for rnd in range(rounds):
        repo = new_repo(pair, parent, f"import-{rnd}", s3, pg)
        try:
            cmd = [str(PIPY_BIN), "import", str(wheels_dir), "--data",
                   str(repo.root / "data"), "--config", str(repo.config_file())]
            n, res, est = kill_until_done(
                cmd, est, rng, lambda k: check_clean(repo, f"import kill {k}"))
            midway += n
            m = IMPORT_SUMMARY.search(res.stdout)
            if res.returncode != 0 or not m or int(m.group(3)) or \
                    int(m.group(1)) + int(m.group(2)) != len(wheels):
                raise CrashLoopFailure(f"import re-run after {n} kills: rc {res.returncode}\n"
                                       f"{res.stdout[-2000:]}{res.stderr[-2000:]}")
            check_clean(repo, f"import round {rnd + 1}")
            serve_and_verify(repo, wheels)
        finally:
            repo.drop()
    return {"rounds": rounds, "killed_midway": midway}


def migrate_loop(pair: str, parent: Path, source: Repo, wheels: dict, rounds: int,
                 rng: random.Random, s3: str, pg: str, est: float) -> dict:
    midway = 0
    src_cfg = source.config_file()
    for rnd in range(rounds):
        target = new_repo(pair, parent, f"migrate-{rnd}", s3, pg)
        try:
            cmd = [str(PIPY_BIN), "migrate", "--from", str(src_cfg), "--from-data",
                   str(source.root / "data"), "--to", str(target.config_file()),
                   "--to-data", str(target.root / "data")]
            n, res, est = kill_until_done(
                cmd, est, rng, lambda k: check_clean(target, f"migrate kill {k}"))
            midway += n
            m = MIGRATE_SUMMARY.search(res.stdout)
            if res.returncode != 0 or not m or int(m.group(4)) or \
                    int(m.group(3)) != len(wheels):
                raise CrashLoopFailure(f"migrate re-run after {n} kills: rc {res.returncode}\n"
                                       f"{res.stdout[-2000:]}{res.stderr[-2000:]}")
            check_clean(target, f"migrate round {rnd + 1}")
            serve_and_verify(target, wheels)
        finally:
            target.drop()
    return {"rounds": rounds, "killed_midway": midway}


# --- the whole loop ------------------------------------------------------------------
def crash_loop(pair: str, workdir: Path, *, serve_kills: int, cli_rounds: int,
               import_files: int = 40, gc_orphans: int = 150, seed: int | None = None,
               threads: int = 4, pace: float | None = None, run_window=(0.3, 2.0),
               s3_endpoint: str | None = None, postgres_url: str | None = None,
               log=print) -> dict:
    """Runs every loop on `pair`; returns the figures. Raises CrashLoopFailure."""
    assert pair in PAIRS, pair
    seed = seed if seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    s3 = s3_endpoint or os.environ.get("PIPY_TEST_S3_ENDPOINT", "http://127.0.0.1:17900")
    pg = (postgres_url or os.environ.get(
        "PIPY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:17432/pipy_test")
    ).rsplit("/", 1)[0]
    out: dict = {"pair": pair, "seed": seed}
    repo = new_repo(pair, workdir, "serve", s3, pg)
    try:
        log(f"{pair}: serve loop, {serve_kills} kills (seed {seed})")
        if pace is None:  # S3 is slower to check: fewer uploads per kill keep it brisk
            pace = 0.02 if pair == "fs-sqlite" else 0.15
        served = serve_loop(repo, serve_kills, rng, workdir / "dists", threads=threads,
                            pace=pace, run_window=run_window, log=log)
        server = served.pop("server")
        served.pop("token")
        ledger = served.pop("ledger")
        out["serve"] = served
        try:
            log(f"{pair}: gc loop, {cli_rounds} rounds")
            out["gc"] = gc_loop(repo, server, ledger, cli_rounds, rng,
                                gc_orphans if pair == "fs-sqlite" else gc_orphans // 3)
        finally:
            server.stop(timeout=30)
    finally:
        repo.drop()

    wheels_dir = workdir / "import-src"
    wheels = make_wheel_folder(wheels_dir, import_files, rng)
    log(f"{pair}: import loop, {cli_rounds} rounds of {len(wheels)} files")
    # One uncrashed import into a filesystem + SQLite source: the timing estimate for the
    # kills, and the source repository of the migrate loop.
    source = new_repo("fs-sqlite", workdir, "source", s3, pg)
    t = time.monotonic()
    res = source.cli("import", str(wheels_dir))
    if res.returncode != 0:
        raise CrashLoopFailure(f"reference import failed: {res.stdout}{res.stderr}")
    est = time.monotonic() - t
    out["import"] = import_loop(pair, workdir, wheels_dir, wheels, cli_rounds, rng, s3, pg,
                                est * (2 if pair == "s3-postgres" else 1))
    log(f"{pair}: migrate loop, {cli_rounds} rounds (source: filesystem + SQLite)")
    out["migrate"] = migrate_loop(pair, workdir, source, wheels, cli_rounds, rng, s3, pg,
                                  est * 1.5)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pair", action="append", choices=PAIRS,
                    help="backend pair (repeatable; default: both)")
    ap.add_argument("--serve-kills", type=int, default=300)
    ap.add_argument("--cli-rounds", type=int, default=20)
    ap.add_argument("--import-files", type=int, default=60)
    ap.add_argument("--seed", type=int)
    ap.add_argument("--threads", type=int, default=4, help="upload + yank threads")
    ap.add_argument("--pace", type=float, help="mean pause between a thread's requests (s)")
    ap.add_argument("--s3-endpoint")
    ap.add_argument("--postgres-url")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    failed = False
    for pair in args.pair or PAIRS:
        work = Path(tempfile.mkdtemp(prefix=f"pipy-crashloop-{pair}-"))
        try:
            figures = crash_loop(pair, work, serve_kills=args.serve_kills,
                                 cli_rounds=args.cli_rounds, import_files=args.import_files,
                                 seed=args.seed, threads=args.threads, pace=args.pace,
                                 s3_endpoint=args.s3_endpoint,
                                 postgres_url=args.postgres_url)
            print("RESULT " + json.dumps(figures), flush=True)
        except CrashLoopFailure as e:
            failed = True
            print(f"FAILED {pair}: {e}\n(work folder kept: {work})", flush=True)
            continue
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
