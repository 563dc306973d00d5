"""`pipy serve` with `[catalog] backend = "postgres"`: twine uploads, pip installs, tokens
created with `pipy token create --config` work on the running server at once, and an
unreachable or wrong database stops `pipy serve` at start with a message naming it.

Needs the PostgreSQL of the ctest fixture "postgres" (tests/services/postgres.sh); its URL
comes in PIPY_TEST_POSTGRES_URL. Each test module works in a database of its own.
"""
from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from pipyharness import PipyServer, basic_auth, run_cli
from pydists import make_venv, make_wheel, pip, twine, venv_python

BASE_URL = os.environ.get("PIPY_TEST_POSTGRES_URL",
                          "postgresql://postgres@127.0.0.1:17432/pipy_test")
SERVER_URL = BASE_URL.rsplit("/", 1)[0]


def psql(sql: str) -> None:
    res = subprocess.run(["psql", f"{SERVER_URL}/postgres", "-qc", sql],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr


@pytest.fixture(scope="module")
def database():
    name = f"pipy_e2e_{uuid.uuid4().hex[:12]}"
    psql(f"CREATE DATABASE {name}")
    yield f"{SERVER_URL}/{name}"
    psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def config(url: str) -> str:
    return f'[catalog]\nbackend = "postgres"\nurl = "{url}"\npool_size = 4\n'


@pytest.fixture(scope="module")
def pg_server(server_factory_module, database) -> PipyServer:
    return server_factory_module(config(database))


def token_via_config(server: PipyServer, tmp_path, *scopes: str) -> str:
    """`pipy token create --config FILE` from another data folder: the token lives in
    PostgreSQL, not in the server's --data."""
    scope_args = [a for s in scopes for a in ("--scope", s)]
    res = run_cli("token", "create", "--config", str(server.root / "pipy.toml"),
                  "--data", str(tmp_path / "other-node"),
                  "--name", f"e2e-{uuid.uuid4().hex[:8]}", *scope_args)
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout.strip().splitlines()[-1].strip()


def test_twine_upload_and_pip_install(pg_server, tmp_path):
    token = token_via_config(pg_server, tmp_path, "upload:*")
    whl = make_wheel(tmp_path, "pipyt-pg", "1.0")
    res = twine(pg_server, token, whl)
    assert res.returncode == 0, res.stdout + res.stderr
    assert list(pg_server.files("pipyt-pg")) == [whl.filename]
    # An identical re-upload is a no-op that succeeds.
    assert twine(pg_server, token, whl).returncode == 0

    venv = make_venv(tmp_path / "v")
    res = pip(venv, pg_server, "install", "pipyt-pg")
    assert res.returncode == 0, res.stdout + res.stderr
    r = venv_python(venv, "import pipyt_pg; print(pipyt_pg.VERSION)")
    assert r.returncode == 0 and r.stdout.strip() == "1.0", r.stderr


def test_token_created_while_serving_works_at_once(pg_server, tmp_path):
    token = token_via_config(pg_server, tmp_path, "upload:pipyt-pg-tok")
    whl = make_wheel(tmp_path, "pipyt-pg-tok", "1.0")
    assert twine(pg_server, token, whl).returncode == 0
    assert "pipyt-pg-tok" in pg_server.get("/simple/").text

    wrong = pg_server.get("/simple/", headers=basic_auth("pipy_not-a-token"))
    assert wrong.status == 401


def test_unreachable_or_wrong_database_stops_serve_with_its_name(tmp_path):
    for url, name in ((f"{SERVER_URL}/pipy_no_such_db", "pipy_no_such_db"),
                      ("postgresql://pipy@127.0.0.1:1/pipy_down?connect_timeout=2",
                       "pipy_down")):
        cfg = tmp_path / f"{name}.toml"
        cfg.write_text(config(url))
        res = run_cli("serve", "--data", str(tmp_path / name), "--listen", "127.0.0.1:0",
                      "--config", str(cfg), timeout=30)
        assert res.returncode != 0
        assert name in res.stderr, res.stderr
