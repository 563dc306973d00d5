"""`pipy backup` / `pipy restore` on the filesystem + SQLite default (DESIGN.md: "Backups").

A backup taken from a live server while uploads keep committing restores into a data folder
that `pipy check` finds clean and that serves every file the backup's catalog lists, byte
for byte. Backups into a non-empty folder, backups missing a blob, and restores of a damaged
or incomplete backup are refused.
"""
from __future__ import annotations

import hashlib
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from pipyharness import PipyServer, run_cli, s3_postgres_mode
from pydists import make_wheel, upload

pytestmark = pytest.mark.skipif(
    s3_postgres_mode(), reason="pipy backup covers the filesystem + SQLite default; "
                               "test_backup_postgres.py covers S3 + PostgreSQL")


def catalog_files(catalog: Path) -> dict[str, str]:
    """filename -> sha256 of every file row in a catalog database (read-only)."""
    db = sqlite3.connect(f"file:{catalog}?mode=ro", uri=True)
    try:
        return dict(db.execute("SELECT filename, sha256 FROM files").fetchall())
    finally:
        db.close()


def project_of(filename: str) -> str:
    return filename.split("-", 1)[0].replace("_", "-")


class Uploader(threading.Thread):
    """Uploads fresh wheels to `server` one after another until stopped."""

    def __init__(self, server: PipyServer, token: str, out_dir: Path):
        super().__init__(daemon=True)
        self.server, self.token, self.out_dir = server, token, out_dir
        self.stop = threading.Event()
        self.done: list[tuple[float, str, str]] = []  # (time committed, filename, sha256)
        self.errors: list[str] = []

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            dist = make_wheel(self.out_dir, f"bkp-live-{n % 7}", f"1.0.{n}",
                              payload=b"x" * (n * 997 % 50000))
            r = upload(self.server, dist, self.token)
            if r.status == 200:
                self.done.append((time.monotonic(), dist.filename, dist.sha256))
            else:
                self.errors.append(f"{dist.filename}: {r.status} {r.text[:200]}")

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while len(self.done) < count:
            assert time.monotonic() < deadline, f"uploads stalled: {self.errors[-3:]}"
            time.sleep(0.05)


def restore_and_serve(backup: Path, root: Path) -> PipyServer:
    restored = PipyServer(root=root)
    res = run_cli("restore", "--from", str(backup), "--data", str(restored.data))
    assert res.returncode == 0, res.stdout + res.stderr
    return restored


def test_backup_while_uploading_restores_a_clean_repository(server_factory, tmp_path):
    source = server_factory()
    token = source.token("upload:*")
    for i in range(5):
        dist = make_wheel(tmp_path / "dists", f"bkp-base-{i}", "1.0", payload=b"b" * 3000 * i)
        assert upload(source, dist, token).status == 200
    uploader = Uploader(source, token, tmp_path / "live")
    uploader.start()
    try:
        uploader.wait_for(3)
        started = time.monotonic()
        res = source.cli("backup", "--to", str(tmp_path / "backup"), timeout=120)
        finished = time.monotonic()
        assert res.returncode == 0, res.stdout + res.stderr
        # Uploads kept committing while the backup ran: it blocks no writer for long.
        uploader.wait_for(len(uploader.done) + 3)
    finally:
        uploader.stop.set()
        uploader.join(timeout=60)
    assert not uploader.errors, uploader.errors[:3]

    backup = tmp_path / "backup"
    manifest = (backup / "MANIFEST").read_text()
    assert manifest.startswith("pipy-backup 1\n"), manifest
    listed = catalog_files(backup / "catalog.db")
    committed_before = {f: s for t, f, s in uploader.done if t < started}
    assert committed_before.items() <= listed.items()
    assert all(f.startswith("bkp_base_") or f in {d[1] for d in uploader.done} for f in listed)
    committed_after = [f for t, f, _ in uploader.done if t > finished]
    assert committed_after and not set(committed_after) & set(listed)
    assert f"files {len(listed)}\n" in manifest

    restored = restore_and_serve(backup, tmp_path / "restored")
    check = run_cli("check", "--data", str(restored.data))
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"{len(listed)} files checked, 0 bad, 0 unreferenced blobs" in check.stdout
    restored.start()
    try:
        for filename, sha in listed.items():
            r = restored.fetch_file(project_of(filename), filename)
            assert r.status == 200, f"{filename}: {r.status}"
            assert hashlib.sha256(r.body).hexdigest() == sha, filename
        for filename in committed_after:
            files = restored.project_json(project_of(filename))
            assert files.status != 200 or filename not in restored.files(project_of(filename))
    finally:
        assert restored.stop() == 0, restored.log()


def test_backup_refuses_a_non_empty_folder(server, upload_token, tmp_path):
    dist = make_wheel(tmp_path, "bkp-refuse", "1.0")
    assert upload(server, dist, upload_token).status == 200
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    res = server.cli("backup", "--to", str(dest))
    assert res.returncode == 2 and "not empty" in res.stderr, res.stderr
    assert sorted(p.name for p in dest.iterdir()) == ["notes.txt"]

    assert server.cli("backup", "--to", str(tmp_path / "ok")).returncode == 0
    res = server.cli("backup", "--to", str(tmp_path / "ok"))
    assert res.returncode == 2 and "already holds a backup" in res.stderr, res.stderr


def test_backup_names_a_blob_missing_from_the_store(server_factory, tmp_path):
    source = server_factory()
    token = source.token("upload:*")
    dist = make_wheel(tmp_path, "bkp-missing", "1.0")
    assert upload(source, dist, token).status == 200
    source.blob_path(dist.sha256).unlink()  # as a takedown + gc racing the backup would
    res = source.cli("backup", "--to", str(tmp_path / "dest"))
    assert res.returncode == 1, res.stdout + res.stderr
    assert dist.sha256 in res.stderr and dist.filename in res.stderr, res.stderr
    assert not (tmp_path / "dest" / "MANIFEST").exists()
    # An incomplete backup is recognisably so: restore refuses it.
    res = run_cli("restore", "--from", str(tmp_path / "dest"), "--data", str(tmp_path / "r"))
    assert res.returncode == 2 and "no MANIFEST" in res.stderr, res.stderr


@pytest.fixture(scope="module")
def backup_of_server(server, upload_token, tmp_path_factory) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("bkp")
    dists = [make_wheel(out / "dists", f"bkp-restore-{i}", "1.0", payload=b"r" * 500 * i)
             for i in range(3)]
    for dist in dists:
        assert upload(server, dist, upload_token).status == 200
    assert server.cli("backup", "--to", str(out / "backup")).returncode == 0
    return out / "backup", dists


def private_copy(backup: Path, dest: Path) -> Path:
    """A copy of `backup` whose blobs share no inode with the live store (the backup
    hard-links them), so damaging it leaves the server's blobs alone."""
    shutil.copytree(backup, dest, copy_function=shutil.copy2)
    return dest


def test_restore_refuses_a_corrupted_blob(backup_of_server, tmp_path):
    backup, dists = backup_of_server
    copy = private_copy(backup, tmp_path / "copy")
    blob = copy / "blobs" / dists[1].sha256[:2] / dists[1].sha256
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.unlink()
    blob.write_bytes(bytes(data))
    data_dir = tmp_path / "restored"
    res = run_cli("restore", "--from", str(copy), "--data", str(data_dir))
    assert res.returncode == 1, res.stdout + res.stderr
    assert dists[1].sha256 in res.stderr and dists[1].filename in res.stderr, res.stderr
    assert not (data_dir / "catalog.db").exists()


def test_restore_refuses_a_damaged_catalog_or_a_missing_manifest(backup_of_server, tmp_path):
    backup, _ = backup_of_server
    copy = private_copy(backup, tmp_path / "copy")
    with open(copy / "catalog.db", "r+b") as f:
        f.seek(200)
        byte = f.read(1)
        f.seek(200)
        f.write(bytes([byte[0] ^ 0xFF]))
    res = run_cli("restore", "--from", str(copy), "--data", str(tmp_path / "a"))
    assert res.returncode == 1 and "damaged" in res.stderr, res.stderr
    assert not (tmp_path / "a" / "catalog.db").exists()

    copy = private_copy(backup, tmp_path / "copy2")
    (copy / "MANIFEST").unlink()
    res = run_cli("restore", "--from", str(copy), "--data", str(tmp_path / "b"))
    assert res.returncode == 2 and "no MANIFEST" in res.stderr, res.stderr


def test_restore_refuses_a_non_empty_data_folder(backup_of_server, tmp_path):
    backup, _ = backup_of_server
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "keep").write_text("x")
    res = run_cli("restore", "--from", str(backup), "--data", str(data_dir))
    assert res.returncode == 2 and "not empty" in res.stderr, res.stderr
    assert sorted(p.name for p in data_dir.iterdir()) == ["keep"]


def test_backup_points_s3_postgres_at_the_readme(tmp_path):
    config = tmp_path / "pipy.toml"
    config.write_text('[storage]\nbackend = "s3"\nendpoint = "http://127.0.0.1:1"\n'
                      'bucket = "b"\naccess_key_id = "k"\nsecret_access_key = "s"\n\n'
                      '[catalog]\nbackend = "postgres"\n'
                      'url = "postgresql://postgres@127.0.0.1:1/x"\n')
    for args in (["backup", "--to", str(tmp_path / "dest")],
                 ["restore", "--from", str(tmp_path / "dest")]):
        res = run_cli(*args, "--data", str(tmp_path / "data"), "--config", str(config))
        assert res.returncode == 2, res.stdout + res.stderr
        assert "README.md" in res.stderr and "Backups" in res.stderr, res.stderr
