#!/usr/bin/python3
"""Times uploads by --clients concurrent clients, each on its own keep-alive connection.

The manifest's rows are split into --clients contiguous slices (so each client uploads its
own projects, as separate twine runs do). Every client process builds its request bodies,
opens its connection and then waits at a barrier; the clock runs from the barrier's release
to the last client's last answer. With --pid, the server's CPU time (utime + stime of the
process tree, from /proc) over that span is reported per upload too. Prints a JSON summary;
exits 1 when any upload was not answered 200.
"""

import argparse
import json
import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpclient  # noqa: E402
import npm_cpu  # noqa: E402
from upload import read_manifest  # noqa: E402


def client(rows, port, auth, files_dir, barrier, results):
    reqs = []
    for row in rows:
        with open(os.path.join(files_dir, row["filename"]), "rb") as f:
            reqs.append((row["filename"], httpclient.build_upload(row, f.read(), auth)))
    conn = httpclient.Connection(port)
    conn.get("/healthz")  # the connection is open before the clock starts
    barrier.wait()
    t0 = time.monotonic()
    errors, lat = [], []
    for filename, raw in reqs:
        t = time.monotonic()
        try:
            resp = conn.send(raw)
        except (OSError, httpclient.HttpError) as e:
            errors.append({"file": filename, "error": str(e)})
            continue
        lat.append(time.monotonic() - t)
        if resp.status != 200:
            errors.append({"file": filename, "status": resp.status,
                           "body": resp.body[:200].decode("utf-8", "replace")})
    t1 = time.monotonic()
    results.put({"start": t0, "end": t1, "count": len(reqs), "lat": lat, "errors": errors,
                 "connects": conn.connects})
    conn.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--manifest", required=True, help="files are in <its folder>/files")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--pid", type=int, help="server process, for CPU per upload")
    ap.add_argument("--json", help="write the summary here too")
    a = ap.parse_args()

    files_dir = os.path.join(os.path.dirname(os.path.abspath(a.manifest)), "files")
    rows = [r for r in read_manifest(a.manifest) if r["kind"] == "small"]
    auth = httpclient.basic_auth(a.token)
    step = (len(rows) + a.clients - 1) // a.clients
    slices = [rows[i:i + step] for i in range(0, len(rows), step)]
    barrier = multiprocessing.Barrier(len(slices) + 1)
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client,
                                     args=(s, a.port, auth, files_dir, barrier, results))
             for s in slices]
    for p in procs:
        p.start()
    barrier.wait(timeout=300)
    cpu0 = npm_cpu.cpu_seconds(a.pid) if a.pid else None
    got = [results.get(timeout=900) for _ in procs]
    cpu1 = npm_cpu.cpu_seconds(a.pid) if a.pid else None
    for p in procs:
        p.join(timeout=60)
    dt = max(r["end"] for r in got) - min(r["start"] for r in got)
    n = sum(r["count"] for r in got)
    lat = sorted(x for r in got for x in r["lat"])
    errors = [e for r in got for e in r["errors"]]

    def pct(q):
        return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 3) if lat else None

    out = {"clients": len(slices), "count": n, "seconds": round(dt, 3),
           "per_s": round(n / dt, 1) if dt > 0 else None, "p50_ms": pct(0.5),
           "p99_ms": pct(0.99), "tcp_connections": sum(r["connects"] for r in got),
           "errors": len(errors), "first_errors": errors[:10]}
    if cpu0 is not None and cpu1 is not None and n:
        out["cpu_us_per_upload"] = round((cpu1 - cpu0) * 1e6 / n, 1)
    text = json.dumps(out, indent=1)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text)
    print("upload: concurrent %s" % json.dumps({k: v for k, v in out.items()
                                                 if k != "first_errors"}), file=sys.stderr)
    for e in errors[:5]:
        print("upload error (concurrent): %s" % json.dumps(e), file=sys.stderr)
    sys.exit(0 if not errors else 1)


if __name__ == "__main__":
    main()
