#!/usr/bin/python3
"""Times pipy's cold start on an existing data folder.

For each run: exec `pipy serve`, then poll (every ~1 ms) until GET /healthz answers 200,
then until GET /simple/ answers 200 (and lists --expect projects), both measured from the
exec. Then SIGTERM and the time to exit. Prints a JSON summary with the median and the
worst of the runs, and the peak RSS (VmHWM) of each server process.
"""

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpclient  # noqa: E402


def vm_hwm_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def poll(proc, port, path, deadline):
    """Returns (monotonic time of the first 200, body), or raises on timeout/exit."""
    while True:
        if proc.poll() is not None:
            raise RuntimeError("pipy exited with %d while starting" % proc.returncode)
        if time.monotonic() > deadline:
            raise RuntimeError("no 200 on %s before the deadline" % path)
        conn = httpclient.Connection(port, timeout=10)
        try:
            resp = conn.get(path)
            if resp.status == 200:
                return time.monotonic(), resp.body
        except (OSError, httpclient.HttpError, socket.timeout):
            pass
        finally:
            conn.close()
        time.sleep(0.001)


def one_run(a, log):
    cmd = [a.pipy, "serve", "--data", a.data, "--listen", "127.0.0.1:%d" % a.port]
    if a.config:
        cmd += ["--config", a.config]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=log, stderr=log)
    try:
        deadline = t0 + 60
        t_health, _ = poll(proc, a.port, "/healthz", deadline)
        t_simple, body = poll(proc, a.port, "/simple/", deadline)
        links = body.count(b"<a ")
        hwm = vm_hwm_kib(proc.pid)
        t1 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            rc = None
        t_stop = time.monotonic() - t1
        return {"healthz_s": t_health - t0, "simple_s": t_simple - t0, "projects": links,
                "vm_hwm_kib": hwm, "sigterm_exit_s": t_stop if rc is not None else None,
                "exit_code": rc}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pipy", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--config")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--expect", type=int, default=0, help="projects /simple/ must list")
    ap.add_argument("--log", required=True)
    a = ap.parse_args()

    runs = []
    with open(a.log, "ab") as log:
        for _ in range(a.runs):
            runs.append(one_run(a, log))
    out = {"runs": len(runs)}
    for key in ("healthz_s", "simple_s"):
        vals = [r[key] for r in runs]
        out[key + "_median"] = round(statistics.median(vals), 4)
        out[key + "_max"] = round(max(vals), 4)
    out["projects"] = min(r["projects"] for r in runs)
    hwms = [r["vm_hwm_kib"] for r in runs if r["vm_hwm_kib"]]
    out["vm_hwm_kib_max"] = max(hwms) if hwms else None
    stops = [r["sigterm_exit_s"] for r in runs]
    out["sigterm_exit_s_max"] = None if None in stops else round(max(stops), 3)
    out["exit_codes"] = [r["exit_code"] for r in runs]
    out["ok"] = all(r["projects"] >= a.expect for r in runs)
    print(json.dumps(out))
    sys.exit(0 if out["ok"] else 1)


if __name__ == "__main__":
    main()
