"""Config-driven refusals: the CIDR allowlist, anonymous_read = false, max_upload_bytes.

Each refused request must store nothing (no new blob, the project stays absent)."""
from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

import npmdists as nd
from pipyharness import PIPY_BIN, basic_auth, bearer_auth, free_port, raw_exchange
from pydists import make_wheel, upload, upload_form


def raw_upload(server, dist, token, **kw) -> tuple[int | None, bytes]:
    body, ctype = upload_form(dist, **kw)
    head = (f"POST /legacy/ HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            f"Authorization: {basic_auth(token)['Authorization']}\r\nConnection: close\r\n\r\n")
    return raw_exchange(server.port, head.encode() + body, timeout=30)


def test_allowlist_refuses_addresses_outside_it(server_factory, tmp_path):
    s = server_factory('[access]\nallow = ["10.0.0.0/8"]\n')
    admin = s.token("admin")
    for path in ("/simple/", "/simple/pipya-fenced/", "/", "/project/pipya-fenced/"):
        r = s.get(path, basic_auth(admin))
        assert r.status == 403, (path, r.status, r.reason)
    w = make_wheel(tmp_path, "pipya-fenced", "1.0")
    r = upload(s, w, admin)
    assert r.status == 403, (r.status, r.reason)
    assert s.get("/healthz").status == 200  # /healthz answers every address
    assert s.blob_files() == []


def test_allowlist_admits_addresses_inside_it(server_factory, tmp_path):
    s = server_factory('[access]\nallow = ["10.0.0.0/8", "127.0.0.0/8"]\n')
    w = make_wheel(tmp_path, "pipya-inside", "1.0")
    assert upload(s, w, s.token("upload:pipya-*")).status == 200
    assert s.get("/simple/").status == 200
    assert list(s.files("pipya-inside")) == [w.filename]


@pytest.fixture(scope="module")
def private(server_factory_module):
    return server_factory_module("[access]\nanonymous_read = false\n")


@pytest.mark.parametrize("path", ["/simple/", "/simple/pipya-private/", "/",
                                  "/project/pipya-private/"])
def test_anonymous_read_false_needs_a_token(private, path):
    r = private.get(path)
    assert r.status == 401, (path, r.status, r.reason)
    assert "basic" in (r.header("WWW-Authenticate") or "").lower()
    r = private.get(path, basic_auth("pipy-not-a-real-token"))
    assert r.status == 401, (path, r.status, r.reason)


def test_anonymous_read_false_admits_any_valid_token(private, tmp_path):
    up = private.token("upload:pipya-*")
    w = make_wheel(tmp_path, "pipya-private", "1.0")
    assert upload(private, w, up).status == 200
    read = private.token("read")
    for headers in (basic_auth(read), bearer_auth(read), basic_auth(up)):
        assert private.get("/simple/", headers).status == 200
        r = private.get("/simple/pipya-private/", headers)
        assert r.status == 200 and w.filename in r.text
    assert private.get("/healthz").status == 200


def cache_control(response) -> set[str]:
    return {x.strip().lower() for x in (response.header("Cache-Control") or "").split(",")}


def publish_npm(server, folder, name: str, token: str):
    tgz = nd.make_npm_tarball(folder, name, "1.0.0")
    body = nd.publish_body(name, "1.0.0", tgz, registry_url=server.url + "/npm/")
    r = server.request("PUT", "/npm/" + nd.escaped_name(name), body=json.dumps(body).encode(),
                       headers={"Content-Type": "application/json", **bearer_auth(token)})
    assert r.status in (200, 201), (r.status, r.reason, r.text[:300])


# Index pages are cached for a minute. When reads need a token, a shared cache inside the
# network must not keep a token holder's page and hand it to anonymous clients (RFC 9111
# section 3.5 lets it do so for a response marked "public"): pages are "private" then.
PAGES = ["/simple/", "/simple/pipya-cached/", "/npm/pipya-cached-npm",
         "/npm/pipya-cached-npm/1.0.0"]


def test_pages_are_private_when_reads_need_a_token(private, tmp_path):
    up = private.token("admin")
    assert upload(private, make_wheel(tmp_path, "pipya-cached", "1.0"), up).status == 200
    publish_npm(private, tmp_path / "npm", "pipya-cached-npm", up)
    read = private.token("read")
    for path in PAGES:
        for accept in ("application/vnd.pypi.simple.v1+json", "text/html",
                       "application/vnd.npm.install-v1+json"):
            r = private.get(path, {**bearer_auth(read), "Accept": accept})
            if r.status == 406:
                continue  # not a type this route serves
            assert r.status == 200, (path, accept, r.status, r.reason)
            cc = cache_control(r)
            assert "private" in cc and "public" not in cc, (path, accept, cc)
            etag = r.header("ETag")
            r = private.get(path, {**bearer_auth(read), "Accept": accept,
                                   "If-None-Match": etag})
            assert r.status == 304, (path, r.status)
            assert "public" not in cache_control(r), (path, "304")


def test_pages_are_public_when_anyone_may_read(server_factory, tmp_path):
    s = server_factory()
    up = s.token("admin")
    assert upload(s, make_wheel(tmp_path, "pipya-cached", "1.0"), up).status == 200
    publish_npm(s, tmp_path / "npm", "pipya-cached-npm", up)
    for path in PAGES:
        r = s.get(path)
        assert r.status == 200, (path, r.status, r.reason)
        cc = cache_control(r)
        assert {"public", "max-age=60"} <= cc and "private" not in cc, (path, cc)


def test_token_created_while_serving_works_at_once_and_revoke_stops_it(private):
    token = private.token("read", name="late-reader")
    assert private.get("/simple/", bearer_auth(token)).status == 200
    listed = private.cli("token list")
    assert listed.returncode == 0 and "late-reader" in listed.stdout, listed
    assert token not in listed.stdout + listed.stderr  # only hashes are stored
    for f in (p for p in private.data.rglob("*") if p.is_file()):
        assert token.encode() not in f.read_bytes(), f"raw token stored in {f}"
    res = private.cli("token revoke", "--name", "late-reader")
    assert res.returncode == 0, res.stdout + res.stderr
    deadline = time.monotonic() + 2.5  # tokens propagate within two seconds
    while private.get("/simple/", bearer_auth(token)).status != 401:
        assert time.monotonic() < deadline, "a revoked token still reads"
        time.sleep(0.1)


def test_body_over_max_upload_bytes_is_413(server_factory, tmp_path):
    s = server_factory("[limits]\nmax_upload_bytes = 1000\n")
    w = make_wheel(tmp_path, "pipya-big", "1.0")
    status, raw = raw_upload(s, w, s.token("upload:*"))
    assert status == 413, raw[:300]
    assert s.project_json("pipya-big").status == 404
    assert s.blob_files() == []


def test_max_upload_bytes_accepts_a_size_string(server_factory, tmp_path):
    s = server_factory('[limits]\nmax_upload_bytes = "16KiB"\n')
    token = s.token("upload:*")
    small = make_wheel(tmp_path / "s", "pipya-sized", "1.0")
    assert upload(s, small, token).status == 200
    big = make_wheel(tmp_path / "b", "pipya-sized", "2.0", payload=os.urandom(64 * 1024))
    status, raw = raw_upload(s, big, token)
    assert status == 413, raw[:300]
    assert list(s.files("pipya-sized")) == [small.filename]
    assert {p.name for p in s.blob_files()} >= {small.sha256}
    assert big.sha256 not in {p.name for p in s.blob_files()}


@pytest.mark.parametrize("config", [
    '[limits]\nmax_upload_bytes = "lots"\n',
    "[access]\nallow = [\"not-a-cidr\"]\n",
    "[storage]\nbackend = \"floppy\"\n",
    "this is [not toml\n",
])
def test_bad_config_stops_start_up_with_a_message(tmp_path, config):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(config)
    res = subprocess.run([str(PIPY_BIN), "serve", "--data", str(tmp_path / "data"),
                          "--listen", f"127.0.0.1:{free_port()}", "--config", str(cfg)],
                         capture_output=True, text=True, timeout=20)
    assert res.returncode != 0
    assert res.stderr.strip(), "start-up errors go to stderr"


def test_listen_address_in_use_stops_start_up(server, tmp_path):
    res = subprocess.run([str(PIPY_BIN), "serve", "--data", str(tmp_path / "data"),
                          "--listen", f"127.0.0.1:{server.port}"],
                         capture_output=True, text=True, timeout=20)
    assert res.returncode != 0 and res.stderr.strip()
