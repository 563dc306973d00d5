"""The npm upstream proxy (issue 10 item 5): one registry URL for internal and public npm
packages, safe against dependency confusion, against a stub of the public registry on
loopback (npm_stub_registry.py).

Written from DESIGN.md's npm "Upstream" bullet and issue 10, not from the implementation:
a package not published here is proxied with every tarball URL pointing at Pipy (its
standard layout `<pipy>/npm/<name>/-/<file>.tgz`); tarballs are verified against the
upstream's `integrity` (sha512; else `shasum`) before they are served or cached; cached
packuments and tarballs keep being served while the upstream is down, an uncached package
then gets 502/504; an internal package is never merged with its upstream namesake; names in
`internal_scopes` are never looked up upstream; publishing a new package whose name exists
upstream needs `admin` or an `allow_shadowing` match (else 409); only the upstream's host
and `tarball_hosts` are fetched. Mirrors test_upstream.py (the Python upstream).

Every test starts its own stub and its own `pipy serve` with an [npm] table.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote

import pytest

import npmdists as nd
from npm_stub_registry import NpmStubRegistry
from pipyharness import bearer_auth

ABBREVIATED = "application/vnd.npm.install-v1+json"
NPM_ACCEPT = f"{ABBREVIATED}; q=1.0, application/json; q=0.8, */*"
IMMUTABLE = "public, max-age=31536000, immutable"
# npm retries a failed fetch after 10 s and then 60 s by default; the failure cases here
# want the first answer.
NO_RETRIES = {"fetch-retries": "0"}


# --- config and fixtures ----------------------------------------------------------------
def config(stub: NpmStubRegistry, *, ttl="10m", timeout="2s", tarball_hosts=None,
           internal_scopes=("@acme",), allow_shadowing=None) -> str:
    lines = ["[npm]", f'upstream = "{stub.url}"', f'ttl = "{ttl}"', f'timeout = "{timeout}"']
    if tarball_hosts is not None:
        lines.append(f"tarball_hosts = {json.dumps(list(tarball_hosts))}")
    if internal_scopes is not None:
        lines.append(f"internal_scopes = {json.dumps(list(internal_scopes))}")
    if allow_shadowing is not None:
        lines.append(f"allow_shadowing = {json.dumps(list(allow_shadowing))}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def stubs():
    started: list[NpmStubRegistry] = []

    def make(**kw) -> NpmStubRegistry:
        s = NpmStubRegistry(**kw).start()
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


# --- helpers ----------------------------------------------------------------------------
def registry(server) -> str:
    return server.url + "/npm/"


def esc(name: str, spelling: str = "%2f") -> str:
    return name.replace("/", spelling) if name.startswith("@") else name


def pipy_tarball_url(server, name: str, version: str) -> str:
    """DESIGN's standard layout under Pipy's registry root."""
    return registry(server) + nd.registry_tarball_path(name, version)


def packument(server, name: str, accept: str | None = "application/json",
              spelling: str = "%2f"):
    h = {"Accept": accept} if accept is not None else {}
    return server.get("/npm/" + esc(name, spelling), headers=h)


def doc_of(server, name: str, accept: str = "application/json") -> dict:
    r = packument(server, name, accept)
    assert r.status == 200, (name, accept, r.status, r.reason, r.text[:300])
    return r.json()


def get_raw(server, path: str, timeout: float = 15):
    """(status, body, complete): complete is False when the transfer broke off."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        try:
            return r.status, r.read(), True
        except (http.client.IncompleteRead, ConnectionError) as e:
            return r.status, getattr(e, "partial", b""), False
    finally:
        conn.close()


def direct_get(url: str) -> bytes:
    """What the stub itself serves at url (bypassing Pipy)."""
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read()


def put_json(server, path: str, doc, token: str | None):
    h = {"Content-Type": "application/json"}
    if token is not None:
        h.update(bearer_auth(token))
    return server.request("PUT", path, body=json.dumps(doc).encode(), headers=h)


def publish(server, folder: Path, name: str, version: str, token: str, **kw):
    """Publishes name@version with npm's own body; returns (response, tarball bytes)."""
    tgz = nd.make_npm_tarball(folder / f"pub-{time.monotonic_ns()}", name, version, **kw)
    body = nd.publish_body(name, version, tgz, registry_url=registry(server))
    return put_json(server, "/npm/" + nd.escaped_name(name), body, token), tgz.read_bytes()


def published(server, folder, name, version, token, **kw) -> bytes:
    res, data = publish(server, folder, name, version, token, **kw)
    assert res.status in (200, 201), (name, version, res.status, res.reason, res.text[:300])
    return data


def message(r) -> str:
    return f"{r.reason} {r.text}"


def assert_all_tarballs_at_pipy(server, stub, name: str, doc: dict, raw: bytes) -> None:
    """Every version's dist.tarball is Pipy's standard URL; the stub's address is nowhere."""
    assert doc["versions"], doc
    for ver, m in doc["versions"].items():
        assert m["dist"]["tarball"] == pipy_tarball_url(server, name, ver), (ver, m["dist"])
    assert f"127.0.0.1:{stub.port}" not in raw.decode("utf-8", "replace")


def client_home(tmp_path: Path, server, token: str | None, sub: str = "home",
                extra: dict | None = None) -> Path:
    home = tmp_path / sub
    nd.write_npmrc(home, registry(server), token, audit=False, extra=extra)
    return home


def project(home: Path, deps: dict, sub: str = "proj") -> Path:
    proj = home / sub
    proj.mkdir(parents=True)
    (proj / "package.json").write_text(json.dumps(
        {"name": "app", "version": "1.0.0", "private": True, "dependencies": deps}))
    return proj


def run(client: str, args, home: Path, *, cwd=None, check=True, timeout=180):
    return nd.run_client(client, args, home, cwd=cwd, check=check, timeout=timeout)


def output(proc) -> str:
    return proc.stdout + proc.stderr


def installed(proj: Path, name: str) -> dict:
    return json.loads((proj / "node_modules" / name / "package.json").read_text())


def node_require(proj: Path, name: str) -> str:
    res = subprocess.run(["node", "-e", f"console.log(require({json.dumps(name)}))"],
                         cwd=proj, capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout.strip()


def add_public(stub, folder: Path, name: str, version: str, **kw):
    """Adds name@version to the stub; kw: make_npm_tarball's, plus `stub_kw` for add()."""
    stub_kw = kw.pop("stub_kw", {})
    return stub.add(nd.make_npm_tarball(folder / "up" / f"{nd.basename(name)}-{version}",
                                        name, version, **kw), **stub_kw)


def big_files(seed: str, size: int = 300_000) -> dict:
    """An incompressible file, so the tarball is larger than one read or write buffer."""
    out, block = bytearray(), seed.encode()
    while len(out) < size:
        block = hashlib.sha512(block).digest()
        out += block
    return {"blob.bin": bytes(out[:size])}


def stub_saw(stub, needle: str) -> list[str]:
    """Stub request paths (unescaped) that mention needle."""
    return [p for p in stub.paths() if needle in unquote(p)]


# === a public package through Pipy ======================================================
def test_npm_installs_internal_and_public_packages_through_one_registry(
        server_factory, stubs, tmp_path):
    stub = stubs()
    add_public(stub, tmp_path, "@pubs/leaf", "1.2.0")
    add_public(stub, tmp_path, "@pubs/leaf", "1.0.0", stub_kw={"tag": None})
    top_old = add_public(stub, tmp_path, "pub-top", "1.0.0", stub_kw={"tag": None})
    top = add_public(stub, tmp_path, "pub-top", "1.1.0", dependencies={"@pubs/leaf": "^1.0.0"},
                     files={"index.js": "module.exports = 'top+' + require('@pubs/leaf');\n"})
    server = server_factory(config(stub))
    reader = server.token("read")

    # Both packuments of both packages are the upstream's, every tarball through Pipy.
    for name, versions in (("pub-top", {"1.0.0", "1.1.0"}), ("@pubs/leaf", {"1.0.0", "1.2.0"})):
        for accept in ("application/json", NPM_ACCEPT):
            r = packument(server, name, accept)
            assert r.status == 200, (name, accept, r.status, r.reason, r.text[:300])
            doc = r.json()
            assert doc["name"] == name
            assert set(doc["versions"]) == versions
            assert doc["dist-tags"] == stub.dist_tags[name]
            assert "accept" in (r.header("Vary") or "").lower(), r.header("Vary")
            assert_all_tarballs_at_pipy(server, stub, name, doc, r.body)
            for ver, m in doc["versions"].items():
                up = stub.packages[name][ver]
                assert m["dist"]["integrity"] == up.published_integrity
                assert m["dist"]["shasum"] == up.published_shasum
        for spelling in ("%2F", "/"):
            assert packument(server, name, spelling=spelling).status == 200, spelling
    assert doc_of(server, "pub-top")["versions"]["1.1.0"]["dependencies"] == \
        {"@pubs/leaf": "^1.0.0"}
    # One version's manifest, rewritten the same way.
    r = server.get("/npm/pub-top/latest")
    assert r.status == 200, (r.status, r.reason, r.text[:300])
    assert r.json()["version"] == "1.1.0"
    assert r.json()["dist"]["tarball"] == pipy_tarball_url(server, "pub-top", "1.1.0")

    # The tarball through Pipy: the upstream's bytes, immutable.
    t = server.get(server.path_of(pipy_tarball_url(server, "pub-top", "1.0.0")))
    assert t.status == 200 and t.body == top_old.data, (t.status, t.reason)
    assert t.header("Cache-Control") == IMMUTABLE

    # An internal package (internal scope: no upstream question) depending on the public one.
    uploader = server.token("upload:*")
    published(server, tmp_path, "@acme/app", "1.0.0", uploader,
              dependencies={"pub-top": "^1.0.0"},
              files={"index.js": "module.exports = 'app+' + require('pub-top');\n"})

    home = client_home(tmp_path, server, reader, extra=NO_RETRIES)
    proj = project(home, {"@acme/app": "^1.0.0"})
    run("npm", ["install"], home, cwd=proj)
    assert installed(proj, "pub-top")["version"] == "1.1.0"
    assert installed(proj, "@pubs/leaf")["version"] == "1.2.0"
    assert node_require(proj, "@acme/app") == "app+top+@pubs/leaf@1.2.0"
    lock = json.loads((proj / "package-lock.json").read_text())["packages"]
    for name, ver in (("pub-top", "1.1.0"), ("@pubs/leaf", "1.2.0")):
        entry = lock[f"node_modules/{name}"]
        assert entry["resolved"] == pipy_tarball_url(server, name, ver), entry
        assert entry["integrity"] == stub.packages[name][ver].published_integrity
    assert stub.tarball_requests("pub-top", "1.1.0") == 1
    assert stub.tarball_requests("@pubs/leaf", "1.2.0") == 1
    assert stub_saw(stub, "@acme") == []
    assert stub.published == []

    # Cached: a second install from an empty client cache fetches no tarball upstream again.
    home2 = client_home(tmp_path, server, reader, sub="home2", extra=NO_RETRIES)
    proj2 = project(home2, {"@acme/app": "^1.0.0"})
    run("npm", ["install"], home2, cwd=proj2)
    assert node_require(proj2, "@acme/app") == "app+top+@pubs/leaf@1.2.0"
    assert stub.tarball_requests("pub-top", "1.1.0") == 1
    assert stub.tarball_requests("@pubs/leaf", "1.2.0") == 1
    assert top.data == server.get(server.path_of(
        pipy_tarball_url(server, "pub-top", "1.1.0"))).body


def test_pipy_tokens_are_not_sent_upstream(server_factory, stubs, tmp_path):
    stub = stubs()
    add_public(stub, tmp_path, "pub-secret", "1.0.0")
    server = server_factory(config(stub))
    token = server.token("read")
    home = client_home(tmp_path, server, token)
    proj = project(home, {"pub-secret": "^1.0.0"})
    run("npm", ["install"], home, cwd=proj)
    assert installed(proj, "pub-secret")["version"] == "1.0.0"
    assert stub.requests, "the stub was never asked"
    for method, path, headers in stub.requests:
        assert all(token not in v for v in headers.values()), (method, path, headers)


def test_proxied_packument_negotiation_and_etags(server_factory, stubs, tmp_path):
    """A proxied packument follows the same rules as an internal one (DESIGN's GET
    /npm/<name>): abbreviated only when preferred by q-value, Vary: Accept, ETag and 304."""
    stub = stubs()
    add_public(stub, tmp_path, "pub-neg", "1.0.0")
    server = server_factory(config(stub))
    full = packument(server, "pub-neg")
    abbr = packument(server, "pub-neg", NPM_ACCEPT)
    assert full.header("Content-Type").startswith("application/json")
    assert abbr.header("Content-Type").startswith(ABBREVIATED)
    assert "readme" not in abbr.json() and "time" in abbr.json()
    for accept in (None, "*/*", f"application/json; q=0.9, {ABBREVIATED}; q=0.1"):
        r = packument(server, "pub-neg", accept)
        assert r.status == 200 and r.json() == full.json(), accept
    for r in (full, abbr):
        assert "accept" in (r.header("Vary") or "").lower()
        assert r.header("ETag")
    assert full.header("ETag") != abbr.header("ETag")
    for accept, mine, other in ((None, full, abbr), (NPM_ACCEPT, abbr, full)):
        h = {"Accept": accept} if accept else {}
        r = server.get("/npm/pub-neg", headers={**h, "If-None-Match": mine.header("ETag")})
        assert r.status == 304, (accept, r.status)
        r = server.get("/npm/pub-neg", headers={**h, "If-None-Match": other.header("ETag")})
        assert r.status == 200 and r.json() == mine.json(), (accept, r.status)


def test_concurrent_first_downloads_are_all_whole(server_factory, stubs, tmp_path):
    stub = stubs()
    v = add_public(stub, tmp_path, "pub-many", "1.0.0", files=big_files("many", 2_000_000))
    server = server_factory(config(stub))
    path = server.path_of(pipy_tarball_url(server, "pub-many", "1.0.0"))
    results = []

    def fetch():
        results.append(get_raw(server, path, timeout=30))

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert [(st, complete, body == v.data) for st, body, complete in results] == \
        [(200, True, True)] * 8
    stub.go_down("close")  # and it was cached whole
    status, body, complete = get_raw(server, path)
    assert (status, complete, body == v.data) == (200, True, True)


def test_unknown_everywhere_is_404(server_factory, stubs):
    stub = stubs()
    server = server_factory(config(stub))
    for accept in ("application/json", NPM_ACCEPT):
        r = packument(server, "not-here-nor-there", accept)
        assert r.status == 404, (accept, r.status, r.reason)
    assert stub.packument_requests("not-here-nor-there") >= 1


def test_packument_is_fresh_for_ttl_then_revalidated(server_factory, stubs, tmp_path):
    stub = stubs()
    add_public(stub, tmp_path, "pub-fresh", "1.0.0")
    hour = server_factory(config(stub, ttl="1h"))
    doc_of(hour, "pub-fresh")
    asked = stub.packument_requests("pub-fresh")
    for _ in range(3):
        assert set(doc_of(hour, "pub-fresh")["versions"]) == {"1.0.0"}
    assert stub.packument_requests("pub-fresh") == asked  # fresh: served from the cache

    second = server_factory(config(stub, ttl="1s"))
    assert set(doc_of(second, "pub-fresh")["versions"]) == {"1.0.0"}
    add_public(stub, tmp_path, "pub-fresh", "1.1.0")
    time.sleep(1.3)
    doc = doc_of(second, "pub-fresh")
    assert set(doc["versions"]) == {"1.0.0", "1.1.0"} and doc["dist-tags"]["latest"] == "1.1.0"
    assert doc["versions"]["1.1.0"]["dist"]["tarball"] == \
        pipy_tarball_url(second, "pub-fresh", "1.1.0")


# === verification =======================================================================
@pytest.mark.parametrize("how", ["recompress", "flip"])
def test_tarball_not_matching_integrity_is_refused_and_not_cached(server_factory, stubs,
                                                                   tmp_path, how):
    stub = stubs()
    v = add_public(stub, tmp_path, "pub-bad", "1.0.0", files=big_files("bad"))
    stub.corrupt_tarball("pub-bad", "1.0.0", how)
    bad = direct_get(stub.url + nd.registry_tarball_path("pub-bad", "1.0.0"))
    assert bad != v.data
    server = server_factory(config(stub))
    dist = doc_of(server, "pub-bad")["versions"]["1.0.0"]["dist"]
    assert dist["integrity"] == v.published_integrity
    path = server.path_of(dist["tarball"])
    assert path == server.path_of(pipy_tarball_url(server, "pub-bad", "1.0.0"))
    for _ in range(2):
        status, body, complete = get_raw(server, path)
        assert not (status == 200 and complete), (status, len(body), complete)
    assert hashlib.sha256(bad).hexdigest() not in {p.name for p in server.blob_files()}

    home = client_home(tmp_path, server, None, extra=NO_RETRIES)
    proj = project(home, {"pub-bad": "1.0.0"})
    proc = run("npm", ["install"], home, cwd=proj, check=False)
    assert proc.returncode != 0, output(proc)
    assert not (proj / "node_modules" / "pub-bad" / "package.json").exists()

    # Nothing bad was cached: once the upstream serves the right bytes, they come through.
    stub.corrupt.clear()
    before = stub.tarball_requests("pub-bad", "1.0.0")
    status, body, complete = get_raw(server, path)
    assert (status, complete) == (200, True) and body == v.data, (status, len(body))
    assert stub.tarball_requests("pub-bad", "1.0.0") == before + 1
    home2 = client_home(tmp_path, server, None, sub="home2", extra=NO_RETRIES)
    proj2 = project(home2, {"pub-bad": "1.0.0"})
    run("npm", ["install"], home2, cwd=proj2)
    assert installed(proj2, "pub-bad")["version"] == "1.0.0"


def test_sha1_only_upstream_is_verified(server_factory, stubs, tmp_path):
    stub = stubs()
    good = add_public(stub, tmp_path, "pub-sha1", "1.0.0", stub_kw={"integrity": ""})
    bad = add_public(stub, tmp_path, "pub-sha1", "2.0.0", files=big_files("sha1"),
                     stub_kw={"integrity": ""})
    assert "integrity" not in stub.version_manifest(good)["dist"]
    stub.corrupt_tarball("pub-sha1", "2.0.0")
    server = server_factory(config(stub))
    doc = doc_of(server, "pub-sha1")
    for v in (good, bad):
        dist = doc["versions"][v.version]["dist"]
        assert dist["shasum"] == v.published_shasum
        assert dist["tarball"] == pipy_tarball_url(server, "pub-sha1", v.version)
        # Pipy may add the sha512 it computed itself, but never a wrong one.
        assert dist.get("integrity") in (None, nd.integrity_sha512(v.data)), dist

    path = server.path_of(pipy_tarball_url(server, "pub-sha1", "2.0.0"))
    for _ in range(2):
        status, body, complete = get_raw(server, path)
        assert not (status == 200 and complete), (status, len(body), complete)
    status, body, complete = get_raw(server, server.path_of(
        pipy_tarball_url(server, "pub-sha1", "1.0.0")))
    assert (status, complete) == (200, True) and body == good.data

    home = client_home(tmp_path, server, None, extra=NO_RETRIES)
    proj = project(home, {"pub-sha1": "2.0.0"})
    proc = run("npm", ["install"], home, cwd=proj, check=False)
    assert proc.returncode != 0, output(proc)
    home2 = client_home(tmp_path, server, None, sub="home2", extra=NO_RETRIES)
    proj2 = project(home2, {"pub-sha1": "1.0.0"})
    run("npm", ["install"], home2, cwd=proj2)
    assert installed(proj2, "pub-sha1")["version"] == "1.0.0"

    stub.corrupt.clear()
    status, body, complete = get_raw(server, path)
    assert (status, complete) == (200, True) and body == bad.data


def test_tarball_without_upstream_digest_is_never_served(server_factory, stubs, tmp_path):
    """Nothing to verify against: "verified before served" leaves nothing to serve."""
    stub = stubs()
    add_public(stub, tmp_path, "pub-nodigest", "2.0.0")
    nod = add_public(stub, tmp_path, "pub-nodigest", "1.0.0",
                     stub_kw={"integrity": "", "shasum": "", "tag": None})
    server = server_factory(config(stub))
    doc = doc_of(server, "pub-nodigest")
    assert "2.0.0" in doc["versions"]
    status, body, complete = get_raw(server, server.path_of(
        pipy_tarball_url(server, "pub-nodigest", "1.0.0")))
    assert not (status == 200 and complete), (status, len(body), body == nod.data)


# === the upstream down or slow ===========================================================
@pytest.mark.parametrize("mode", ["503", "close", "stopped"])
def test_cache_serves_while_upstream_is_down(server_factory, stubs, tmp_path, mode):
    stub = stubs()
    add_public(stub, tmp_path, "pub-leaf", "1.0.0")
    add_public(stub, tmp_path, "pub-cached", "1.0.0", stub_kw={"tag": None})
    add_public(stub, tmp_path, "pub-cached", "1.1.0", dependencies={"pub-leaf": "^1.0.0"})
    add_public(stub, tmp_path, "pub-uncached", "1.0.0")
    server = server_factory(config(stub, ttl="1s", timeout="1s"))
    full_before = doc_of(server, "pub-cached")
    abbr_before = doc_of(server, "pub-cached", NPM_ACCEPT)
    home = client_home(tmp_path, server, None, extra=NO_RETRIES)
    proj = project(home, {"pub-cached": "^1.0.0"})
    run("npm", ["install"], home, cwd=proj)  # caches what npm install needs
    assert installed(proj, "pub-leaf")["version"] == "1.0.0"

    if mode == "stopped":
        stub.stop()
    else:
        stub.go_down(mode)
    time.sleep(1.3)  # past the ttl: the stale copies are what there is
    for _ in range(2):
        assert doc_of(server, "pub-cached") == full_before
        assert doc_of(server, "pub-cached", NPM_ACCEPT) == abbr_before
        t = server.get(server.path_of(pipy_tarball_url(server, "pub-cached", "1.1.0")))
        assert t.status == 200 and t.body == stub.packages["pub-cached"]["1.1.0"].data
    home2 = client_home(tmp_path, server, None, sub="home2", extra=NO_RETRIES)
    proj2 = project(home2, {"pub-cached": "^1.0.0"})
    run("npm", ["install"], home2, cwd=proj2)
    assert installed(proj2, "pub-cached")["version"] == "1.1.0"
    assert installed(proj2, "pub-leaf")["version"] == "1.0.0"

    # Uncached: a package, and a tarball of a cached packument.
    t0 = time.monotonic()
    for accept in ("application/json", NPM_ACCEPT):
        r = packument(server, "pub-uncached", accept)
        assert r.status in (502, 504), (accept, r.status, r.reason, r.text[:200])
        assert "upstream" in message(r).lower(), message(r)
    status, body, complete = get_raw(server, server.path_of(
        pipy_tarball_url(server, "pub-cached", "1.0.0")))
    assert status in (502, 504), (status, body[:200])
    assert time.monotonic() - t0 < 10
    home3 = client_home(tmp_path, server, None, sub="home3", extra=NO_RETRIES)
    proc = run("npm", ["install"], home3, cwd=project(home3, {"pub-uncached": "^1.0.0"}),
               check=False)
    assert proc.returncode != 0, output(proc)


def test_slow_upstream_fails_quickly(server_factory, stubs, tmp_path):
    slow = stubs(delay=4)
    add_public(slow, tmp_path, "pub-slow", "1.0.0")
    server = server_factory(config(slow, timeout="1s"))
    t0 = time.monotonic()
    r = packument(server, "pub-slow")
    assert r.status in (502, 504), (r.status, r.reason, r.text[:200])
    assert time.monotonic() - t0 < 3.5
    assert "upstream" in message(r).lower(), message(r)


# === dependency confusion ===============================================================
@pytest.mark.parametrize("name", ["shadowed-name", "@x/pkg"])
def test_internal_package_is_never_merged_with_upstream(server_factory, stubs, tmp_path,
                                                        name):
    stub = stubs()
    add_public(stub, tmp_path, name, "5.0.0", stub_kw={"tag": None})
    add_public(stub, tmp_path, name, "6.0.0")
    server = server_factory(config(stub))
    # Before: the upstream's package, with a tarball cached through Pipy.
    before = doc_of(server, name)
    assert set(before["versions"]) == {"5.0.0", "6.0.0"}
    old_url = server.path_of(before["versions"]["5.0.0"]["dist"]["tarball"])
    assert server.get(old_url).status == 200
    fetched = stub.tarball_requests(name, "5.0.0")

    internal = published(server, tmp_path, name, "1.0.0", server.token("admin"))
    for accept in ("application/json", NPM_ACCEPT):
        r = packument(server, name, accept)
        assert r.status == 200, (accept, r.status, r.reason)
        doc = r.json()
        assert set(doc["versions"]) == {"1.0.0"}, (accept, sorted(doc["versions"]))
        assert doc["dist-tags"] == {"latest": "1.0.0"}, doc["dist-tags"]
        assert doc["versions"]["1.0.0"]["dist"]["integrity"] == nd.integrity_sha512(internal)
        assert f"127.0.0.1:{stub.port}" not in r.text
    for spec in ("5.0.0", "6.0.0"):
        assert server.get(f"/npm/{esc(name)}/{spec}").status == 404, spec
    # A tarball URL handed out before the internal package existed serves nothing now.
    assert server.get(old_url).status == 404
    assert server.get(server.path_of(pipy_tarball_url(server, name, "6.0.0"))).status == 404
    assert stub.tarball_requests(name, "5.0.0") == fetched
    assert stub.tarball_requests(name, "6.0.0") == 0

    home = client_home(tmp_path, server, None, extra=NO_RETRIES)
    proj = project(home, {name: "*"})
    run("npm", ["install"], home, cwd=proj)
    assert installed(proj, name)["version"] == "1.0.0"
    home2 = client_home(tmp_path, server, None, sub="home2", extra=NO_RETRIES)
    proc = run("npm", ["install"], home2, cwd=project(home2, {name: "^6.0.0"}), check=False)
    assert proc.returncode != 0, output(proc)
    assert stub.tarball_requests(name, "6.0.0") == 0


def test_unpublished_internal_package_does_not_fall_back_to_upstream(server_factory, stubs,
                                                                     tmp_path):
    """DESIGN: after a whole-package unpublish the packument is 404; the public namesake
    must not silently take the name over."""
    stub = stubs()
    add_public(stub, tmp_path, "shadowed-name", "5.0.0")
    server = server_factory(config(stub))
    admin = server.token("admin")
    published(server, tmp_path, "shadowed-name", "1.0.0", admin)
    rev = doc_of(server, "shadowed-name")["_rev"]
    r = server.request("DELETE", f"/npm/shadowed-name/-rev/{rev}", headers=bearer_auth(admin))
    assert r.status in (200, 201), (r.status, r.reason, r.text[:200])
    for accept in ("application/json", NPM_ACCEPT):
        r = packument(server, "shadowed-name", accept)
        assert r.status == 404, (accept, r.status, r.text[:300])
    assert server.get("/npm/shadowed-name/5.0.0").status == 404
    assert server.get(server.path_of(
        pipy_tarball_url(server, "shadowed-name", "5.0.0"))).status == 404
    assert stub.tarball_requests("shadowed-name", "5.0.0") == 0


def test_internal_scopes_are_never_looked_up_upstream(server_factory, stubs, tmp_path):
    stub = stubs()
    # The public registry does have it: a dependency-confusion attempt on an internal scope.
    add_public(stub, tmp_path, "@acme/anything", "9.0.0")
    add_public(stub, tmp_path, "@acme/taken", "9.0.0")
    server = server_factory(config(stub))
    for spelling in ("%2f", "%2F", "/"):
        for accept in ("application/json", NPM_ACCEPT, None):
            r = packument(server, "@acme/anything", accept, spelling)
            assert r.status == 404, (spelling, accept, r.status, r.reason, r.text[:200])
    assert server.get("/npm/@acme%2fanything/9.0.0").status == 404
    assert server.get("/npm/@acme%2fanything/latest").status == 404
    assert server.get(server.path_of(
        pipy_tarball_url(server, "@acme/anything", "9.0.0"))).status == 404
    home = client_home(tmp_path, server, None, extra=NO_RETRIES)
    proc = run("npm", ["install"], home, cwd=project(home, {"@acme/anything": "*"}),
               check=False)
    assert proc.returncode != 0, output(proc)
    assert "404" in output(proc), output(proc)

    # Publishing a new package in an internal scope asks nobody, even with upload:* only.
    uploader = server.token("upload:*")
    data = published(server, tmp_path, "@acme/taken", "1.0.0", uploader)
    doc = doc_of(server, "@acme/taken")
    assert set(doc["versions"]) == {"1.0.0"}
    assert doc["versions"]["1.0.0"]["dist"]["integrity"] == nd.integrity_sha512(data)
    assert stub_saw(stub, "acme") == [], stub_saw(stub, "acme")

    # With the upstream down it is still a plain 404 (never asked, so never a 502).
    stub.go_down("503")
    assert packument(server, "@acme/other").status == 404
    assert doc_of(server, "@acme/taken")["versions"].keys() == {"1.0.0"}
    assert stub_saw(stub, "acme") == [], stub_saw(stub, "acme")


def test_new_package_with_a_public_name_is_refused(server_factory, stubs, tmp_path):
    stub = stubs()
    for name in ("hijack-target", "@other/hijack", "corp-public", "@corp/public",
                 "admin-public", "@acme/public"):
        add_public(stub, tmp_path, name, "5.0.0")
    server = server_factory(config(stub, allow_shadowing=["corp-*", "@corp/*"]))
    uploader = server.token("upload:*")

    for name in ("hijack-target", "@other/hijack"):
        r, _ = publish(server, tmp_path, name, "1.0.0", uploader)
        assert r.status == 409, (name, r.status, r.reason, r.text[:300])
        msg = message(r)
        assert name in msg, msg
        assert "upstream" in msg.lower() or "dependency confusion" in msg.lower(), msg
        # Still the upstream's package.
        doc = doc_of(server, name)
        assert set(doc["versions"]) == {"5.0.0"}
        assert doc["versions"]["5.0.0"]["dist"]["tarball"] == \
            pipy_tarball_url(server, name, "5.0.0")
    # The real npm says why too (6.0.0: above the upstream's latest, so npm itself has no
    # objection and the refusal is Pipy's).
    home = client_home(tmp_path, server, uploader, extra=NO_RETRIES)
    src = home / "src"
    src.mkdir()
    (src / "package.json").write_text(json.dumps(nd.package_json("hijack-target", "6.0.0")))
    (src / "index.js").write_text("module.exports = 1;\n")
    proc = run("npm", ["publish"], home, cwd=src, check=False)
    assert proc.returncode != 0, output(proc)
    assert "409" in output(proc) or "EPUBLISHCONFLICT" in output(proc), output(proc)
    assert set(doc_of(server, "hijack-target")["versions"]) == {"5.0.0"}

    # A name the upstream does not have is fine.
    published(server, tmp_path, "brand-new-name", "1.0.0", uploader)
    # Exception 1: the allow_shadowing globs.
    for name in ("corp-public", "@corp/public"):
        published(server, tmp_path, name, "1.0.0", uploader)
        assert set(doc_of(server, name)["versions"]) == {"1.0.0"}
    # Exception 2: an admin token.
    published(server, tmp_path, "admin-public", "1.0.0", server.token("admin"))
    assert set(doc_of(server, "admin-public")["versions"]) == {"1.0.0"}
    # Once the package exists internally, ordinary uploaders may add versions.
    published(server, tmp_path, "admin-public", "1.1.0", uploader)
    assert set(doc_of(server, "admin-public")["versions"]) == {"1.0.0", "1.1.0"}
    # Exception 3: inside internal_scopes, without asking the upstream.
    published(server, tmp_path, "@acme/public", "1.0.0", uploader)
    assert set(doc_of(server, "@acme/public")["versions"]) == {"1.0.0"}
    assert stub_saw(stub, "acme") == []
    assert stub.published == []


def test_refusal_names_the_npm_settings(server_factory, stubs, tmp_path):
    """The 409's way out must be one that exists for npm: [npm] allow_shadowing, not the
    Python index's [upstream] table."""
    stub = stubs()
    add_public(stub, tmp_path, "taken-name", "5.0.0")
    server = server_factory(config(stub))
    r, _ = publish(server, tmp_path, "taken-name", "1.0.0", server.token("upload:*"))
    assert r.status == 409, (r.status, r.reason)
    assert "[upstream]" not in message(r), message(r)


def test_publish_while_upstream_is_down_fails_closed(server_factory, stubs, tmp_path):
    """Whether a new name exists upstream cannot be known now: an ordinary uploader is not
    let through on a guess; what needs no upstream answer still publishes."""
    stub = stubs()
    server = server_factory(config(stub, timeout="1s", allow_shadowing=["corp-*"]))
    uploader = server.token("upload:*")
    stub.go_down("503")
    r, _ = publish(server, tmp_path, "maybe-public", "1.0.0", uploader)
    assert r.status not in (200, 201), (r.status, r.reason)
    assert r.status < 500 or r.status in (502, 503, 504), (r.status, r.reason)
    published(server, tmp_path, "@acme/while-down", "1.0.0", uploader)   # internal_scopes
    published(server, tmp_path, "corp-while-down", "1.0.0", uploader)    # allow_shadowing
    published(server, tmp_path, "admin-while-down", "1.0.0", server.token("admin"))
    assert _mentions_acme(stub) == []
    stub.come_up()
    assert packument(server, "maybe-public").status == 404  # nothing was stored
    for name in ("@acme/while-down", "corp-while-down", "admin-while-down"):
        assert set(doc_of(server, name)["versions"]) == {"1.0.0"}, name


# === only the upstream's host and tarball_hosts ==========================================
def test_tarballs_on_other_hosts_need_tarball_hosts(server_factory, stubs, tmp_path):
    stub = stubs()
    other = stubs()
    local = add_public(stub, tmp_path, "pub-twohost", "1.0.0", stub_kw={"tag": None})
    remote = add_public(other, tmp_path, "pub-twohost", "2.0.0")
    redirected = add_public(other, tmp_path, "pub-twohost", "3.0.0", stub_kw={"tag": None})
    stub.add(remote.data, tarball_url=other.url + nd.registry_tarball_path("pub-twohost",
                                                                           "2.0.0"))
    stub.add(redirected.data, tag=None)
    # The upstream's own standard path for 2.0.0 serves bytes that fail its integrity, so
    # only a fetch of the URL the packument gives (on the other host) can serve 2.0.0.
    stub.corrupt_tarball("pub-twohost", "2.0.0")
    redirected_path = "/" + nd.registry_tarball_path("pub-twohost", "3.0.0")
    stub.redirects[redirected_path] = other.url + redirected_path[1:]

    closed = server_factory(config(stub))
    r = packument(closed, "pub-twohost")
    assert r.status == 200, (r.status, r.reason)
    assert f"127.0.0.1:{other.port}" not in r.text  # no foreign URL handed to clients
    doc = r.json()
    assert "1.0.0" in doc["versions"]
    for ver in ("2.0.0", "3.0.0"):
        if ver in doc["versions"]:
            assert doc["versions"][ver]["dist"]["tarball"] == \
                pipy_tarball_url(closed, "pub-twohost", ver)
    for ver in ("2.0.0", "3.0.0"):
        status, body, complete = get_raw(closed, closed.path_of(
            pipy_tarball_url(closed, "pub-twohost", ver)))
        assert status in (404, 502) or not complete, (ver, status, len(body))
        assert not (status == 200 and complete), (ver, status)
    t = closed.get(closed.path_of(pipy_tarball_url(closed, "pub-twohost", "1.0.0")))
    assert t.status == 200 and t.body == local.data
    assert other.requests == [], other.paths()
    assert redirected_path in stub.paths()  # it was asked, and its redirect not followed

    opened = server_factory(config(stub, tarball_hosts=[f"127.0.0.1:{other.port}"]))
    doc = doc_of(opened, "pub-twohost")
    assert doc["versions"]["2.0.0"]["dist"]["tarball"] == \
        pipy_tarball_url(opened, "pub-twohost", "2.0.0")
    t = opened.get(opened.path_of(pipy_tarball_url(opened, "pub-twohost", "2.0.0")))
    assert t.status == 200 and t.body == remote.data, (t.status, t.reason)
    assert other.tarball_requests("pub-twohost", "2.0.0") == 1
    # (Following the redirect to a tarball host is allowed, not required: not checked.)


# === yarn and pnpm ======================================================================
@pytest.mark.parametrize("client", ["yarn", "pnpm"])
def test_other_clients_install_public_package(server_factory, stubs, tmp_path, client):
    stub = stubs()
    add_public(stub, tmp_path, "@pubs/leaf", "1.2.0")
    top = add_public(stub, tmp_path, "pub-top", "2.0.0", dependencies={"@pubs/leaf": "^1.0.0"})
    server = server_factory(config(stub))
    home = client_home(tmp_path, server, None)
    proj = project(home, {"pub-top": "^2.0.0"})
    args = ["install", "--non-interactive"] if client == "yarn" else ["install"]
    run(client, args, home, cwd=proj)
    if client == "pnpm":
        base = proj / "node_modules/.pnpm"
        got_leaf = base / "@pubs+leaf@1.2.0/node_modules/@pubs/leaf/package.json"
        got_top = base / "pub-top@2.0.0/node_modules/pub-top/package.json"
        lock = (proj / "pnpm-lock.yaml").read_text()
        assert f"integrity: {top.published_integrity}" in lock, lock
        assert f"127.0.0.1:{stub.port}" not in lock, lock
    else:
        got_leaf = proj / "node_modules/@pubs/leaf/package.json"
        got_top = proj / "node_modules/pub-top/package.json"
        lock = (proj / "yarn.lock").read_text()
        assert f'resolved "{pipy_tarball_url(server, "pub-top", "2.0.0")}#' in lock, lock
        assert f'resolved "{pipy_tarball_url(server, "@pubs/leaf", "1.2.0")}#' in lock, lock
    assert json.loads(got_leaf.read_text())["version"] == "1.2.0"
    assert json.loads(got_top.read_text())["version"] == "2.0.0"
    assert stub.tarball_requests("pub-top", "2.0.0") == 1
    assert stub.tarball_requests("@pubs/leaf", "1.2.0") == 1


# === hostile spellings and hostile upstream documents ====================================
def _mentions_acme(stub) -> list[str]:
    return [p for p in stub.paths() if "acme" in unquote(unquote(p)).lower()]


@pytest.mark.parametrize("path", [
    "/npm/%40acme%2fanything",          # "@" escaped: still the internal scope
    "/npm/%40acme%2Fanything",
    "/npm/%40acme/anything",
    "/npm/@acme%252fanything",          # double-escaped: an upstream would decode it again
    "/npm/@ACME%2fanything",            # not a valid npm name
    "/npm/@acme%2f..%2fanything",
    "/npm/%40acme%2fanything/9.0.0",
    "/npm/%40acme%2fanything/-/anything-9.0.0.tgz",
])
def test_internal_scope_cannot_be_reached_by_another_spelling(server_factory, stubs,
                                                               tmp_path, path):
    stub = stubs()
    add_public(stub, tmp_path, "@acme/anything", "9.0.0")
    server = server_factory(config(stub))
    for accept in ("application/json", NPM_ACCEPT):
        r = server.get(path, headers={"Accept": accept})
        assert r.status != 200 and r.status < 500, (path, accept, r.status, r.reason,
                                                    r.text[:200])
    assert _mentions_acme(stub) == [], _mentions_acme(stub)


def test_tarball_not_in_the_packument_is_404(server_factory, stubs, tmp_path):
    stub = stubs()
    add_public(stub, tmp_path, "pub-files", "1.0.0")
    add_public(stub, tmp_path, "pub-other", "1.0.0")
    server = server_factory(config(stub))
    assert doc_of(server, "pub-files")["versions"].keys() == {"1.0.0"}
    for path in ("/npm/pub-files/-/pub-files-9.9.9.tgz",     # no such version
                 "/npm/pub-files/-/pub-other-1.0.0.tgz"):    # another package's file
        status, body, complete = get_raw(server, path)
        assert status == 404, (path, status, body[:200])
    assert stub.tarball_requests("pub-other", "1.0.0") == 0


def test_hostile_upstream_packuments_get_502_never_500(server_factory, stubs, tmp_path):
    stub = stubs()
    good = add_public(stub, tmp_path, "pub-hostile", "1.0.0")
    base = stub.packument("pub-hostile")
    stub.raw_packuments["pub-notjson"] = b"{not json"
    stub.raw_packuments["pub-array"] = b"[1, 2, 3]"
    # A packument whose versions try to escape the standard layout or point elsewhere.
    doc = json.loads(json.dumps(base))
    doc["name"] = doc["_id"] = "pub-tricky"
    v = doc["versions"].pop("1.0.0")
    for ver, url in (("1.0.0", v["dist"]["tarball"]),
                     ("../../../etc/passwd", v["dist"]["tarball"]),
                     ("2.0.0", "file:///etc/passwd"),
                     ("3.0.0", "http://169.254.169.254/latest/meta-data/x.tgz")):
        m = json.loads(json.dumps(v))
        m["version"], m["dist"]["tarball"] = ver, url
        doc["versions"][ver] = m
    stub.raw_packuments["pub-tricky"] = json.dumps(doc).encode()
    server = server_factory(config(stub))

    for name in ("pub-notjson", "pub-array"):
        r = packument(server, name)
        assert r.status == 502, (name, r.status, r.reason, r.text[:200])
    r = packument(server, "pub-tricky")
    assert r.status in (200, 502), (r.status, r.reason, r.text[:200])
    if r.status == 200:
        got = r.json()
        assert "169.254.169.254" not in r.text and "file:" not in r.text
        for ver, m in got["versions"].items():
            # Under Pipy's /npm/<name>/-/ (the file name may be the upstream's own), whatever
            # the upstream calls the version.
            url = m["dist"]["tarball"]
            assert url.startswith(registry(server) + "pub-tricky/-/"), url
            assert url.endswith(".tgz") and ".." not in url and "%2e" not in url.lower(), url
        if "1.0.0" in got["versions"]:
            t = server.get(server.path_of(got["versions"]["1.0.0"]["dist"]["tarball"]))
            assert t.status == 200 and t.body == good.data, (t.status, t.reason)
    for ver in ("2.0.0", "3.0.0"):
        status, body, complete = get_raw(server, server.path_of(
            pipy_tarball_url(server, "pub-tricky", ver)))
        assert not (status == 200 and complete), (ver, status)
        assert status < 500 or status in (502, 504), (ver, status)
    assert server.get("/healthz").status == 200
    assert doc_of(server, "pub-hostile")["versions"]["1.0.0"]["dist"]["integrity"] == \
        good.published_integrity


def test_old_public_names_are_proxied(server_factory, stubs, tmp_path):
    # Names only the public registry's old rule allows (a Node core module's name, capitals)
    # cannot be published here, but real installs need them (readable-stream depends on
    # string_decoder): they are proxied like any other.
    stub = stubs()
    add_public(stub, tmp_path, "string_decoder", "1.3.0")
    add_public(stub, tmp_path, "JSONStream", "1.3.5")
    add_public(stub, tmp_path, "needs-old", "1.0.0",
               dependencies={"string_decoder": "^1.3.0", "JSONStream": "^1.3.5"})
    server = server_factory(config(stub))
    for name in ("string_decoder", "JSONStream"):
        doc = doc_of(server, name)
        assert doc["name"] == name
        dist = next(iter(doc["versions"].values()))["dist"]
        r = server.get(server.path_of(dist["tarball"]))
        assert r.status == 200, (name, r.status, r.text[:200])
    home = client_home(tmp_path, server, None)
    proj = project(home, {"needs-old": "1.0.0"})
    run("npm", ["install"], home, cwd=proj)
    assert installed(proj, "string_decoder")["version"] == "1.3.0"
    assert installed(proj, "JSONStream")["version"] == "1.3.5"


def test_npm_9_merged_retry_of_a_refused_public_name_is_refused_the_same(server_factory,
                                                                          stubs, tmp_path):
    # npm 9 answers Pipy's 409 by fetching the packument (here: the upstream's, proxied),
    # merging its versions into the body and PUTting again: the answer must stay the 409
    # with its reason, not a 400 about the merged versions.
    stub = stubs()
    add_public(stub, tmp_path, "merged-hijack", "5.0.0")
    server = server_factory(config(stub))
    uploader = server.token("upload:*")
    tgz = nd.make_npm_tarball(tmp_path / "mine", "merged-hijack", "6.0.0")
    body = nd.publish_body("merged-hijack", "6.0.0", tgz, registry_url=registry(server))
    body["versions"] = {**doc_of(server, "merged-hijack")["versions"], **body["versions"]}
    r = put_json(server, "/npm/merged-hijack", body, uploader)
    assert r.status == 409, (r.status, r.text)
    assert "dependency confusion" in message(r).lower(), message(r)
    assert set(doc_of(server, "merged-hijack")["versions"]) == {"5.0.0"}
