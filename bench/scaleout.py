#!/usr/bin/python3
"""Helpers of bench/scaleout.sh (issue 4, item 7), one subcommand per step:

  fileurl  --port P --project NAME          the path of the project's only file (PEP 691 JSON)
  location --port P --path PATH             a 302's Location (must be on 127.0.0.1), as URL
  paths    --manifest M --out F             /simple/<name>/ of every small project of M
  warm     --port P --list F [--accept A]   GETs every path once (200 each); prints JSON
  wrk      --label L --name N --url URL ... one wrk run (parsed by wrk_run.parse), appended
  report   --run DIR --out FILE ...         the Markdown table (printed too)

Loopback only: every URL must be http://127.0.0.1:PORT/...; http.client sends Host with the
port, which a presigned S3 URL is signed for (bench/httpclient.py sends a bare host).
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import wrk_run  # noqa: E402  (its parse() reads wrk's output)

PEP691 = "application/vnd.pypi.simple.v1+json"
MIB = 1024 * 1024


def loopback(url):
    u = urllib.parse.urlsplit(url)
    if u.scheme != "http" or u.hostname != "127.0.0.1" or not u.port:
        raise SystemExit("scaleout: not a loopback URL: %s" % url)
    return u


def get(port, path, headers=None, conn=None):
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict((k.lower(), v) for k, v in resp.getheaders()), resp.read()
    finally:
        if own:
            conn.close()


def cmd_fileurl(a):
    status, _, body = get(a.port, "/simple/%s/" % a.project, {"Accept": PEP691})
    if status != 200:
        raise SystemExit("scaleout: /simple/%s/ answered %d" % (a.project, status))
    files = json.loads(body)["files"]
    if len(files) != 1:
        raise SystemExit("scaleout: %s has %d files, expected 1" % (a.project, len(files)))
    u = urllib.parse.urlsplit(urllib.parse.urljoin("http://127.0.0.1:%d/simple/%s/"
                                                   % (a.port, a.project), files[0]["url"]))
    print(u.path + ("?" + u.query if u.query else ""))


def cmd_location(a):
    status, headers, _ = get(a.port, a.path)
    if status not in (301, 302, 303, 307) or "location" not in headers:
        raise SystemExit("scaleout: %s answered %d without a redirect (is "
                         "[storage] redirect_downloads on?)" % (a.path, status))
    loopback(headers["location"])
    print(headers["location"])


def cmd_paths(a):
    names = []
    seen = set()
    with open(a.manifest) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 7 and cols[6] == "small" and cols[1] not in seen:
                seen.add(cols[1])
                names.append(cols[1])
    with open(a.out, "w") as f:
        for name in names:
            f.write("/simple/%s/\n" % name)
    print(len(names))


def cmd_warm(a):
    headers = {"Accept": a.accept} if a.accept else {}
    conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=120)
    pages = 0
    total = 0
    bad = []
    with open(a.list) as f:
        paths = [p.strip() for p in f if p.strip()]
    for _ in range(a.passes):
        for path in paths:
            status, _, body = get(a.port, path, headers, conn)
            pages += 1
            total += len(body)
            if status != 200:
                bad.append("%s: %d" % (path, status))
    conn.close()
    print(json.dumps({"pages": pages, "bytes": total, "bad": bad[:5]}))
    sys.exit(1 if bad else 0)


def cmd_wrk(a):
    u = loopback(a.url)
    path = u.path + ("?" + u.query if u.query else "")
    if a.list:
        with open(a.list) as f:
            path = f.readline().strip()
    headers = {"Accept": a.accept} if a.accept else {}
    rec = {"label": a.label, "name": a.name, "round": a.round}
    try:
        status, _, body = get(u.port, path, headers)
        rec["precheck_status"], rec["body_bytes"] = status, len(body)
    except OSError as e:
        rec["precheck_status"] = "error: %s" % e
    if rec["precheck_status"] == 200:
        cmd = ["wrk", "-t%d" % a.threads, "-c%d" % a.conns, "-d%s" % a.duration, "--latency",
               "--timeout", "30s"]
        if a.accept:
            cmd += ["-H", "Accept: " + a.accept]
        if a.list:
            cmd += ["-s", os.path.join(HERE, "rotate.lua"),
                    "http://127.0.0.1:%d" % u.port, "--", a.list]
        else:
            cmd += [a.url]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        with open(a.log, "a") as log:
            log.write("### %s %s round %d\n%s%s\n" % (a.label, a.name, a.round, proc.stdout,
                                                     proc.stderr))
        rec.update(wrk_run.parse(proc.stdout))
        rec["wrk_exit"] = proc.returncode
    if a.pid:
        rec["server_alive"] = wrk_run.alive(a.pid)
    with open(a.out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    print("wrk: %-8s %-14s round %d: %s" % (a.label, a.name, a.round, json.dumps(
        {k: rec.get(k) for k in ("rps", "bytes_per_s", "p99_ms", "non2xx", "socket_errors",
                                 "precheck_status", "server_alive")})), file=sys.stderr)


# ------------------------------------------------------------------------------ report

def best(records, label, name):
    """The best round (highest req/s) of a clean run, or None."""
    ok = [r for r in records if r["label"] == label and r["name"] == name
          and r.get("rps") and not r.get("non2xx") and not r.get("socket_errors")
          and r.get("server_alive", True)]
    return max(ok, key=lambda r: r["rps"]) if ok else None


def failures(records):
    out = []
    for r in records:
        if r.get("precheck_status") != 200:
            out.append("%s %s: precheck %s" % (r["label"], r["name"], r.get("precheck_status")))
        elif r.get("non2xx") or r.get("socket_errors") or not r.get("server_alive", True):
            out.append("%s %s round %d: non-2xx %s, socket errors %s, server alive %s"
                       % (r["label"], r["name"], r["round"], r.get("non2xx"),
                          r.get("socket_errors_detail") or 0, r.get("server_alive", True)))
    return out


def machine():
    model = "unknown"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kib = int(f.readline().split()[1])
            mem = ", %.0f GiB RAM" % (kib / MIB)
    except (OSError, ValueError, IndexError):
        pass
    return "%s, %d cores%s, Linux %s" % (model, os.cpu_count() or 0, mem, platform.release())


def f(x, digits=1):
    return "—" if x is None else ("{:,.%df}" % digits).format(x)


def cmd_report(a):
    with open(os.path.join(a.run, "wrk.jsonl")) as fh:
        records = [json.loads(x) for x in fh if x.strip()]
    meta = json.load(open(os.path.join(a.run, "meta.json")))
    lines = []
    title = "Scale-out benchmark (issue 4)" + (" — SMOKE RUN (--quick), not a measurement"
                                                if meta["quick"] else "")
    lines += ["# " + title, "",
              "- date: %s" % datetime.datetime.now(datetime.timezone.utc)
              .strftime("%Y-%m-%d %H:%M UTC"),
              "- machine: %s" % machine(),
              "- pipy: %s; s3rver %s; PostgreSQL %s" % (meta["commit"], meta["s3rver"],
                                                        meta["postgres"]),
              "- wrk -t%d -c%d, %s per run, best of %d alternating rounds; pipy `[server] "
              "threads = 2`, access log off; everything on 127.0.0.1, on the same cores"
              % (meta["threads"], meta["conns"], meta["duration"], meta["rounds"]),
              "- pages: %d projects x %d versions (wheel + sdist each), rotating over every "
              "project page (bench/rotate.lua), all pages fetched once before (served from "
              "cache)" % (meta["projects"], meta["versions"]), ""]
    lines += ["| measure | pipy | baseline | ratio | target | met |",
              "|---|---|---|---|---|---|"]
    for kind, label in (("big50m", "50 MiB"), ("big1m", "1 MiB")):
        p, d = best(records, "pipy-s3", kind), best(records, "s3rver", kind)
        pm = p["bytes_per_s"] / MIB if p and p.get("bytes_per_s") else None
        dm = d["bytes_per_s"] / MIB if d and d.get("bytes_per_s") else None
        ratio = pm / dm if pm and dm else None
        lines.append("| %s wheel download, MiB/s (pipy proxying S3 vs presigned GET straight "
                     "from s3rver) | %s (p99 %s ms) | %s (p99 %s ms) | %s | ≥ 0.80 | %s |"
                     % (label, f(pm), f(p and p.get("p99_ms")), f(dm), f(d and d.get("p99_ms")),
                        f(ratio, 2), "—" if ratio is None else ("yes" if ratio >= 0.8 else "no")))
    for name, label in (("page_html", "HTML"), ("page_json", "PEP 691 JSON")):
        s, p = best(records, "sqlite", name), best(records, "postgres", name)
        if s is None and p is None:
            continue
        ratio = p["rps"] / s["rps"] if s and p else None
        lines.append("| project page (%s), req/s (filesystem + PostgreSQL vs + SQLite) "
                     "| %s (p99 %s ms) | %s (p99 %s ms) | %s | ≥ 0.90 | %s |"
                     % (label, f(p and p["rps"], 0), f(p and p.get("p99_ms"), 2),
                        f(s and s["rps"], 0), f(s and s.get("p99_ms"), 2), f(ratio, 2),
                        "—" if ratio is None else ("yes" if ratio >= 0.9 else "no")))
    lines.append("")
    problems = failures(records) + meta.get("problems", [])
    if problems:
        lines += ["Problems in this run:", ""] + ["- " + x for x in problems] + [""]
    lines.append("Raw wrk records: last-run/scaleout/wrk.jsonl; wrk output: wrk.log.")
    text = "\n".join(lines) + "\n"
    with open(a.out, "w") as fh:
        fh.write(text)
    print(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("fileurl")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--project", required=True)
    p = sub.add_parser("location")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", required=True)
    p = sub.add_parser("paths")
    p.add_argument("--manifest", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("warm")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--list", required=True)
    p.add_argument("--accept")
    p.add_argument("--passes", type=int, default=1)
    p = sub.add_parser("wrk")
    for k in ("--label", "--name", "--url", "--out", "--log"):
        p.add_argument(k, required=True)
    p.add_argument("--list")
    p.add_argument("--accept")
    p.add_argument("--round", type=int, default=1)
    p.add_argument("--duration", default="10s")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--conns", type=int, default=16)
    p.add_argument("--pid", type=int)
    p = sub.add_parser("report")
    p.add_argument("--run", required=True)
    p.add_argument("--out", required=True)
    a = ap.parse_args()
    {"fileurl": cmd_fileurl, "location": cmd_location, "paths": cmd_paths, "warm": cmd_warm,
     "wrk": cmd_wrk, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
