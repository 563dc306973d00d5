#!/usr/bin/python3
"""Publishes generated npm packages with npm's own PUT body (npmdists.publish_body).

  npm_publish.py load       --sets one,hundred,...  one keep-alive connection, every 2xx
  npm_publish.py sequential --sets seq --pid PID    timed on one keep-alive connection;
                                                    bodies are serialized before the clock
                                                    starts; server CPU per publish
  npm_publish.py race       --sets race             per package: 16 connections, each
                                                    sends all but the last byte, then a
                                                    barrier releases the last bytes;
                                                    2xx / 409 / 5xx counted and the
                                                    packument and tarballs checked afterwards

--prefix is the registry's path ("/npm/" for pipy, "/" for Verdaccio); --token is sent as
`Authorization: Bearer`. Prints a JSON summary (also to --json); exits 1 on errors in
`load` and `sequential` (the race reports its outcome instead).
"""

import argparse
import hashlib
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import httpclient  # noqa: E402
import npm_cpu  # noqa: E402
import npmdists as nd  # noqa: E402


def build_put(row, a):
    path = os.path.join(a.gen, "tarballs", row["file"])
    registry = "http://127.0.0.1:%d%s" % (a.port, a.prefix)
    body = json.dumps(nd.publish_body(row["name"], row["version"], path,
                                      registry_url=registry)).encode()
    head = ("PUT %s%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nAccept: application/json\r\n"
            "npm-command: publish\r\nContent-Length: %d\r\n\r\n"
            % (a.prefix, nd.escaped_name(row["name"]), a.port, a.token, len(body))).encode()
    return head + body


def rows_of(a, sets):
    with open(os.path.join(a.gen, "packages.json")) as f:
        gen = json.load(f)
    rows = []
    for s in sets.split(","):
        rows.extend(gen[s])
    return rows


def error(row, resp=None, exc=None):
    out = {"package": "%s@%s" % (row["name"], row["version"])}
    if exc is not None:
        out["error"] = str(exc)
    else:
        out.update(status=resp.status, body=resp.body[:200].decode("utf-8", "replace"))
    return out


def pct(lat, q):
    return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 2) if lat else None


def publish_all(a, rows, timed):
    reqs = [build_put(r, a) for r in rows]
    conn = httpclient.Connection(a.port)
    conn.get(a.prefix + "-/ping")  # open the connection before the clock starts
    errors, lat = [], []
    cpu0 = npm_cpu.cpu_seconds(a.pid) if a.pid else None
    t0 = time.monotonic()
    done = 0
    for row, raw in zip(rows, reqs):
        if timed and a.max_seconds and time.monotonic() - t0 > a.max_seconds:
            break
        t = time.monotonic()
        try:
            resp = conn.send(raw)
        except (OSError, httpclient.HttpError) as e:
            errors.append(error(row, exc=e))
            continue
        done += 1
        lat.append(time.monotonic() - t)
        if not 200 <= resp.status < 300:
            errors.append(error(row, resp))
    dt = time.monotonic() - t0
    cpu1 = npm_cpu.cpu_seconds(a.pid) if a.pid else None
    lat.sort()
    out = {"count": done, "planned": len(rows), "seconds": round(dt, 3),
           "per_s": round(done / dt, 1) if dt > 0 else None, "p50_ms": pct(lat, 0.5),
           "p99_ms": pct(lat, 0.99), "tcp_connections": conn.connects,
           "errors": len(errors), "first_errors": errors[:5]}
    if cpu0 is not None and cpu1 is not None and done:
        out["cpu_s"] = round(cpu1 - cpu0, 3)
        out["cpu_ms_per_publish"] = round((cpu1 - cpu0) * 1000 / done, 3)
    conn.close()
    return out


def race_one(a, rows):
    """16 publishes of one new package, released together; then the packument is checked."""
    reqs = [build_put(r, a) for r in rows]
    conns = [httpclient.Connection(a.port) for _ in rows]
    for c in conns:
        c.get(a.prefix + "-/ping")
    barrier = threading.Barrier(len(rows))
    results = [None] * len(rows)

    def go(i):
        # All but the last byte go out first; the barrier then releases the 16 last bytes
        # together, so the server holds 16 complete requests at the same moment however
        # slowly this client serialized them.
        try:
            conns[i].sock.sendall(reqs[i][:-1])
        except OSError as e:
            results[i] = "error: %s" % e
        barrier.wait()
        if results[i] is not None:
            return
        try:
            conns[i].sock.sendall(reqs[i][-1:])
            results[i] = conns[i]._read_response(False).status
        except (OSError, httpclient.HttpError) as e:
            results[i] = "error: %s" % e

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(rows))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for c in conns:
        c.close()
    name = rows[0]["name"]
    ok = [r["version"] for r, s in zip(rows, results) if isinstance(s, int) and 200 <= s < 300]
    conn = httpclient.Connection(a.port)
    resp = conn.get(a.prefix + nd.escaped_name(name), {"Accept": "application/json"})
    listed = set()
    if resp.status == 200:
        listed = set(json.loads(resp.body).get("versions", {}))
    missing = sorted(set(ok) - listed)
    bad_tarballs = []
    for r in rows:
        if r["version"] not in ok:
            continue
        want = open(os.path.join(a.gen, "tarballs", r["file"]), "rb").read()
        t = conn.get("%s%s/-/%s-%s.tgz" % (a.prefix, name, nd.basename(name), r["version"]))
        if t.status != 200 or hashlib.sha1(t.body).digest() != hashlib.sha1(want).digest():
            bad_tarballs.append(r["version"])
    conn.close()
    count = {"2xx": 0, "409": 0, "5xx": 0, "other": 0}
    for s in results:
        if isinstance(s, int) and 200 <= s < 300:
            count["2xx"] += 1
        elif s == 409:
            count["409"] += 1
        elif isinstance(s, int) and s >= 500:
            count["5xx"] += 1
        else:
            count["other"] += 1
    return {"package": name, "statuses": results, **count, "packument_status": resp.status,
            "listed": len(listed), "missing_2xx_versions": missing,
            "bad_tarballs": bad_tarballs}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("mode", choices=("load", "sequential", "race"))
    ap.add_argument("--gen", required=True, help="npm_gen.py's --out")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--prefix", default="/npm/")
    ap.add_argument("--token", required=True)
    ap.add_argument("--sets", help="comma-separated sets of packages.json")
    ap.add_argument("--pid", type=int, help="server process, for CPU per publish")
    ap.add_argument("--max-seconds", type=float, default=0,
                    help="sequential: stop after this long (what was done is reported)")
    ap.add_argument("--label", default="")
    ap.add_argument("--json")
    a = ap.parse_args()

    rows = rows_of(a, a.sets)
    if a.mode == "race":
        by_name = {}
        for r in rows:
            by_name.setdefault(r["name"], []).append(r)
        rounds = [race_one(a, rs) for rs in by_name.values()]
        out = {"rounds": len(rounds), "publishes": sum(len(rs) for rs in by_name.values())}
        for k in ("2xx", "409", "5xx", "other"):
            out[k] = sum(r[k] for r in rounds)
        out["missing_2xx_versions"] = sum(len(r["missing_2xx_versions"]) for r in rounds)
        out["bad_tarballs"] = sum(len(r["bad_tarballs"]) for r in rounds)
        out["consistent"] = out["missing_2xx_versions"] == 0 and out["bad_tarballs"] == 0
        out["detail"] = rounds
        ok = True
    else:
        out = publish_all(a, rows, a.mode == "sequential")
        ok = out["errors"] == 0
    text = json.dumps(out, indent=1)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text)
    brief = {k: v for k, v in out.items() if k not in ("detail", "first_errors")}
    print("publish %s %s: %s" % (a.label, a.mode, json.dumps(brief)), file=sys.stderr)
    for e in out.get("first_errors", []):
        print("publish error: %s" % json.dumps(e), file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
