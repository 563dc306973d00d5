"""The S3 + PostgreSQL backup procedure of README.md ("Backups"): a pg_dump of the catalog
taken while the server runs, restored into a fresh database and served with the same
bucket, passes `pipy check`. Files uploaded after the dump are only unreferenced blobs
there, which check lists but does not fail on. `pipy backup` itself refuses these backends.
Needs the ctest fixtures "s3" and "postgres".
"""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from pipyharness import SharedBackends, psql
from pydists import make_wheel, upload


def run(*args: str) -> None:
    res = subprocess.run(list(args), capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"{args[0]}: {res.stdout}{res.stderr}"


@pytest.fixture
def repository():
    shared = SharedBackends()
    yield shared
    shared.drop()


def test_a_restored_pg_dump_passes_check_with_the_same_bucket(server_factory, repository,
                                                              tmp_path):
    server = server_factory(None, backends=repository)
    token = server.token("upload:*")
    before = [make_wheel(tmp_path, f"pgbkp-before-{i}", "1.0", payload=b"p" * 900 * i)
              for i in range(3)]
    for dist in before:
        assert upload(server, dist, token).status == 200

    dump = tmp_path / "catalog.dump"
    run("pg_dump", "--format=custom", "--file", str(dump), repository.database_url)
    after = [make_wheel(tmp_path, f"pgbkp-after-{i}", "1.0") for i in range(2)]
    for dist in after:
        assert upload(server, dist, token).status == 200

    # `pipy backup` is for the filesystem + SQLite default; it points here instead.
    res = server.cli("backup", "--to", str(tmp_path / "dest"))
    assert res.returncode == 2 and "README.md" in res.stderr, res.stderr

    # Disaster: the database is lost. Restore the dump into a fresh one of the same name.
    assert server.stop() == 0, server.log()
    psql(repository.postgres_server, f"DROP DATABASE {repository.database} WITH (FORCE)")
    psql(repository.postgres_server, f"CREATE DATABASE {repository.database}")
    run("pg_restore", "--no-owner", "--exit-on-error", "--dbname", repository.database_url,
        str(dump))

    check = server.cli("check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "3 files checked, 0 bad" in check.stdout, check.stdout
    for dist in after:
        assert f"ORPHAN {dist.sha256}" in check.stdout, check.stdout

    server.start()
    for dist in before:
        r = server.fetch_file(dist.name, dist.filename)
        assert r.status == 200 and hashlib.sha256(r.body).hexdigest() == dist.sha256
    for dist in after:
        assert server.project_json(dist.name).status == 404
