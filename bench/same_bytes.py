#!/usr/bin/python3
"""Checks that nginx serves exactly pipy's bytes, so the two servers are measured on equal work.

GETs /simple/ and every project page in --list from both servers, once with no Accept
header (HTML) and once with the PEP 691 JSON type, plus each --path given (downloads), and
compares status, body (byte for byte) and Content-Type. Prints a JSON summary; exits 1 on
any difference.
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpclient  # noqa: E402

JSON_ACCEPT = "application/vnd.pypi.simple.v1+json"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pipy-port", type=int, required=True)
    ap.add_argument("--nginx-port", type=int, required=True)
    ap.add_argument("--list", required=True, help="project page paths, one a line")
    ap.add_argument("--path", action="append", default=[], help="another path (repeatable)")
    a = ap.parse_args()

    with open(a.list) as f:
        pages = ["/simple/"] + [x.strip() for x in f if x.strip()]
    checks = [(p, None) for p in pages] + [(p, JSON_ACCEPT) for p in pages]
    checks += [(p, None) for p in a.path]
    pipy = httpclient.Connection(a.pipy_port, timeout=60)
    nginx = httpclient.Connection(a.nginx_port, timeout=60)
    diffs = []
    body_bytes = 0
    for path, accept in checks:
        headers = {"Accept": accept} if accept else None
        rp, rn = pipy.get(path, headers), nginx.get(path, headers)
        why = []
        if rp.status != 200 or rn.status != 200:
            why.append("status %d vs %d" % (rp.status, rn.status))
        if rp.body != rn.body:
            why.append("bodies differ (%d vs %d bytes)" % (len(rp.body), len(rn.body)))
        ctp, ctn = rp.headers.get("content-type"), rn.headers.get("content-type")
        if ctp != ctn:
            why.append("Content-Type %r vs %r" % (ctp, ctn))
        if why:
            diffs.append("%s (Accept %s): %s" % (path, accept or "-", "; ".join(why)))
        body_bytes += len(rp.body)
    pipy.close()
    nginx.close()
    out = {"compared": len(checks), "body_bytes": body_bytes, "differences": len(diffs),
           "first_differences": diffs[:10]}
    print(json.dumps(out))
    sys.exit(1 if diffs else 0)


if __name__ == "__main__":
    main()
