"""Proves npmdists.py and npm_stub_registry.py against the real clients, without Pipy.

npm (on PATH), yarn 1 and pnpm 10 (tests/npm-clients) talk only to the loopback stub, with
HOME and every cache inside the test's temp folder.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import socket
import tarfile
import urllib.error
import urllib.request

import pytest

import npmdists as nd
from npm_stub_registry import ABBREVIATED, NpmStubRegistry


@pytest.fixture
def registry():
    with NpmStubRegistry() as reg:
        yield reg


def _members(path) -> list[str]:
    with tarfile.open(path, "r:gz") as tf:
        return [m.name for m in tf.getmembers()]


def _unpack(tarball, dest):
    """Our own tarball's package/ files into dest (Python 3.11 has no extraction filter)."""
    with tarfile.open(tarball, "r:gz") as tf:
        for m in tf.getmembers():
            assert m.isfile() and m.name.startswith("package/") and ".." not in m.name
            out = dest / m.name[len("package/"):]
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(tf.extractfile(m).read())
    return dest


def _get(url: str, accept: str | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers.items()), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers.items()), e.read()


def _project(folder, registry_url, name="selftest-app", deps=None):
    """An isolated client home with .npmrc, and a project folder inside it."""
    nd.write_npmrc(folder, registry_url, "selftest-token", audit=False)
    proj = folder / "proj"
    proj.mkdir()
    doc = {"name": name, "version": "1.0.0", "private": True}
    if deps is not None:
        doc["dependencies"] = deps
    (proj / "package.json").write_text(json.dumps(doc))
    return proj


# --- tarballs -------------------------------------------------------------------------
def test_tarball_opens_and_holds_package_json(tmp_path):
    path = nd.make_npm_tarball(tmp_path, "@acme/log", "1.2.3", dependencies={"dep": "^1"},
                               readme="# Log\n", files={"lib/x.js": "x"})
    assert path.name == "acme-log-1.2.3.tgz"
    assert _members(path) == ["package/package.json", "package/index.js",
                              "package/README.md", "package/lib/x.js"]
    pj = nd.read_package_json(path)
    assert (pj["name"], pj["version"], pj["dependencies"]) == ("@acme/log", "1.2.3", {"dep": "^1"})
    with tarfile.open(path, "r:gz") as tf:
        for m in tf.getmembers():
            assert (m.isfile(), m.mode, m.mtime, m.uid, m.uname) == (True, 0o644,
                                                                     nd.NPM_PACK_MTIME, 0, "")
    # Deterministic: the same arguments give the same bytes.
    again = nd.make_npm_tarball(tmp_path / "again", "@acme/log", "1.2.3",
                                dependencies={"dep": "^1"}, readme="# Log\n",
                                files={"lib/x.js": "x"})
    assert again.read_bytes() == path.read_bytes()
    extra = nd.make_npm_tarball(tmp_path, "plain", "1.0.0",
                                package_json_extra={"main": None, "bin": {"p": "index.js"}})
    pj = nd.read_package_json(extra)
    assert "main" not in pj and pj["bin"] == {"p": "index.js"}


def test_digests_match_recomputation(tmp_path):
    path = nd.make_npm_tarball(tmp_path, "digest-pkg", "0.1.0")
    data = path.read_bytes()
    want = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    assert nd.integrity_sha512(path) == want == nd.integrity_sha512(data)
    assert nd.shasum_sha1(path) == hashlib.sha1(data).hexdigest()


def test_npm_pack_agrees(tmp_path):
    """npm pack of the same files lists the same members, and npm's own digests of its
    tarball are what our digest helpers compute."""
    ours = nd.make_npm_tarball(tmp_path, "@acme/packed", "2.0.0", readme="# R\n",
                               files={"lib/a.js": "a", "lib/deep/b.js": "b"})
    src = _unpack(ours, tmp_path / "src")
    out = tmp_path / "npm-out"
    out.mkdir()
    home = tmp_path / "home"
    nd.write_npmrc(home, "http://127.0.0.1:9/", audit=False)  # nothing listens: offline
    proc = nd.run_client("npm", ["pack", "--json", "--pack-destination", str(out)], home,
                         cwd=src, check=True)
    report = json.loads(proc.stdout)[0]
    assert report["filename"] == ours.name
    assert sorted(f["path"] for f in report["files"]) == \
        sorted(n[len("package/"):] for n in _members(ours))
    theirs = out / report["filename"]
    assert sorted(_members(theirs)) == sorted(_members(ours))
    assert report["integrity"] == nd.integrity_sha512(theirs)
    assert report["shasum"] == nd.shasum_sha1(theirs)


def test_raw_tarball_keeps_hostile_members(tmp_path):
    RM = nd.RawMember
    members = [RM("package/package.json", b'{"name":"x","version":"1.0.0"}'),
               RM("package/../escape.js", b"1"),
               RM("/etc/absolute.js", b"2"),
               RM("package/link", type="symlink", linkname="../../etc/passwd"),
               RM("package/hard", type="hardlink", linkname="/etc/passwd"),
               RM("package/" + "d/" * 60 + "long.js", b"3")]
    members += [RM(f"package/many/{i}.js", b"") for i in range(2000)]
    path = nd.make_raw_tarball(tmp_path / "bad.tgz", members)
    with tarfile.open(path, "r:gz") as tf:
        got = {m.name: m for m in tf.getmembers()}
    assert "package/../escape.js" in got and "/etc/absolute.js" in got
    assert got["package/link"].issym() and got["package/link"].linkname == "../../etc/passwd"
    assert got["package/hard"].islnk() and got["package/hard"].linkname == "/etc/passwd"
    assert "package/" + "d/" * 60 + "long.js" in got
    assert len(got) == 6 + 2000

    huge = nd.make_raw_tarball(tmp_path / "huge.tgz",
                               [RM("package/big.bin", b"abc", size=10**12)])
    raw = gzip.decompress(huge.read_bytes())
    with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tf:
        with pytest.raises(tarfile.ReadError):
            tf.extractfile("package/big.bin").read()
    plain = nd.make_raw_tarball(tmp_path / "plain.tar", [("package/a", b"a")], compress=False)
    assert plain.read_bytes()[257:262] == b"ustar"


# --- publish --------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["selftest-pub", "@acme/selftest-pub"])
def test_publish_body_matches_what_npm_sends(tmp_path, name):
    with NpmStubRegistry(accept_publish=True) as reg:
        ours = nd.make_npm_tarball(tmp_path / "t", name, "1.0.0", readme="# Pub\n\nText.\n",
                                   dependencies={"dep": "^2.0.0"})
        src = _unpack(ours, tmp_path / "src")
        home = tmp_path / "home"
        nd.write_npmrc(home, reg.url, "pub-token", audit=False)
        nd.run_client("npm", ["publish"], home, cwd=src, check=True)

        puts = [(p, h, b) for p, h, b in reg.published if b is not None]
        assert len(puts) == 1
        path, headers, sent = puts[0]
        assert path == "/" + nd.escaped_name(name)
        assert headers["authorization"] == "Bearer pub-token"
        assert headers["content-type"] == "application/json"

        (key, att), = sent["_attachments"].items()
        tarball = base64.b64decode(att["data"])
        assert att["length"] == len(tarball)
        built = nd.publish_body(name, "1.0.0", tarball, registry_url=reg.url)
        for body in (sent, built):
            for k in ("_nodeVersion", "_npmVersion"):  # the running node's and npm's
                body["versions"]["1.0.0"].pop(k)
        assert built == sent
        assert key == f"{name}-1.0.0.tgz"
        assert sent["versions"]["1.0.0"]["dist"]["tarball"] == f"{reg.url}{name}/-/{key}"


def test_publish_body_overrides(tmp_path):
    path = nd.make_npm_tarball(tmp_path, "ov", "1.0.0")
    body = nd.publish_body("ov", "9.9.9", path, registry_url="https://r.example/npm",
                           tag="beta", manifest_overrides={"main": None, "x": [1]})
    m = body["versions"]["9.9.9"]
    assert body["dist-tags"] == {"beta": "9.9.9"}
    assert "main" not in m and m["x"] == [1] and m["_id"] == "ov@9.9.9"
    assert m["dist"]["tarball"] == "http://r.example/npm/ov/-/ov-9.9.9.tgz"
    assert m["dist"]["integrity"] == nd.integrity_sha512(path)
    assert base64.b64decode(body["_attachments"]["ov-9.9.9.tgz"]["data"]) == path.read_bytes()


def test_npmrc_and_env_stay_in_folder(tmp_path):
    rc = nd.write_npmrc(tmp_path, "http://127.0.0.1:8080/npm", "T0K", audit=False)
    lines = rc.read_text().splitlines()
    assert "registry=http://127.0.0.1:8080/npm/" in lines
    assert "//127.0.0.1:8080/npm/:_authToken=T0K" in lines
    assert {"fund=false", "update-notifier=false", "audit=false"} <= set(lines)
    assert "audit=false" not in nd.write_npmrc(tmp_path / "b", "http://h:1/").read_text()
    env = nd.npm_env(tmp_path)
    assert env["HOME"] == str(tmp_path)
    for k in ("npm_config_userconfig", "npm_config_cache", "YARN_CACHE_FOLDER", "PNPM_HOME",
              "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        assert env[k].startswith(str(tmp_path)), k
    assert not any(k.lower().endswith("_proxy") for k in env)
    proc = nd.run_client("npm", ["config", "get", "cache"], tmp_path, check=True)
    assert proc.stdout.strip() == str(tmp_path / ".npm-cache")
    proc = nd.run_client("npm", ["config", "get", "registry"], tmp_path, check=True)
    assert proc.stdout.strip() == "http://127.0.0.1:8080/npm/"


# --- the stub registry ----------------------------------------------------------------
def test_stub_serves_full_and_abbreviated_packuments(registry, tmp_path):
    v = registry.add(nd.make_npm_tarball(tmp_path, "@acme/stubbed", "1.0.0"))
    for path in ("@acme%2fstubbed", "@acme%2Fstubbed", "@acme/stubbed"):
        status, headers, body = _get(registry.url + path)
        assert status == 200, path
        doc = json.loads(body)
        assert headers["Content-Type"] == "application/json"
        assert {"_id", "_rev", "name", "dist-tags", "versions", "time", "maintainers"} <= set(doc)
    assert registry.packument_requests("@acme/stubbed") == 3
    status, headers, body = _get(registry.url + "@acme%2fstubbed",
                                 accept=f"{ABBREVIATED}; q=1.0, application/json; q=0.8, */*")
    doc = json.loads(body)
    assert headers["Content-Type"] == ABBREVIATED and "modified" in doc and "_rev" not in doc
    dist = doc["versions"]["1.0.0"]["dist"]
    assert dist["integrity"] == nd.integrity_sha512(v.data)
    assert dist["tarball"] == registry.url + "@acme/stubbed/-/stubbed-1.0.0.tgz"
    status, _, body = _get(dist["tarball"])
    assert status == 200 and body == v.data
    assert registry.tarball_requests("@acme/stubbed", "1.0.0") == 1
    status, _, body = _get(registry.url + "@acme%2fstubbed/latest")
    assert status == 200 and json.loads(body)["version"] == "1.0.0"
    assert _get(registry.url + "no-such-package")[0] == 404


def test_stub_goes_down_and_corrupts(registry, tmp_path):
    v = registry.add(nd.make_npm_tarball(tmp_path, "flaky", "1.0.0"))
    registry.corrupt_tarball("flaky", "1.0.0")
    status, _, body = _get(registry.url + "flaky/-/flaky-1.0.0.tgz")
    assert status == 200 and nd.integrity_sha512(body) != v.published_integrity
    assert gzip.decompress(body) == gzip.decompress(v.data)  # still a good tarball
    registry.corrupt_tarball("flaky", "1.0.0", how="flip")
    status, _, body = _get(registry.url + "flaky/-/flaky-1.0.0.tgz")
    assert status == 200 and len(body) == len(v.data) and body != v.data
    registry.go_down("503")
    assert _get(registry.url + "flaky")[0] == 503
    registry.go_down("close")
    with socket.create_connection(("127.0.0.1", registry.port), timeout=5) as s:
        s.sendall(b"GET /flaky HTTP/1.1\r\nHost: x\r\n\r\n")
        assert s.recv(100) == b""
    registry.come_up()
    assert _get(registry.url + "flaky")[0] == 200
    # Restart on the same port, as the outage tests need.
    port = registry.port
    registry.stop()
    registry.start()
    assert registry.port == port and _get(registry.url + "flaky")[0] == 200


def test_npm_view_and_install_from_stub(registry, tmp_path):
    registry.add(nd.make_npm_tarball(tmp_path / "t", "@acme/leaf", "1.2.0"))
    registry.add(nd.make_npm_tarball(tmp_path / "t", "selftest-top", "2.0.0",
                                     dependencies={"@acme/leaf": "^1.0.0"}))
    home = tmp_path / "home"
    proj = _project(home, registry.url)
    view = nd.run_client("npm", ["view", "selftest-top", "--json"], home, cwd=proj, check=True)
    doc = json.loads(view.stdout)
    assert doc["version"] == "2.0.0" and doc["dependencies"] == {"@acme/leaf": "^1.0.0"}

    nd.run_client("npm", ["install", "selftest-top"], home, cwd=proj, check=True)
    leaf = json.loads((proj / "node_modules/@acme/leaf/package.json").read_text())
    assert leaf["version"] == "1.2.0"
    assert (proj / "node_modules/selftest-top/index.js").exists()
    assert (home / ".npm-cache" / "_cacache").is_dir()  # the cache stayed in the folder
    gets = [h for m, p, h in registry.requests if p == "/@acme%2fleaf"]
    assert gets and gets[0]["authorization"] == "Bearer selftest-token"

    # A tarball that does not match its integrity is refused.
    registry.add(nd.make_npm_tarball(tmp_path / "t", "selftest-bad", "1.0.0"))
    registry.corrupt_tarball("selftest-bad", "1.0.0")
    # No fetch retries: npm's backoff between retries of a corrupt tarball (10 s and more
    # each) once took a loaded CI machine past the timeout.
    bad = nd.run_client("npm", ["install", "selftest-bad", "--fetch-retries=0"], home,
                        cwd=proj, timeout=180)
    assert bad.returncode != 0 and "EINTEGRITY" in bad.stdout + bad.stderr


@pytest.mark.parametrize("client", ["yarn", "pnpm"])
def test_other_clients_print_versions(client, tmp_path):
    proc = nd.run_client(client, ["--version"], tmp_path, check=True, timeout=60)
    want = json.loads((nd.ROOT / "tests/npm-clients/package.json").read_text())
    assert proc.stdout.strip() == want["dependencies"][client]


@pytest.mark.parametrize("client,args", [("yarn", ["install", "--non-interactive"]),
                                         ("pnpm", ["install"])])
def test_other_clients_install_from_stub(registry, tmp_path, client, args):
    registry.add(nd.make_npm_tarball(tmp_path / "t", "@acme/leaf", "1.2.0"))
    registry.add(nd.make_npm_tarball(tmp_path / "t", "selftest-top", "2.0.0",
                                     dependencies={"@acme/leaf": "^1.0.0"}))
    home = tmp_path / "home"
    proj = _project(home, registry.url, deps={"selftest-top": "^2.0.0"})
    nd.run_client(client, args, home, cwd=proj, check=True)
    leaf = proj / "node_modules/@acme/leaf/package.json"  # yarn 1 hoists it
    if client == "pnpm":
        leaf = proj / "node_modules/.pnpm/@acme+leaf@1.2.0/node_modules/@acme/leaf/package.json"
    assert json.loads(leaf.read_text())["version"] == "1.2.0"
    packument_gets = [h for m, p, h in registry.requests if p.startswith("/selftest-top")
                      and not p.endswith(".tgz")]
    assert packument_gets and ABBREVIATED in packument_gets[0]["accept"]
