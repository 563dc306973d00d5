"""Publish with twine, install with pip: the main user journey, with real clients."""
from __future__ import annotations

import glob
import json
import os
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipyharness import PIP_ACCEPT, basic_auth, bearer_auth
from pydists import (make_sdist, make_venv, make_wheel, pip, pip_env, sha256_of, twine,
                     upload, venv_python)

A, B = "pipyt-alpha", "pipyt-beta"


class Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.anchors = []  # (text, attrs dict)
        self._open = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self._open = dict(attrs)
            self.anchors.append(["", self._open])

    def handle_data(self, data):
        if self._open is not None:
            self.anchors[-1][0] += data

    def handle_endtag(self, tag):
        if tag == "a":
            self._open = None


def anchors(html: str) -> dict:
    p = Anchors()
    p.feed(html)
    return {text.strip(): attrs for text, attrs in p.anchors}


@pytest.fixture(scope="module")
def published(server, upload_token, dist_dir):
    d = {
        "b_whl": make_wheel(dist_dir, B, "1.0", summary="Beta"),
        "b_sd": make_sdist(dist_dir, B, "1.0"),
        "a_whl": make_wheel(dist_dir, A, "1.0", requires_dist=[f"{B}>=1.0"]),
        "a_sd": make_sdist(dist_dir, A, "1.0", requires_dist=[f"{B}>=1.0"]),
    }
    res = twine(server, upload_token, d["b_whl"], d["b_sd"], d["a_whl"], d["a_sd"])
    assert res.returncode == 0, f"twine upload failed:\n{res.stdout}\n{res.stderr}"
    return d


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    return make_venv(tmp_path_factory.mktemp("venv") / "v")


def installed_version(venv: Path, module: str) -> str:
    r = venv_python(venv, f"import {module}; print({module}.VERSION)")
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_twine_upload_lists_every_file_with_its_hash(server, published):
    for proj, keys in ((A, ("a_whl", "a_sd")), (B, ("b_whl", "b_sd"))):
        files = server.files(proj)
        assert set(files) == {published[k].filename for k in keys}
        for k in keys:
            d = published[k]
            assert files[d.filename]["hashes"]["sha256"] == d.sha256
            got = server.get(server.path_of(files[d.filename]["url"]))
            assert got.status == 200 and sha256_of(got.body) == d.sha256


def test_pip_installs_a_package_and_its_dependency_from_pipy(server, published, venv):
    res = pip(venv, server, "install", A)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "pipyt-alpha-1.0" in res.stdout and "pipyt-beta-1.0" in res.stdout, res.stdout
    assert installed_version(venv, "pipyt_alpha") == "1.0"
    assert installed_version(venv, "pipyt_beta") == "1.0"


def test_wheel_core_metadata_is_advertised_and_served(server, published):
    whl, sd = published["a_whl"], published["a_sd"]
    files = server.files(A)
    meta = files[whl.filename].get("core-metadata")
    assert meta == {"sha256": sha256_of(whl.metadata)}, files[whl.filename]
    assert "dist-info-metadata" not in files[whl.filename]  # crashes older pip (PEP 714)
    assert not files[sd.filename].get("core-metadata")
    got = server.get(server.path_of(files[whl.filename]["url"] + ".metadata"))
    assert got.status == 200
    assert got.body == whl.metadata

    html = server.get(f"/simple/{A}/", {"Accept": "text/html"})
    assert html.status == 200
    links = anchors(html.text)
    attrs = links[whl.filename]
    assert attrs.get("data-core-metadata") == f"sha256={sha256_of(whl.metadata)}"
    assert attrs.get("data-dist-info-metadata") == f"sha256={sha256_of(whl.metadata)}"
    assert attrs["href"].endswith(f"#sha256={whl.sha256}")
    assert attrs.get("data-requires-python") == ">=3.7"
    assert "data-core-metadata" not in links[sd.filename]


def modern_pip_python() -> str | None:
    """A python whose pip reads PEP 714's `core-metadata` (pip >= 23.2). Debian's pip 23.0
    only knows `dist-info-metadata`, which pipy must never send in JSON."""
    cands = [os.environ.get("PIPY_MODERN_PIP_PYTHON", "")]
    cands += [os.path.join(d, "python3") for d in os.get_exec_path()]
    cands += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.1*/bin/python3")))
    for c in cands:
        if not c or not os.access(c, os.X_OK):
            continue
        r = subprocess.run([c, "-c", "import pip; print(pip.__version__)"],
                           capture_output=True, text=True, env=pip_env(), timeout=30)
        m = re.match(r"(\d+)\.(\d+)", r.stdout.strip())
        if r.returncode == 0 and m and (int(m[1]), int(m[2])) >= (23, 2):
            return c
    return None


def test_pip_resolves_dependencies_from_metadata_files(server, published, tmp_path):
    py = modern_pip_python()
    if py is None:
        pytest.skip("no pip >= 23.2 available (set PIPY_MODERN_PIP_PYTHON)")
    report = tmp_path / "report.json"
    res = pip(py, server, "install", "--dry-run", "--ignore-installed", "--report",
              str(report), A)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    for name in (A, B):
        pat = rf"Obtaining dependency information for {name}\S* from \S+\.whl\.metadata"
        assert re.search(pat, out), f"pip did not use {name}'s .metadata:\n{out}"
    installs = {i["metadata"]["name"]: i for i in json.loads(report.read_text())["install"]}
    assert set(installs) == {A, B}
    assert installs[A]["download_info"]["url"].startswith(server.url)


def yank(server, token, project, version, reason=None, method="POST", auth=bearer_auth):
    body = json.dumps({"reason": reason} if reason is not None else {}).encode()
    return server.request(method, f"/api/python/{project}/{version}/yank", body=body,
                          headers={"Content-Type": "application/json", **auth(token)})


def test_yanked_release_is_not_chosen_but_can_be_pinned(server, upload_token, venv,
                                                        dist_dir):
    g = "pipyt-gamma"
    w10, w11 = make_wheel(dist_dir, g, "1.0"), make_wheel(dist_dir, g, "1.1")
    for w in (w10, w11):
        assert upload(server, w, upload_token).status == 200
    other = server.token("upload:other-*")
    r = yank(server, other, g, "1.1", "nope")
    assert r.status == 403, (r.status, r.reason)
    assert not server.files(g)[w11.filename].get("yanked")

    r = yank(server, upload_token, g, "1.1", "broken build")
    assert r.status == 200, (r.status, r.reason, r.text)
    files = server.files(g)
    assert files[w11.filename].get("yanked") == "broken build"
    assert not files[w10.filename].get("yanked")
    html = anchors(server.get(f"/simple/{g}/", {"Accept": "text/html"}).text)
    assert html[w11.filename].get("data-yanked") == "broken build"
    assert "data-yanked" not in html[w10.filename]

    res = pip(venv, server, "install", g)
    assert res.returncode == 0, res.stdout + res.stderr
    assert installed_version(venv, "pipyt_gamma") == "1.0"
    res = pip(venv, server, "install", f"{g}==1.1")
    assert res.returncode == 0, res.stdout + res.stderr
    assert installed_version(venv, "pipyt_gamma") == "1.1"

    r = yank(server, upload_token, g, "1.1", method="DELETE", auth=basic_auth)
    assert r.status == 200, (r.status, r.reason, r.text)
    assert not server.files(g)[w11.filename].get("yanked")


def test_pip_require_hashes(server, published, venv, tmp_path):
    whl = published["b_whl"]
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text(f"{B}==1.0 --hash=sha256:{whl.sha256}\n")
    bad.write_text(f"{B}==1.0 --hash=sha256:{'0' * 64}\n")
    res = pip(venv, server, "download", "--require-hashes", "--no-deps", "-d",
              str(tmp_path / "good"), "-r", str(good))
    assert res.returncode == 0, res.stdout + res.stderr
    got = tmp_path / "good" / whl.filename
    assert got.exists() and sha256_of(got.read_bytes()) == whl.sha256
    res = pip(venv, server, "download", "--require-hashes", "--no-deps", "-d",
              str(tmp_path / "bad"), "-r", str(bad))
    assert res.returncode != 0
    assert "DO NOT MATCH THE HASHES" in res.stdout + res.stderr, res.stdout + res.stderr


def test_sdist_installs_without_build_isolation(server, upload_token, venv, dist_dir):
    name = "pipyt-delta"
    sd = make_sdist(dist_dir, name, "2.0")
    res = twine(server, upload_token, sd)
    assert res.returncode == 0, res.stdout + res.stderr
    assert list(server.files(name)) == [sd.filename]
    res = pip(venv, server, "install", "--no-build-isolation", name)
    assert res.returncode == 0, res.stdout + res.stderr
    assert installed_version(venv, "pipyt_delta") == "2.0"


def test_identical_reupload_succeeds_and_different_bytes_conflict(server, upload_token,
                                                                  published, dist_dir):
    whl = published["b_whl"]
    res = twine(server, upload_token, whl)
    assert res.returncode == 0, f"identical re-upload must be a no-op:\n{res.stdout}{res.stderr}"

    impostor = make_wheel(dist_dir / "impostor", B, "1.0", salt="different bytes")
    assert impostor.filename == whl.filename and impostor.sha256 != whl.sha256
    raw = upload(server, impostor, upload_token)
    assert raw.status == 409, (raw.status, raw.reason, raw.text)
    assert raw.reason.strip() and raw.body.strip(), "a 409 must say why"
    res = twine(server, upload_token, impostor)
    out = res.stdout + res.stderr
    assert res.returncode != 0 and "409" in out, out
    reason = " ".join(raw.reason.split())
    assert reason in " ".join(out.split()), f"reason {reason!r} not shown by twine:\n{out}"

    files = server.files(B)
    assert files[whl.filename]["hashes"]["sha256"] == whl.sha256
    assert sha256_of(server.fetch_file(B, whl.filename).body) == whl.sha256
