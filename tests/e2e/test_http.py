"""HTTP behaviour: health, metrics, PEP 691 negotiation, redirects, caching, web UI."""
from __future__ import annotations

import re
import socket
import time

import pytest

from pipyharness import PIP_ACCEPT, PIP_JSON
from pydists import make_sdist, make_wheel, sha256_of, twine, upload

P = "pipyh-web"
HOSTILE = "<script>alert('pwned')</script> & friends"
README = ("# Pipy Heading\n\nSome *emphasis* here.\n\n## Second Level\n\n"
          "<script>readme_evil()</script>\n\n[click](javascript:alert(1))\n")


@pytest.fixture(scope="module")
def published(server, upload_token, dist_dir):
    w = make_wheel(dist_dir, P, "1.0", summary=HOSTILE, readme=README)
    sd = make_sdist(dist_dir, P, "1.0")
    res = twine(server, upload_token, w, sd)
    assert res.returncode == 0, res.stdout + res.stderr
    return {"whl": w, "sd": sd}


def test_healthz(server):
    r = server.get("/healthz")
    assert r.status == 200


def test_unknown_paths_are_404(server, published):
    assert server.get("/no/such/thing").status == 404
    assert server.get("/simple/pipyh-no-such-project/").status == 404
    assert server.get(f"/files/{'0' * 64}/x-1.0.tar.gz").status == 404


def metric_value(text: str, name: str, **labels) -> float:
    total, seen = 0.0, False
    for line in text.splitlines():
        m = re.match(rf"{name}(?:\{{(.*)\}})? (\S+)$", line)
        if not m:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1) or ""))
        if all(have.get(k) == v for k, v in labels.items()):
            total, seen = total + float(m.group(2)), True
    assert seen, f"no sample of {name}{labels}"
    return total


def test_metrics_count_requests_and_uploads(server, published):
    r = server.get("/metrics")
    assert r.status == 200
    assert r.header("Content-Type", "").startswith("text/plain")
    assert metric_value(r.text, "pipy_http_requests_total") >= 1
    assert metric_value(r.text, "pipy_uploads_total") >= 2  # twine uploaded two files
    assert metric_value(r.text, "pipy_http_request_duration_seconds_count") >= 1
    assert "pipy_http_request_duration_seconds_bucket" in r.text
    assert re.search(r'pipy_http_requests_total\{[^}]*status="200"', r.text)
    before = metric_value(r.text, "pipy_uploads_total")
    w = make_wheel(published["whl"].path.parent / "m", "pipyh-metrics", "1.0")
    assert upload(server, w, server.token("upload:*")).status == 200
    assert metric_value(server.get("/metrics").text, "pipy_uploads_total") == before + 1


@pytest.mark.parametrize("path", ["/simple/", f"/simple/{P}/"])
def test_accept_negotiation(server, published, path):
    def get(accept):
        return server.get(path, {"Accept": accept} if accept is not None else {})

    r = get(PIP_ACCEPT)
    assert r.status == 200
    assert r.header("Content-Type", "").startswith(PIP_JSON)
    assert "accept" in (r.header("Vary") or "").lower()
    body = r.json()
    assert body["meta"]["api-version"].startswith("1.")
    for accept in ("text/html", "*/*", None, "text/html, */*;q=0.8"):
        r = get(accept)
        assert r.status == 200, accept
        assert r.header("Content-Type", "").startswith("text/html"), accept
        assert "accept" in (r.header("Vary") or "").lower()
        assert "<a " in r.text
    r = get(f"{PIP_JSON};q=0.2, application/vnd.pypi.simple.v1+html")
    assert r.header("Content-Type", "").startswith("application/vnd.pypi.simple.v1+html")
    r = get("application/json")
    assert r.status == 406, (r.status, r.header("Content-Type"))
    r = get(f"{PIP_JSON};q=0, text/html;q=0")
    assert r.status == 406, (r.status, r.header("Content-Type"))


def test_json_project_page_fields(server, published):
    r = server.project_json(P)
    body = r.json()
    assert body["name"] == P
    assert body["versions"] == ["1.0"]  # PEP 700
    files = {f["filename"]: f for f in body["files"]}
    w = published["whl"]
    assert files[w.filename]["size"] == len(w.data)
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", files[w.filename]["upload-time"])
    assert files[w.filename]["requires-python"] == ">=3.7"
    root = server.get("/simple/", {"Accept": PIP_JSON}).json()
    assert P in {p["name"] for p in root["projects"]}


@pytest.mark.parametrize("alias", ["Pipyh-Web", "pipyh_web", "PIPYH.WEB", "pipyh--_web"])
def test_non_normalized_name_redirects_permanently(server, published, alias):
    r = server.get(f"/simple/{alias}/")
    assert r.status in (301, 308), (alias, r.status)
    assert r.header("Location", "").endswith(f"/simple/{P}/"), r.header("Location")


def test_root_without_trailing_slash_redirects_permanently(server):
    r = server.get("/simple")  # PEP 503: SHOULD redirect to the URL with the slash
    assert r.status in (301, 308), r.status
    assert r.header("Location") == "/simple/"


def test_project_page_etag_and_invalidation(server, upload_token, published, dist_dir):
    n = "pipyh-etag"
    assert upload(server, make_wheel(dist_dir, n, "1.0"), upload_token).status == 200
    html = server.get(f"/simple/{n}/", {"Accept": "text/html"})
    js = server.get(f"/simple/{n}/", {"Accept": PIP_ACCEPT})
    etag = html.header("ETag")
    assert etag and js.header("ETag")
    assert etag != js.header("ETag"), "HTML and JSON variants must not share an ETag"
    r = server.get(f"/simple/{n}/", {"Accept": "text/html", "If-None-Match": etag})
    assert r.status == 304 and r.body == b""
    r = server.get(f"/simple/{n}/", {"Accept": PIP_ACCEPT, "If-None-Match": js.header("ETag")})
    assert r.status == 304

    w2 = make_wheel(dist_dir, n, "2.0")
    assert upload(server, w2, upload_token).status == 200
    r = server.get(f"/simple/{n}/", {"Accept": "text/html", "If-None-Match": etag})
    assert r.status == 200, "the page cache was not invalidated by an upload"
    assert w2.filename in r.text and r.header("ETag") != etag


def test_files_are_immutable_and_have_an_etag(server, published):
    for d in published.values():
        url = server.path_of(server.files(P)[d.filename]["url"])
        r = server.get(url)
        assert r.status == 200 and sha256_of(r.body) == d.sha256
        cc = [x.strip() for x in (r.header("Cache-Control") or "").split(",")]
        assert {"public", "max-age=31536000", "immutable"} <= set(cc), cc
        assert r.header("ETag")
        assert int(r.header("Content-Length")) == len(d.data)
    w = published["whl"]
    url = server.path_of(server.files(P)[w.filename]["url"] + ".metadata")
    r = server.get(url)
    assert r.status == 200 and r.body == w.metadata
    assert r.header("ETag")


def test_web_ui_lists_projects_and_renders_readme_safely(server, published):
    r = server.get("/")
    assert r.status == 200 and r.header("Content-Type", "").startswith("text/html")
    assert P in r.text
    assert HOSTILE not in r.text and "<script>alert(" not in r.text

    r = server.get(f"/project/{P}/")
    assert r.status == 200, (r.status, r.reason)
    page = r.text
    assert re.search(r"<h1[^>]*>\s*Pipy Heading\s*</h1>", page), page[:2000]
    assert re.search(r"<h2[^>]*>\s*Second Level\s*</h2>", page)
    assert re.search(r"<em>\s*emphasis\s*</em>", page)
    assert "<script>alert(" not in page, "summary not escaped"
    assert "&lt;script&gt;alert(" in page, "summary missing or double-escaped"
    assert "<script>readme_evil" not in page, "raw HTML from the README was rendered"
    assert 'href="javascript:' not in page.lower()
    assert "1.0" in page and published["whl"].filename in page


def test_sigterm_stops_the_server_with_an_idle_keepalive_open(server_factory):
    s = server_factory()
    sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        t0 = time.monotonic()
        rc = s.stop(timeout=10)
        assert rc == 0, f"SIGTERM should stop pipy gracefully, got {rc}:\n{s.log()}"
        assert time.monotonic() - t0 < 10
    finally:
        sock.close()


def test_keep_alive_and_pipelining(server, published):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        req = f"GET /simple/{P}/ HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\n\r\n".encode()
        sock.sendall(req + b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                     + req.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        buf = b""
        while chunk := sock.recv(65536):
            buf += chunk
    statuses = re.findall(rb"HTTP/1\.1 (\d{3})", buf)
    assert statuses == [b"200", b"200", b"200"], buf[:500]
    assert buf.count(published["whl"].filename.encode()) >= 2
