"""The npm registry at /npm/, end to end: the real npm, yarn and pnpm against `pipy serve`.

Written against DESIGN.md's npm contract and issue 10 (items 1-4 and 8), not against the
implementation: publish (unscoped and scoped) with each client, install with internal
dependencies, install from a lockfile reproducing the packument's integrity, every other
npm command of item 4, and the HTTP details of packuments, tarballs and publishes.

One server per module; every test uses package names of its own. Clients run isolated
(npmdists.npm_env: HOME, caches and config inside the test's folder).
"""
from __future__ import annotations

import gzip
import json
import os
import re
import select
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

import npmdists as nd
from pipyharness import bearer_auth

ABBREVIATED = "application/vnd.npm.install-v1+json"
NPM_ACCEPT = f"{ABBREVIATED}; q=1.0, application/json; q=0.8, */*"
CLIENTS = ["npm", "yarn", "pnpm"]
IMMUTABLE = "public, max-age=31536000, immutable"


# --- helpers --------------------------------------------------------------------------
def uniq(prefix: str) -> str:
    """A package name of this test alone (npm names: lowercase, no spaces)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def registry(server) -> str:
    return server.url + "/npm/"


def esc(name: str, spelling: str = "%2f") -> str:
    return name.replace("/", spelling) if name.startswith("@") else name


def put_json(server, path: str, doc, token: str | None, *, headers=None):
    body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    h = {"Content-Type": "application/json", **(headers or {})}
    if token is not None:
        h.update(bearer_auth(token))
    return server.request("PUT", path, body=body, headers=h)


def publish(server, folder: Path, name: str, version: str, token: str, *, tag="latest",
            dependencies=None, readme=None, files=None, package_json_extra=None):
    """Publishes name@version with npm's own body over raw HTTP; returns (response, bytes)."""
    tgz = nd.make_npm_tarball(folder / uuid.uuid4().hex[:6], name, version,
                              dependencies=dependencies, readme=readme, files=files,
                              package_json_extra=package_json_extra)
    body = nd.publish_body(name, version, tgz, registry_url=registry(server), tag=tag)
    return put_json(server, "/npm/" + nd.escaped_name(name), body, token), tgz.read_bytes()


def published(server, folder, name, version, token, **kw) -> bytes:
    res, data = publish(server, folder, name, version, token, **kw)
    assert res.status in (200, 201), (name, version, res.status, res.reason, res.text[:300])
    return data


def packument(server, name: str, accept: str | None = "application/json",
              spelling: str = "%2f", headers=None):
    h = dict(headers or {})
    if accept is not None:
        h["Accept"] = accept
    return server.get("/npm/" + esc(name, spelling), headers=h)


def full_doc(server, name: str) -> dict:
    r = packument(server, name)
    assert r.status == 200, (name, r.status, r.reason, r.text[:300])
    return r.json()


def tarball_path(server, dist: dict) -> str:
    return server.path_of(dist["tarball"])


def standard_tarball_url(base: str, name: str, version: str) -> str:
    """DESIGN's layout: <registry>/<name>/-/<basename>-<version>.tgz."""
    return base + nd.registry_tarball_path(name, version)


def make_source(folder: Path, name: str, version: str, *, dependencies=None,
                index: str | None = None, description: str | None = None) -> Path:
    """A package folder as a developer has it (package.json, index.js, README.md)."""
    folder.mkdir(parents=True, exist_ok=True)
    extra = {"description": description} if description else None
    pj = nd.package_json(name, version, dependencies=dependencies, extra=extra)
    (folder / "package.json").write_text(json.dumps(pj, indent=2) + "\n")
    (folder / "index.js").write_text(
        index or f"module.exports = {json.dumps(name + '@' + version)};\n")
    (folder / "README.md").write_text(f"# {name}\n\nThe e2e package {name}.\n")
    return folder


def client_home(tmp_path: Path, server, token: str | None, *, audit=False, sub="home"):
    home = tmp_path / sub
    nd.write_npmrc(home, registry(server), token, audit=audit)
    return home


def run(client: str, args, home: Path, *, cwd=None, check=True, timeout=180):
    return nd.run_client(client, args, home, cwd=cwd, check=check, timeout=timeout)


def output(proc) -> str:
    return proc.stdout + proc.stderr


# --- fixtures -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def publisher(server):
    """(token, token name): an upload:* token with a known name."""
    name = f"npm-e2e-publisher-{uuid.uuid4().hex[:6]}"
    return server.token("upload:*", name=name), name


@pytest.fixture(scope="module")
def admin(server):
    name = f"npm-e2e-admin-{uuid.uuid4().hex[:6]}"
    return server.token("admin", name=name), name


def test_ping_answers_empty_object(server):
    r = server.get("/npm/-/ping")
    assert r.status == 200, (r.status, r.reason, r.text[:200])
    assert r.json() == {}


# === the real clients ===================================================================
def publish_args(client: str, version: str) -> list[str]:
    if client == "npm":
        return ["publish"]
    if client == "yarn":
        return ["publish", "--non-interactive", "--new-version", version]
    return ["publish", "--no-git-checks"]


@pytest.mark.parametrize("client", CLIENTS)
def test_client_publishes_unscoped_and_scoped(server, publisher, tmp_path, client):
    token, token_name = publisher
    home = client_home(tmp_path, server, token)
    base = registry(server)
    for name in (uniq(f"cli-{client}-plain"), f"@acme/{uniq(f'cli-{client}-scoped')}"):
        src = make_source(tmp_path / "src" / nd.basename(name), name, "1.0.0",
                          description=f"{name} published by {client}")
        run(client, publish_args(client, "1.0.0"), home, cwd=src)

        doc = full_doc(server, name)
        assert doc["name"] == name and doc["_id"] == name
        assert list(doc["versions"]) == ["1.0.0"]
        assert doc["dist-tags"] == {"latest": "1.0.0"}
        assert [m["name"] for m in doc["maintainers"]] == [token_name]
        v = doc["versions"]["1.0.0"]
        assert v["name"] == name and v["version"] == "1.0.0"
        assert v["description"] == f"{name} published by {client}"
        dist = v["dist"]
        # Pipy's own standard layout, not the URL the client wrote into its body.
        assert dist["tarball"] == standard_tarball_url(base, name, "1.0.0")
        t = server.get(tarball_path(server, dist))
        assert t.status == 200, (dist["tarball"], t.status, t.reason)
        assert nd.integrity_sha512(t.body) == dist["integrity"]
        assert nd.shasum_sha1(t.body) == dist["shasum"]
        assert nd.read_package_json(t.body)["name"] == name
        assert f"# {name}" in doc.get("readme", "")

        # A second version of the now existing package.
        make_source(src, name, "1.1.0", description=f"{name} published by {client}")
        run(client, publish_args(client, "1.1.0"), home, cwd=src)
        doc = full_doc(server, name)
        assert set(doc["versions"]) == {"1.0.0", "1.1.0"}
        assert doc["dist-tags"] == {"latest": "1.1.0"}
        dist = doc["versions"]["1.1.0"]["dist"]
        t = server.get(tarball_path(server, dist))
        assert t.status == 200 and nd.integrity_sha512(t.body) == dist["integrity"]
        assert nd.read_package_json(t.body)["version"] == "1.1.0"


def install_args(client: str) -> list[str]:
    return {"npm": ["install"], "yarn": ["install", "--non-interactive"],
            "pnpm": ["install"]}[client]


def frozen_args(client: str) -> list[str]:
    return {"npm": ["ci"], "yarn": ["install", "--frozen-lockfile", "--non-interactive"],
            "pnpm": ["install", "--frozen-lockfile"]}[client]


LOCKFILES = {"npm": "package-lock.json", "yarn": "yarn.lock", "pnpm": "pnpm-lock.yaml"}


def lock_integrity(client: str, text: str, name: str, version: str) -> dict:
    """What the lockfile recorded for name@version: {"integrity", and "shasum" for yarn}."""
    if client == "npm":
        entry = json.loads(text)["packages"][f"node_modules/{name}"]
        assert entry["version"] == version, entry
        return {"integrity": entry["integrity"], "resolved": entry["resolved"]}
    if client == "yarn":
        m = re.search(rf'(?m)^"?{re.escape(name)}@[^\n]*:\n  version "{re.escape(version)}"\n'
                      r'  resolved "([^"#]+)#([0-9a-f]{40})"\n  integrity (\S+)\n', text)
        assert m, f"{name}@{version} not in yarn.lock:\n{text}"
        return {"resolved": m.group(1), "shasum": m.group(2), "integrity": m.group(3)}
    m = re.search(rf"(?m)^  '?{re.escape(name)}@{re.escape(version)}'?:\n"
                  r"    resolution: \{integrity: ([^,}\s]+)\}", text)
    assert m, f"{name}@{version} not in pnpm-lock.yaml:\n{text}"
    return {"integrity": m.group(1)}


def installed_version(client: str, proj: Path, name: str, version: str) -> str:
    if client == "pnpm":
        key = name.replace("/", "+")
        path = proj / f"node_modules/.pnpm/{key}@{version}/node_modules/{name}/package.json"
    else:
        path = proj / "node_modules" / name / "package.json"
    return json.loads(path.read_text())["version"]


@pytest.mark.parametrize("client", CLIENTS)
def test_client_installs_internal_dependency_then_from_lockfile(server, publisher, tmp_path,
                                                                client):
    token, _ = publisher
    leaf = f"@acme/{uniq(f'{client}-leaf')}"
    top = uniq(f"{client}-top")
    published(server, tmp_path, leaf, "1.0.0", token)
    published(server, tmp_path, leaf, "1.1.0", token)
    published(server, tmp_path, top, "1.0.0", token, dependencies={leaf: "^1.0.0"},
              files={"index.js": f"module.exports = 'top+' + require({json.dumps(leaf)});\n"})

    home = client_home(tmp_path, server, token, sub="home1")
    proj = home / "proj"
    proj.mkdir()
    (proj / "package.json").write_text(json.dumps(
        {"name": "app", "version": "1.0.0", "private": True, "dependencies": {top: "^1.0.0"}}))
    run(client, install_args(client), home, cwd=proj)
    assert installed_version(client, proj, leaf, "1.1.0") == "1.1.0"
    node = subprocess.run(["node", "-e", f"console.log(require({json.dumps(top)}))"],
                          cwd=proj, capture_output=True, text=True, timeout=30)
    assert node.stdout.strip() == f"top+{leaf}@1.1.0", node.stdout + node.stderr

    lock_text = (proj / LOCKFILES[client]).read_text()
    for name, version in ((leaf, "1.1.0"), (top, "1.0.0")):
        dist = full_doc(server, name)["versions"][version]["dist"]
        locked = lock_integrity(client, lock_text, name, version)
        assert locked["integrity"] == dist["integrity"], (name, locked, dist)
        if client == "npm":
            assert locked["resolved"] == dist["tarball"]
        if client == "yarn":
            assert locked["shasum"] == dist["shasum"]
            assert locked["resolved"] == dist["tarball"]
    if client == "pnpm":
        # Standard layout: pnpm derives the URL itself and keeps none in its lockfile.
        assert "tarball:" not in lock_text, lock_text

    # A newer leaf appears; the lockfile must still give exactly what it recorded, fetched
    # afresh (new home: empty caches) and checked against the recorded integrity.
    published(server, tmp_path, leaf, "1.2.0", token)
    home2 = client_home(tmp_path, server, token, sub="home2")
    proj2 = home2 / "proj"
    proj2.mkdir()
    shutil.copy(proj / "package.json", proj2 / "package.json")
    shutil.copy(proj / LOCKFILES[client], proj2 / LOCKFILES[client])
    run(client, frozen_args(client), home2, cwd=proj2)
    assert installed_version(client, proj2, leaf, "1.1.0") == "1.1.0"
    assert installed_version(client, proj2, top, "1.0.0") == "1.0.0"
    assert (proj2 / LOCKFILES[client]).read_text() == lock_text


# === the rest of npm's CLI ==============================================================
def test_npm_dist_tag_add_ls_rm(server, publisher, tmp_path):
    token, _ = publisher
    for name in (uniq("tags"), f"@acme/{uniq('tags')}"):
        published(server, tmp_path, name, "1.0.0", token)
        published(server, tmp_path, name, "1.1.0", token)
        home = client_home(tmp_path, server, token, sub=f"home-{nd.basename(name)}")
        run("npm", ["dist-tag", "add", f"{name}@1.0.0", "stable"], home)
        r = server.get(f"/npm/-/package/{esc(name)}/dist-tags")
        assert r.status == 200, (r.status, r.reason, r.text[:200])
        assert r.json() == {"latest": "1.1.0", "stable": "1.0.0"}
        assert full_doc(server, name)["dist-tags"] == {"latest": "1.1.0", "stable": "1.0.0"}
        ls = run("npm", ["dist-tag", "ls", name], home).stdout
        assert "latest: 1.1.0" in ls and "stable: 1.0.0" in ls, ls
        run("npm", ["dist-tag", "rm", name, "stable"], home)
        assert full_doc(server, name)["dist-tags"] == {"latest": "1.1.0"}
        ls = run("npm", ["dist-tag", "ls", name], home).stdout
        assert "stable" not in ls and "latest: 1.1.0" in ls, ls


def test_npm_deprecate_and_undeprecate(server, publisher, tmp_path):
    token, _ = publisher
    name = f"@acme/{uniq('depr')}"
    published(server, tmp_path, name, "1.0.0", token)
    published(server, tmp_path, name, "2.0.0", token)
    home = client_home(tmp_path, server, token)
    dist_before = full_doc(server, name)["versions"]["1.0.0"]["dist"]
    run("npm", ["deprecate", f"{name}@1.0.0", "use 2.x instead"], home)
    doc = full_doc(server, name)
    assert doc["versions"]["1.0.0"]["deprecated"] == "use 2.x instead"
    assert not doc["versions"]["2.0.0"].get("deprecated")
    abbr = packument(server, name, NPM_ACCEPT).json()
    assert abbr["versions"]["1.0.0"]["deprecated"] == "use 2.x instead"
    view = run("npm", ["view", f"{name}@1.0.0", "deprecated"], home).stdout
    assert "use 2.x instead" in view
    # Deprecation changes nothing else: the files and their digests stay.
    assert doc["versions"]["1.0.0"]["dist"] == dist_before

    run("npm", ["deprecate", f"{name}@1.0.0", ""], home)
    doc = full_doc(server, name)
    assert not doc["versions"]["1.0.0"].get("deprecated"), doc["versions"]["1.0.0"]
    assert set(doc["versions"]) == {"1.0.0", "2.0.0"}


def test_npm_deprecate_needs_upload_scope(server, publisher, tmp_path):
    token, _ = publisher
    name = uniq("depr-scope")
    published(server, tmp_path, name, "1.0.0", token)
    home = client_home(tmp_path, server, server.token("read"))
    proc = run("npm", ["deprecate", f"{name}@1.0.0", "nope"], home, check=False)
    assert proc.returncode != 0 and "403" in output(proc), output(proc)
    assert not full_doc(server, name)["versions"]["1.0.0"].get("deprecated")


def test_deprecate_put_changing_anything_else_is_400(server, publisher, tmp_path):
    token, _ = publisher
    name = uniq("depr-other")
    published(server, tmp_path, name, "1.0.0", token)
    before = full_doc(server, name)
    doc = json.loads(json.dumps(before))
    doc["versions"]["1.0.0"]["deprecated"] = "old"
    doc["versions"]["1.0.0"]["dependencies"] = {"evil": "*"}
    r = put_json(server, f"/npm/{name}", doc, token)
    assert r.status == 400, (r.status, r.reason, r.text[:200])
    after = full_doc(server, name)
    assert after["versions"] == before["versions"] and after["_rev"] == before["_rev"]


def test_npm_unpublish_version_then_republish_is_refused(server, publisher, admin, tmp_path):
    token, _ = publisher
    name = f"@acme/{uniq('unpub')}"
    published(server, tmp_path, name, "1.0.0", token)
    published(server, tmp_path, name, "1.1.0", token)
    dist = full_doc(server, name)["versions"]["1.0.0"]["dist"]

    # upload:* may publish but not unpublish.
    home = client_home(tmp_path, server, token, sub="uploader")
    proc = run("npm", ["unpublish", f"{name}@1.0.0"], home, check=False)
    assert proc.returncode != 0 and "403" in output(proc), output(proc)
    assert set(full_doc(server, name)["versions"]) == {"1.0.0", "1.1.0"}

    home_admin = client_home(tmp_path, server, admin[0], sub="admin")
    run("npm", ["unpublish", f"{name}@1.0.0"], home_admin)
    doc = full_doc(server, name)
    assert set(doc["versions"]) == {"1.1.0"}
    assert doc["dist-tags"]["latest"] == "1.1.0"
    assert server.get(tarball_path(server, dist)).status == 404
    assert server.get(f"/npm/{esc(name)}/1.0.0").status == 404

    # The version is a tombstone: npm publish of it fails with a conflict.
    src = make_source(tmp_path / "again", name, "1.0.0")
    # (--tag: npm 11 itself refuses to move "latest" below 1.1.0.)
    proc = run("npm", ["publish", "--tag", "old"], home, cwd=src, check=False)
    assert proc.returncode != 0, output(proc)
    assert "409" in output(proc) or "EPUBLISHCONFLICT" in output(proc), output(proc)
    res, _ = publish(server, tmp_path, name, "1.0.0", token)
    assert res.status == 409, (res.status, res.reason)
    assert set(full_doc(server, name)["versions"]) == {"1.1.0"}


def test_npm_unpublish_whole_package(server, publisher, admin, tmp_path):
    token, _ = publisher
    name = uniq("unpub-all")
    published(server, tmp_path, name, "1.0.0", token)
    published(server, tmp_path, name, "1.1.0", token)
    home = client_home(tmp_path, server, admin[0])
    run("npm", ["unpublish", name, "--force"], home)
    assert packument(server, name).status == 404
    assert packument(server, name, NPM_ACCEPT).status == 404
    # A new version publishes; the removed ones stay tombstones.
    published(server, tmp_path, name, "2.0.0", token)
    doc = full_doc(server, name)
    assert list(doc["versions"]) == ["2.0.0"] and doc["dist-tags"] == {"latest": "2.0.0"}
    res, _ = publish(server, tmp_path, name, "1.0.0", token)
    assert res.status == 409, (res.status, res.reason)


def test_npm_view_fields(server, publisher, tmp_path):
    token, token_name = publisher
    name = f"@acme/{uniq('view')}"
    dep = uniq("view-dep")
    published(server, tmp_path, dep, "3.0.0", token)
    published(server, tmp_path, name, "1.0.0", token)
    data = published(server, tmp_path, name, "1.1.0", token, dependencies={dep: "^3.0.0"},
                     package_json_extra={"keywords": ["alpha", "beta"]})
    published(server, tmp_path, name, "2.0.0-rc.1", token, tag="next")
    home = client_home(tmp_path, server, None)
    doc = json.loads(run("npm", ["view", name, "--json"], home).stdout)
    assert doc["name"] == name and doc["version"] == "1.1.0"
    assert doc["description"] == f"{name} for the e2e tests"
    assert doc["dist-tags"] == {"latest": "1.1.0", "next": "2.0.0-rc.1"}
    assert doc["versions"] == ["1.0.0", "1.1.0", "2.0.0-rc.1"]
    assert doc["dependencies"] == {dep: "^3.0.0"}
    assert doc["keywords"] == ["alpha", "beta"]
    assert doc["dist"]["integrity"] == nd.integrity_sha512(data)
    assert doc["dist"]["shasum"] == nd.shasum_sha1(data)
    assert doc["dist"]["tarball"] == standard_tarball_url(registry(server), name, "1.1.0")
    assert {"created", "modified", "1.0.0", "1.1.0", "2.0.0-rc.1"} <= set(doc["time"])
    assert token_name in json.dumps(doc["maintainers"])
    one = run("npm", ["view", f"{name}@1.0.0", "version"], home).stdout.strip()
    assert one == "1.0.0"
    nxt = run("npm", ["view", f"{name}@next", "version"], home).stdout.strip()
    assert nxt == "2.0.0-rc.1"
    missing = run("npm", ["view", uniq("view-missing")], home, check=False)
    assert missing.returncode != 0 and "404" in output(missing), output(missing)


def test_npm_whoami_prints_token_name(server, tmp_path):
    name = f"whoami-bot-{uuid.uuid4().hex[:6]}"
    token = server.token("read", name=name)
    home = client_home(tmp_path, server, token)
    assert run("npm", ["whoami"], home).stdout.strip() == name
    r = server.get("/npm/-/whoami", bearer_auth(token))
    assert r.status == 200 and r.json() == {"username": name}, (r.status, r.text[:200])
    assert server.get("/npm/-/whoami").status == 401
    assert server.get("/npm/-/whoami", bearer_auth("pipy-not-a-token")).status == 401
    anon = client_home(tmp_path, server, None, sub="anon")
    assert run("npm", ["whoami"], anon, check=False).returncode != 0


def test_npm_ping(server, tmp_path):
    home = client_home(tmp_path, server, None)
    proc = run("npm", ["ping"], home)
    assert "PONG" in output(proc), output(proc)


def test_npm_search_prints_name_version_description(server, publisher, tmp_path):
    token, token_name = publisher
    word = uuid.uuid4().hex[:10]
    name = f"search-{word}"
    published(server, tmp_path, name, "1.0.0", token,
              package_json_extra={"description": f"finds {word} things",
                                  "keywords": ["pipy", word]})
    published(server, tmp_path, name, "1.2.3", token,
              package_json_extra={"description": f"finds {word} things",
                                  "keywords": ["pipy", word]})
    published(server, tmp_path, f"@acme/search-{word}-two", "0.1.0", token)
    home = client_home(tmp_path, server, None)
    out = run("npm", ["search", word], home).stdout
    assert name in out and "1.2.3" in out and f"finds {word}" in out, out
    assert "???" not in out and "prehistoric" not in out, out  # real publisher and date
    npm_major = int(run("npm", ["--version"], home).stdout.strip().split(".")[0])
    if npm_major >= 10:
        # npm 10+ prints the publisher in full; npm 9's table cuts long cells.
        assert token_name in out and f"finds {word} things" in out, out
    # Untruncated with any npm: the fields as the registry gave them.
    out = run("npm", ["search", "--parseable", word], home).stdout
    assert name in out and "1.2.3" in out and f"finds {word} things" in out, out

    r = server.get(f"/npm/-/v1/search?text={word}&size=20&from=0")
    assert r.status == 200, (r.status, r.reason, r.text[:300])
    res = r.json()
    pkgs = {o["package"]["name"]: o["package"] for o in res["objects"]}
    assert set(pkgs) == {name, f"@acme/search-{word}-two"}
    assert res["total"] == 2
    p = pkgs[name]
    assert p["version"] == "1.2.3" and p["description"] == f"finds {word} things"
    assert p["keywords"] == ["pipy", word]
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", p["date"]), p
    assert p["publisher"]["username"] == token_name
    assert isinstance(p["maintainers"], list) and p["maintainers"]
    assert all(m.get("username") for m in p["maintainers"]), p["maintainers"]
    one = server.get(f"/npm/-/v1/search?text={word}&size=1&from=0").json()
    two = server.get(f"/npm/-/v1/search?text={word}&size=1&from=1").json()
    assert len(one["objects"]) == 1 and len(two["objects"]) == 1
    assert one["objects"][0]["package"]["name"] != two["objects"][0]["package"]["name"]
    none = server.get(f"/npm/-/v1/search?text=nomatch{uuid.uuid4().hex}&size=20").json()
    assert none["objects"] == [] and none["total"] == 0


def test_npm_install_and_audit_report_no_vulnerabilities(server, publisher, tmp_path):
    token, _ = publisher
    leaf = f"@acme/{uniq('audit-leaf')}"
    top = uniq("audit-top")
    published(server, tmp_path, leaf, "1.0.0", token)
    published(server, tmp_path, top, "1.0.0", token, dependencies={leaf: "^1.0.0"})
    home = client_home(tmp_path, server, token, audit=True)
    proj = home / "proj"
    proj.mkdir()
    (proj / "package.json").write_text(json.dumps(
        {"name": "app", "version": "1.0.0", "private": True, "dependencies": {top: "1.0.0"}}))
    inst = run("npm", ["install"], home, cwd=proj)
    assert "found 0 vulnerabilities" in output(inst), output(inst)
    audit = run("npm", ["audit"], home, cwd=proj, check=False)
    assert audit.returncode == 0, output(audit)
    assert "found 0 vulnerabilities" in output(audit), output(audit)
    js = json.loads(run("npm", ["audit", "--json"], home, cwd=proj).stdout)
    assert js["metadata"]["vulnerabilities"]["total"] == 0, js


def test_advisories_bulk_answers_empty_for_plain_and_gzip(server, publisher, tmp_path):
    token, _ = publisher
    name = uniq("bulk")
    published(server, tmp_path, name, "1.0.0", token)
    query = json.dumps({name: ["1.0.0"]}).encode()
    for body, extra in ((query, {}), (gzip.compress(query), {"Content-Encoding": "gzip"})):
        r = server.request("POST", "/npm/-/npm/v1/security/advisories/bulk", body=body,
                           headers={"Content-Type": "application/json", **extra})
        assert r.status == 200, (r.status, r.reason, r.text[:200])
        assert r.json() == {}


class _Interactive:
    """Runs a client and answers its prompts as they appear on stdout (npm reads each
    answer with a fresh readline, so all input at once loses the password)."""

    def __init__(self, args, home: Path):
        self.proc = subprocess.Popen([nd.client_bin("npm"), *args], cwd=home,
                                     env=nd.npm_env(home), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.seen = b""

    def answer(self, prompt: str, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while prompt.encode() not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"no {prompt!r} prompt; got {self.seen!r}"
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 4096)
                assert chunk, f"exited before {prompt!r}: {self.seen!r}"
                self.seen += chunk
        self.seen = self.seen.split(prompt.encode(), 1)[1]
        self.proc.stdin.write(text.encode() + b"\n")
        self.proc.stdin.flush()

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, (self.seen + out + err).decode("utf-8", "replace")


def test_npm_login_with_a_token_as_password(server, tmp_path):
    name = f"login-bot-{uuid.uuid4().hex[:6]}"
    token = server.token("read", name=name)
    home = client_home(tmp_path, server, None)
    # npm 10+'s default (web) login: POST /-/v1/login gets 404, npm falls back to CouchDB.
    # npm 9 stops at the 404 ("Web login not supported") and is told --auth-type=legacy.
    npm_major = int(run("npm", ["--version"], home).stdout.strip().split(".")[0])
    login = _Interactive(["login"] if npm_major >= 10 else ["login", "--auth-type=legacy"],
                         home)
    login.answer("Username:", "anybody")
    login.answer("Password:", token)
    rc, out = login.finish()
    assert rc == 0, out
    rc_text = (home / ".npmrc").read_text()
    assert f"{nd.nerf_dart(registry(server))}:_authToken={token}" in rc_text, rc_text
    assert run("npm", ["whoami"], home).stdout.strip() == name

    bad_home = client_home(tmp_path, server, None, sub="bad")
    login = _Interactive(["login", "--auth-type=legacy"], bad_home)
    login.answer("Username:", "anybody")
    login.answer("Password:", "pipy-not-a-token")
    rc, out = login.finish()
    assert rc != 0, out
    assert "_authToken" not in (bad_home / ".npmrc").read_text()


def test_couchdb_login_flow_over_http(server):
    token = server.token("read", name=f"couch-{uuid.uuid4().hex[:6]}")
    path = "/npm/-/user/org.couchdb.user:whoever"
    body = {"_id": "org.couchdb.user:whoever", "name": "whoever", "password": token,
            "type": "user", "roles": [], "date": "2026-01-01T00:00:00.000Z"}
    r = put_json(server, path, body, None)
    assert r.status == 201, (r.status, r.reason, r.text[:200])
    assert r.json()["token"] == token
    r = put_json(server, path, {**body, "password": "pipy-wrong"}, None)
    assert r.status == 401, (r.status, r.reason, r.text[:200])
    assert "pipy-wrong" not in r.text
    r = put_json(server, path, {**body, "password": token[:-1]}, None)
    assert r.status == 401, (r.status, r.reason)
    r = server.request("POST", "/npm/-/v1/login", body=b"{}",
                       headers={"Content-Type": "application/json"})
    assert r.status == 404, (r.status, r.reason)


# === packuments over HTTP ===============================================================
def test_full_packument_fields(server, tmp_path):
    t1 = server.token("upload:*", name=f"maint-a-{uuid.uuid4().hex[:6]}")
    name = f"@acme/{uniq('full')}"
    published(server, tmp_path, name, "1.0.0", t1, readme="# Full\n\nHello readme.\n")
    n2 = f"maint-b-{uuid.uuid4().hex[:6]}"
    t2 = server.token("upload:@acme/*", name=n2)
    published(server, tmp_path, name, "1.1.0", t2, readme="# Full\n\nHello readme.\n")
    r = packument(server, name, "application/json")
    assert r.status == 200
    assert r.header("Content-Type", "").split(";")[0].strip() == "application/json"
    doc = r.json()
    assert {"_id", "_rev", "name", "dist-tags", "versions", "time", "readme",
            "maintainers"} <= set(doc)
    assert doc["_id"] == doc["name"] == name
    assert isinstance(doc["_rev"], str) and doc["_rev"]
    assert "Hello readme." in doc["readme"]
    assert doc["dist-tags"] == {"latest": "1.1.0"}
    assert set(doc["versions"]) == {"1.0.0", "1.1.0"}
    names = [m["name"] for m in doc["maintainers"]]
    assert len(names) == 2 and n2 in names, doc["maintainers"]
    t = doc["time"]
    assert {"created", "modified", "1.0.0", "1.1.0"} <= set(t)
    iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]00:00)$")
    assert all(iso.match(t[k]) for k in ("created", "modified", "1.0.0", "1.1.0")), t
    assert t["created"] <= t["1.0.0"] <= t["1.1.0"] <= t["modified"], t
    v = doc["versions"]["1.1.0"]
    assert v["name"] == name and v["version"] == "1.1.0"
    assert v.get("_id", f"{name}@1.1.0") == f"{name}@1.1.0"
    assert v["main"] == "index.js" and v["license"] == "MIT"


def test_maintainers_name_the_publishing_token(server, tmp_path):
    tname = f"maint-{uuid.uuid4().hex[:6]}"
    token = server.token("upload:*", name=tname)
    name = uniq("maint")
    published(server, tmp_path, name, "1.0.0", token)
    assert [m["name"] for m in full_doc(server, name)["maintainers"]] == [tname]


@pytest.mark.parametrize("accept,abbreviated", [
    (NPM_ACCEPT, True),
    (ABBREVIATED, True),
    (f"application/json; q=0.5, {ABBREVIATED}", True),
    ("application/json", False),
    (None, False),
    ("*/*", False),
    (f"{ABBREVIATED}; q=0.1, application/json", False),
    (f"{ABBREVIATED}; q=0, application/json", False),
])
def test_accept_chooses_full_or_abbreviated(server, publisher, tmp_path, accept, abbreviated):
    token, _ = publisher
    name = uniq("accept")
    published(server, tmp_path, name, "1.0.0", token, readme="# R\n",
              dependencies={"left-pad": "^1.0.0"})
    r = packument(server, name, accept)
    assert r.status == 200, (r.status, r.reason)
    assert "accept" in (r.header("Vary") or "").lower(), r.header("Vary")
    ctype = (r.header("Content-Type") or "").split(";")[0].strip()
    doc = r.json()
    if abbreviated:
        assert ctype == ABBREVIATED, ctype
        assert {"name", "dist-tags", "versions", "modified", "time"} <= set(doc), set(doc)
        assert "readme" not in doc and "_rev" not in doc, set(doc)
        v = doc["versions"]["1.0.0"]
        assert {"name", "version", "dist", "dependencies"} <= set(v), set(v)
        assert "readme" not in v, set(v)
        assert v["dependencies"] == {"left-pad": "^1.0.0"}
        assert {"created", "modified", "1.0.0"} <= set(doc["time"])
    else:
        assert ctype == "application/json", ctype
        assert {"_id", "_rev", "readme", "maintainers", "time"} <= set(doc), set(doc)
    assert {"tarball", "shasum", "integrity"} <= set(doc["versions"]["1.0.0"]["dist"])


def test_etag_and_304_and_rev_changes(server, publisher, tmp_path):
    token, _ = publisher
    name = f"@acme/{uniq('etag')}"
    published(server, tmp_path, name, "1.0.0", token)
    for accept in ("application/json", NPM_ACCEPT):
        r = packument(server, name, accept)
        etag = r.header("ETag")
        assert etag, "packuments carry an ETag"
        again = packument(server, name, accept, headers={"If-None-Match": etag})
        assert again.status == 304, (accept, again.status)
        assert again.body == b""
        assert packument(server, name, accept, headers={"If-None-Match": '"nope"'}).status == 200

    first = packument(server, name)
    rev1, etag1 = first.json()["_rev"], first.header("ETag")
    assert packument(server, name).json()["_rev"] == rev1  # stable while nothing changes
    published(server, tmp_path, name, "1.1.0", token)
    second = packument(server, name, headers={"If-None-Match": etag1})
    assert second.status == 200 and set(second.json()["versions"]) == {"1.0.0", "1.1.0"}
    rev2 = second.json()["_rev"]
    assert rev2 != rev1 and second.header("ETag") != etag1

    r = put_json(server, f"/npm/-/package/{esc(name)}/dist-tags/beta", json.dumps("1.0.0").encode(),
                 token)
    assert r.status in (200, 201), (r.status, r.reason, r.text[:200])
    third = packument(server, name)
    assert third.json()["dist-tags"] == {"latest": "1.1.0", "beta": "1.0.0"}
    assert third.json()["_rev"] not in (rev1, rev2)
    abbr = packument(server, name, NPM_ACCEPT).json()
    assert abbr["dist-tags"] == {"latest": "1.1.0", "beta": "1.0.0"}  # not a stale cache


def test_scope_spellings_and_version_or_tag(server, publisher, tmp_path):
    token, _ = publisher
    name = f"@acme/{uniq('spell')}"
    published(server, tmp_path, name, "1.0.0", token)
    published(server, tmp_path, name, "1.1.0", token)
    published(server, tmp_path, name, "2.0.0-beta.1", token, tag="beta")
    docs = []
    for spelling in ("%2f", "%2F", "/"):
        r = packument(server, name, "application/json", spelling)
        assert r.status == 200, (spelling, r.status, r.reason)
        docs.append(r.json())
        r = packument(server, name, NPM_ACCEPT, spelling)
        assert r.status == 200 and r.json()["name"] == name, spelling
        for ref, want in (("1.0.0", "1.0.0"), ("latest", "1.1.0"), ("beta", "2.0.0-beta.1")):
            r = server.get(f"/npm/{esc(name, spelling)}/{ref}")
            assert r.status == 200, (spelling, ref, r.status, r.reason)
            m = r.json()
            assert m["name"] == name and m["version"] == want, (spelling, ref, m)
            assert {"tarball", "shasum", "integrity"} <= set(m["dist"])
    assert docs[0] == docs[1] == docs[2]
    assert server.get(f"/npm/{esc(name)}/9.9.9").status == 404
    assert server.get(f"/npm/{esc(name)}/nosuchtag").status == 404


def test_unknown_package_is_404(server):
    for path in (f"/npm/{uniq('nope')}", f"/npm/@acme%2f{uniq('nope')}",
                 f"/npm/@acme/{uniq('nope')}", f"/npm/{uniq('nope')}/1.0.0",
                 f"/npm/{uniq('nope')}/-/x-1.0.0.tgz"):
        for accept in ("application/json", NPM_ACCEPT):
            r = server.get(path, {"Accept": accept})
            assert r.status == 404, (path, r.status, r.reason)


def test_tarball_url_digests_and_caching(server, publisher, tmp_path):
    token, _ = publisher
    name = f"@acme/{uniq('log')}"
    data = published(server, tmp_path, name, "1.0.0", token)
    host = "pipy.example.test:8080"
    for accept in ("application/json", NPM_ACCEPT):
        doc = packument(server, name, accept, headers={"Host": host}).json()
        dist = doc["versions"]["1.0.0"]["dist"]
        want = f"http://{host}/npm/{name}/-/{nd.basename(name)}-1.0.0.tgz"
        assert dist["tarball"] == want, (accept, dist["tarball"])
        assert dist["shasum"] == nd.shasum_sha1(data)
        assert dist["integrity"] == nd.integrity_sha512(data)
    one = server.get(f"/npm/{esc(name)}/1.0.0", {"Host": host}).json()
    assert one["dist"]["tarball"] == f"http://{host}/npm/{name}/-/{nd.basename(name)}-1.0.0.tgz"

    dist = full_doc(server, name)["versions"]["1.0.0"]["dist"]
    assert dist["tarball"] == standard_tarball_url(registry(server), name, "1.0.0")
    t = server.get(tarball_path(server, dist))
    assert t.status == 200 and t.body == data
    assert t.header("Cache-Control") == IMMUTABLE, t.header("Cache-Control")
    assert t.header("ETag")
    assert server.get(f"/npm/{name}/-/{nd.basename(name)}-9.9.9.tgz").status == 404


def test_tarball_url_uses_public_url(server_factory_module, tmp_path):
    s = server_factory_module('[server]\npublic_url = "https://pipy.internal/"\n')
    token = s.token("upload:*")
    name = f"@acme/{uniq('pub')}"
    data = published(s, tmp_path, name, "1.0.0", token)
    for accept in ("application/json", NPM_ACCEPT):
        doc = packument(s, name, accept, headers={"Host": "elsewhere.test"}).json()
        dist = doc["versions"]["1.0.0"]["dist"]
        assert dist["tarball"] == f"https://pipy.internal/npm/{name}/-/{nd.basename(name)}-1.0.0.tgz"
    t = s.get(f"/npm/{name}/-/{nd.basename(name)}-1.0.0.tgz")
    assert t.status == 200 and t.body == data


# === publishing over HTTP ===============================================================
def test_identical_republish_succeeds_and_changes_nothing(server, publisher, tmp_path):
    token, _ = publisher
    name = uniq("same")
    tgz = nd.make_npm_tarball(tmp_path, name, "1.0.0")
    body = nd.publish_body(name, "1.0.0", tgz, registry_url=registry(server))
    assert put_json(server, f"/npm/{name}", body, token).status in (200, 201)
    before = packument(server, name)
    again = put_json(server, f"/npm/{name}", body, token)
    assert again.status in (200, 201), (again.status, again.reason, again.text[:200])
    after = packument(server, name)
    assert after.body == before.body
    assert after.header("ETag") == before.header("ETag")


def test_other_bytes_for_a_version_is_409(server, publisher, tmp_path):
    token, _ = publisher
    name = f"@acme/{uniq('clash')}"
    data = published(server, tmp_path, name, "1.0.0", token)
    before = full_doc(server, name)
    res, other = publish(server, tmp_path, name, "1.0.0", token,
                         files={"extra.js": "different bytes"})
    assert other != data
    assert res.status == 409, (res.status, res.reason, res.text[:200])
    assert res.reason.strip()
    after = full_doc(server, name)
    assert after == before
    t = server.get(tarball_path(server, after["versions"]["1.0.0"]["dist"]))
    assert t.body == data


def test_body_dist_tags_are_applied(server, publisher, tmp_path):
    token, _ = publisher
    name = uniq("bodytags")
    published(server, tmp_path, name, "1.0.0", token)
    published(server, tmp_path, name, "2.0.0-beta.1", token, tag="beta")
    assert full_doc(server, name)["dist-tags"] == {"latest": "1.0.0", "beta": "2.0.0-beta.1"}
    published(server, tmp_path, name, "1.1.0", token)
    assert full_doc(server, name)["dist-tags"] == {"latest": "1.1.0", "beta": "2.0.0-beta.1"}


def test_dist_tags_over_http(server, publisher, tmp_path):
    token, _ = publisher
    name = f"@acme/{uniq('rawtags')}"
    published(server, tmp_path, name, "1.0.0", token)
    published(server, tmp_path, name, "1.1.0", token)
    base = f"/npm/-/package/{esc(name)}/dist-tags"
    r = server.get(base)
    assert r.status == 200 and r.json() == {"latest": "1.1.0"}, (r.status, r.text[:200])
    v100 = json.dumps("1.0.0").encode()
    assert put_json(server, f"{base}/old", v100, None).status == 401
    assert put_json(server, f"{base}/old", v100, server.token("read")).status == 403
    assert put_json(server, f"{base}/old", v100, server.token("upload:other-*")).status == 403
    assert server.get(base).json() == {"latest": "1.1.0"}
    r = put_json(server, f"{base}/old", v100, server.token("upload:@acme/*"))
    assert r.status in (200, 201), (r.status, r.reason)
    assert server.get(base).json() == {"latest": "1.1.0", "old": "1.0.0"}
    r = put_json(server, f"{base}/bad", json.dumps("9.9.9").encode(), token)
    assert 400 <= r.status < 500, (r.status, r.reason)
    r = server.request("DELETE", f"{base}/old", headers=bearer_auth(server.token("read")))
    assert r.status == 403
    r = server.request("DELETE", f"{base}/old", headers=bearer_auth(token))
    assert r.status in (200, 204), (r.status, r.reason)
    assert server.get(base).json() == {"latest": "1.1.0"}
    assert server.get(f"/npm/-/package/{uniq('nope')}/dist-tags").status == 404


def test_upload_scopes(server, tmp_path):
    acme = server.token("upload:@acme/*")
    ok, _ = publish(server, tmp_path, f"@acme/{uniq('scoped-ok')}", "1.0.0", acme)
    assert ok.status in (200, 201), (ok.status, ok.reason)
    for name in (f"@other/{uniq('scoped')}", uniq("plain"), f"@acmex/{uniq('near')}"):
        res, _ = publish(server, tmp_path, name, "1.0.0", acme)
        assert res.status == 403, (name, res.status, res.reason)
        assert packument(server, name).status == 404
    glob = server.token("upload:acme-*")
    ok, _ = publish(server, tmp_path, uniq("acme-glob"), "1.0.0", glob)
    assert ok.status in (200, 201), (ok.status, ok.reason)
    bad, _ = publish(server, tmp_path, uniq("other-glob"), "1.0.0", glob)
    assert bad.status == 403
    name = uniq("tokless")
    res, _ = publish(server, tmp_path, name, "1.0.0", server.token("read"))
    assert res.status == 403
    tgz = nd.make_npm_tarball(tmp_path / "anon", name, "1.0.0")
    body = nd.publish_body(name, "1.0.0", tgz, registry_url=registry(server))
    assert put_json(server, f"/npm/{name}", body, None).status == 401
    assert put_json(server, f"/npm/{name}", body, "pipy-not-a-token").status == 401
    assert packument(server, name).status == 404


def test_unpublish_over_http_is_admin_only(server, publisher, admin, tmp_path):
    token, _ = publisher
    name = f"@acme/{uniq('rawunpub')}"
    published(server, tmp_path, name, "1.0.0", token)
    published(server, tmp_path, name, "1.1.0", token)
    doc = full_doc(server, name)
    rev = doc["_rev"]
    # What libnpmpublish's unpublish PUTs: the packument minus the version (time kept).
    without = json.loads(json.dumps(doc))
    dist = without["versions"].pop("1.0.0")["dist"]
    path = f"/npm/{esc(name)}/-rev/{rev}"
    for tok in (token, server.token("upload:@acme/*")):
        assert put_json(server, path, without, tok).status == 403
        r = server.request("DELETE", path, headers=bearer_auth(tok))
        assert r.status == 403, (r.status, r.reason)
    assert server.request("DELETE", path).status == 401
    assert full_doc(server, name) == doc

    # Admin: the -rev flow npm uses for one version (PUT without it, then DELETE its file).
    r = put_json(server, path, without, admin[0])
    assert r.status in (200, 201), (r.status, r.reason, r.text[:200])
    doc2 = full_doc(server, name)
    assert set(doc2["versions"]) == {"1.1.0"} and doc2["_rev"] != rev
    # npm derives the file's path from dist.tarball (the standard layout's @scope/name).
    r = server.request("DELETE", f"{tarball_path(server, dist)}/-rev/{doc2['_rev']}",
                       headers=bearer_auth(admin[0]))
    assert r.status in (200, 204), (r.status, r.reason)
    assert server.get(tarball_path(server, dist)).status == 404
    res, _ = publish(server, tmp_path, name, "1.0.0", token)
    assert res.status == 409

    # The whole package.
    rev3 = full_doc(server, name)["_rev"]
    r = server.request("DELETE", f"/npm/{esc(name)}/-rev/{rev3}", headers=bearer_auth(admin[0]))
    assert r.status == 200, (r.status, r.reason)
    assert packument(server, name).status == 404
    assert server.get(f"/npm/{name}/-/{nd.basename(name)}-1.1.0.tgz").status == 404
    res, _ = publish(server, tmp_path, name, "1.1.0", token)
    assert res.status == 409  # 1.1.0 is a tombstone too
    published(server, tmp_path, name, "3.0.0", token)
    assert list(full_doc(server, name)["versions"]) == ["3.0.0"]


def test_scoped_publish_url_spellings(server, publisher, tmp_path):
    """pnpm escapes the scope as %2F, npm as %2f; both publish the same package."""
    token, _ = publisher
    name = f"@acme/{uniq('pubspell')}"
    for version, spelling in (("1.0.0", "%2f"), ("1.1.0", "%2F")):
        tgz = nd.make_npm_tarball(tmp_path / version, name, version)
        body = nd.publish_body(name, version, tgz, registry_url=registry(server))
        r = put_json(server, "/npm/" + esc(name, spelling), body, token)
        assert r.status in (200, 201), (spelling, r.status, r.reason, r.text[:200])
    assert set(full_doc(server, name)["versions"]) == {"1.0.0", "1.1.0"}


def test_name_of_214_characters_is_accepted(server, publisher, tmp_path):
    token, _ = publisher
    name = uniq("long")
    name = name + "x" * (214 - len(name))
    published(server, tmp_path, name, "1.0.0", token)
    assert full_doc(server, name)["name"] == name


# === more of the contract: isolation, caching, the neutral publish path ================
def test_same_basename_in_different_scopes_keeps_tarballs_apart(server, publisher, tmp_path):
    token, _ = publisher
    base = uniq("twin")
    names = [base, f"@acme/{base}", f"@other/{base}"]
    datas = {n: published(server, tmp_path, n, "1.0.0", token,
                          files={"who.js": f"module.exports = {json.dumps(n)};\n"})
             for n in names}
    assert len(set(datas.values())) == 3
    for n in names:
        dist = full_doc(server, n)["versions"]["1.0.0"]["dist"]
        assert dist["integrity"] == nd.integrity_sha512(datas[n])
        t = server.get(tarball_path(server, dist))
        assert t.status == 200 and t.body == datas[n], n
    # A tarball is only reachable under its own package's path.
    other = uniq("twin-other")
    for path in (f"/npm/{other}/-/{base}-1.0.0.tgz", f"/npm/@nobody/{base}/-/{base}-1.0.0.tgz",
                 f"/npm/@acme/{other}/-/{base}-1.0.0.tgz"):
        assert server.get(path).status == 404, path


def test_tarball_url_in_body_is_ignored(server, publisher, tmp_path):
    token, _ = publisher
    name = uniq("evil-url")
    tgz = nd.make_npm_tarball(tmp_path, name, "1.0.0")
    body = nd.publish_body(name, "1.0.0", tgz, registry_url=registry(server))
    body["versions"]["1.0.0"]["dist"]["tarball"] = "http://evil.example/steal.tgz"
    r = put_json(server, f"/npm/{name}", body, token)
    assert r.status in (200, 201), (r.status, r.reason)
    for accept in ("application/json", NPM_ACCEPT):
        dist = packument(server, name, accept).json()["versions"]["1.0.0"]["dist"]
        assert dist["tarball"] == standard_tarball_url(registry(server), name, "1.0.0")
    assert "evil.example" not in packument(server, name).text
    assert "evil.example" not in server.get(f"/npm/{name}/1.0.0").text


def test_cached_packument_follows_each_requests_host(server, publisher, tmp_path):
    token, _ = publisher
    name = f"@acme/{uniq('hosts')}"
    published(server, tmp_path, name, "1.0.0", token)
    tail = f"/npm/{name}/-/{nd.basename(name)}-1.0.0.tgz"
    for _round in range(2):
        for host in ("a.example.test:1111", "b.example.test", f"127.0.0.1:{server.port}"):
            for accept in ("application/json", NPM_ACCEPT):
                doc = packument(server, name, accept, headers={"Host": host}).json()
                assert doc["versions"]["1.0.0"]["dist"]["tarball"] == f"http://{host}{tail}"


@pytest.mark.parametrize("host", ['x"y', "a.test\\", "a.test/../..", "<b>"])
def test_hostile_host_header_never_breaks_the_packument(server, publisher, tmp_path, host):
    token, _ = publisher
    name = uniq("badhost")
    published(server, tmp_path, name, "1.0.0", token)
    r = packument(server, name, headers={"Host": host})
    assert r.status < 500, (r.status, r.reason)
    if r.status == 200:
        doc = r.json()  # still valid JSON
        assert doc["versions"]["1.0.0"]["dist"]["tarball"].endswith(
            f"/npm/{name}/-/{name}-1.0.0.tgz")
    assert packument(server, name).status == 200


def test_npm_sees_a_new_version_at_once(server, publisher, tmp_path):
    token, _ = publisher
    name = uniq("fresh")
    published(server, tmp_path, name, "1.0.0", token)
    home = client_home(tmp_path, server, None)
    assert run("npm", ["view", name, "version"], home).stdout.strip() == "1.0.0"
    published(server, tmp_path, name, "1.1.0", token)
    assert run("npm", ["view", name, "version"], home).stdout.strip() == "1.1.0"
    proj = home / "proj"
    proj.mkdir()
    (proj / "package.json").write_text(json.dumps({"name": "app", "version": "1.0.0",
                                                   "private": True}))
    run("npm", ["install", f"{name}@latest"], home, cwd=proj)
    assert json.loads((proj / "node_modules" / name / "package.json").read_text())[
        "version"] == "1.1.0"


def test_npm_unpublish_of_latest_moves_latest(server, publisher, admin, tmp_path):
    token, _ = publisher
    name = uniq("unpub-latest")
    published(server, tmp_path, name, "1.0.0", token)
    published(server, tmp_path, name, "1.1.0", token)
    published(server, tmp_path, name, "2.0.0-beta.1", token, tag="beta")
    home = client_home(tmp_path, server, admin[0])
    run("npm", ["unpublish", f"{name}@1.1.0"], home)
    doc = full_doc(server, name)
    assert set(doc["versions"]) == {"1.0.0", "2.0.0-beta.1"}
    assert doc["dist-tags"]["latest"] in doc["versions"]
    assert doc["dist-tags"]["beta"] == "2.0.0-beta.1"
    run("npm", ["unpublish", f"{name}@2.0.0-beta.1"], home)
    doc = full_doc(server, name)
    assert set(doc["versions"]) == {"1.0.0"}
    assert all(v in doc["versions"] for v in doc["dist-tags"].values()), doc["dist-tags"]


def test_unpublish_put_leaving_a_dangling_dist_tag(server, publisher, admin, tmp_path):
    """A -rev PUT that drops a version but keeps a tag on it: refused, or the tag goes
    too; never a dist-tag naming a version that is gone."""
    token, _ = publisher
    name = uniq("dangling")
    published(server, tmp_path, name, "1.0.0", token)
    published(server, tmp_path, name, "1.1.0", token)
    put_json(server, f"/npm/-/package/{name}/dist-tags/old", json.dumps("1.0.0").encode(), token)
    doc = full_doc(server, name)
    without = json.loads(json.dumps(doc))
    del without["versions"]["1.0.0"]
    r = put_json(server, f"/npm/{name}/-rev/{doc['_rev']}", without, admin[0])
    assert r.status < 500, (r.status, r.reason)
    after = full_doc(server, name)
    if 400 <= r.status < 500:
        assert after == doc
    assert all(v in after["versions"] for v in after["dist-tags"].values()), after["dist-tags"]
    tags = server.get(f"/npm/-/package/{name}/dist-tags").json()
    assert all(v in after["versions"] for v in tags.values()), tags


def test_packument_put_without_a_version_is_not_an_unpublish(server, publisher, tmp_path):
    """Only the admin -rev flow removes versions: a plain PUT /npm/<name> (npm deprecate's
    request) that leaves one out is refused and removes nothing."""
    token, _ = publisher
    name = uniq("sneaky")
    published(server, tmp_path, name, "1.0.0", token)
    published(server, tmp_path, name, "1.1.0", token)
    doc = full_doc(server, name)
    without = json.loads(json.dumps(doc))
    del without["versions"]["1.0.0"]
    r = put_json(server, f"/npm/{name}", without, token)
    assert 400 <= r.status < 500, (r.status, r.reason)
    assert full_doc(server, name) == doc


@pytest.mark.parametrize("change", ["tarball", "integrity", "add-version", "readme-only"])
def test_deprecate_put_may_change_only_deprecated(server, publisher, tmp_path, change):
    token, _ = publisher
    name = uniq(f"depr-{change}")
    published(server, tmp_path, name, "1.0.0", token)
    before = full_doc(server, name)
    doc = json.loads(json.dumps(before))
    v = doc["versions"]["1.0.0"]
    v["deprecated"] = "old"
    if change == "tarball":
        v["dist"]["tarball"] = "http://evil.example/x.tgz"
    elif change == "integrity":
        v["dist"]["integrity"] = nd.integrity_sha512(b"evil")
        v["dist"]["shasum"] = nd.shasum_sha1(b"evil")
    elif change == "add-version":
        doc["versions"]["1.0.1"] = {**json.loads(json.dumps(v)), "version": "1.0.1",
                                    "_id": f"{name}@1.0.1"}
    else:
        v["readme"] = "# changed"
    r = put_json(server, f"/npm/{name}", doc, token)
    assert r.status == 400, (r.status, r.reason, r.text[:200])
    after = full_doc(server, name)
    assert after == before
    assert server.get(f"/npm/{name}/1.0.1").status == 404


def test_npm_deprecate_a_range(server, publisher, tmp_path):
    token, _ = publisher
    name = f"@acme/{uniq('deprange')}"
    for v in ("1.0.0", "1.1.0", "2.0.0"):
        published(server, tmp_path, name, v, token)
    home = client_home(tmp_path, server, token)
    run("npm", ["deprecate", f"{name}@<2", "upgrade to 2"], home)
    doc = full_doc(server, name)
    assert [doc["versions"][v].get("deprecated") for v in ("1.0.0", "1.1.0", "2.0.0")] == \
        ["upgrade to 2", "upgrade to 2", None]


def test_whole_package_unpublish_drops_it_everywhere(server, publisher, admin, tmp_path):
    token, _ = publisher
    word = uuid.uuid4().hex[:10]
    name = f"gone-{word}"
    published(server, tmp_path, name, "1.0.0", token)
    assert server.get(f"/npm/-/v1/search?text={word}").json()["total"] == 1
    rev = full_doc(server, name)["_rev"]
    r = server.request("DELETE", f"/npm/{name}/-rev/{rev}", headers=bearer_auth(admin[0]))
    assert r.status in (200, 204), (r.status, r.reason)
    assert packument(server, name).status == 404
    assert packument(server, name, NPM_ACCEPT).status == 404
    assert server.get(f"/npm/{name}/1.0.0").status == 404
    assert server.get(f"/npm/{name}/latest").status == 404
    assert server.get(f"/npm/-/package/{name}/dist-tags").status == 404
    res = server.get(f"/npm/-/v1/search?text={word}").json()
    assert res["total"] == 0 and res["objects"] == [], res


def test_npm_and_python_projects_of_one_name_are_separate(server, tmp_path):
    from pydists import make_wheel, upload
    name = uniq("pipynpm-twin")
    token = server.token("upload:pipynpm-twin-*")
    w = make_wheel(tmp_path / "py", name, "1.0")
    assert upload(server, w, token).status == 200
    res, data = publish(server, tmp_path, name, "1.0.0", token)
    assert res.status in (200, 201), (res.status, res.reason, res.text[:200])
    doc = full_doc(server, name)
    assert list(doc["versions"]) == ["1.0.0"]
    assert list(server.files(name)) == [w.filename]
    t = server.get(tarball_path(server, doc["versions"]["1.0.0"]["dist"]))
    assert t.body == data


def _metric(text: str, name: str) -> float:
    total = 0.0
    for line in text.splitlines():
        m = re.match(rf"{name}(?:\{{.*\}})? (\S+)$", line)
        if m:
            total += float(m.group(1))
    return total


def test_npm_publishes_count_in_metrics(server, publisher, tmp_path):
    token, _ = publisher
    before = _metric(server.get("/metrics").text, "pipy_uploads_total")
    published(server, tmp_path, uniq("metrics"), "1.0.0", token)
    after = _metric(server.get("/metrics").text, "pipy_uploads_total")
    assert after == before + 1, (before, after)


def test_allowlist_fences_the_npm_registry(server_factory_module, tmp_path):
    s = server_factory_module('[access]\nallow = ["10.0.0.0/8"]\n')
    admin_token = s.token("admin")
    name = uniq("fenced")
    res, _ = publish(s, tmp_path, name, "1.0.0", admin_token)
    assert res.status == 403, (res.status, res.reason)
    for path in (f"/npm/{name}", "/npm/-/ping", "/npm/-/whoami", "/npm/-/v1/search?text=x"):
        assert s.get(path, bearer_auth(admin_token)).status == 403, path


def test_private_reads_need_a_token(server_factory_module, tmp_path):
    s = server_factory_module("[access]\nanonymous_read = false\n")
    up = s.token("upload:*")
    name = f"@acme/{uniq('private')}"
    data = published(s, tmp_path, name, "1.0.0", up)
    tail = f"/npm/{name}/-/{nd.basename(name)}-1.0.0.tgz"
    for path in (f"/npm/{esc(name)}", f"/npm/{esc(name)}/1.0.0", tail,
                 f"/npm/-/package/{esc(name)}/dist-tags", "/npm/-/v1/search?text=private"):
        assert s.get(path).status == 401, path
        assert s.get(path, bearer_auth("pipy-not-a-token")).status == 401, path
    read = s.token("read")
    assert s.get(f"/npm/{esc(name)}", bearer_auth(read)).status == 200
    assert s.get(tail, bearer_auth(read)).body == data
    # npm sends the .npmrc token for packuments and tarballs alike.
    home = client_home(tmp_path, s, read)
    proj = home / "proj"
    proj.mkdir()
    (proj / "package.json").write_text(json.dumps(
        {"name": "app", "version": "1.0.0", "private": True, "dependencies": {name: "1.0.0"}}))
    run("npm", ["install"], home, cwd=proj)
    assert (proj / "node_modules" / name / "index.js").exists()
    anon = client_home(tmp_path, s, None, sub="anon")
    (anon / "proj").mkdir()
    shutil.copy(proj / "package.json", anon / "proj" / "package.json")
    fail = run("npm", ["install"], anon, cwd=anon / "proj", check=False)
    assert fail.returncode != 0


def test_publish_with_basic_auth(server, publisher, tmp_path):
    """DESIGN: tokens are sent as basic auth (user __token__) or Bearer; npm's `_auth`
    setting sends basic."""
    from pipyharness import basic_auth
    token, _ = publisher
    name = uniq("basic-auth")
    tgz = nd.make_npm_tarball(tmp_path, name, "1.0.0")
    body = nd.publish_body(name, "1.0.0", tgz, registry_url=registry(server))
    r = server.request("PUT", f"/npm/{name}", body=json.dumps(body).encode(),
                       headers={"Content-Type": "application/json", **basic_auth(token)})
    assert r.status in (200, 201), (r.status, r.reason)
    assert list(full_doc(server, name)["versions"]) == ["1.0.0"]


def test_abbreviated_keeps_what_installers_need(server, publisher, tmp_path):
    """The abbreviated document's version fields per npm's registry docs (package-metadata,
    "Abbreviated metadata format"): what yarn 1 and pnpm install from."""
    token, _ = publisher
    name = uniq("abbr")
    extra = {"bin": {f"{name}-cli": "cli.js"}, "engines": {"node": ">=18"},
             "peerDependencies": {"react": ">=17"}, "optionalDependencies": {"fsevents": "^2"},
             "os": ["linux", "darwin"], "cpu": ["x64", "arm64"],
             "scripts": {"postinstall": "node cli.js"}, "funding": "https://example.test/f"}
    published(server, tmp_path, name, "1.0.0", token, package_json_extra=extra,
              files={"cli.js": "#!/usr/bin/env node\nconsole.log('hi')\n"})
    full = full_doc(server, name)["versions"]["1.0.0"]
    v = packument(server, name, NPM_ACCEPT).json()["versions"]["1.0.0"]
    for key in ("bin", "engines", "peerDependencies", "optionalDependencies", "os", "cpu",
                "funding"):
        assert v.get(key) == extra[key] == full.get(key), (key, v.get(key), full.get(key))
    assert "scripts" not in v or v["scripts"] == extra["scripts"]
    assert v.get("hasInstallScript") is True, "a postinstall script sets hasInstallScript"


@pytest.mark.parametrize("client", CLIENTS)
def test_client_links_an_internal_packages_bin(server, publisher, tmp_path, client):
    token, _ = publisher
    name = f"@acme/{uniq(f'{client}-bin')}"
    cmd = f"hello-{uuid.uuid4().hex[:6]}"
    published(server, tmp_path, name, "1.0.0", token, package_json_extra={"bin": {cmd: "cli.js"}},
              files={"cli.js": "#!/usr/bin/env node\nconsole.log('hello from bin')\n"})
    home = client_home(tmp_path, server, token)
    proj = home / "proj"
    proj.mkdir()
    (proj / "package.json").write_text(json.dumps(
        {"name": "app", "version": "1.0.0", "private": True, "dependencies": {name: "^1.0.0"}}))
    run(client, install_args(client), home, cwd=proj)
    out = subprocess.run([str(proj / "node_modules" / ".bin" / cmd)], capture_output=True,
                         text=True, timeout=30)
    assert out.stdout.strip() == "hello from bin", out.stdout + out.stderr


# --- what a publisher's body may not hide, and npm 9's merged re-publish --------------------

def test_served_manifest_takes_install_fields_from_the_tarball(server, publisher, tmp_path):
    # The body's manifest claims no dependency and no install script; the tarball's
    # package.json has both: what npm install will act on is what the packument shows.
    token, _ = publisher
    name = uniq("confused")
    tgz = nd.make_npm_tarball(tmp_path / "t", name, "1.0.0", dependencies={"left-pad": "1.3.0"},
                              package_json_extra={"scripts": {"postinstall": "node evil.js"}})
    body = nd.publish_body(name, "1.0.0", tgz, registry_url=registry(server))
    manifest = body["versions"]["1.0.0"]
    manifest.pop("dependencies", None)
    manifest["scripts"] = {"test": "true"}
    manifest["dependencies"] = {"harmless": "1.0.0"}
    r = put_json(server, "/npm/" + nd.escaped_name(name), body, token)
    assert r.status in (200, 201), (r.status, r.text)
    full = full_doc(server, name)["versions"]["1.0.0"]
    assert full["dependencies"] == {"left-pad": "1.3.0"}
    assert full["scripts"]["postinstall"] == "node evil.js"
    abbreviated = packument(server, name, "application/vnd.npm.install-v1+json").json()
    assert abbreviated["versions"]["1.0.0"]["hasInstallScript"] is True
    assert abbreviated["versions"]["1.0.0"]["dependencies"] == {"left-pad": "1.3.0"}


def test_merged_republish_of_npm_9_publishes_its_one_new_version(server, publisher, tmp_path):
    # After a 409, npm 9 merges the packument it fetched into its body and PUTs again: every
    # version the package has, plus the new one and its tarball.
    token, _ = publisher
    name = f"@acme/{uniq('merged')}"
    published(server, tmp_path, name, "1.0.0", token)
    current = full_doc(server, name)
    tgz = nd.make_npm_tarball(tmp_path / "m", name, "1.1.0")
    body = nd.publish_body(name, "1.1.0", tgz, registry_url=registry(server))
    body["versions"] = {**current["versions"], **body["versions"]}
    r = put_json(server, "/npm/" + nd.escaped_name(name), body, token)
    assert r.status in (200, 201), (r.status, r.text)
    assert set(full_doc(server, name)["versions"]) == {"1.0.0", "1.1.0"}
    # Two new versions in one body stay refused.
    tgz2 = nd.make_npm_tarball(tmp_path / "n", name, "2.0.0")
    two = nd.publish_body(name, "2.0.0", tgz2, registry_url=registry(server))
    two["versions"]["2.0.1"] = dict(two["versions"]["2.0.0"], version="2.0.1")
    r = put_json(server, "/npm/" + nd.escaped_name(name), two, token)
    assert r.status == 400, (r.status, r.text)
    assert set(full_doc(server, name)["versions"]) == {"1.0.0", "1.1.0"}


def test_an_update_is_applied_whole_or_not_at_all(server, publisher, tmp_path):
    # A -rev update that drops a version (admin only) and deprecates another, sent with an
    # upload token: refused, and the deprecation did not happen either.
    token, _ = publisher
    name = uniq("atomic")
    published(server, tmp_path, name, "1.0.0", token)
    published(server, tmp_path, name, "2.0.0", token)
    doc = full_doc(server, name)
    rev = doc["_rev"]
    del doc["versions"]["1.0.0"]
    doc["versions"]["2.0.0"]["deprecated"] = "no"
    r = put_json(server, f"/npm/{nd.escaped_name(name)}/-rev/{rev}", doc, token)
    assert r.status == 403, (r.status, r.text)
    after = full_doc(server, name)
    assert after["_rev"] == rev
    assert "deprecated" not in after["versions"]["2.0.0"]
    # Dist-tags that look like versions or name no kept version are refused whole too.
    doc = full_doc(server, name)
    doc["dist-tags"]["1.0.0"] = "2.0.0"
    r = put_json(server, f"/npm/{nd.escaped_name(name)}/-rev/{doc['_rev']}", doc, token)
    assert r.status == 400, (r.status, r.text)
    assert "1.0.0" not in full_doc(server, name)["dist-tags"]


def test_tarball_delete_needs_the_current_revision_and_latest_stays(server, publisher, admin,
                                                                     tmp_path):
    token, _ = publisher
    name = uniq("revdel")
    published(server, tmp_path, name, "1.0.0", token)
    published(server, tmp_path, name, "1.1.0", token)
    doc = full_doc(server, name)
    path = tarball_path(server, doc["versions"]["1.0.0"]["dist"])
    r = server.request("DELETE", f"{path}/-rev/1-stale", headers=bearer_auth(admin[0]))
    assert r.status == 409, (r.status, r.text)
    assert "1.0.0" in full_doc(server, name)["versions"]
    r = server.request("DELETE", f"{path}/-rev/{doc['_rev']}", headers=bearer_auth(admin[0]))
    assert r.status == 200, (r.status, r.text)
    assert set(full_doc(server, name)["versions"]) == {"1.1.0"}
    r = server.request("DELETE", f"/npm/-/package/{nd.escaped_name(name)}/dist-tags/latest",
                       headers=bearer_auth(token))
    assert r.status == 400, (r.status, r.text)
    assert full_doc(server, name)["dist-tags"]["latest"] == "1.1.0"
