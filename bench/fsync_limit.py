#!/usr/bin/python3
"""Measures the machine's durable-write limit: new files made durable one after another.

In a fresh folder under --dir (put it on the filesystem that holds pipy's data), each file
is created (O_CREAT | O_EXCL), written (--size bytes, the size of a small upload),
fsync'd, and then its folder is fsync'd through an O_RDONLY descriptor, so the file's
contents and its name are both on stable storage: the least work one durable upload
costs. Runs until --count files or --seconds have passed, whichever comes first, removes
the folder, and prints a JSON summary with files/s and the p50/p99 of one file's time.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dir", required=True, help="a folder on the data filesystem")
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--json", help="write the summary here too")
    a = ap.parse_args()

    os.makedirs(a.dir, exist_ok=True)
    folder = tempfile.mkdtemp(prefix="fsync-limit.", dir=a.dir)
    payload = os.urandom(a.size)
    lat = []
    try:
        dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            t0 = time.monotonic()
            deadline = t0 + a.seconds
            for i in range(a.count):
                t = time.monotonic()
                fd = os.open(os.path.join(folder, "f%06d" % i),
                             os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                try:
                    view = memoryview(payload)
                    while view:
                        view = view[os.write(fd, view):]
                    os.fsync(fd)
                finally:
                    os.close(fd)
                os.fsync(dfd)
                now = time.monotonic()
                lat.append(now - t)
                if now > deadline:
                    break
            dt = time.monotonic() - t0
        finally:
            os.close(dfd)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    lat.sort()

    def pct(q):
        return round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 3)

    out = {"files": len(lat), "seconds": round(dt, 3),
           "files_per_s": round(len(lat) / dt, 1) if dt > 0 else None,
           "p50_ms": pct(0.50), "p99_ms": pct(0.99), "size": a.size,
           "dir": os.path.abspath(a.dir)}
    text = json.dumps(out)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text + "\n")
    print(text)
    print("fsync-limit: %s" % text, file=sys.stderr)


if __name__ == "__main__":
    main()
