#!/usr/bin/python3
"""Copies the packuments and tarballs pipy serves into a static docroot for nginx.

For each --package: GET /npm/<name> with `Accept: application/json` is written to
DOCROOT/npm/<name>/index.json and the abbreviated document (npm's install Accept header)
to DOCROOT/npm/<name>/index.abbrev; every tarball the full document lists is fetched to
DOCROOT/npm/<name>/-/<file>.tgz and checked against its dist.shasum and the generated file.
nginx then serves the very bytes pipy serves. Prints a JSON summary of the sizes; exits 1
when pipy's documents disagree with what was published.
"""

import argparse
import hashlib
import json
import os
import sys
from urllib.parse import urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpclient  # noqa: E402

ABBREVIATED = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*"


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--docroot", required=True)
    ap.add_argument("--gen", required=True, help="npm_gen.py's --out")
    ap.add_argument("--package", action="append", required=True)
    a = ap.parse_args()
    with open(os.path.join(a.gen, "packages.json")) as f:
        gen = json.load(f)
    expected = {}
    for rows in gen.values():
        for r in rows:
            expected.setdefault(r["name"], {})[r["version"]] = r["file"]
    conn = httpclient.Connection(a.port)
    out, problems = {}, []
    for name in a.package:
        full = conn.get("/npm/" + name, {"Accept": "application/json"})
        abbrev = conn.get("/npm/" + name, {"Accept": ABBREVIATED})
        if full.status != 200 or abbrev.status != 200:
            problems.append("%s: packument %d / abbreviated %d" % (name, full.status,
                                                                    abbrev.status))
            continue
        if not abbrev.headers.get("content-type", "").startswith(
                "application/vnd.npm.install-v1+json"):
            problems.append("%s: abbreviated document served as %s"
                            % (name, abbrev.headers.get("content-type")))
        base = os.path.join(a.docroot, "npm", name)
        write(os.path.join(base, "index.json"), full.body)
        write(os.path.join(base, "index.abbrev"), abbrev.body)
        versions = json.loads(full.body)["versions"]
        if set(versions) != set(expected.get(name, {})):
            problems.append("%s: pipy lists %d versions, %d were published"
                            % (name, len(versions), len(expected.get(name, {}))))
        for version, manifest in versions.items():
            path = urlsplit(manifest["dist"]["tarball"]).path
            t = conn.get(path)
            want = open(os.path.join(a.gen, "tarballs", expected[name][version]), "rb").read()
            if t.status != 200 or t.body != want or \
                    hashlib.sha1(t.body).hexdigest() != manifest["dist"]["shasum"]:
                problems.append("%s@%s: tarball %s differs (status %d)"
                                % (name, version, path, t.status))
                continue
            write(os.path.join(a.docroot, path.lstrip("/")), t.body)
        out[name] = {"full_bytes": len(full.body), "abbrev_bytes": len(abbrev.body),
                     "versions": len(versions)}
    conn.close()
    out["problems"] = problems
    print(json.dumps(out))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
