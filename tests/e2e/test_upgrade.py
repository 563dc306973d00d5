"""Upgrade in place: a repository written with the catalog schema Pipy released before
formats (catalog_v2_schema.sql, a verbatim copy of its migrations 1 and 2) is served by
today's Pipy with every project, release, file, yank, uploader, provenance and token kept,
and `pipy check` passes on it."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from pipyharness import PIP_JSON, PipyServer, basic_auth, s3_postgres_mode
from pydists import make_sdist, make_wheel, sha256_of

SCHEMA = Path(__file__).with_name("catalog_v2_schema.sql")

pytestmark = pytest.mark.skipif(s3_postgres_mode(), reason="the embedded SQLite repository")


def store_blob(data_dir: Path, data: bytes) -> str:
    key = sha256_of(data)
    path = data_dir / "blobs" / key[:2] / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return key


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@pytest.fixture
def old_repository(tmp_path):
    """A data folder as the previous release left it: blobs on disk, a v2 catalog."""
    root = tmp_path / "pipy"
    data = root / "data"
    data.mkdir(parents=True)
    dists = tmp_path / "dists"
    wheel = make_wheel(dists, "pipyu-old", "1.0")
    sdist = make_sdist(dists, "pipyu-old", "1.0.0")  # PEP 440-equal to 1.0: same release
    newer = make_wheel(dists, "pipyu-old", "2.0")
    wheel_key = store_blob(data, wheel.data)
    metadata_key = store_blob(data, wheel.metadata)
    sdist_key = store_blob(data, sdist.data)
    newer_key = store_blob(data, newer.data)
    db = sqlite3.connect(data / "catalog.db")
    db.executescript(SCHEMA.read_text())
    db.executescript(f"""
INSERT INTO projects (id, name, display_name, created_ms)
  VALUES (1, 'pipyu-old', 'pipyu-old', 1700000000000);
INSERT INTO releases (id, project_id, version, summary, description, description_content_type,
                      requires_python, yanked, yanked_reason, created_ms) VALUES
  (1, 1, '1.0', 'An old one', '# Old', 'text/markdown', '>=3.7', 1, 'was broken', 1700000000000),
  (2, 1, '2.0', 'Newer', '', '', '', 0, '', 1700000001000);
INSERT INTO files (id, release_id, project_id, filename, packagetype, size, sha256,
                   metadata_sha256, requires_python, upload_time_ms, uploader,
                   prov_source, prov_commit, prov_module, prov_build_id, prov_test_result) VALUES
  (1, 1, 1, '{wheel.filename}', 'bdist_wheel', {len(wheel.data)}, '{wheel_key}',
   '{metadata_key}', '>=3.7', 1700000000000, 'ci', 'mono', '{"c" * 40}', 'old', 3, 'passed'),
  (2, 1, 1, '{sdist.filename}', 'sdist', {len(sdist.data)}, '{sdist_key}', '', '',
   1700000000500, 'alice', '', '', '', 0, ''),
  (3, 2, 1, '{newer.filename}', 'bdist_wheel', {len(newer.data)}, '{newer_key}', '', '',
   1700000001000, 'bob', '', '', '', 0, '');
INSERT INTO tokens (name, hash, scopes, created_ms, revoked) VALUES
  ('old-admin', '{token_hash("pipy_old_admin_secret")}', 'admin', 1690000000000, 0);
""")
    db.commit()
    db.close()
    return {"root": root, "wheel": wheel, "sdist": sdist, "newer": newer}


def test_a_repository_of_the_previous_schema_is_served_after_the_upgrade(old_repository):
    server = PipyServer(root=old_repository["root"])
    server.start()
    try:
        wheel, sdist, newer = (old_repository[k] for k in ("wheel", "sdist", "newer"))
        page = server.project_json("pipyu-old")
        assert page.status == 200, page.text
        files = {f["filename"]: f for f in page.json()["files"]}
        assert set(files) == {wheel.filename, sdist.filename, newer.filename}
        assert files[wheel.filename]["hashes"]["sha256"] == wheel.sha256
        assert files[wheel.filename]["yanked"] == "was broken"
        assert files[sdist.filename]["yanked"] == "was broken"  # joined release 1.0
        assert files[wheel.filename]["requires-python"] == ">=3.7"
        assert files[wheel.filename]["core-metadata"] == {"sha256": sha256_of(wheel.metadata)}
        assert server.fetch_file("pipyu-old", newer.filename).body == newer.data
        meta = server.get(server.path_of(files[wheel.filename]["url"]) + ".metadata")
        assert meta.status == 200 and meta.body == wheel.metadata
        # Provenance and uploaders survive (the release API shows them).
        release = server.get("/api/python/pipyu-old/1.0").json()
        by_name = {f["filename"]: f for f in release["files"]}
        assert by_name[wheel.filename]["provenance"]["commit"] == "c" * 40
        # The old admin token still works: it can yank 2.0.
        r = server.request("POST", "/api/python/pipyu-old/2.0/yank", body=b'{"reason": "x"}',
                           headers={**basic_auth("pipy_old_admin_secret"),
                                    "Content-Type": "application/json"})
        assert r.status == 200, (r.status, r.reason)
        # New uploads of an equal version still join the upgraded release.
        page = server.get("/simple/pipyu-old/", {"Accept": PIP_JSON}).json()
        assert sorted(page["versions"]) == ["1.0", "2.0"]
    finally:
        server.stop()
    check = server.cli("check")
    assert check.returncode == 0, check.stdout + check.stderr
