#!/usr/bin/python3
"""One wrk measurement (bench/wrk_run.py, unchanged) plus the server's CPU per request.

Takes wrk_run.py's arguments; --pid is required here. The server's CPU time (npm_cpu.py:
the process and its children, e.g. nginx's workers) is read just before and just after
wrk_run.py, and the record wrk_run.py writes is appended to --out with cpu_s and
cpu_us_per_req added.
"""

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import npm_cpu  # noqa: E402


def main():
    args = sys.argv[1:]
    if "--pid" not in args or "--out" not in args:
        sys.exit("npm_wrk.py: --pid and --out are required (see wrk_run.py --help)")
    pid = int(args[args.index("--pid") + 1])
    i = args.index("--out")
    out = args[i + 1]
    fd, tmp = tempfile.mkstemp(suffix=".jsonl", dir=os.path.dirname(os.path.abspath(out)))
    os.close(fd)
    args[i + 1] = tmp
    try:
        cpu0 = npm_cpu.cpu_seconds(pid)
        proc = subprocess.run([sys.executable, os.path.join(HERE, "wrk_run.py")] + args,
                              timeout=900)
        cpu1 = npm_cpu.cpu_seconds(pid)
        with open(tmp) as f:
            lines = [x for x in f if x.strip()]
    finally:
        os.unlink(tmp)
    if not lines:
        sys.exit("npm_wrk.py: wrk_run.py wrote no record (exit %d)" % proc.returncode)
    rec = json.loads(lines[-1])
    if cpu0 is not None and cpu1 is not None:
        rec["cpu_s"] = round(cpu1 - cpu0, 3)
        n = rec.get("requests")
        if n:
            rec["cpu_us_per_req"] = round((cpu1 - cpu0) * 1e6 / n, 1)
    with open(out, "a") as f:
        f.write(json.dumps(rec) + "\n")
    print("cpu:  %-6s %-22s %s" % (rec.get("server"), rec.get("name"),
                                   json.dumps({k: rec.get(k) for k in ("cpu_s", "cpu_us_per_req",
                                                                       "body_bytes")})),
          file=sys.stderr)
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
