"""Takedowns (DESIGN.md, "Takedowns"): an admin's DELETE of a Python release or of one file
over real HTTP. What was removed leaves the pages, the JSON API, the download path and pip at
once; its names are tombstones; `pipy gc` deletes its blobs (and only its), while what stays
keeps installing. Runs on filesystem + SQLite and again on S3 + PostgreSQL."""
from __future__ import annotations

from pipyharness import bearer_auth
from pydists import make_venv, make_wheel, make_sdist, pip, upload, venv_python


def _delete(server, path: str, token: str | None):
    return server.request("DELETE", path, headers=bearer_auth(token) if token else {})


def test_a_release_and_a_file_taken_down_are_gone_and_their_blobs_collected(server, tmp_path):
    admin = server.token("admin")
    uploader = server.token("upload:pipyt-td-*")
    project = "pipyt-td-core"
    good = make_wheel(tmp_path / "g", project, "1.0")
    bad = make_wheel(tmp_path / "b", project, "2.0")
    bad_sdist = make_sdist(tmp_path / "b", project, "2.0")
    leaked = make_wheel(tmp_path / "l", project, "1.1")
    for dist in (good, bad, bad_sdist, leaked):
        r = upload(server, dist, uploader)
        assert r.status == 200, (dist.filename, r.status, r.text)
    before = {p.name for p in server.blob_files()}
    assert {bad.sha256, bad_sdist.sha256, leaked.sha256} <= before

    # Refusals first: nothing moves.
    assert _delete(server, f"/api/python/{project}/2.0", None).status == 401
    assert _delete(server, f"/api/python/{project}/2.0", uploader).status == 403
    assert set(server.files(project)) == {good.filename, bad.filename, bad_sdist.filename,
                                          leaked.filename}

    r = _delete(server, f"/api/python/{project}/2.0", admin)
    assert r.status == 200, r.text
    assert sorted(r.json()["removed"]) == sorted([bad.filename, bad_sdist.filename])
    r = _delete(server, f"/api/python/{project}/1.1/{leaked.filename}", admin)
    assert r.status == 200, r.text
    assert r.json() == {"project": project, "version": "1.1", "removed": [leaked.filename]}

    assert set(server.files(project)) == {good.filename}
    html = server.get(f"/simple/{project}/", {"Accept": "text/html"}).text
    assert bad.filename not in html and leaked.filename not in html
    assert server.get(f"/api/python/{project}/2.0").status == 404
    for dist in (bad, bad_sdist, leaked):
        assert server.get(f"/files/{dist.sha256}/{dist.filename}").status == 404
    # Tombstones: the same names never come back, whoever uploads them.
    for dist in (bad, leaked):
        assert upload(server, dist, uploader).status == 409
        assert upload(server, dist, admin).status == 409
    again = make_wheel(tmp_path / "again", project, "2.0", salt="new bytes")
    assert upload(server, again, admin).status == 409

    venv = make_venv(tmp_path / "v")
    res = pip(venv, server, "install", project)
    assert res.returncode == 0, res.stdout + res.stderr
    r = venv_python(venv, "import pipyt_td_core as m; print(m.VERSION)")
    assert r.returncode == 0 and r.stdout.strip() == "1.0", r.stdout + r.stderr

    res = server.cli("gc", "--min-age", "0s")
    assert res.returncode == 0, res.stdout + res.stderr
    after = {p.name for p in server.blob_files()}
    assert not {bad.sha256, bad_sdist.sha256, leaked.sha256} & after, "taken-down blobs stay"
    assert good.sha256 in after
    assert server.fetch_file(project, good.filename).status == 200
