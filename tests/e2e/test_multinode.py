"""Several nodes serve one repository (DESIGN.md, "Running it"): two `pipy serve` processes,
each with its own --data, on one S3 bucket prefix and one PostgreSQL database. What one node
accepted — files, yanks, tokens, npm versions, dist-tags and deprecations — the other serves
within two seconds; a token revoked or a release taken down on one is refused or gone on the
other; a same-filename race
across both nodes has exactly one winner, whose bytes both serve.

Needs the ctest fixtures "s3" and "postgres" (tests/services/*.sh), whatever
PIPY_E2E_BACKENDS says: the nodes are always given S3 + PostgreSQL.
"""
from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from pipyharness import PipyServer, SharedBackends, basic_auth, bearer_auth, run_cli
from npmdists import escaped_name, integrity_sha512, make_npm_tarball, publish_body
from pydists import make_venv, make_wheel, pip, sha256_of, upload, venv_python

PROPAGATION = 2.0  # seconds: the contract's bound for what one node accepted


@pytest.fixture(scope="module")
def repository():
    """One repository: a bucket prefix and a database, shared by the nodes below."""
    shared = SharedBackends()
    yield shared
    shared.drop()


@pytest.fixture(scope="module")
def node_a(server_factory_module, repository) -> PipyServer:
    return server_factory_module(None, backends=repository)


@pytest.fixture(scope="module")
def node_b(server_factory_module, repository) -> PipyServer:
    return server_factory_module(None, backends=repository)


@pytest.fixture(scope="module")
def token(node_a) -> str:
    return node_a.token("upload:*")


def within(seconds: float, probe, what: str):
    """Polls probe() until it returns a truthy value; fails naming `what` after `seconds`.
    Returns (value, elapsed seconds)."""
    start = time.monotonic()
    while True:
        got = probe()
        elapsed = time.monotonic() - start
        if got:
            return got, elapsed
        assert elapsed < seconds, f"{what}: not within {seconds} s"
        time.sleep(0.05)


def listed(node: PipyServer, project: str, filename: str):
    r = node.project_json(project)
    if r.status != 200:
        return None
    return next((f for f in r.json()["files"] if f["filename"] == filename), None)


def token_via_other_data(node: PipyServer, tmp_path, *scopes: str, name: str) -> str:
    """`pipy token create --config FILE --data OTHER`: a data folder no node serves."""
    scope_args = [a for s in scopes for a in ("--scope", s)]
    res = run_cli("token", "create", "--config", str(node.config_path),
                  "--data", str(tmp_path / "admin-box"), "--name", name, *scope_args)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout.strip().splitlines()[-1].strip()


def test_the_nodes_are_separate_processes_on_one_repository(node_a, node_b):
    # Control for the tests below: two servers, two data folders, one bucket prefix, one
    # database (else "B sees A's upload" would prove nothing).
    assert node_a.port != node_b.port and node_a.data != node_b.data
    assert node_a.backends is node_b.backends
    for node in (node_a, node_b):
        text = node.config_path.read_text()
        assert 'backend = "s3"' in text and 'backend = "postgres"' in text, text


def test_an_upload_on_a_is_installable_from_b_within_two_seconds(node_a, node_b, token,
                                                                 tmp_path):
    project = "pipym-spread"
    first = make_wheel(tmp_path, project, "1.0")
    assert upload(node_a, first, token).status == 200
    within(10, lambda: listed(node_b, project, first.filename), "B lists A's first upload")
    # B now holds a cached page of the project; a new release on A must replace it.
    assert [f["filename"] for f in node_b.project_json(project).json()["files"]] == [
        first.filename]
    assert project in node_b.get("/simple/").text

    second = make_wheel(tmp_path, project, "2.0")
    assert upload(node_a, second, token).status == 200
    entry, elapsed = within(PROPAGATION, lambda: listed(node_b, project, second.filename),
                            "B lists a release uploaded on A")
    assert entry["hashes"]["sha256"] == second.sha256
    assert sha256_of(node_b.fetch_file(project, second.filename).body) == second.sha256

    venv = make_venv(tmp_path / "v")
    res = pip(venv, node_b, "install", project)
    assert res.returncode == 0, res.stdout + res.stderr
    r = venv_python(venv, "import pipym_spread; print(pipym_spread.VERSION)")
    assert r.returncode == 0 and r.stdout.strip() == "2.0", r.stderr


def yank(node: PipyServer, token: str, project: str, version: str, reason=None,
         method: str = "POST"):
    body = json.dumps({"reason": reason} if reason is not None else {}).encode()
    return node.request(method, f"/api/python/{project}/{version}/yank", body=body,
                        headers={"Content-Type": "application/json", **bearer_auth(token)})


def test_a_yank_on_b_is_visible_on_a_within_two_seconds(node_a, node_b, token, tmp_path):
    project = "pipym-yanked"
    w = make_wheel(tmp_path, project, "1.0")
    assert upload(node_a, w, token).status == 200
    within(10, lambda: listed(node_b, project, w.filename), "B lists A's upload")
    assert not listed(node_a, project, w.filename).get("yanked")  # A's page is cached now

    r = yank(node_b, token, project, "1.0", "bad release")
    assert r.status == 200, (r.status, r.reason, r.text)
    within(PROPAGATION, lambda: listed(node_a, project, w.filename).get("yanked")
           == "bad release", "A shows the yank made on B")
    html = node_a.get(f"/simple/{project}/", {"Accept": "text/html"}).text
    assert 'data-yanked="bad release"' in html, html

    r = yank(node_a, token, project, "1.0", method="DELETE")
    assert r.status == 200, (r.status, r.reason, r.text)
    within(PROPAGATION, lambda: not listed(node_b, project, w.filename).get("yanked"),
           "B shows the un-yank made on A")


def test_a_token_created_from_another_data_folder_works_on_both_at_once(
        node_a, node_b, tmp_path):
    name = f"e2e-both-{uuid.uuid4().hex[:8]}"
    fresh = token_via_other_data(node_a, tmp_path, "upload:pipym-tok-*", name=name)
    # No waiting: a token created while the servers run works at once, on every node.
    wa = make_wheel(tmp_path / "a", "pipym-tok-a", "1.0")
    wb = make_wheel(tmp_path / "b", "pipym-tok-b", "1.0")
    ra, rb = upload(node_a, wa, fresh), upload(node_b, wb, fresh)
    assert (ra.status, rb.status) == (200, 200), (ra.status, ra.reason, rb.status, rb.reason)
    # Its scope holds on both nodes.
    other = make_wheel(tmp_path / "o", "pipym-other", "1.0")
    for node in (node_a, node_b):
        assert upload(node, other, fresh).status == 403

    # Revoked from yet another data folder: refused on both within two seconds.
    res = run_cli("token", "revoke", "--config", str(node_b.config_path),
                  "--data", str(tmp_path / "admin-box-2"), "--name", name)
    assert res.returncode == 0, res.stdout + res.stderr
    for node in (node_a, node_b):
        within(PROPAGATION, lambda: node.get("/simple/", basic_auth(fresh)).status == 401,
               f"the revoked token is refused on {node.url}")


def test_a_same_filename_race_across_both_nodes_has_one_winner(node_a, node_b, token,
                                                               tmp_path):
    project = "pipym-race"
    wheels = [make_wheel(tmp_path / str(i), project, "1.0", salt=f"racer-{i}")
              for i in range(10)]
    assert len({w.sha256 for w in wheels}) == 10 and len({w.filename for w in wheels}) == 1
    nodes = [node_a if i % 2 == 0 else node_b for i in range(10)]
    results: list = [None] * 10
    go = threading.Barrier(10)

    def racer(i: int) -> None:
        go.wait(30)
        r = upload(nodes[i], wheels[i], token)
        results[i] = (r.status, r.reason)

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    statuses = [r[0] if r else None for r in results]
    assert sorted(statuses, key=str) == [200] + [409] * 9, results
    winner = wheels[statuses.index(200)]

    for node in (node_a, node_b):
        entry, _ = within(PROPAGATION, lambda: listed(node, project, winner.filename),
                          f"{node.url} lists the winner")
        assert entry["hashes"]["sha256"] == winner.sha256
        assert list(node.files(project)) == [winner.filename]
        got = node.fetch_file(project, winner.filename)
        assert got.status == 200 and sha256_of(got.body) == winner.sha256
    # The losers' blobs may stay behind as orphans (gc removes them); no file is bad.
    res = node_a.cli("check")
    assert res.returncode == 0, res.stdout + res.stderr


# --- npm: what one node accepted, the other serves within two seconds -------------------

def npm_put(node: PipyServer, token: str, name: str, version: str, tmp_path):
    tarball = make_npm_tarball(tmp_path / f"{name.replace('/', '_')}-{version}", name, version)
    body = publish_body(name, version, tarball, registry_url=node.url + "/npm/")
    return node.request("PUT", "/npm/" + escaped_name(name), body=json.dumps(body).encode(),
                        headers={"Content-Type": "application/json", **bearer_auth(token)})


def packument(node: PipyServer, name: str):
    r = node.get("/npm/" + escaped_name(name), {"Accept": "application/json"})
    return r.json() if r.status == 200 else None


def test_npm_publish_tag_and_deprecation_on_a_show_on_b_within_two_seconds(node_a, node_b,
                                                                          token, tmp_path):
    name = "@multi/spread"
    assert npm_put(node_a, token, name, "1.0.0", tmp_path).status in (200, 201)
    within(10, lambda: packument(node_b, name), "B serves A's first publish")
    # B holds a cached packument now; each change on A must replace it.
    assert npm_put(node_a, token, name, "1.1.0", tmp_path).status in (200, 201)
    doc, _ = within(PROPAGATION, lambda: (d := packument(node_b, name)) and "1.1.0" in d[
        "versions"] and d, "B lists a version published on A")
    tarball = doc["versions"]["1.1.0"]["dist"]["tarball"]
    assert tarball.startswith(node_b.url + "/npm/"), tarball  # B's own URL
    got = node_b.get(tarball[len(node_b.url):])
    assert got.status == 200
    assert integrity_sha512(got.body) == doc["versions"]["1.1.0"]["dist"]["integrity"]

    r = node_a.request("PUT", f"/npm/-/package/{escaped_name(name)}/dist-tags/beta",
                       body=b'"1.0.0"',
                       headers={"Content-Type": "application/json", **bearer_auth(token)})
    assert r.status in (200, 201), (r.status, r.text)
    within(PROPAGATION, lambda: packument(node_b, name)["dist-tags"].get("beta") == "1.0.0",
           "B shows a dist-tag set on A")

    current = packument(node_a, name)
    current["versions"]["1.0.0"]["deprecated"] = "use 1.1.0"
    r = node_a.request("PUT", "/npm/" + escaped_name(name), body=json.dumps(current).encode(),
                       headers={"Content-Type": "application/json", **bearer_auth(token)})
    assert r.status == 200, (r.status, r.text)
    within(PROPAGATION, lambda: packument(node_b, name)["versions"]["1.0.0"].get("deprecated")
           == "use 1.1.0", "B shows a deprecation made on A")


def test_a_token_revoked_through_the_api_on_a_is_refused_on_b_at_once(node_a, node_b,
                                                                      tmp_path):
    admin = node_a.token("admin")
    name = f"e2e-api-{uuid.uuid4().hex[:8]}"
    r = node_a.request("POST", "/api/tokens",
                       body=json.dumps({"name": name, "scopes": ["read"]}).encode(),
                       headers={"Content-Type": "application/json", **bearer_auth(admin)})
    assert r.status == 201, (r.status, r.text)
    secret = r.json()["secret"]
    assert node_b.get("/simple/", basic_auth(secret)).status == 200
    r = node_a.request("DELETE", f"/api/tokens/{name}", headers=bearer_auth(admin))
    assert r.status == 200, (r.status, r.text)
    # No polling: tokens are checked against the shared catalog on every request.
    assert node_b.get("/simple/", basic_auth(secret)).status == 401
    assert node_a.get("/simple/", basic_auth(secret)).status == 401


def test_a_takedown_on_a_disappears_from_b_at_once_and_stays_a_tombstone(node_a, node_b, token,
                                                                         tmp_path):
    admin = node_a.token("admin")
    project = "pipym-takedown"
    keep = make_wheel(tmp_path / "k", project, "1.0")
    bad = make_wheel(tmp_path / "b", project, "2.0")
    for w in (keep, bad):
        assert upload(node_a, w, token).status == 200
    within(10, lambda: listed(node_b, project, bad.filename), "B lists A's upload")
    # B has served the file, so its page and its file row are cached on B now.
    assert sha256_of(node_b.fetch_file(project, bad.filename).body) == bad.sha256

    r = node_a.request("DELETE", f"/api/python/{project}/2.0", headers=bearer_auth(admin))
    assert r.status == 200, (r.status, r.text)
    assert r.json()["removed"] == [bad.filename]
    within(PROPAGATION, lambda: listed(node_b, project, bad.filename) is None,
           "B drops the release taken down on A")
    assert node_b.get(f"/files/{bad.sha256}/{bad.filename}").status == 404
    assert node_b.get(f"/api/python/{project}/2.0").status == 404
    assert listed(node_b, project, keep.filename) is not None
    # Never published again, on either node, by anyone.
    again = make_wheel(tmp_path / "again", project, "2.0", salt="new bytes")
    for node in (node_a, node_b):
        assert upload(node, again, token).status == 409
        assert upload(node, again, admin).status == 409
