"""The upstream proxy (issue 5): one --index-url for internal and public packages, with
dependency-confusion protection, against a stub upstream on loopback (stub_upstream.py)."""
from __future__ import annotations

import http.client
import os
import time

import pytest

from pipyharness import PIP_ACCEPT, PIP_JSON, basic_auth
from pydists import make_venv, make_wheel, pip, sha256_of, upload, venv_python
from stub_upstream import StubUpstream


def config(stub: StubUpstream, *, ttl="1h", timeout="2s", extra="") -> str:
    return (f'[upstream]\nurl = "{stub.simple_url}"\nttl = "{ttl}"\n'
            f'timeout = "{timeout}"\n{extra}')


@pytest.fixture
def stubs():
    started: list[StubUpstream] = []

    def make(**kw) -> StubUpstream:
        s = StubUpstream(**kw).start()
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


def html_page(server, name: str):
    return server.get(f"/simple/{name}/", {"Accept": "text/html"})


def get_raw(server, path: str, timeout: float = 10):
    """(status, body, complete): complete is False when the transfer broke off."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        try:
            return r.status, r.read(), True
        except (http.client.IncompleteRead, ConnectionError) as e:
            return r.status, getattr(e, "partial", b""), False
    finally:
        conn.close()


def test_pip_installs_internal_and_upstream_packages_through_one_index(
        server_factory, stubs, tmp_path):
    stub = stubs()
    pub_base = make_wheel(tmp_path, "pubbase", "2.0")
    pub_util = make_wheel(tmp_path, "pubutil", "1.1", requires_dist=["pubbase>=2"])
    old_util = make_wheel(tmp_path, "pubutil", "1.0")
    stub.add(pub_base)
    stub.add(pub_util, requires_python=">=3.7")
    stub.add(old_util, yanked="broken")
    server = server_factory(config(stub))
    token = server.token("upload:acme-*")
    lib = make_wheel(tmp_path, "acme-lib", "0.3")
    app = make_wheel(tmp_path, "acme-app", "1.0", requires_dist=["acme-lib", "pubutil"])
    for d in (lib, app):
        r = upload(server, d, token)
        assert r.status == 200, (r.status, r.reason)

    # The upstream project is served in both formats, every link pointing at Pipy.
    files = server.files("pubutil")
    assert set(files) == {pub_util.filename, old_util.filename}
    f = files[pub_util.filename]
    assert f["url"].startswith(f"{server.url}/upstream-files/{pub_util.sha256}/")
    assert f["hashes"] == {"sha256": pub_util.sha256}
    assert f["requires-python"] == ">=3.7"
    assert f["core-metadata"] == {"sha256": sha256_of(pub_util.metadata)}
    assert "dist-info-metadata" not in f
    assert files[old_util.filename]["yanked"] == "broken"
    page = html_page(server, "pubutil")
    assert page.status == 200 and page.header("Content-Type").startswith("text/html")
    assert f'/upstream-files/{pub_util.sha256}/{pub_util.filename}#sha256={pub_util.sha256}' \
        in page.text
    assert 'data-requires-python="&gt;=3.7"' in page.text
    assert 'data-yanked="broken"' in page.text
    assert stub.url not in page.text
    # PEP 658 metadata through Pipy, verified against the upstream's hash.
    meta = server.get(server.path_of(f["url"]) + ".metadata")
    assert meta.status == 200 and meta.body == pub_util.metadata
    # /simple/ lists internal projects only.
    root = server.get("/simple/", {"Accept": PIP_JSON}).json()
    assert {p["name"] for p in root["projects"]} == {"acme-lib", "acme-app"}

    venv = make_venv(tmp_path / "venv")
    res = pip(venv, server, "install", "acme-app")
    assert res.returncode == 0, res.stdout + res.stderr
    check = venv_python(venv, "import acme_app, acme_lib, pubutil, pubbase;"
                              "print(acme_app.VERSION, pubutil.VERSION, pubbase.VERSION)")
    assert check.stdout.split() == ["1.0", "1.1", "2.0"], check.stderr

    # Files are cached in the blob store: with the upstream gone, installs still work.
    blobs = {p.name for p in server.blob_files()}
    assert {pub_util.sha256, pub_base.sha256} <= blobs
    # The cache is not garbage: gc (even with no age threshold) keeps it, check passes.
    for path in server.blob_files():
        os.utime(path, (time.time() - 7200, time.time() - 7200))
    gc = server.cli("gc")
    assert gc.returncode == 0, gc.stdout + gc.stderr
    assert {pub_util.sha256, pub_base.sha256} <= {p.name for p in server.blob_files()}, gc.stdout
    check = server.cli("check")
    assert check.returncode == 0 and "ORPHAN" not in check.stdout, check.stdout
    stub.stop()
    venv2 = make_venv(tmp_path / "venv2")
    res = pip(venv2, server, "install", "acme-app")
    assert res.returncode == 0, res.stdout + res.stderr
    downloads = [p for p in stub.paths() if p.startswith("/files/") and p.endswith(".whl")]
    assert sorted(downloads) == sorted([f"/files/{pub_util.filename}",
                                        f"/files/{pub_base.filename}"])  # each fetched once


def test_html_only_upstream_is_parsed_and_served_as_json(server_factory, stubs, tmp_path):
    stub = stubs(json=False)
    whl = make_wheel(tmp_path, "htmlonly", "1.0")
    stub.add(whl, requires_python=">=3.7,<4", yanked=True)
    server = server_factory(config(stub))
    files = server.files("htmlonly")
    f = files[whl.filename]
    assert f["requires-python"] == ">=3.7,<4"   # HTML-unescaped, then re-encoded
    assert f["yanked"] is True
    assert f["core-metadata"] == {"sha256": sha256_of(whl.metadata)}
    assert all("application/vnd.pypi.simple.v1+json" in h.get("Accept", "")
               for p, h in stub.requests if p.startswith("/simple/"))
    got = server.get(server.path_of(f["url"]))
    assert got.status == 200 and got.body == whl.data
    assert got.header("Cache-Control") == "public, max-age=31536000, immutable"


def test_corrupted_upstream_file_is_refused_and_not_stored(server_factory, stubs, tmp_path):
    stub = stubs()
    whl = make_wheel(tmp_path, "pubbad", "1.0", payload=b"x" * 300_000)
    stub.add(whl)
    stub.corrupt.add(whl.filename)
    server = server_factory(config(stub))
    path = server.path_of(server.files("pubbad")[whl.filename]["url"])
    for _ in range(2):
        status, body, complete = get_raw(server, path)
        assert not (status == 200 and complete and body == whl.data)
        assert status != 200 or not complete, (status, len(body))
    assert whl.sha256 not in {p.name for p in server.blob_files()}
    venv = make_venv(tmp_path / "venv")
    res = pip(venv, server, "install", "pubbad")
    assert res.returncode != 0
    metrics = server.get("/metrics").text
    assert 'pipy_upstream_errors_total{kind="hash_mismatch"}' in metrics


def test_file_without_upstream_hash_is_not_listed(server_factory, stubs, tmp_path):
    stub = stubs()
    good = make_wheel(tmp_path, "pubnohash", "2.0")
    bad = make_wheel(tmp_path, "pubnohash", "1.0")
    stub.add(good)
    stub.add(bad, sha256="")
    server = server_factory(config(stub))
    assert set(server.files("pubnohash")) == {good.filename}
    r = server.get(f"/upstream-files/{bad.sha256}/{bad.filename}")
    assert r.status == 404


def test_internal_project_shadows_upstream_everywhere(server_factory, stubs, tmp_path):
    stub = stubs()
    public = make_wheel(tmp_path, "acme-shadow", "9.0")
    stub.add(public)
    server = server_factory(config(stub))
    before = server.files("acme-shadow")
    old_url = server.path_of(before[public.filename]["url"])
    assert old_url.startswith("/upstream-files/")

    internal = make_wheel(tmp_path, "acme-shadow", "1.0")
    r = upload(server, internal, server.token("admin"))
    assert r.status == 200, (r.status, r.reason)
    assert set(server.files("acme-shadow")) == {internal.filename}
    page = html_page(server, "acme-shadow")
    assert public.filename not in page.text and "/upstream-files/" not in page.text
    assert internal.filename in page.text
    # A link handed out before the internal project existed no longer serves the file.
    assert server.get(old_url).status == 404
    assert server.get(old_url + ".metadata").status == 404
    fetched = [p for p in stub.paths() if p.startswith("/files/")]
    assert fetched == []
    venv = make_venv(tmp_path / "venv")
    res = pip(venv, server, "install", "acme-shadow")
    assert res.returncode == 0, res.stdout + res.stderr
    check = venv_python(venv, "import acme_shadow; print(acme_shadow.VERSION)")
    assert check.stdout.strip() == "1.0"


def test_new_internal_project_with_a_public_name_is_refused(server_factory, stubs, tmp_path):
    stub = stubs()
    for name in ("requests-ish", "acme-public", "other-public"):
        stub.add(make_wheel(tmp_path / "up", name, "5.0"))
    server = server_factory(config(stub, extra='allow_shadowing = ["acme-*"]\n'))
    uploader = server.token("upload:*")

    refused = upload(server, make_wheel(tmp_path, "requests-ish", "1.0"), uploader)
    assert refused.status == 409
    assert "dependency confusion" in refused.reason
    assert "requests-ish" in refused.reason
    assert server.files("requests-ish")  # still the upstream's project
    # A name the upstream does not have is fine.
    assert upload(server, make_wheel(tmp_path, "brand-new-name", "1.0"), uploader).status == 200
    # Exception 1: the allow_shadowing glob.
    assert upload(server, make_wheel(tmp_path, "acme-public", "1.0"), uploader).status == 200
    assert set(server.files("acme-public")) == {"acme_public-1.0-py3-none-any.whl"}
    # Exception 2: an admin token.
    admin = server.token("admin")
    assert upload(server, make_wheel(tmp_path, "other-public", "1.0"), admin).status == 200
    # Once the project exists internally, ordinary uploaders may add versions.
    assert upload(server, make_wheel(tmp_path, "other-public", "1.1"), uploader).status == 200


def test_links_to_foreign_hosts_are_never_fetched(server_factory, stubs, tmp_path):
    stub = stubs()
    foreign = stubs()
    local = make_wheel(tmp_path, "pubforeign", "1.0")
    remote = make_wheel(tmp_path, "pubforeign", "2.0")
    redirected = make_wheel(tmp_path, "pubforeign", "3.0")
    foreign.add(remote)
    foreign.add(redirected)
    stub.add(local)
    stub.add(remote, url=f"{foreign.url}/files/{remote.filename}")
    stub.add(redirected)
    stub.redirects[f"/files/{redirected.filename}"] = f"{foreign.url}/files/{redirected.filename}"
    server = server_factory(config(stub))

    files = server.files("pubforeign")
    assert remote.filename not in files
    assert server.get(f"/upstream-files/{remote.sha256}/{remote.filename}").status == 404
    # A redirect to the foreign host is refused too.
    status, body, complete = get_raw(server, server.path_of(files[redirected.filename]["url"]))
    assert status == 502 or not complete
    assert server.get(server.path_of(files[local.filename]["url"])).body == local.data
    assert foreign.requests == []
    assert f"/files/{redirected.filename}" in stub.paths()
    metrics = server.get("/metrics").text
    assert 'pipy_upstream_errors_total{kind="refused_url"}' in metrics


def test_upstream_down_or_slow(server_factory, stubs, tmp_path):
    stub = stubs()
    whl = make_wheel(tmp_path, "pubcached", "1.0")
    stub.add(whl)
    stub.add(make_wheel(tmp_path, "pubuncached", "1.0"))
    server = server_factory(config(stub, ttl="1s", timeout="1s"))
    json_before = server.project_json("pubcached").body
    html_before = html_page(server, "pubcached").body
    stub.stop()
    time.sleep(1.2)  # past the ttl: the stale copies are served
    for _ in range(2):
        r = server.project_json("pubcached")
        assert r.status == 200 and r.body == json_before
        assert html_page(server, "pubcached").body == html_before
    t0 = time.monotonic()
    r = server.get("/simple/pubuncached/", {"Accept": PIP_ACCEPT})
    assert r.status == 502, (r.status, r.reason)
    assert "upstream" in r.reason
    assert time.monotonic() - t0 < 5

    # Slow: the upstream answers after the timeout -> 504, quickly.
    slow = stubs(delay=4)
    slow.add(make_wheel(tmp_path, "pubslow", "1.0"))
    slow_server = server_factory(config(slow, timeout="1s"))
    t0 = time.monotonic()
    r = slow_server.get("/simple/pubslow/", {"Accept": PIP_ACCEPT})
    assert r.status == 504, (r.status, r.reason)
    assert time.monotonic() - t0 < 3.5
    assert server.get("/simple/nothing-anywhere/").status == 502  # still down
    metrics = server.get("/metrics").text
    assert 'pipy_upstream_errors_total{kind="unreachable"}' in metrics
    assert 'pipy_upstream_errors_total{kind="timeout"}' in slow_server.get("/metrics").text


def test_unknown_everywhere_is_404(server_factory, stubs):
    stub = stubs()
    server = server_factory(config(stub))
    r = server.get("/simple/not-here-nor-there/")
    assert r.status == 404
    assert "/simple/not-here-nor-there/" in stub.paths()
