#!/usr/bin/python3
"""Turns one benchmark run's JSON outputs into the Markdown results table.

Reads RUN/meta.json, RUN/wrk.jsonl, RUN/upload.json, RUN/upload-concurrent.json,
RUN/fsync-{before,after}.json, RUN/same.json, RUN/cold.json and RUN/rss.json (any may be
missing: its rows then say "—"), prints the report and writes it to --out. Three tables:
the targets, every wrk scenario side by side (req/s, p99 and the server's CPU µs per
request, with the pipy/nginx ratios), and the uploads next to the durable-write limit.
With --reference (the wrk.jsonl of a default run), the big data set's pages are compared
with the default data set's.
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
    ap.add_argument("--reference", help="wrk.jsonl of a default (2,000-project) run")
    a = ap.parse_args()

    meta = load(os.path.join(a.run, "meta.json"))
    wrk = load(os.path.join(a.run, "wrk.jsonl"), lines=True)
    up = load(os.path.join(a.run, "upload.json"))
    cold = load(os.path.join(a.run, "cold.json"))
    rss = load(os.path.join(a.run, "rss.json"))
    conc = load(os.path.join(a.run, "upload-concurrent.json"))
    same = load(os.path.join(a.run, "same.json"))
    seq_t = load(os.path.join(a.run, "upload-sequential.json"))
    limits = {w: load(os.path.join(a.run, "fsync-%s.json" % w)) for w in ("before", "mid", "after")}
    ref = {(r["server"], r["name"]): r
           for r in (load(a.reference, lines=True) if a.reference else [])}
    big = meta.get("dataset") == "big"
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
    def limit_around(*names):
        """Mean durable-write limit (files/s) of the measurements taken around a step."""
        vals = [limits[n]["files_per_s"] for n in names if limits[n].get("files_per_s")]
        return sum(vals) / len(vals) if vals else None

    # The ratios use the timed steps after the wrk runs (1 client, then 8), each next to the
    # limit measured just before and after it; older runs only have upload.py's sequential.
    seq_r = seq_t or seq
    seq_limit = limit_around("before", "mid") if seq_t else limit_around("before", "after")
    conc_limit = limit_around("mid", "after") if seq_t else limit_around("before", "after")
    seq_ratio = seq_r["per_s"] / seq_limit if seq_r.get("per_s") and seq_limit else None
    t.add("uploads/s, 1 client (%s files) ÷ durable-write limit around it (%s files/s)"
          % (fmt(seq_r.get("count"), 0), fmt(seq_limit, 0)), seq_r.get("per_s"), None,
          seq_ratio, "≥ 0.50× limit",
          seq_ratio is not None and seq_ratio >= 0.5 and seq_r.get("errors") == 0)
    conc_ratio = (conc["per_s"] / seq_r["per_s"] if conc.get("per_s") and seq_r.get("per_s")
                  else None)
    t.add("uploads/s, %s concurrent clients (%s files) ÷ 1 client"
          % (conc.get("clients", "?"), fmt(conc.get("count"), 0)),
          conc.get("per_s"), None, conc_ratio, "≥ 3.00× 1 client",
          conc_ratio is not None and conc_ratio >= 3.0 and conc.get("errors") == 0)
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
    cold_max = 0.5 if big else 1.0
    cold_what = ("%s projects × %s versions, this run's data" % (fmt(n_cold, 0),
                                                                 meta.get("versions"))
                 if big else "%s projects" % fmt(n_cold, 0))
    t.add("cold start → first 200 on /healthz, s (median of %s)" % cold.get("runs"),
          cold.get("healthz_s_median"), None, None, "≤ %g s" % cold_max,
          cold.get("healthz_s_max") is not None and cold["healthz_s_max"] <= cold_max, 3)
    t.add("cold start → first 200 on /simple/ (%s), s" % cold_what,
          cold.get("simple_s_median"), None, None, "≤ %g s" % cold_max,
          cold.get("simple_s_max") is not None and cold["simple_s_max"] <= cold_max
          and cold.get("ok", False), 3)
    t.add("SIGTERM → exit, s (max of the cold-start runs)", cold.get("sigterm_exit_s_max"),
          None, None, "—", None, 3)
    peak = rss.get("peak_kib")
    if big:
        peak = max(peak or 0, rss.get("cold_kib") or 0) or None
        t.add("peak RSS (VmHWM) of pipy (serving and cold start), MiB",
              peak / 1024 if peak else None, None, None, "≤ 128 MiB",
              peak is not None and peak / 1024 <= 128)
    else:
        t.add("peak RSS (VmHWM) of pipy, MB", peak / 1024 if peak else None, None, None,
              "≤ 100 MB", peak is not None and peak / 1024 <= 100)
    if big:
        for name, label in (("project_html", "project page HTML"),
                            ("project_json", "project page JSON")):
            cur, old = by.get(("pipy", name), {}), ref.get(("pipy", name), {})
            ratio = cur["rps"] / old["rps"] if cur.get("rps") and old.get("rps") else None
            t.add("%s req/s, 20,000 ÷ 2,000 projects (reference: last default run)" % label,
                  cur.get("rps"), old.get("rps"), ratio, "≥ 0.90×",
                  ratio is not None and ratio >= 0.9, 0)
            cu, ou = cur.get("cpu_us_per_req"), old.get("cpu_us_per_req")
            t.add("%s CPU µs/request, 20,000 ÷ 2,000 projects" % label, cu, ou,
                  cu / ou if cu and ou else None, "—", None, 1)
        p, n = by.get(("pipy", "root"), {}), by.get(("nginx", "root"), {})
        pu, nu = p.get("cpu_us_per_req"), n.get("cpu_us_per_req")
        t.add("`/simple/` (%s B) CPU µs/request: a prepared response costs about what "
              "nginx's sendfile does" % fmt(p.get("body_bytes"), 0), pu, nu,
              pu / nu if pu and nu else None, "—", None, 1)

    for key in ("bulk", "sequential"):
        if up.get(key, {}).get("errors"):
            anomalies.append("uploads (%s): %d errors, e.g. %s" % (
                key, up[key]["errors"], json.dumps(up[key].get("first_errors", [])[:3])))
    if cold and not cold.get("ok", True):
        anomalies.append("cold start: /simple/ listed %s projects, expected %s"
                         % (cold.get("projects"), n_cold))
    anomalies.extend(meta.get("problems", []))

    # Every wrk scenario side by side: CPU per request is the steadier ratio, since wrk and
    # whatever else runs on the machine share the cores with the server.
    scen = ["| scenario | body B | req/s pipy | req/s nginx | ratio | p99 ms pipy | "
            "p99 ms nginx | ratio | CPU µs/req pipy | CPU µs/req nginx | ratio |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name in [r["name"] for r in wrk if r["server"] == "pipy"]:
        p, n = by.get(("pipy", name), {}), by.get(("nginx", name), {})
        cells = [name, fmt(p.get("body_bytes"), 0)]
        for key, digits in (("rps", 0), ("p99_ms", 2), ("cpu_us_per_req", 1)):
            pv, nv = p.get(key), n.get(key)
            cells += [fmt(pv, digits), fmt(nv, digits),
                      fmt(pv / nv, 2) + "×" if pv is not None and nv else "—"]
        scen.append("| " + " | ".join(cells) + " |")
    for server in sorted({r["server"] for r in wrk} - {"pipy", "nginx"}):
        for r in [x for x in wrk if x["server"] == server]:
            n = by.get(("nginx", r["name"]), {})
            cells = ["%s (%s)" % (r["name"], server), fmt(r.get("body_bytes"), 0)]
            for key, digits in (("rps", 0), ("p99_ms", 2), ("cpu_us_per_req", 1)):
                pv, nv = r.get(key), n.get(key)
                cells += [fmt(pv, digits), fmt(nv, digits),
                          fmt(pv / nv, 2) + "×" if pv is not None and nv else "—"]
            scen.append("| " + " | ".join(cells) + " |")

    ups = ["| uploads | files/s | ÷ durable-write limit | p50 / p99 ms | server CPU µs/upload |",
           "|---|---:|---:|---|---:|"]
    def limit_row(name, when):
        x = limits[name]
        if x:
            ups.append("| durable-write limit (%s B file + fsync file + fsync folder), %s | %s "
                       "| 1.00× | %s / %s | — |" % (fmt(x.get("size"), 0), when,
                                                   fmt(x.get("files_per_s"), 0),
                                                   fmt(x.get("p50_ms"), 3),
                                                   fmt(x.get("p99_ms"), 3)))

    def upload_row(label, x, lim):
        if x:
            ups.append("| %s (%s files) | %s | %s | %s / %s | %s |" % (
                label, fmt(x.get("count"), 0), fmt(x.get("per_s"), 1),
                fmt(x["per_s"] / lim, 2) + "×" if x.get("per_s") and lim else "—",
                fmt(x.get("p50_ms"), 2), fmt(x.get("p99_ms"), 2),
                fmt(x.get("cpu_us_per_upload"), 0)))

    if seq_t:
        upload_row("1 client after the bulk load (upload.py), keep-alive", seq, seq_limit)
        limit_row("before", "before the 1-client step")
        upload_row("1 client, keep-alive", seq_t, seq_limit)
        limit_row("mid", "between the two steps")
        upload_row("%s concurrent clients, keep-alive" % conc.get("clients", "?"), conc,
                   conc_limit)
        limit_row("after", "after the %s-client step" % conc.get("clients", "?"))
    else:
        limit_row("before", "before the uploads")
        upload_row("sequential, 1 client, keep-alive", seq, seq_limit)
        upload_row("%s concurrent clients, keep-alive" % conc.get("clients", "?"), conc,
                   conc_limit)
        limit_row("after", "after the concurrent uploads")
    if conc.get("errors"):
        anomalies.append("uploads (concurrent): %d errors, e.g. %s" % (
            conc["errors"], json.dumps(conc.get("first_errors", [])[:3])))

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
        "wrk shares the same %d cores; load average (1/5/15 min) before the wrk runs %s, "
        "after %s" % (meta.get("duration"), os.cpu_count(), meta.get("load_before", "?"),
                      meta.get("load_after", "?")),
        "- pipy: `[server] threads = %s`, access log %s for the comparison rows; "
        "nginx %s: `worker_processes %s`, `open_file_cache max=200000 inactive=60s`, "
        "`open_file_cache_valid 60s`, `sendfile on`, `tcp_nopush on`, `tcp_nodelay on`, "
        "`access_log off`, `keepalive_requests 100000000`, `keepalive_timeout 3600s`, "
        "serving the pages pipy rendered as static files; JSON chosen by `map $http_accept` "
        "(substring match, no q-values) to `index.json`"
        % (meta.get("threads", "?"), "OFF" if not meta.get("access_log") else "ON",
           meta.get("nginx_version", ""), meta.get("threads", "?")),
        "- same bytes: %s" % ("%s responses compared (root and every project page, HTML and "
                              "JSON, two downloads), %s differ" % (
                                  fmt(same.get("compared"), 0), same.get("differences"))
                              if same else "not checked"),
        "- server CPU: utime + stime from `/proc/<pid>/stat` of pipy (all threads) and of "
        "nginx's master and workers, read just before and after each wrk run",
        "",
        "| metric | pipy | nginx | ratio | target | pass? |",
        "|---|---:|---:|---:|---|---|",
    ] + t.rows + [""]
    if t.failures:
        lines.append("Missed targets: %s." % "; ".join(t.failures))
    else:
        lines.append("All targets met.")
    lines += ["", "## Every scenario, pipy ÷ nginx", ""] + scen
    lines += ["", "## Uploads and the durable-write limit", ""] + ups
    if anomalies:
        lines += ["", "## Errors and anomalies", ""] + ["- " + x for x in anomalies]
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
