"""Load that must not hurt: with 10,000 idle connections open, 1,000 slow-header clients
and a flood of pipelined requests (tests/e2e/hostile_load.py, a process of its own), other
clients keep being served quickly and the server's memory and descriptors stay bounded.

The server runs its default [limits] (128 connections per address, 10 s header deadline):
the hostile connections come from 100 loopback source addresses, so the per-address cap is
not what protects the others, and they are re-opened whenever the server drops them at its
deadline. The open-file limit is raised to the hard limit for this process, which the server
inherits. Figures (p99 of the other clients, peak RSS, peak fds) are printed.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from pydists import make_wheel, upload

HERE = Path(__file__).resolve().parent
IDLE, SLOW = 10_000, 1_000
ATTACK_SECONDS = 16        # long enough for one header-deadline wave of reconnects (10 s)
P99_BOUND = 0.5            # seconds, for a fresh connection + one request
RSS_BOUND_MIB = 256
CONFIG = "[server]\naccess_log = false\n"  # the flood would write ~1 GB of access log


def proc_status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


@pytest.fixture
def nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_idle_slow_and_pipelined_floods_do_not_hurt_others(server_factory, tmp_path, nofile):
    if nofile < IDLE + SLOW + 500:
        pytest.skip(f"RLIMIT_NOFILE hard limit {nofile} < {IDLE + SLOW + 500}")
    s = server_factory(CONFIG)  # started after the limit was raised: it inherits it
    w = make_wheel(tmp_path, "pipyload-probe", "1.0", payload=os.urandom(256 * 1024))
    assert upload(s, w, s.token("upload:*")).status == 200
    file_path = s.path_of(s.files("pipyload-probe")[w.filename]["url"])
    probes = ["/healthz", "/simple/", "/simple/pipyload-probe/", file_path]
    pid = s.proc.pid
    rss0 = proc_status(pid, "VmRSS") // 1024

    samples, stop = [], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            samples.append((proc_status(pid, "VmRSS") // 1024,
                            len(os.listdir(f"/proc/{pid}/fd")),
                            proc_status(pid, "Threads")))
            stop.wait(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    attack = subprocess.Popen(
        [sys.executable, str(HERE / "hostile_load.py"), "--port", str(s.port), "--idle",
         str(IDLE), "--slow", str(SLOW), "--duration", str(ATTACK_SECONDS)],
        stdout=subprocess.PIPE, text=True)
    latencies, failures, counters = [], [], {}
    try:
        # Wait until the hostile connections are all open, then measure the others.
        deadline = time.monotonic() + 15
        for line in attack.stdout:
            counters = json.loads(line)
            assert "error" not in counters, counters
            if counters["idle_open"] >= IDLE and counters["slow_open"] >= SLOW:
                break
            assert time.monotonic() < deadline, f"attack never opened its connections: {counters}"
        t_end = time.monotonic() + ATTACK_SECONDS - 4
        i = 0
        while time.monotonic() < t_end:
            path = probes[i % len(probes)]
            i += 1
            t0 = time.monotonic()
            try:
                r = s.get(path, timeout=10)
                if r.status != 200:
                    failures.append(f"{path}: {r.status}")
            except OSError as e:
                failures.append(f"{path}: {e}")
            latencies.append(time.monotonic() - t0)
            time.sleep(0.01)
        for line in attack.stdout:
            counters = json.loads(line)
    finally:
        attack.kill()
        attack.wait(10)
    # Once the attack is gone the server lets go of its connections.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(os.listdir(f"/proc/{pid}/fd")) > 100:
        time.sleep(0.2)
    fds_after = len(os.listdir(f"/proc/{pid}/fd"))
    stop.set()
    sampler.join(5)

    peak_rss = max(r for r, _, _ in samples)
    peak_fds = max(f for _, f, _ in samples)
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    figures = {"probes": len(latencies), "p50_ms": round(p50 * 1000, 1),
               "p99_ms": round(p99 * 1000, 1), "max_ms": round(max(latencies) * 1000, 1),
               "rss_start_mib": rss0, "rss_peak_mib": peak_rss, "fds_peak": peak_fds,
               "fds_after": fds_after, "threads_peak": max(t for _, _, t in samples),
               "attack": counters}
    print("\nhostile load figures: " + json.dumps(figures))
    assert not failures, failures[:10]
    assert peak_fds >= IDLE + SLOW, f"the hostile connections were not all held: {figures}"
    assert counters.get("flood_responses", 0) > 1000, figures
    assert p99 <= P99_BOUND, figures
    assert peak_rss <= RSS_BOUND_MIB, figures
    assert fds_after <= 100, f"connections not released after the attack: {figures}"
    assert s.get("/healthz").status == 200
