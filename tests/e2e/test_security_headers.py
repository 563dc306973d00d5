"""Brute force and the browser, end to end against a real `pipy serve`: failed
authentications are cut off per address with 429 while valid tokens keep working, and every
page of the UI carries a Content-Security-Policy without 'unsafe-inline' (its style and script
are files of its own), no framing, nosniff and a Referrer-Policy."""
from __future__ import annotations

import json
import re

import pytest

from pipyharness import basic_auth, bearer_auth
from pydists import make_wheel, upload


@pytest.fixture(scope="module")
def guarded(server_factory_module):
    return server_factory_module("[access]\nanonymous_read = false\n")


def test_the_twenty_first_failed_authentication_gets_429_and_valid_tokens_keep_working(
        guarded):
    good = guarded.token("read")
    for i in range(20):
        r = guarded.get("/simple/", headers=bearer_auth(f"pipy_guess_{i}"))
        assert r.status == 401, (i, r.status, r.reason)
    for attempt in ("pipy_guess_more", "pipy_and_more"):
        r = guarded.get("/simple/", headers=basic_auth(attempt))
        assert r.status == 429, (r.status, r.reason)
        assert r.header("Retry-After") == "60"
        assert "too many failed authentications" in r.reason
    # The valid token from the same address is not slowed, for reads and for npm alike.
    for _ in range(5):
        assert guarded.get("/simple/", headers=basic_auth(good)).status == 200
        assert guarded.get("/npm/-/whoami", headers=bearer_auth(good)).status == 200
    # No credential at all is not a failed authentication: still the 401 challenge.
    r = guarded.get("/simple/")
    assert r.status == 401
    assert r.header("WWW-Authenticate", "").startswith("Basic")


def csp_directives(value: str) -> dict[str, str]:
    out = {}
    for part in value.split(";"):
        part = part.strip()
        if part:
            name, _, rest = part.partition(" ")
            out[name] = rest
    return out


def test_every_page_has_a_strict_csp_and_its_assets_are_its_own(server, tmp_path):
    token = server.token("upload:*")
    wheel = make_wheel(tmp_path, "sec-headers-demo", "1.0")
    assert upload(server, wheel, token).status == 200
    pages = ["/", "/project/sec-headers-demo/", "/help", "/builds", "/project/no-such-thing/"]
    for path in pages:
        r = server.get(path)
        assert r.status in (200, 404), (path, r.status)
        assert r.header("Content-Type", "").startswith("text/html"), path
        csp = r.header("Content-Security-Policy")
        assert csp, f"{path} has no Content-Security-Policy"
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
        d = csp_directives(csp)
        assert d.get("default-src") == "'none'", csp
        assert d.get("script-src") == "'self'", csp
        assert d.get("style-src") == "'self'", csp
        assert d.get("frame-ancestors") == "'none'", csp
        assert r.header("X-Content-Type-Options") == "nosniff", path
        assert r.header("Referrer-Policy") == "no-referrer", path
        assert r.header("X-Frame-Options") == "DENY", path
        # No inline script or style is left for the policy to block.
        assert "<style" not in r.text, path
        assert not re.search(r"<script(?![^>]*\bsrc=)", r.text), path
        assert " style=" not in r.text, path
        assert not re.search(r"\son[a-z]+=", r.text), f"{path} has an inline event handler"
    # What the pages link is served, immutable, under a content hash.
    home = server.get("/").text
    assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', home)
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
    for asset in assets:
        r = server.get(asset)
        assert r.status == 200, asset
        assert r.header("Cache-Control") == "public, max-age=31536000, immutable"
        assert r.header("Content-Type").startswith(
            "text/css" if asset.endswith(".css") else "text/javascript")
        assert r.header("X-Content-Type-Options") == "nosniff"
        assert server.get(asset, headers={"If-None-Match": r.header("ETag")}).status == 304
    assert server.get("/static/pipy-000000000000.css").status == 404


def test_files_and_apis_are_never_sniffed(server, tmp_path):
    token = server.token("upload:*")
    wheel = make_wheel(tmp_path, "sec-nosniff-demo", "1.0")
    assert upload(server, wheel, token).status == 200
    files = server.files("sec-nosniff-demo")
    filename = next(iter(files))
    for r in (server.fetch_file("sec-nosniff-demo", filename), server.get("/simple/"),
              server.project_json("sec-nosniff-demo"), server.get("/npm/no-such-package")):
        assert r.header("X-Content-Type-Options") == "nosniff"


def test_the_cut_off_is_configurable(server_factory):
    s = server_factory("[limits]\nmax_failed_auth_per_minute = 3\n")
    statuses = [s.get("/simple/", headers=bearer_auth(f"pipy_wrong_{i}")).status
                for i in range(5)]
    assert statuses == [401, 401, 401, 429, 429], statuses


def test_npm_login_with_wrong_passwords_is_cut_off_too(server_factory):
    """npm's CouchDB login takes the token as the password: guessing through it counts,
    and is answered 429 (npm prints it), not 401 again, while a real token still logs in."""
    s = server_factory("[limits]\nmax_failed_auth_per_minute = 3\n")
    path = "/npm/-/user/org.couchdb.user:guesser"

    def login(password: str):
        body = json.dumps({"name": "guesser", "password": password}).encode()
        return s.request("PUT", path, body=body, headers={"Content-Type": "application/json"})

    statuses = [login(f"pipy_wrong_{i}").status for i in range(5)]
    assert statuses == [401, 401, 401, 429, 429], statuses
    r = login("pipy_wrong_again")
    assert r.header("Retry-After") == "60" and r.json()["error"], (r.status, r.text)
    good = s.token("read")
    r = login(good)
    assert r.status == 201 and r.json()["token"] == good, (r.status, r.text)
