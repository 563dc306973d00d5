"""Fixtures: a running `pipy serve` per module (or per test, with a config), temp dists."""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipyharness import PipyServer, SharedBackends  # noqa: E402


@contextlib.contextmanager
def _servers(tmp_path_factory):
    started: list[PipyServer] = []

    def make(config_text: str | None = None,
             backends: SharedBackends | None = None) -> PipyServer:
        s = PipyServer(root=tmp_path_factory.mktemp("pipy"), config_text=config_text,
                       backends=backends)
        started.append(s)
        s.start()
        return s

    try:
        yield make
    finally:
        failures = []
        for s in started:
            try:
                rc = s.stop(timeout=10)
                if rc != 0:
                    failures.append(f"pipy serve exited {rc} on SIGTERM:\n{s.log()}")
            except AssertionError as e:
                failures.append(str(e))
        for s in started:
            s.cleanup()  # the database and the S3 prefix of a server that owns them
        assert not failures, "\n".join(failures)


@pytest.fixture(scope="module")
def server_factory_module(tmp_path_factory):
    """make(config_text=None, backends=None) -> a started PipyServer, stopped with SIGTERM
    after the module (backends: servers given the same SharedBackends share a repository)."""
    with _servers(tmp_path_factory) as make:
        yield make


@pytest.fixture
def server_factory(tmp_path_factory):
    """make(config_text=None, backends=None) -> a started PipyServer, stopped with SIGTERM
    after the test."""
    with _servers(tmp_path_factory) as make:
        yield make


@pytest.fixture(scope="module")
def server(server_factory_module) -> PipyServer:
    """One default-config server shared by a test module (tests use distinct projects)."""
    return server_factory_module()


@pytest.fixture(scope="module")
def admin_token(server) -> str:
    return server.token("admin")


@pytest.fixture(scope="module")
def upload_token(server) -> str:
    return server.token("upload:*")


@pytest.fixture(scope="module")
def dist_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("dists")
