"""Fault injection (issue 12 item 3): an upstream that misbehaves, for the Python upstream
([upstream]) and the npm upstream ([npm] upstream) alike.

test_upstream.py / test_npm_upstream.py cover an upstream that is down, answers late, or
sends hostile packuments; here the upstream answers one byte a second, sends a page far
over the limit, sends invalid JSON, redirects in a circle, or redirects to a foreign host
(faultproxy.HostileUpstream). Each gets a clear 502/504 within a bounded time, Pipy's
memory stays bounded, and — measured while several such fetches are under way at once —
another client's requests (internal pages and files, /healthz) are answered as fast as
ever.
"""
from __future__ import annotations

import http.client
import json
import threading
import time

import pytest

import npmdists as nd
from faultproxy import ForeignHost, HostileUpstream
from pipyharness import PIP_ACCEPT, bearer_auth
from pydists import make_wheel, sha256_of, upload

MiB = 1024 * 1024
TIMEOUT_S = 2.0          # [upstream] / [npm] timeout
FAULT_BOUND_S = TIMEOUT_S + 2.5  # what any one faulty request may take, all told
CLIENT_BOUND_S = 1.0     # what another client's request may take meanwhile


@pytest.fixture
def hostile():
    foreign = ForeignHost().start()
    up = HostileUpstream(foreign=foreign).start()
    yield up
    up.stop()
    foreign.stop()


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Bystander:
    """Another client: asks for `paths` in turn while the faults run, timing each answer."""

    def __init__(self, server, paths: list[str], headers: dict | None = None):
        self.server, self.paths, self.headers = server, paths, headers or {}
        self.timings: list[tuple[str, int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            path = self.paths[i % len(self.paths)]
            i += 1
            t0 = time.monotonic()
            try:
                status = self.server.get(path, headers=self.headers, timeout=10).status
            except OSError:
                status = 0
            self.timings.append((path, status, time.monotonic() - t0))
            self._stop.wait(0.05)

    def __enter__(self) -> "Bystander":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(15)

    def assert_unaffected(self) -> None:
        assert len(self.timings) >= 10, self.timings
        bad = [t for t in self.timings if t[1] != 200 or t[2] > CLIENT_BOUND_S]
        assert not bad, f"another client suffered during the faults: {bad[:5]}"


class PeakRss:
    """Samples a process's resident memory in the background."""

    def __init__(self, pid: int):
        self.pid, self.peak = pid, rss(pid)
        self.base = self.peak
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss(self.pid))
            self._stop.wait(0.02)

    def __enter__(self) -> "PeakRss":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)


def run_faults(server, paths: dict[str, str], headers: dict) -> dict:
    """GETs every path at once (kind -> path); returns kind -> (status, reason, seconds)."""
    out: dict = {}

    def one(kind: str, path: str) -> None:
        t0 = time.monotonic()
        try:
            r = server.get(path, headers=headers, timeout=30)
            out[kind] = (r.status, f"{r.reason} {r.text[:200]}", time.monotonic() - t0)
        except OSError as e:
            out[kind] = (0, repr(e), time.monotonic() - t0)

    threads = [threading.Thread(target=one, args=kv) for kv in paths.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def check_fault_answers(results: dict, expected: dict) -> None:
    for kind, allowed in expected.items():
        status, reason, took = results[kind]
        assert status in allowed, (kind, status, reason)
        assert "upstream" in reason.lower(), (kind, reason)
        assert took < FAULT_BOUND_S, (kind, f"{took:.1f} s", reason)


EXPECTED = {
    "trickle": (504,), "trickle2": (504,), "trickle3": (504,),
    "huge": (502,), "bomb": (502,), "endless": (502,), "badjson": (502,), "loop": (502,), "foreign": (502,),
}


def test_python_upstream_faults_are_bounded_and_isolated(server_factory, hostile, tmp_path):
    server = server_factory(
        f'[upstream]\nurl = "{hostile.url}/simple/"\nttl = "1h"\n'
        f'timeout = "{TIMEOUT_S:g}s"\nmax_page_bytes = "1MiB"\n')
    token = server.token("upload:*")
    internal = make_wheel(tmp_path, "acme-bystander", "1.0", payload=b"x" * 200_000)
    assert upload(server, internal, token).status == 200
    file_url = server.path_of(server.files("acme-bystander")[internal.filename]["url"])
    paths = {kind: f"/simple/{name}/" for kind, name in (
        ("trickle", "trickle-py"), ("trickle2", "trickle-py2"), ("trickle3", "trickle-py3"),
        ("huge", "huge-py"), ("bomb", "bomb-py"), ("endless", "endless-py"), ("badjson", "badjson-py"),
        ("loop", "loop-a"), ("foreign", "foreign-py"))}

    with PeakRss(server.proc.pid) as mem, \
            Bystander(server, ["/healthz", "/simple/acme-bystander/", file_url, "/simple/"],
                      {"Accept": PIP_ACCEPT}) as other:
        results = run_faults(server, paths, {"Accept": PIP_ACCEPT})
    check_fault_answers(results, EXPECTED)
    other.assert_unaffected()
    # Two 64 MiB pages were refused past the 1 MiB limit, not held in memory.
    assert mem.peak - mem.base < 40 * MiB, (mem.base // MiB, mem.peak // MiB)
    # Redirects are followed a bounded number of times, never to the foreign host.
    assert hostile.count("/loop-") <= 8, hostile.requests
    assert hostile.foreign.requests == []
    # Nothing of the faulty answers was cached: asked again, the upstream is asked again.
    before = hostile.count("/badjson-py/")
    assert server.get("/simple/badjson-py/", {"Accept": PIP_ACCEPT}).status == 502
    assert hostile.count("/badjson-py/") == before + 1
    got = server.get(file_url)
    assert got.status == 200 and sha256_of(got.body) == internal.sha256


def test_npm_upstream_faults_are_bounded_and_isolated(server_factory, hostile, tmp_path):
    server = server_factory(
        f'[npm]\nupstream = "{hostile.url}/npm/"\nttl = "1h"\n'
        f'timeout = "{TIMEOUT_S:g}s"\nmax_packument_bytes = "1MiB"\n'
        f'internal_scopes = ["@acme"]\n')
    token = server.token("upload:*")
    tgz = nd.make_npm_tarball(tmp_path / "pkg", "@acme/bystander", "1.0.0")
    body = nd.publish_body("@acme/bystander", "1.0.0", tgz, registry_url=server.url + "/npm/")
    r = server.request("PUT", "/npm/" + nd.escaped_name("@acme/bystander"),
                       body=json.dumps(body).encode(),
                       headers={"Content-Type": "application/json", **bearer_auth(token)})
    assert r.status in (200, 201), (r.status, r.reason, r.text[:300])
    tarball = "/npm/" + nd.registry_tarball_path("@acme/bystander", "1.0.0")
    paths = {kind: f"/npm/{name}" for kind, name in (
        ("trickle", "trickle-npm"), ("trickle2", "trickle-npm2"), ("trickle3", "trickle-npm3"),
        ("huge", "huge-npm"), ("bomb", "bomb-npm"), ("endless", "endless-npm"), ("badjson", "badjson-npm"),
        ("loop", "loop-a"), ("foreign", "foreign-npm"))}

    with PeakRss(server.proc.pid) as mem, \
            Bystander(server, ["/healthz", "/npm/@acme%2fbystander", tarball,
                               "/npm/-/ping"]) as other:
        results = run_faults(server, paths, {"Accept": "application/json"})
    check_fault_answers(results, EXPECTED)
    other.assert_unaffected()
    assert mem.peak - mem.base < 40 * MiB, (mem.base // MiB, mem.peak // MiB)
    assert hostile.count("/loop-") <= 8, hostile.requests
    assert hostile.foreign.requests == []
    before = hostile.count("/badjson-npm")
    assert server.get("/npm/badjson-npm").status == 502
    assert hostile.count("/badjson-npm") == before + 1
    got = server.get(tarball)
    assert got.status == 200 and got.body == tgz.read_bytes()


def get_timed(server, path: str, timeout: float = 60):
    """(status, complete, seconds until the answer ended or broke off)."""
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        try:
            r.read()
            return r.status, True, time.monotonic() - t0
        except (http.client.IncompleteRead, ConnectionError):
            return r.status, False, time.monotonic() - t0
    finally:
        conn.close()


def test_files_sent_one_byte_a_second_are_given_up_within_the_timeout(server_factory,
                                                                        hostile):
    # A file (Python) and a tarball (npm) the upstream vouches for by hash, then sends one
    # byte a second: a stall in all but name. Pipy gives up within about its timeout (a
    # broken transfer or a 504, never the file), and its fetch slot is free again.
    server = server_factory(
        f'[upstream]\nurl = "{hostile.url}/simple/"\ntimeout = "{TIMEOUT_S:g}s"\n'
        f'max_fetches = 1\n'
        f'[npm]\nupstream = "{hostile.url}/npm/"\ntimeout = "{TIMEOUT_S:g}s"\n'
        f'max_fetches = 1\n')
    py_file = server.path_of(next(iter(server.files("slowfile-py").values()))["url"])
    r = server.get("/npm/slowtar-npm")
    assert r.status == 200, (r.status, r.reason)
    tarball = server.path_of(r.json()["versions"]["1.0.0"]["dist"]["tarball"])
    with Bystander(server, ["/healthz", "/simple/", "/npm/-/ping"]) as other:
        for path in (py_file, tarball, py_file):  # the third: the slot was given back
            status, complete, took = get_timed(server, path)
            assert not (status == 200 and complete), (path, status)
            assert status in (200, 502, 504), (path, status)
            assert took < FAULT_BOUND_S + 1, (path, status, f"{took:.1f} s")
    other.assert_unaffected()
    assert hostile.count("/files/slowfile") == 2
    assert server.cli("check").returncode == 0
