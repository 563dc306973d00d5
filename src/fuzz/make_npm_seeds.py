#!/usr/bin/python3
"""Writes the seed corpora of the npm fuzz targets (src/fuzz/corpus/npm_*/) from real inputs.

The publish bodies are the documents `npm publish` PUTs (tests/e2e/npmdists.py's
publish_body(), checked against npm 11 by test_npm_helpers_selftest.py); the upstream
packuments are the public registry's shape (tests/e2e/npm_stub_registry.py's packument()).
The same arguments give the same bytes, so rerunning this only rewrites what changed.

    /usr/bin/python3 src/fuzz/make_npm_seeds.py
"""
import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests" / "e2e"))

from npmdists import make_npm_tarball, publish_body  # noqa: E402
from npm_stub_registry import NpmStubRegistry  # noqa: E402

REGISTRY = "http://127.0.0.1:8080/npm/"


def write(target: str, name: str, data: bytes) -> None:
    folder = HERE / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def compact(doc) -> bytes:
    # npm sends JSON.stringify's output: no spaces.
    return json.dumps(doc, separators=(",", ":")).encode()


def publish_bodies(tmp: Path) -> None:
    plain = make_npm_tarball(tmp, "left-pad", "1.3.0", readme="# left-pad\n")
    write("npm_publish_body", "publish", compact(
        publish_body("left-pad", "1.3.0", plain, registry_url=REGISTRY)))
    scoped = make_npm_tarball(tmp, "@acme/log", "2.0.0-rc.1", dependencies={"left-pad": "^1.3.0"})
    write("npm_publish_body", "publish_scoped", compact(
        publish_body("@acme/log", "2.0.0-rc.1", scoped, registry_url=REGISTRY, tag="next",
                     access="public")))
    # npm deprecate PUTs the packument back, without attachments.
    write("npm_publish_body", "deprecate", compact({
        "_id": "left-pad", "_rev": "3-0123456789abcdef0123456789abcdef", "name": "left-pad",
        "dist-tags": {"latest": "1.3.0"},
        "versions": {"1.3.0": {"name": "left-pad", "version": "1.3.0",
                               "deprecated": "use String.prototype.padStart"}}}))
    write("npm_publish_body", "tiny", b'{"_attachments":{"a-1.0.0.tgz":{"data":"AAECAw==",'
                                      b'"length":4}},"name":"a"}\n')


def packuments(tmp: Path) -> None:
    stub = NpmStubRegistry(port=4873)  # only its URL is used: no server starts
    for version, tag in (("1.2.0", None), ("1.3.0", "latest"), ("2.0.0-beta.1", "next")):
        stub.add(make_npm_tarball(tmp, "left-pad", version,
                                  package_json_extra={"scripts": {"install": "node x.js"}}
                                  if version == "1.3.0" else None), tag=tag)
    # One version the proxy must drop (no digest), one it may not fetch.
    stub.add(make_npm_tarball(tmp, "left-pad", "0.0.1"), tag="old", integrity="", shasum="")
    stub.add(make_npm_tarball(tmp, "left-pad", "0.0.2"), tag=None,
             tarball_url="https://evil.example/left-pad-0.0.2.tgz")
    stub.add(make_npm_tarball(tmp, "@acme/log", "1.0.0"))
    for name, label in (("left-pad", "left-pad"), ("@acme/log", "scoped")):
        write("npm_upstream_packument", label,
              name.encode() + b"\n" + json.dumps(stub.packument(name), indent=2).encode())
        write("npm_upstream_packument", label + "_abbreviated",
              name.encode() + b"\n" + json.dumps(stub.packument(name, abbreviated=True)).encode())


def paths_and_names() -> None:
    write("npm_paths_and_names", "unscoped",
          b"left-pad\n1.3.0\nleft-pad/1.3.0\nleft-pad/-/left-pad-1.3.0.tgz\n"
          b"left-pad/-rev/3-abc\nleft-pad/-/left-pad-1.3.0.tgz/-rev/3-abc\nleft-pad/latest")
    write("npm_paths_and_names", "scoped",
          b"@acme/log\n2.0.0-rc.1+build.5\n@acme/log/2.0.0-rc.1\n@acme/log/-/log-2.0.0-rc.1.tgz\n"
          b"2.0.0-rc.1\n2.0.0\n2.0.0-rc.1+build.6\n1.0.0-alpha.beta.1")
    write("npm_paths_and_names", "precedence",
          b"1.0.0-alpha\n1.0.0-alpha.1\n1.0.0-alpha.beta\n1.0.0-beta\n1.0.0-beta.2\n"
          b"1.0.0-beta.11\n1.0.0-rc.1\n1.0.0\n9007199254740991.0.0\n0.0.0-0")
    write("npm_paths_and_names", "refused",
          b"Left-Pad\n..\n@acme/..\n@/x\nnode_modules\nhttp\n 1.0.0\nv1.0.0\n01.0.0\n"
          b"1.0.0-01\n@acme//log\n-x\n_x\n.x\na%2fb")


def accept_headers() -> None:
    headers = {
        "npm": b"application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*",
        "pnpm": b"application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.9, */*",
        "yarn": b"application/json",
        "full_preferred": b"application/vnd.npm.install-v1+json;q=0.5, application/json",
        "odd": b"APPLICATION/VND.NPM.INSTALL-V1+JSON;Q=0.1, text/html;q=0",
    }
    for label, value in headers.items():
        write("npm_accept", label, value)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        publish_bodies(Path(tmp))
        packuments(Path(tmp))
    paths_and_names()
    accept_headers()


if __name__ == "__main__":
    main()
