"""`pipy import DIR` and `pipy migrate`: moving data into and between repositories.

import: a folder of wheels and sdists (with junk, a corrupt wheel and duplicates) goes
through the publish path; the counts are right and pip installs what was imported.

migrate: a filesystem + SQLite repository (several versions, a yanked release, tokens, one
of them revoked) is copied to S3 + PostgreSQL and served from there with the same pages,
yank state and tokens; then back to a fresh filesystem + SQLite folder; a re-run copies
nothing; a corrupted source blob fails the migration, naming the file, and nothing of that
file reaches the target.

Needs the ctest fixtures "s3" and "postgres" (tests/services/s3.sh, postgres.sh); their
addresses come in PIPY_TEST_S3_ENDPOINT and PIPY_TEST_POSTGRES_URL.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest

from pipyharness import PIP_JSON, PipyServer, basic_auth, run_cli
from pydists import make_sdist, make_venv, make_wheel, pip, twine, venv_python

S3_ENDPOINT = os.environ.get("PIPY_TEST_S3_ENDPOINT", "http://127.0.0.1:17900")
PG_URL = os.environ.get("PIPY_TEST_POSTGRES_URL",
                        "postgresql://postgres@127.0.0.1:17432/pipy_test")
PG_SERVER = PG_URL.rsplit("/", 1)[0]
SUMMARY = re.compile(r"migrated (\d+) projects: (\d+) files copied, (\d+) already present "
                     r".*?; (\d+) tokens copied, (\d+) already present; (\d+) target files "
                     r"verified; (\d+) problems")


def psql(sql: str) -> None:
    res = subprocess.run(["psql", f"{PG_SERVER}/postgres", "-qc", sql],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr


@pytest.fixture(scope="module")
def database():
    name = f"pipy_migrate_{uuid.uuid4().hex[:12]}"
    psql(f"CREATE DATABASE {name}")
    yield f"{PG_SERVER}/{name}"
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def s3_pg_config(database: str) -> str:
    return (f'[storage]\nbackend = "s3"\nendpoint = "{S3_ENDPOINT}"\nbucket = "pipy-test"\n'
            f'prefix = "migrate-{uuid.uuid4().hex[:12]}/"\naccess_key_id = "S3RVER"\n'
            f'secret_access_key = "S3RVER"\ntimeout = "10s"\n\n'
            f'[catalog]\nbackend = "postgres"\nurl = "{database}"\npool_size = 4\n')


def migrate(src_cfg: Path, src_data: Path, dst_cfg: Path, dst_data: Path):
    return run_cli("migrate", "--from", str(src_cfg), "--from-data", str(src_data),
                   "--to", str(dst_cfg), "--to-data", str(dst_data), timeout=300)


def summary(res) -> dict:
    m = SUMMARY.search(res.stdout)
    assert m, f"no summary line:\n{res.stdout}\n{res.stderr}"
    keys = ["projects", "copied", "present", "tokens_copied", "tokens_present", "verified",
            "problems"]
    return dict(zip(keys, map(int, m.groups())))


def served(server: PipyServer, projects: list[str], versions: dict) -> dict:
    """Every page a client reads, as JSON, with the server's own address blanked out."""
    pages = {"/simple/": server.get("/simple/", {"Accept": PIP_JSON})}
    for p in projects:
        pages[f"/simple/{p}/"] = server.project_json(p)
        for v in versions[p]:
            pages[f"/api/python/{p}/{v}"] = server.get(f"/api/python/{p}/{v}")
    out = {}
    for path, r in pages.items():
        assert r.status == 200, f"{path}: {r.status} {r.text[:300]}"
        out[path] = json.loads(r.text.replace(server.url, "http://HOST"))
    return out


# --- import ----------------------------------------------------------------------------
def test_import_loads_a_folder_through_the_publish_path(tmp_path):
    src = tmp_path / "packages"
    good = [make_wheel(src, "pipyt-imp-a", "1.0"),
            make_sdist(src, "pipyt-imp-a", "1.0"),
            make_wheel(src / "nested" / "deeper", "pipyt-imp-b", "2.0")]
    (src / "README.txt").write_text("not a distribution\n")
    (src / "pipyt_imp_broken-1.0-py3-none-any.whl").write_bytes(b"PK\x03\x04 not a zip")
    shutil.copy(good[0].path, src / "nested" / good[0].filename)  # the same bytes twice
    other = make_wheel(tmp_path / "other", "pipyt-imp-b", "2.0", salt="other bytes")
    (src / "clash").mkdir()
    shutil.copy(other.path, src / "clash" / other.filename)  # taken filename, new bytes

    root = tmp_path / "repo"
    res = run_cli("import", str(src), "--data", str(root / "data"), "--as", "pypiserver",
                  timeout=300)
    assert res.returncode == 1, res.stdout + res.stderr  # two files were refused
    last = res.stdout.strip().splitlines()[-1]
    # Files go in path order: clash/ before nested/, so the other-bytes b wheel wins its
    # filename and the nested one is refused, like a second twine upload would be.
    assert last == "import: 3 imported, 1 already present, 2 refused, 1 skipped", res.stdout
    assert "skipped " in res.stdout and "README.txt: not a wheel or sdist" in res.stdout
    assert re.search(r"refused \S*pipyt_imp_broken-1\.0-py3-none-any\.whl: \S", res.stdout)
    assert "already exists" in res.stdout

    again = run_cli("import", str(src), "--data", str(root / "data"), timeout=300)
    assert again.returncode == 1
    assert again.stdout.strip().splitlines()[-1] == \
        "import: 0 imported, 4 already present, 2 refused, 1 skipped", again.stdout

    server = PipyServer(root=root)
    server.start()
    try:
        assert sorted(server.files("pipyt-imp-a")) == sorted([good[0].filename,
                                                             good[1].filename])
        b_files = server.files("pipyt-imp-b")
        assert list(b_files) == [good[2].filename]
        assert b_files[good[2].filename]["hashes"]["sha256"] == other.sha256
        release = server.get("/api/python/pipyt-imp-a/1.0").json()
        assert {f["uploader"] for f in release["files"]} == {"pypiserver"}

        venv = make_venv(tmp_path / "v")
        res = pip(venv, server, "install", "pipyt-imp-a", "pipyt-imp-b")
        assert res.returncode == 0, res.stdout + res.stderr
        r = venv_python(venv, "import pipyt_imp_a, pipyt_imp_b; "
                              "print(pipyt_imp_a.VERSION, pipyt_imp_b.VERSION)")
        assert r.returncode == 0 and r.stdout.strip() == "1.0 2.0", r.stderr
    finally:
        assert server.stop() == 0, server.log()


# --- migrate ---------------------------------------------------------------------------
PROJECTS = ["pipyt-mig-core", "pipyt-mig-util"]
VERSIONS = {"pipyt-mig-core": ["1.0", "1.1", "2.0"], "pipyt-mig-util": ["0.1"]}


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A stopped filesystem + SQLite repository: several versions, a yanked release, tokens
    (one revoked); with its pages, tokens and dists."""
    root = tmp_path_factory.mktemp("source")
    dists = tmp_path_factory.mktemp("dists")
    server = PipyServer(root=root)
    server.start()
    try:
        admin = server.token("admin", name="mig-admin")
        upload = server.token("upload:pipyt-mig-*", name="mig-upload")
        revoked = server.token("read", name="mig-revoked")
        assert server.cli("token revoke", "--name", "mig-revoked").returncode == 0
        built = []
        for p, versions in VERSIONS.items():
            for v in versions:
                built.append(make_wheel(dists, p, v, summary=f"{p} {v}"))
        built.append(make_sdist(dists, "pipyt-mig-core", "2.0"))
        res = twine(server, upload, *built)
        assert res.returncode == 0, res.stdout + res.stderr
        r = server.request("POST", "/api/python/pipyt-mig-core/1.1/yank",
                           body=b'{"reason": "broken build"}',
                           headers={**basic_auth(admin), "Content-Type": "application/json"})
        assert r.status == 200, r.text
        pages = served(server, PROJECTS, VERSIONS)
    finally:
        assert server.stop() == 0, server.log()
    cfg = root / "empty.toml"  # the defaults: filesystem + SQLite under --data
    cfg.write_text("")
    return {"root": root, "data": server.data, "cfg": cfg, "pages": pages, "admin": admin,
            "upload": upload, "revoked": revoked, "dists": built}


def check_served_like_source(server: PipyServer, source: dict, tmp_path: Path) -> None:
    assert served(server, PROJECTS, VERSIONS) == source["pages"]
    core = server.files("pipyt-mig-core")
    assert core["pipyt_mig_core-1.1-py3-none-any.whl"]["yanked"] == "broken build"
    assert core["pipyt_mig_core-2.0-py3-none-any.whl"].get("yanked", False) is False
    # Old tokens: valid ones authenticate (a write needs the right scope), revoked ones not.
    assert server.get("/simple/", headers=basic_auth(source["upload"])).status == 200
    assert server.get("/simple/", headers=basic_auth(source["admin"])).status == 200
    assert server.get("/simple/", headers=basic_auth(source["revoked"])).status == 401
    venv = make_venv(tmp_path / f"v{server.port}")
    res = pip(venv, server, "install", "pipyt-mig-core==1.1", "pipyt-mig-util")
    assert res.returncode == 0, res.stdout + res.stderr
    r = venv_python(venv, "import pipyt_mig_core as c, pipyt_mig_util as u; "
                          "print(c.VERSION, u.VERSION)")
    assert r.returncode == 0 and r.stdout.strip() == "1.1 0.1", r.stderr


def test_migrate_to_s3_postgres_and_back(source, database, tmp_path):
    n_files = len(source["dists"])
    pg_root = tmp_path / "s3pg"
    pg_root.mkdir()
    pg = PipyServer(root=pg_root, config_text=s3_pg_config(database))
    (pg_root / "pipy.toml").write_text(pg.config_text)

    res = migrate(source["cfg"], source["data"], pg_root / "pipy.toml", pg.data)
    assert res.returncode == 0, res.stdout + res.stderr
    assert summary(res) == {"projects": 2, "copied": n_files, "present": 0,
                            "tokens_copied": 3, "tokens_present": 0, "verified": n_files,
                            "problems": 0}
    assert pg.blob_files() == [], "with S3 the target's data folder holds no blobs"

    again = migrate(source["cfg"], source["data"], pg_root / "pipy.toml", pg.data)
    assert again.returncode == 0, again.stdout + again.stderr
    assert summary(again) == {"projects": 2, "copied": 0, "present": n_files,
                              "tokens_copied": 0, "tokens_present": 3, "verified": n_files,
                              "problems": 0}
    assert "0 blobs written" in again.stdout

    pg.start()
    try:
        check_served_like_source(pg, source, tmp_path)

        back_root = tmp_path / "back"
        back_root.mkdir()
        (back_root / "empty.toml").write_text("")
        res = migrate(pg_root / "pipy.toml", pg.data, back_root / "empty.toml",
                      back_root / "data")
        assert res.returncode == 0, res.stdout + res.stderr
        assert summary(res)["copied"] == n_files
        back = PipyServer(root=back_root)
        back.start()
        try:
            check_served_like_source(back, source, tmp_path)
            assert len(back.blob_files()) == len(PipyServer(root=source["root"]).blob_files())
            # The old upload token still publishes, on both copies.
            for server in (pg, back):
                whl = make_wheel(tmp_path / f"new{server.port}", "pipyt-mig-core", "3.0")
                res = twine(server, source["upload"], whl)
                assert res.returncode == 0, res.stdout + res.stderr
        finally:
            assert back.stop() == 0, back.log()
    finally:
        assert pg.stop() == 0, pg.log()


def test_corrupt_source_blob_is_refused_and_not_copied(source, tmp_path):
    copy = tmp_path / "corrupt-source"
    shutil.copytree(source["data"], copy)
    victim = next(d for d in source["dists"] if d.filename.startswith("pipyt_mig_util-0.1"))
    blob = next(p for p in copy.rglob(victim.sha256) if p.is_file())
    blob.chmod(0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))

    target = tmp_path / "target"
    target.mkdir()
    (target / "empty.toml").write_text("")
    res = migrate(source["cfg"], copy, target / "empty.toml", target / "data")
    assert res.returncode != 0, res.stdout + res.stderr
    assert victim.filename in res.stderr, res.stderr
    counts = summary(res)
    assert counts["copied"] == len(source["dists"]) - 1 and counts["problems"] == 1, res.stdout
    names = [p.name for p in (target / "data").rglob("*") if p.is_file()]
    assert victim.sha256 not in names, "the corrupt bytes reached the target"

    server = PipyServer(root=target)
    server.start()
    try:
        assert server.project_json("pipyt-mig-util").status == 404
        assert len(server.files("pipyt-mig-core")) == len(source["dists"]) - 1
    finally:
        assert server.stop() == 0, server.log()


def test_target_holding_a_filename_with_other_bytes_is_an_error(source, tmp_path):
    victim = next(d for d in source["dists"] if d.filename.startswith("pipyt_mig_util-0.1"))
    impostor = make_wheel(tmp_path / "impostor", "pipyt-mig-util", "0.1", salt="other")
    assert impostor.filename == victim.filename and impostor.sha256 != victim.sha256
    target = tmp_path / "target"
    assert run_cli("import", str(impostor.path.parent), "--data",
                   str(target / "data")).returncode == 0
    (target / "empty.toml").write_text("")
    res = migrate(source["cfg"], source["data"], target / "empty.toml", target / "data")
    assert res.returncode != 0, res.stdout + res.stderr
    assert victim.filename in res.stderr and "another file" in res.stderr, res.stderr
    counts = summary(res)
    assert counts["copied"] == len(source["dists"]) - 1 and counts["problems"] == 1, res.stdout
    names = [p.name for p in (target / "data").rglob("*") if p.is_file()]
    assert victim.sha256 not in names and impostor.sha256 in names


def test_a_cut_short_blob_in_the_target_is_written_again(source, tmp_path):
    """A killed migrate (or an S3 server that keeps a cut-short PUT) can leave a blob of the
    wrong size under its key in the target; the re-run copies it again instead of stopping."""
    target = tmp_path / "target"
    target.mkdir()
    (target / "empty.toml").write_text("")
    res = migrate(source["cfg"], source["data"], target / "empty.toml", target / "data")
    assert res.returncode == 0, res.stdout + res.stderr
    victim = next(d for d in source["dists"] if d.filename.startswith("pipyt_mig_util-0.1"))
    # A fresh target whose only content is the cut-short blob: no catalog row names it yet,
    # as after a kill between the blob and the row.
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "empty.toml").write_text("")
    blob = next(p for p in (target / "data").rglob(victim.sha256) if p.is_file())
    cut = fresh / "data" / blob.relative_to(target / "data")
    cut.parent.mkdir(parents=True)
    cut.write_bytes(blob.read_bytes()[:0])
    res = migrate(source["cfg"], source["data"], fresh / "empty.toml", fresh / "data")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "cut-short" in res.stderr and victim.sha256 in res.stderr, res.stderr
    counts = summary(res)
    assert counts["copied"] == len(source["dists"]) and counts["problems"] == 0, res.stdout
    assert cut.read_bytes() == blob.read_bytes()


def _token_rows(cfg: Path, data: Path) -> dict[str, list[str]]:
    res = run_cli("token", "list", "--config", str(cfg), "--data", str(data))
    assert res.returncode == 0, res.stderr
    rows = {}
    for line in res.stdout.splitlines():
        cols = line.split("\t")
        rows[cols[0]] = cols  # name, scopes, state, created, expires, last used
    return rows


def test_token_expiry_and_last_use_are_carried_and_a_rerun_brings_the_later_use(tmp_path):
    root = tmp_path / "src"
    root.mkdir()
    src = PipyServer(root=root)
    res = run_cli("token", "create", "--data", str(src.data), "--name", "quarterly",
                  "--scope", "read", "--expires", "30d")
    assert res.returncode == 0, res.stderr
    secret = res.stdout.strip().splitlines()[-1].strip()
    src.start()
    try:
        assert src.get("/simple/", basic_auth(secret)).status == 200  # records the last use
    finally:
        assert src.stop() == 0, src.log()
    (root / "empty.toml").write_text("")
    target = tmp_path / "dst"
    target.mkdir()
    (target / "empty.toml").write_text("")

    res = migrate(root / "empty.toml", src.data, target / "empty.toml", target / "data")
    assert res.returncode == 0, res.stdout + res.stderr
    source_row = _token_rows(root / "empty.toml", src.data)["quarterly"]
    assert source_row[4] != "never" and source_row[5] != "never", source_row
    assert _token_rows(target / "empty.toml", target / "data")["quarterly"] == source_row

    # The source serves on and records a later use (set directly: the server records a use
    # at most once a minute); the re-run carries it over.
    later_ms = 4102444800000  # 2100-01-01
    db = sqlite3.connect(src.data / "catalog.db")
    with db:
        db.execute("UPDATE tokens SET last_used_ms = ? WHERE name = 'quarterly'", (later_ms,))
    db.close()
    res = migrate(root / "empty.toml", src.data, target / "empty.toml", target / "data")
    assert res.returncode == 0, res.stdout + res.stderr
    assert summary(res)["tokens_present"] == 1
    moved = _token_rows(target / "empty.toml", target / "data")["quarterly"]
    assert moved[5].startswith("2100-01-01"), moved
    assert moved[4] == source_row[4], "the expiry stays the source's"
