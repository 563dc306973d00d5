#!/usr/bin/python3
"""Generates the npm benchmark's packages as `npm pack` tarballs (tests/e2e/npmdists.py).

Writes OUT/tarballs/*.tgz and OUT/packages.json: {set: [{name, version, file, deps}]} with
the sets
  one       bench-one 1.0.0                                   (a 1-version packument)
  hundred   bench-hundred 1.0.0 ... 1.99.0                    (a 100-version packument)
  big       bench-big 1.0.0 with 1 MiB of incompressible data (tarball MB/s)
  internal  @bench/lib-00 ... lib-49, versions 1.0.0 and 1.1.0, each depending on 0-3
            lower-numbered ones                               (the `npm install` test)
  seq       --seq new versions spread over 10 packages        (timed sequential publishes)
  race      --race-rounds packages race-<r>, 16 versions each (the 16-way publish race)
Every package.json carries a description, keywords, a repository and a 2 KB README, so
packuments are about as large per version as real internal packages'. The same arguments
give the same bytes.
"""

import argparse
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import npmdists as nd  # noqa: E402

README = ("# {name}\n\nAn internal package of the npm benchmark.\n\n"
          + "".join("- point %d: lorem ipsum dolor sit amet, consectetur adipiscing elit.\n" % i
                    for i in range(30)))


def extra(name):
    return {"description": "benchmark package " + name, "keywords": ["bench", "pipy", "npm"],
            "repository": {"type": "git", "url": "https://git.example.internal/" + name},
            "scripts": {"test": "node index.js"}, "author": "Bench <bench@example.internal>"}


def make(out, name, version, deps=None, files=None):
    path = nd.make_npm_tarball(out, name, version, dependencies=deps, files=files,
                               package_json_extra=extra(name), readme=README.format(name=name))
    return {"name": name, "version": version, "file": os.path.basename(path),
            "deps": deps or {}}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seq", type=int, default=500, help="sequential publishes")
    ap.add_argument("--race-rounds", type=int, default=5)
    a = ap.parse_args()
    tb = os.path.join(a.out, "tarballs")
    os.makedirs(tb, exist_ok=True)
    rng = random.Random(10)
    sets = {"one": [make(tb, "bench-one", "1.0.0")],
            "hundred": [make(tb, "bench-hundred", "1.%d.0" % i) for i in range(100)],
            "big": [make(tb, "bench-big", "1.0.0",
                         files={"data.bin": rng.randbytes(1 << 20)})]}
    internal = []
    for i in range(50):
        name = "@bench/lib-%02d" % i
        k = rng.randint(0, min(3, i))
        deps = {"@bench/lib-%02d" % j: "^1.0.0" for j in sorted(rng.sample(range(i), k))}
        for version in ("1.0.0", "1.1.0"):
            internal.append(make(tb, name, version, deps))
    sets["internal"] = internal
    sets["seq"] = [make(tb, "bench-seq-%d" % (i % 10), "2.%d.0" % (i // 10))
                   for i in range(a.seq)]
    sets["race"] = [make(tb, "race-%d" % r, "3.%d.0" % v)
                    for r in range(a.race_rounds) for v in range(16)]
    with open(os.path.join(a.out, "packages.json"), "w") as f:
        json.dump(sets, f, indent=1)
    print("npm_gen: %s" % json.dumps({k: len(v) for k, v in sets.items()}), file=sys.stderr)


if __name__ == "__main__":
    main()
