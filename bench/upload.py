#!/usr/bin/python3
"""Loads a generated manifest into pipy through twine's `POST /legacy/`.

The first part is a bulk load by --workers processes, each on its own keep-alive connection;
the last --sequential rows are then uploaded one after another by a single client on one
keep-alive connection and timed on their own (requests are serialized before the clock
starts, so the time is the server's). Prints a JSON summary; exits 1 when any upload was not
answered 200.
"""

import argparse
import json
import os
import sys
import time
from multiprocessing import Pool

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpclient  # noqa: E402

COLS = ("filename", "name", "version", "filetype", "sha256", "size", "kind")


def read_manifest(path):
    with open(path) as f:
        return [dict(zip(COLS, line.rstrip("\n").split("\t"))) for line in f if line.strip()]


_conn = None
_cfg = None


def _init(port, auth, files_dir):
    global _conn, _cfg
    _conn = httpclient.Connection(port)
    _cfg = (auth, files_dir)


def _error(row, resp=None, exc=None):
    if exc is not None:
        return {"file": row["filename"], "error": str(exc)}
    return {"file": row["filename"], "status": resp.status, "reason": resp.reason,
            "body": resp.body[:300].decode("utf-8", "replace")}


def _upload_chunk(rows):
    auth, files_dir = _cfg
    errors = []
    for row in rows:
        with open(os.path.join(files_dir, row["filename"]), "rb") as f:
            raw = httpclient.build_upload(row, f.read(), auth)
        try:
            resp = _conn.send(raw)
        except (OSError, httpclient.HttpError) as e:
            errors.append(_error(row, exc=e))
            continue
        if resp.status != 200:
            errors.append(_error(row, resp))
    return os.getpid(), errors, _conn.connects


def bulk(rows, port, auth, files_dir, workers, chunk=100):
    chunks = [rows[i:i + chunk] for i in range(0, len(rows), chunk)]
    errors = []
    connects = {}
    t0 = time.monotonic()
    with Pool(workers, initializer=_init, initargs=(port, auth, files_dir)) as pool:
        for pid, errs, opened in pool.imap_unordered(_upload_chunk, chunks):
            errors.extend(errs)
            connects[pid] = max(opened, connects.get(pid, 0))
    dt = time.monotonic() - t0
    return {"count": len(rows), "seconds": round(dt, 3),
            "per_s": round(len(rows) / dt, 1) if dt > 0 else None,
            "tcp_connections": sum(connects.values()),
            "errors": len(errors), "first_errors": errors[:10]}


def sequential(rows, port, auth, files_dir):
    reqs = []
    for row in rows:
        with open(os.path.join(files_dir, row["filename"]), "rb") as f:
            reqs.append(httpclient.build_upload(row, f.read(), auth))
    conn = httpclient.Connection(port)
    conn.get("/healthz")  # open the connection before the clock starts
    errors = []
    lat = []
    t0 = time.monotonic()
    for row, raw in zip(rows, reqs):
        t = time.monotonic()
        try:
            resp = conn.send(raw)
        except (OSError, httpclient.HttpError) as e:
            errors.append(_error(row, exc=e))
            continue
        lat.append(time.monotonic() - t)
        if resp.status != 200:
            errors.append(_error(row, resp))
    dt = time.monotonic() - t0
    connects = conn.connects
    conn.close()
    lat.sort()
    p = (lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 3)) if lat else (
        lambda q: None)
    return {"count": len(rows), "seconds": round(dt, 3),
            "per_s": round(len(rows) / dt, 1) if dt > 0 else None,
            "p50_ms": p(0.50), "p99_ms": p(0.99), "tcp_connections": connects,
            "errors": len(errors), "first_errors": errors[:10]}


def big_files(rows, port, auth, files_dir):
    """Uploads each row alone on a fresh connection, timed: MiB/s of a large upload."""
    out = []
    for row in rows:
        with open(os.path.join(files_dir, row["filename"]), "rb") as f:
            raw = httpclient.build_upload(row, f.read(), auth)
        conn = httpclient.Connection(port)
        conn.get("/healthz")
        t0 = time.monotonic()
        try:
            resp = conn.send(raw)
            err = None if resp.status == 200 else _error(row, resp)
        except (OSError, httpclient.HttpError) as e:
            err = _error(row, exc=e)
        dt = time.monotonic() - t0
        conn.close()
        out.append({"file": row["filename"], "kind": row["kind"], "bytes": len(raw),
                    "seconds": round(dt, 4), "mib_per_s": round(len(raw) / dt / 2 ** 20, 1),
                    "error": err})
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--manifest", action="append", required=True,
                    help="manifest.tsv (repeatable); files are in <its folder>/files")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--sequential", type=int, default=0,
                    help="upload the last N rows of the first manifest sequentially, timed")
    ap.add_argument("--json", help="write the summary here too")
    a = ap.parse_args()

    auth = httpclient.basic_auth(a.token)
    result = {}
    ok = True
    for i, manifest in enumerate(a.manifest):
        files_dir = os.path.join(os.path.dirname(os.path.abspath(manifest)), "files")
        rows = read_manifest(manifest)
        seq_rows = []
        if i == 0 and a.sequential > 0:
            n = min(a.sequential, len(rows))
            # big files are not part of the timed sequence
            small = [r for r in rows if r["kind"] == "small"]
            seq_rows = small[-n:]
            seq_names = {r["filename"] for r in seq_rows}
            rows = [r for r in rows if r["filename"] not in seq_names]
        big = [r for r in rows if r["kind"] != "small"]
        if big:
            rows = [r for r in rows if r["kind"] == "small"]
            result["big"] = big_files(big, a.port, auth, files_dir)
            ok = ok and all(b["error"] is None for b in result["big"])
            for b in result["big"]:
                print("upload: %s" % json.dumps(b), file=sys.stderr)
        key = "bulk" if i == 0 else "bulk%d" % i
        result[key] = bulk(rows, a.port, auth, files_dir, a.workers)
        ok = ok and result[key]["errors"] == 0
        print("upload: %s %s" % (key, json.dumps({k: v for k, v in result[key].items()
                                                   if k != "first_errors"})), file=sys.stderr)
        if seq_rows:
            result["sequential"] = sequential(seq_rows, a.port, auth, files_dir)
            ok = ok and result["sequential"]["errors"] == 0
            print("upload: sequential %s" % json.dumps(
                {k: v for k, v in result["sequential"].items() if k != "first_errors"}),
                file=sys.stderr)
    text = json.dumps(result, indent=1)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text)
    for key, r in result.items():
        if key == "big":
            continue
        for e in r.get("first_errors", []):
            print("upload error (%s): %s" % (key, json.dumps(e)), file=sys.stderr)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
