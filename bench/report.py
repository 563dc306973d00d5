#!/usr/bin/python3
"""Turns one benchmark run's JSON outputs into the Markdown results table.

Reads RUN/meta.json, RUN/wrk.jsonl, RUN/upload.json, RUN/cold.json and RUN/rss.json (any
may be missing: its rows then say "not measured"), prints the report and writes it to --out.
"""

import argparse
import datetime
import json
import os
import platform
import subprocess

MIB = 1024 * 1024


def load(path, lines=False):
    if not os.path.exists(path):
        return [] if lines else {}
    with open(path) as f:
        if lines:
            return [json.loads(x) for x in f if x.strip()]
        return json.load(f)


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def fmt(x, digits=1):
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    return ("{:,.%df}" % digits).format(x)


class Table:
    def __init__(self):
        self.rows = []
        self.failures = []

    def add(self, metric, pipy, nginx, ratio, target, ok, digits=1):
        verdict = "info" if ok is None else ("pass" if ok else "**FAIL**")
        if ok is False:
            self.failures.append(metric)
        self.rows.append("| %s | %s | %s | %s | %s | %s |" % (
            metric, fmt(pipy, digits), fmt(nginx, digits),
            fmt(ratio, 2) + ("×" if ratio is not None else ""), target, verdict))


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--run", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    meta = load(os.path.join(a.run, "meta.json"))
    wrk = load(os.path.join(a.run, "wrk.jsonl"), lines=True)
    up = load(os.path.join(a.run, "upload.json"))
    cold = load(os.path.join(a.run, "cold.json"))
    rss = load(os.path.join(a.run, "rss.json"))
    by = {(r["server"], r["name"]): r for r in wrk}
    t = Table()
    anomalies = []
    bad = set()
    for r in wrk:
        why = []
        if r.get("precheck_status") != 200:
            why.append("pre-check GET answered %s" % r.get("precheck_status"))
        if r.get("non2xx"):
            why.append("%d non-2xx/3xx responses" % r["non2xx"])
        if r.get("socket_errors"):
            why.append(r.get("socket_errors_detail", ""))
        if r.get("server_alive") is False:
            why.append("server process died")
        want = {"project_json": "application/vnd.pypi.simple.v1+json",
                "project_html": "text/html", "root": "text/html"}.get(r["name"])
        if want and not (r.get("content_type") or "").startswith(want):
            why.append("Content-Type %r, expected %s" % (r.get("content_type"), want))
        if r.get("precheck_status") == 200 and not r.get("requests"):
            why.append("no request completed within the run")
        if r.get("wrk_exit") not in (None, 0):
            why.append("wrk exit %s" % r.get("wrk_exit"))
        if why:
            anomalies.append("%s %s: %s" % (r["server"], r["name"], "; ".join(why)))
            bad.add((r["server"], r["name"]))

    def clean(server, name):
        return (server, name) not in bad

    def pair(name, key, scale=1.0):
        p, n = by.get(("pipy", name), {}), by.get(("nginx", name), {})
        pv = p.get(key) * scale if p.get(key) is not None else None
        nv = n.get(key) * scale if n.get(key) is not None else None
        ratio = pv / nv if pv is not None and nv else None
        return pv, nv, ratio, clean("pipy", name)

    pages = [("root", "`/simple/` (%s projects), HTML" % fmt(meta.get("projects"), 0), False),
             ("project_html", "project page HTML (rotating)", True),
             ("project_json", "project page JSON (rotating)", True)]
    for name, label, targeted in pages:
        pv, nv, ratio, ok = pair(name, "rps")
        t.add(label + ", req/s", pv, nv, ratio, "≥ 0.80× nginx" if targeted else "—",
              (ok and ratio is not None and ratio >= 0.8) if targeted else None, 0)
        pv, nv, ratio, ok = pair(name, "p99_ms")
        t.add(label + ", p99 ms", pv, nv, ratio, "≤ 1.50× nginx" if targeted else "—",
              (ok and ratio is not None and ratio <= 1.5) if targeted else None, 2)
    for name, label in (("wheel_small", "small wheel (%s B)" % fmt(meta.get("small_size"), 0)),
                        ("wheel_1m", "1 MiB wheel"), ("wheel_50m", "50 MiB wheel")):
        pv, nv, ratio, ok = pair(name, "bytes_per_s", 1.0 / MIB)
        t.add(label + ", MiB/s", pv, nv, ratio, "≥ 0.90× nginx",
              ok and ratio is not None and ratio >= 0.9)
        pv, nv, ratio, _ = pair(name, "rps")
        t.add(label + ", req/s", pv, nv, ratio, "—", None, 0)
    if ("pipy-accesslog", "project_html") in by:
        r = by[("pipy-accesslog", "project_html")]
        n = by.get(("nginx", "project_html"), {})
        ratio = r["rps"] / n["rps"] if r.get("rps") and n.get("rps") else None
        t.add("project page HTML req/s, pipy access log ON", r.get("rps"), n.get("rps"), ratio,
              "—", None, 0)
        ratio = (r["p99_ms"] / n["p99_ms"] if r.get("p99_ms") and n.get("p99_ms") else None)
        t.add("project page HTML p99 ms, pipy access log ON", r.get("p99_ms"), n.get("p99_ms"),
              ratio, "—", None, 2)
    seq = up.get("sequential", {})
    t.add("uploads/s, %s sequential (1 client, keep-alive)" % fmt(seq.get("count"), 0),
          seq.get("per_s"), None, None, "≥ 1000/s",
          seq.get("per_s") is not None and seq["per_s"] >= 1000 and seq.get("errors") == 0)
    t.add("upload latency p50 / p99 ms (sequential; %s TCP connection(s))"
          % seq.get("tcp_connections", "?"),
          "%s / %s" % (fmt(seq.get("p50_ms"), 2), fmt(seq.get("p99_ms"), 2)), None, None, "—",
          None)
    bulk = up.get("bulk", {})
    t.add("uploads/s, bulk load of %s files (%s workers)" % (
        fmt(bulk.get("count"), 0), meta.get("upload_workers")), bulk.get("per_s"), None, None,
          "—", None)
    for b in up.get("big", []):
        t.add("upload of the %s wheel, MiB/s (one request)" % {"big1m": "1 MiB",
              "big50m": "50 MiB"}.get(b["kind"], b["kind"]), b.get("mib_per_s"), None, None,
              "—", None)
        if b.get("error"):
            anomalies.append("upload of %s: %s" % (b["file"], json.dumps(b["error"])))
    n_cold = meta.get("cold_projects")
    t.add("cold start → first 200 on /healthz, s (median of %s)" % cold.get("runs"),
          cold.get("healthz_s_median"), None, None, "≤ 1 s",
          cold.get("healthz_s_max") is not None and cold["healthz_s_max"] <= 1.0, 3)
    t.add("cold start → first 200 on /simple/ (%s projects), s" % fmt(n_cold, 0),
          cold.get("simple_s_median"), None, None, "≤ 1 s",
          cold.get("simple_s_max") is not None and cold["simple_s_max"] <= 1.0
          and cold.get("ok", False), 3)
    t.add("SIGTERM → exit, s (max of the cold-start runs)", cold.get("sigterm_exit_s_max"),
          None, None, "—", None, 3)
    peak = rss.get("peak_kib")
    t.add("peak RSS (VmHWM) of pipy, MB", peak / 1024 if peak else None, None, None,
          "≤ 100 MB", peak is not None and peak / 1024 <= 100)

    for key in ("bulk", "sequential"):
        if up.get(key, {}).get("errors"):
            anomalies.append("uploads (%s): %d errors, e.g. %s" % (
                key, up[key]["errors"], json.dumps(up[key].get("first_errors", [])[:3])))
    if cold and not cold.get("ok", True):
        anomalies.append("cold start: /simple/ listed %s projects, expected %s"
                         % (cold.get("projects"), n_cold))
    anomalies.extend(meta.get("problems", []))

    uname = os.uname()
    lines = [
        "# Pipy benchmark%s" % (" (--quick smoke run: not a measurement)" if meta.get("quick")
                                else ""),
        "",
        "- date: %s" % datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "- CPU: %s, %d cores; kernel %s %s" % (cpu_model(), os.cpu_count(), uname.sysname,
                                               uname.release),
        "- pipy commit: %s" % meta.get("commit", "?"),
        "- index: %s projects × %s versions (wheel + sdist each) + a 1 MiB and a 50 MiB wheel"
        % (meta.get("projects"), meta.get("versions")),
        "- wrk: `wrk -t2 -c64 -d%s --latency --timeout 30s`, servers one after the other; "
        "wrk shares the same 2 cores" % meta.get("duration"),
        "- pipy: `[server] threads = 2`, access log %s for the comparison rows; "
        "nginx %s: `worker_processes 2`, `sendfile on`, `access_log off`, "
        "`keepalive_requests 1000000`, serving the pages pipy rendered as static files; "
        "JSON chosen by `map $http_accept` (substring match, no q-values) to `index.json`"
        % ("OFF" if not meta.get("access_log") else "ON", meta.get("nginx_version", "")),
        "",
        "| metric | pipy | nginx | ratio | target | pass? |",
        "|---|---:|---:|---:|---|---|",
    ] + t.rows + [""]
    if t.failures:
        lines.append("Missed targets: %s." % "; ".join(t.failures))
    else:
        lines.append("All targets met.")
    if anomalies:
        lines += ["", "## Errors and anomalies", ""] + ["- " + x for x in anomalies]
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
