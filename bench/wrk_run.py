#!/usr/bin/python3
"""Runs one wrk measurement against a loopback server and appends the parsed result.

Before wrk, one plain GET of the (first) path must answer 200, so a broken endpoint is
reported as such instead of being measured as a fast error. After wrk, the server process
(--pid) must still be alive. The record appended to --out (JSON lines) holds req/s, p50/p99
latency (ms), transfer (bytes/s), the request count, socket errors, non-2xx/3xx responses,
and, with --pid, the server's CPU time during wrk (utime + stime from /proc of the process,
its threads and its descendants, so nginx's workers count under their master) as cpu_s and
cpu_us_per_req. wrk shares the cores with the server, so req/s moves with whatever else
runs; CPU per request is the steadier figure to compare servers by.
"""

import argparse
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpclient  # noqa: E402
import npm_cpu  # noqa: E402  (utime + stime of a process tree; shared with the npm bench)

HERE = os.path.dirname(os.path.abspath(__file__))
TIME_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}


def ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    return float(m.group(1)) * TIME_UNITS[m.group(2)] if m else None


def size(text):
    m = re.fullmatch(r"([\d.]+)(B|KB|MB|GB|TB)", text)
    return float(m.group(1)) * SIZE_UNITS[m.group(2)] if m else None


def parse(out):
    r = {}
    m = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    r["rps"] = float(m.group(1)) if m else None
    m = re.search(r"^Transfer/sec:\s+(\S+)", out, re.M)
    r["bytes_per_s"] = size(m.group(1)) if m else None
    for pct in ("50", "90", "99"):
        m = re.search(r"^\s+%s(?:\.0+)?%%\s+(\S+)" % pct, out, re.M)
        r["p%s_ms" % pct] = ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in ([\d.]+\w+), (\S+) read", out)
    if m:
        r["requests"] = int(m.group(1))
        r["duration_ms"] = ms(m.group(2))
        read = size(m.group(3))
        # more digits than the rounded Transfer/sec line
        if read and r["duration_ms"]:
            r["bytes_per_s"] = read / (r["duration_ms"] / 1000)
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    r["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    r["socket_errors_detail"] = m.group(0) if m else ""
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    r["non2xx"] = int(m.group(1)) if m else 0
    return r


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open("/proc/%d/status" % pid) as f:
            return "State:\tZ" not in f.read()
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--server", required=True, help="label: pipy | nginx | ...")
    ap.add_argument("--name", required=True, help="label of the endpoint")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", help="one URL path")
    ap.add_argument("--list", help="file of URL paths to rotate over")
    ap.add_argument("--accept")
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--timeout", default="30s")
    ap.add_argument("--pid", type=int, help="server process that must survive the run")
    ap.add_argument("--out", required=True)
    ap.add_argument("--log", required=True, help="wrk's raw output is appended here")
    a = ap.parse_args()

    if a.list:
        with open(a.list) as f:
            first = f.readline().strip()
    else:
        first = a.path
    headers = {"Accept": a.accept} if a.accept else None
    rec = {"server": a.server, "name": a.name}
    conn = httpclient.Connection(a.port, timeout=60)
    try:
        resp = conn.get(first, headers)
        rec["precheck_status"] = resp.status
        rec["content_type"] = resp.headers.get("content-type")
        rec["body_bytes"] = len(resp.body)
    except (OSError, httpclient.HttpError) as e:
        rec["precheck_status"] = "error: %s" % e
    finally:
        conn.close()
    if rec["precheck_status"] == 200:
        cmd = ["wrk", "-t%d" % a.threads, "-c%d" % a.conns, "-d%s" % a.duration, "--latency",
               "--timeout", a.timeout]
        if a.accept:
            cmd += ["-H", "Accept: " + a.accept]
        url = "http://127.0.0.1:%d" % a.port
        if a.list:
            cmd += ["-s", os.path.join(HERE, "rotate.lua"), url, "--", a.list]
        else:
            cmd += [url + a.path]
        cpu0 = npm_cpu.cpu_seconds(a.pid) if a.pid else None
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        cpu1 = npm_cpu.cpu_seconds(a.pid) if a.pid else None
        with open(a.log, "a") as log:
            log.write("### %s %s: %s\n%s%s\n" % (a.server, a.name, " ".join(cmd), proc.stdout,
                                                   proc.stderr))
        rec.update(parse(proc.stdout))
        rec["wrk_exit"] = proc.returncode
        if cpu0 is not None and cpu1 is not None:
            rec["cpu_s"] = round(cpu1 - cpu0, 3)
            if rec.get("requests"):
                rec["cpu_us_per_req"] = round((cpu1 - cpu0) * 1e6 / rec["requests"], 2)
    if a.pid:
        rec["server_alive"] = alive(a.pid)
    with open(a.out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    brief = {k: rec.get(k) for k in ("rps", "p99_ms", "cpu_us_per_req", "bytes_per_s", "non2xx",
                                     "socket_errors", "precheck_status", "server_alive")}
    print("wrk: %-6s %-22s %s" % (a.server, a.name, json.dumps(brief)), file=sys.stderr)


if __name__ == "__main__":
    main()
