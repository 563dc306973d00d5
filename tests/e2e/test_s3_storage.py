"""`pipy serve` with `[storage] backend = "s3"` (and the default SQLite catalog): twine
uploads land in the bucket, not under --data; files are streamed back (or redirected to a
presigned URL with `redirect_downloads`); `pipy check` verifies them in S3; a wrong secret
or an unreachable endpoint stops `pipy serve` at start with a message naming the bucket.

Needs the S3 server of the ctest fixture "s3" (tests/services/s3.sh); its endpoint comes
in PIPY_TEST_S3_ENDPOINT. Each server works under a key prefix of its own.
"""
from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
import uuid

import pytest

from pipyharness import run_cli
from pydists import make_venv, make_wheel, pip, sha256_of, twine, venv_python

ENDPOINT = os.environ.get("PIPY_TEST_S3_ENDPOINT", "http://127.0.0.1:17900")
BUCKET = "pipy-test"


def config(*, secret: str = "S3RVER", endpoint: str = ENDPOINT, redirect: bool = False,
           bucket: str = BUCKET) -> str:
    return (f'[storage]\nbackend = "s3"\nendpoint = "{endpoint}"\nbucket = "{bucket}"\n'
            f'prefix = "e2e-{uuid.uuid4().hex[:12]}/"\naccess_key_id = "S3RVER"\n'
            f'secret_access_key = "{secret}"\n'
            f'redirect_downloads = {"true" if redirect else "false"}\ntimeout = "5s"\n')


@pytest.fixture(scope="module")
def s3_server(server_factory_module):
    return server_factory_module(config())


def test_twine_upload_is_stored_in_s3_and_served(s3_server, tmp_path):
    token = s3_server.token("upload:*")
    whl = make_wheel(tmp_path, "pipyt-s3", "1.0")
    res = twine(s3_server, token, whl)
    assert res.returncode == 0, res.stdout + res.stderr
    assert list(s3_server.files("pipyt-s3")) == [whl.filename]
    # An identical re-upload is a no-op that succeeds.
    assert twine(s3_server, token, whl).returncode == 0

    r = s3_server.fetch_file("pipyt-s3", whl.filename)
    assert r.status == 200, r.text[:300]
    assert sha256_of(r.body) == whl.sha256
    # With S3 the data folder holds no blobs of its own: only the node's read-through cache
    # (a copy of what it served, so the next download is a local file).
    cache = s3_server.data / "cache"
    assert [p for p in s3_server.blob_files() if cache not in p.parents] == []
    assert [p.name for p in s3_server.blob_files()] == [whl.sha256]
    again = s3_server.fetch_file("pipyt-s3", whl.filename)
    assert again.status == 200 and sha256_of(again.body) == whl.sha256

    check = run_cli("check", "--data", str(s3_server.data),
                    "--config", str(s3_server.root / "pipy.toml"))
    assert check.returncode == 0, check.stdout + check.stderr

    venv = make_venv(tmp_path / "v")
    res = pip(venv, s3_server, "install", "pipyt-s3")
    assert res.returncode == 0, res.stdout + res.stderr
    r = venv_python(venv, "import pipyt_s3; print(pipyt_s3.VERSION)")
    assert r.returncode == 0 and r.stdout.strip() == "1.0", r.stderr


def test_redirect_downloads_answers_with_a_presigned_url(server_factory, tmp_path):
    server = server_factory(config(redirect=True))
    whl = make_wheel(tmp_path, "pipyt-s3-redirect", "1.0")
    assert twine(server, server.token("upload:*"), whl).returncode == 0
    r = server.fetch_file("pipyt-s3-redirect", whl.filename)
    assert r.status == 302, r.text[:300]
    location = r.header("Location")
    assert location.startswith(ENDPOINT + "/" + BUCKET + "/"), location
    assert "X-Amz-Signature=" in location
    with urllib.request.urlopen(location, timeout=30) as direct:
        assert sha256_of(direct.read()) == whl.sha256
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(location[:-1] + ("0" if location[-1] != "0" else "1"), timeout=30)
    assert refused.value.code == 403


@pytest.mark.parametrize("case", ["wrong-secret", "missing-bucket", "unreachable"])
def test_unusable_bucket_stops_serve_with_its_name(tmp_path, case):
    cfg = tmp_path / "pipy.toml"
    if case == "wrong-secret":
        cfg.write_text(config(secret="not-the-secret"))
        name = BUCKET
    elif case == "missing-bucket":
        name = f"pipy-missing-{uuid.uuid4().hex[:8]}"
        cfg.write_text(config(bucket=name))
    else:
        cfg.write_text(config(endpoint="http://127.0.0.1:1"))
        name = BUCKET
    start = time.monotonic()
    res = run_cli("serve", "--data", str(tmp_path / "data"), "--listen", "127.0.0.1:0",
                  "--config", str(cfg), timeout=60)
    assert res.returncode != 0
    assert name in res.stderr, res.stderr
    assert time.monotonic() - start < 20, "start-up must fail fast"
