#!/usr/bin/python3
"""Times `npm install` of the 50 internal packages from each registry, cold every time.

Each run gets an empty project folder whose package.json depends on every @bench/lib-NN
("^1.0.0", so 1.1.0 is picked) and a fresh .npmrc, HOME and npm cache inside it
(npmdists.write_npmrc / npm_env: nothing is reused between runs or servers, nothing from the
user's npm setup leaks in). npm runs with audit, fund and scripts off, against each --registry
in turn (alternating, --runs times). A run counts only when npm exits 0 and node_modules holds
every package at the newest version; the median wall time per registry is reported.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import npmdists as nd  # noqa: E402


def one(label, registry, names, newest, work, i):
    folder = os.path.join(work, "%s-%d" % (label, i))
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    nd.write_npmrc(folder, registry, audit=False)
    with open(os.path.join(folder, "package.json"), "w") as f:
        json.dump({"name": "bench-install", "version": "1.0.0", "private": True,
                   "dependencies": {n: "^1.0.0" for n in names}}, f)
    cmd = [nd.client_bin("npm"), "install", "--no-audit", "--no-fund", "--ignore-scripts",
           "--no-update-notifier", "--loglevel=warn"]
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=folder, env=nd.npm_env(folder), capture_output=True,
                          text=True, timeout=600)
    dt = time.monotonic() - t0
    problems = []
    if proc.returncode != 0:
        problems.append("npm exited %d: %s" % (proc.returncode, proc.stderr[-500:]))
    else:
        for n in names:
            pj = os.path.join(folder, "node_modules", n, "package.json")
            try:
                got = json.load(open(pj))["version"]
            except (OSError, ValueError, KeyError):
                got = None
            if got != newest[n]:
                problems.append("%s: installed %s, want %s" % (n, got, newest[n]))
    shutil.rmtree(folder, ignore_errors=True)
    return {"server": label, "run": i, "seconds": round(dt, 3), "ok": not problems,
            "problems": problems[:5]}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--gen", required=True, help="npm_gen.py's --out")
    ap.add_argument("--registry", action="append", required=True, help="LABEL=URL")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", required=True, help="scratch folder")
    ap.add_argument("--json")
    a = ap.parse_args()
    with open(os.path.join(a.gen, "packages.json")) as f:
        internal = json.load(f)["internal"]
    newest = {}
    for r in internal:
        newest[r["name"]] = r["version"]  # generated in ascending order
    names = sorted(newest)
    regs = [x.split("=", 1) for x in a.registry]
    runs = []
    for i in range(a.runs):
        order = regs if i % 2 == 0 else list(reversed(regs))
        for label, url in order:
            r = one(label, url, names, newest, a.work, i)
            print("install: %s" % json.dumps(r), file=sys.stderr)
            runs.append(r)
    out = {"packages": len(names), "runs": runs}
    for label, _ in regs:
        ok = [r["seconds"] for r in runs if r["server"] == label and r["ok"]]
        out[label] = {"median_s": round(statistics.median(ok), 3) if ok else None,
                      "min_s": min(ok) if ok else None, "ok_runs": len(ok),
                      "runs": sum(1 for r in runs if r["server"] == label)}
    text = json.dumps(out, indent=1)
    if a.json:
        with open(a.json, "w") as f:
            f.write(text)
    print("install: %s" % json.dumps({k: v for k, v in out.items() if k != "runs"}),
          file=sys.stderr)
    sys.exit(0 if all(r["ok"] for r in runs) else 1)


if __name__ == "__main__":
    main()
