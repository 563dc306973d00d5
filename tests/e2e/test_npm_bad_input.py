"""Hostile and broken npm publishes (issue 10 item 9): each a clear 4xx and NOTHING stored.

Every case is tried twice where it makes sense: as the first version of a new package
(whose packument must stay 404) and as a new version of a package that exists (whose
packument must stay byte for byte what it was, the version absent). No new blob may appear
under the data folder either. Written against DESIGN.md's npm contract only.
"""
from __future__ import annotations

import base64
import gzip
import http.client
import json
import os
import threading
import urllib.parse
import uuid

import pytest

import npmdists as nd
from npmdists import RawMember as RM
from pipyharness import bearer_auth, raw_exchange


# --- helpers --------------------------------------------------------------------------
def uniq(prefix: str = "npmbad") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def registry(server) -> str:
    return server.url + "/npm/"


def url_name(name: str) -> str:
    """How npm puts a name in the path: the scope's slash as %2f, the rest percent-encoded."""
    return urllib.parse.quote(name, safe="@").replace("%2F", "%2f")


def put(server, name_in_url: str, body, token: str | None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers.update(bearer_auth(token))
    return server.request("PUT", "/npm/" + name_in_url, body=data, headers=headers)


def body_for(server, tmp, name, version, *, tarball=None, **kw) -> dict:
    """npm's publish body for name@version (tarball: a path or bytes; default a good one)."""
    if tarball is None:
        tarball = nd.make_npm_tarball(tmp / uuid.uuid4().hex[:6], name, version)
    return nd.publish_body(name, version, tarball, registry_url=registry(server), **kw)


def with_tarball(body: dict, data: bytes) -> dict:
    """`body` with its one attachment replaced by `data` (digests and length to match)."""
    (version,) = body["versions"]
    body["versions"][version]["dist"].update(integrity=nd.integrity_sha512(data),
                                             shasum=nd.shasum_sha1(data))
    (att,) = body["_attachments"].values()
    att.update(data=base64.b64encode(data).decode(), length=len(data))
    return body


def tarball_bytes(tmp, members, *, compress=True) -> bytes:
    return nd.make_raw_tarball(tmp / f"{uuid.uuid4().hex[:6]}.tgz", members,
                               compress=compress).read_bytes()


def pj(name, version, **extra) -> RM:
    doc = {"name": name, "version": version, "description": "bad input", **extra}
    return RM("package/package.json", json.dumps(doc).encode())


def packument(server, name_in_url: str):
    return server.get("/npm/" + name_in_url, {"Accept": "application/json"})


def assert_4xx(res, want):
    wants = want if isinstance(want, tuple) else (want,)
    assert res.status in wants, (res.status, res.reason, res.text[:300])
    assert res.reason.strip(), "the reason phrase must carry the reason"


@pytest.fixture
def unchanged(server):
    """Yields; afterwards asserts the set of blobs under the data folder did not change."""
    before = set(server.blob_files())
    yield
    assert set(server.blob_files()) == before, "a refused publish left a blob behind"


@pytest.fixture(scope="module")
def token(server) -> str:
    return server.token("upload:*")


@pytest.fixture
def base(server, token, tmp_path):
    """A package of this test alone with version 1.0.0 published."""
    name = uniq("npmbad-base")
    r = put(server, name, body_for(server, tmp_path, name, "1.0.0"), token)
    assert r.status in (200, 201), (r.status, r.reason, r.text[:300])
    return name


def refused_everywhere(server, token, base, build, want=400):
    """build(name, version) -> body (dict or bytes) for PUT /npm/<name>. Tries a new
    package and a new version (1.0.1) of `base`; each must be refused with `want` and leave
    nothing behind."""
    new = uniq()
    assert_4xx(put(server, url_name(new), build(new, "1.0.0"), token), want)
    assert packument(server, url_name(new)).status == 404, f"{new} was stored"

    before = packument(server, url_name(base))
    assert before.status == 200
    assert_4xx(put(server, url_name(base), build(base, "1.0.1"), token), want)
    after = packument(server, url_name(base))
    assert after.status == 200 and after.body == before.body, "the existing package changed"
    assert "1.0.1" not in after.json()["versions"]
    assert server.get(f"/npm/{url_name(base)}/1.0.1").status == 404


def test_control_a_good_publish_is_stored_as_a_blob(server, token, tmp_path):
    # Control for the `unchanged` checks: a stored tarball does show up as a blob.
    before = set(server.blob_files())
    name = uniq("npmbad-control")
    r = put(server, name, body_for(server, tmp_path, name, "1.0.0"), token)
    assert r.status in (200, 201), (r.status, r.reason)
    assert set(server.blob_files()) != before


# --- the body --------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [b'{"name": "x", "versions": {', b"not json at all",
                                 b"[]", b'"a string"', b"", b"\xff\xfe{}"])
def test_malformed_json_is_400(server, token, base, unchanged, raw):
    refused_everywhere(server, token, base, lambda n, v: raw)


def test_body_without_versions_is_400(server, token, base, tmp_path, unchanged):
    def build(n, v):
        b = body_for(server, tmp_path, n, v)
        del b["versions"]
        return b
    refused_everywhere(server, token, base, build)


def test_body_name_differs_from_url_name(server, token, base, tmp_path, unchanged):
    other = uniq("npmbad-other")

    def build(n, v):
        return body_for(server, tmp_path, other, v)  # body, manifest and tarball: `other`
    refused_everywhere(server, token, base, build)
    assert packument(server, other).status == 404


def test_manifest_name_differs_from_body_name(server, token, base, tmp_path, unchanged):
    other = uniq("npmbad-other")

    def build(n, v):
        b = body_for(server, tmp_path, n, v)
        b["versions"][v]["name"] = other
        return b
    refused_everywhere(server, token, base, build)
    assert packument(server, other).status == 404


def test_version_key_differs_from_manifest_version(server, token, base, tmp_path, unchanged):
    def build(n, v):
        b = body_for(server, tmp_path, n, v)
        b["versions"][v]["version"] = "7.7.7"
        return b
    refused_everywhere(server, token, base, build)


@pytest.mark.parametrize("how", ["empty", "missing", "null"])
def test_no_attachment_is_400(server, token, base, tmp_path, unchanged, how):
    def build(n, v):
        b = body_for(server, tmp_path, n, v)
        if how == "empty":
            b["_attachments"] = {}
        elif how == "missing":
            del b["_attachments"]
        else:
            b["_attachments"] = None
        return b
    refused_everywhere(server, token, base, build)


def test_two_versions_in_one_put_is_400(server, token, base, tmp_path, unchanged):
    def build(n, v):
        b = body_for(server, tmp_path, n, v)
        second = body_for(server, tmp_path, n, "2.0.0")
        b["versions"].update(second["versions"])
        return b
    refused_everywhere(server, token, base, build)


def test_two_versions_with_two_attachments_is_400(server, token, base, tmp_path, unchanged):
    def build(n, v):
        b = body_for(server, tmp_path, n, v)
        second = body_for(server, tmp_path, n, "2.0.0")
        b["versions"].update(second["versions"])
        b["_attachments"].update(second["_attachments"])
        return b
    refused_everywhere(server, token, base, build)


def test_two_attachments_is_400(server, token, base, tmp_path, unchanged):
    def build(n, v):
        b = body_for(server, tmp_path, n, v)
        other = body_for(server, tmp_path, n, "2.0.0")
        b["_attachments"].update(other["_attachments"])
        return b
    refused_everywhere(server, token, base, build)


@pytest.mark.parametrize("data", ["!!!! not base64 !!!!", "QUJD\x00REVG", "QUJDR",
                                  "\u00e9\u00e9\u00e9\u00e9"])
def test_invalid_base64_is_400(server, token, base, tmp_path, unchanged, data):
    def build(n, v):
        b = body_for(server, tmp_path, n, v)
        (att,) = b["_attachments"].values()
        att["data"] = data
        return b
    refused_everywhere(server, token, base, build)


def test_attachment_data_not_a_string_is_400(server, token, base, tmp_path, unchanged):
    def build(n, v):
        b = body_for(server, tmp_path, n, v)
        (att,) = b["_attachments"].values()
        att["data"] = [1, 2, 3]
        return b
    refused_everywhere(server, token, base, build)


# --- the tarball -----------------------------------------------------------------------
def tarball_case(server, tmp_path, members_of, *, compress=True):
    """build() for a tarball made by members_of(name, version)."""
    def build(n, v):
        data = tarball_bytes(tmp_path, members_of(n, v), compress=compress)
        return body_for(server, tmp_path, n, v, tarball=data)
    return build


def test_tarball_not_gzip_is_400(server, token, base, tmp_path, unchanged):
    build = tarball_case(server, tmp_path, lambda n, v: [pj(n, v), RM("package/index.js", b"1")],
                         compress=False)
    refused_everywhere(server, token, base, build)


@pytest.mark.parametrize("payload", [b"hello, not a tar archive\n" * 100, os.urandom(3000)])
def test_gzip_but_not_tar_is_400(server, token, base, tmp_path, unchanged, payload):
    def build(n, v):
        return body_for(server, tmp_path, n, v, tarball=gzip.compress(payload, mtime=0))
    refused_everywhere(server, token, base, build)


def test_not_even_gzip_random_bytes_is_400(server, token, base, tmp_path, unchanged):
    def build(n, v):
        return body_for(server, tmp_path, n, v, tarball=os.urandom(2048))
    refused_everywhere(server, token, base, build)


def test_truncated_gzip_is_400(server, token, base, tmp_path, unchanged):
    def build(n, v):
        good = nd.make_npm_tarball(tmp_path / uuid.uuid4().hex[:6], n, v,
                                   files={"blob.bin": os.urandom(8000)}).read_bytes()
        return body_for(server, tmp_path, n, v, tarball=good[: len(good) // 2])
    refused_everywhere(server, token, base, build)


def test_no_package_json_is_400(server, token, base, tmp_path, unchanged):
    build = tarball_case(server, tmp_path, lambda n, v: [RM("package/index.js", b"1")])
    refused_everywhere(server, token, base, build)


def test_package_json_not_json_is_400(server, token, base, tmp_path, unchanged):
    build = tarball_case(server, tmp_path, lambda n, v: [
        RM("package/package.json", b'{"name": "' + n.encode() + b'", "version": '),
        RM("package/index.js", b"1")])
    refused_everywhere(server, token, base, build)


@pytest.mark.parametrize("field", ["name", "version"])
def test_package_json_disagrees_with_manifest(server, token, base, tmp_path, unchanged, field):
    def build(n, v):
        tname, tver = (uniq("npmbad-tar"), v) if field == "name" else (n, "9.9.9")
        tgz = nd.make_npm_tarball(tmp_path / uuid.uuid4().hex[:6], tname, tver)
        return body_for(server, tmp_path, n, v, tarball=tgz)  # body: n@v
    refused_everywhere(server, token, base, build)


@pytest.mark.parametrize("member", [
    RM("package/../evil.js", b"x"),
    RM("package/lib/../../evil.js", b"x"),
    RM("../evil.js", b"x"),
    RM("/etc/evil.js", b"x"),
    RM("package/link", type="symlink", linkname="../../etc/passwd"),
    RM("package/abs-link", type="symlink", linkname="/etc/passwd"),
    RM("package/hard", type="hardlink", linkname="/etc/passwd"),
    RM("package/hard2", type="hardlink", linkname="package/index.js"),
    RM("package/dev", type="chardev"),
    RM("package/fifo", type="fifo"),
], ids=lambda m: f"{m.type}:{m.name}")
def test_traversal_and_link_members_are_400(server, token, base, tmp_path, unchanged, member):
    build = tarball_case(server, tmp_path, lambda n, v: [
        pj(n, v), RM("package/index.js", b"1"), member])
    refused_everywhere(server, token, base, build)


@pytest.fixture(scope="module")
def many_entries_tar() -> bytes:
    """300,000 empty files after package.json: 150 MB of tar headers in 2 MB of gzip."""
    return gzip.compress(nd.raw_tar_bytes(
        [RM("package/package.json", b"{}")] +
        [RM(f"package/f/{i}.js", b"") for i in range(300_000)]), compresslevel=6, mtime=0)


def test_tar_bomb_too_many_entries_is_4xx(server, token, base, tmp_path, unchanged,
                                          many_entries_tar):
    def build(n, v):
        # Same members, but a package.json that agrees with the manifest (first entry).
        raw = gzip.decompress(many_entries_tar)
        first = nd.raw_tar_bytes([pj(n, v)])[:-1024]
        old_first = nd.raw_tar_bytes([RM("package/package.json", b"{}")])[:-1024]
        data = gzip.compress(first + raw[len(old_first):], compresslevel=1, mtime=0)
        return with_tarball(body_for(server, tmp_path, n, v), data)
    refused_everywhere(server, token, base, build, want=(400, 413))


def test_tar_bomb_huge_declared_size_is_4xx(server, token, base, tmp_path, unchanged):
    build = tarball_case(server, tmp_path, lambda n, v: [
        pj(n, v), RM("package/big.bin", b"abc", size=10**12)])
    refused_everywhere(server, token, base, build, want=(400, 413))


def test_tar_bomb_huge_package_json_is_4xx(server, token, base, tmp_path, unchanged):
    build = tarball_case(server, tmp_path, lambda n, v: [
        RM("package/package.json", b'{"name": "x"}', size=8 * 10**9)])
    refused_everywhere(server, token, base, build, want=(400, 413))


# --- digests ---------------------------------------------------------------------------
def test_integrity_mismatch_is_400(server, token, base, tmp_path, unchanged):
    def build(n, v):
        b = body_for(server, tmp_path, n, v)
        b["versions"][v]["dist"]["integrity"] = nd.integrity_sha512(b"other bytes")
        return b
    refused_everywhere(server, token, base, build)


def test_shasum_mismatch_is_400(server, token, base, tmp_path, unchanged):
    def build(n, v):
        b = body_for(server, tmp_path, n, v)
        b["versions"][v]["dist"]["shasum"] = nd.shasum_sha1(b"other bytes")
        return b
    refused_everywhere(server, token, base, build)


def test_digests_may_be_left_out(server, token, tmp_path):
    # "a sent shasum or integrity must match": one not sent is no error.
    name = uniq("npmbad-nodigest")
    b = body_for(server, tmp_path, name, "1.0.0")
    data = base64.b64decode(next(iter(b["_attachments"].values()))["data"])
    del b["versions"]["1.0.0"]["dist"]["integrity"]
    del b["versions"]["1.0.0"]["dist"]["shasum"]
    r = put(server, name, b, token)
    assert r.status in (200, 201), (r.status, r.reason, r.text[:300])
    dist = packument(server, name).json()["versions"]["1.0.0"]["dist"]
    assert dist["integrity"] == nd.integrity_sha512(data)
    assert dist["shasum"] == nd.shasum_sha1(data)


# --- size limit ------------------------------------------------------------------------
LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def small_limit(server_factory_module):
    s = server_factory_module(f"[limits]\nmax_upload_bytes = {LIMIT}\n")
    return s, s.token("upload:*")


def raw_put(server, name_in_url: str, body: dict, token: str) -> tuple[int | None, bytes]:
    data = json.dumps(body).encode()
    head = (f"PUT /npm/{name_in_url} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n")
    return raw_exchange(server.port, head.encode() + data, timeout=30)


def test_body_over_max_upload_bytes_is_413(small_limit, tmp_path):
    s, tok = small_limit
    name = uniq("npmbad-big")
    tgz = nd.make_npm_tarball(tmp_path, name, "1.0.0", files={"big.bin": os.urandom(2 * LIMIT)})
    assert tgz.stat().st_size > LIMIT
    before = set(s.blob_files())
    status, raw = raw_put(s, name, body_for(s, tmp_path, name, "1.0.0", tarball=tgz), tok)
    assert status == 413, raw[:300]
    assert packument(s, name).status == 404
    assert set(s.blob_files()) == before


def test_limit_counts_the_decoded_tarball(small_limit, tmp_path):
    """DESIGN: 413 "over [limits] max_upload_bytes (decoded)": a tarball under the limit
    is accepted though its base64 body is over it; one just over it is refused."""
    s, tok = small_limit
    name = uniq("npmbad-edge")
    under = nd.make_npm_tarball(tmp_path / "u", name, "1.0.0",
                                files={"x.bin": os.urandom(LIMIT - 6000)})
    assert under.stat().st_size < LIMIT
    body = body_for(s, tmp_path, name, "1.0.0", tarball=under)
    assert len(json.dumps(body)) > LIMIT
    status, raw = raw_put(s, name, body, tok)
    assert status in (200, 201), raw[:300]
    over = nd.make_npm_tarball(tmp_path / "o", name, "1.0.1",
                               files={"x.bin": os.urandom(LIMIT + 1000)})
    status, raw = raw_put(s, name, body_for(s, tmp_path, name, "1.0.1", tarball=over), tok)
    assert status == 413, raw[:300]
    assert set(packument(s, name).json()["versions"]) == {"1.0.0"}


# --- versions and names ----------------------------------------------------------------
@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "01.0.0", "1.0.0-01", "1.0.0.0",
                                     "1.0.0-", "latest"])
def test_invalid_semver_is_400(server, token, base, tmp_path, unchanged, version):
    def build(n, v):
        # The tarball agrees with the body: only the version itself is wrong.
        tgz = nd.make_npm_tarball(tmp_path / uuid.uuid4().hex[:6], n, version,
                                  filename="bad.tgz")
        return body_for(server, tmp_path, n, version, tarball=tgz)
    refused_everywhere(server, token, base, build)


@pytest.mark.parametrize("name", [
    "Upper-Case-Pkg", ".leading-dot", "_leading-underscore", "a" * 215, "a b", "caf\u00e9",
    "@scope/../x", "@Scope/upper", "@scope/.dot", "@/empty-scope", "@scope/",
], ids=["uppercase", "dot", "underscore", "215-chars", "space", "non-ascii", "traversal",
        "scope-uppercase", "scope-dot", "empty-scope", "empty-name"])
def test_invalid_name_is_4xx(server, token, tmp_path, unchanged, name):
    tgz = nd.make_npm_tarball(tmp_path, name, "1.0.0", filename="bad.tgz")
    body = body_for(server, tmp_path, name, "1.0.0", tarball=tgz)
    res = put(server, url_name(name), body, token)
    assert 400 <= res.status < 500, (res.status, res.reason, res.text[:300])
    # Nothing under the name, nor under a normalized spelling of it.
    for spelled in {name, name.lower(), name.strip("._")}:
        got = packument(server, url_name(spelled))
        assert got.status in (400, 404), (spelled, got.status, got.text[:200])


def test_traversal_in_url_is_4xx(server, token, tmp_path, unchanged):
    """PUT /npm/@scope%2f..%2fx: the name "@scope/../x" is refused, nothing lands at x."""
    name = "@scope/../x"
    body = body_for(server, tmp_path, name, "1.0.0",
                    tarball=nd.make_npm_tarball(tmp_path, name, "1.0.0", filename="t.tgz"))
    res = put(server, "@scope%2f..%2fx", body, token)
    assert 400 <= res.status < 500, (res.status, res.reason)
    res = put(server, "@scope%2F..%2Fx", body, token)
    assert 400 <= res.status < 500, (res.status, res.reason)
    for path in ("@scope%2f..%2fx", "x", "@scope%2fx"):
        assert packument(server, path).status in (400, 404)


# --- tokens ----------------------------------------------------------------------------
def test_no_token_is_401(server, base, tmp_path, unchanged):
    refused_everywhere(server, None, base, lambda n, v: body_for(server, tmp_path, n, v), 401)


@pytest.mark.parametrize("bad", ["pipy-not-a-real-token", "", "x" * 300])
def test_wrong_token_is_401(server, base, tmp_path, unchanged, bad):
    refused_everywhere(server, bad, base, lambda n, v: body_for(server, tmp_path, n, v), 401)


def test_out_of_scope_and_read_tokens_are_403(server, base, tmp_path, unchanged):
    for tok in (server.token("upload:@other/*"), server.token("upload:zzz-*"),
                server.token("read")):
        refused_everywhere(server, tok, base, lambda n, v: body_for(server, tmp_path, n, v),
                           403)


# --- concurrency -----------------------------------------------------------------------
def race(server, bodies: list[tuple[str, bytes]], token: str) -> list[int]:
    """PUTs every (url name, body) at once from its own thread; returns the statuses."""
    barrier = threading.Barrier(len(bodies))
    statuses: list = [None] * len(bodies)

    def one(i, name, data):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            conn.connect()
            barrier.wait()
            conn.request("PUT", "/npm/" + name, body=data,
                         headers={"Content-Type": "application/json", **bearer_auth(token)})
            r = conn.getresponse()
            r.read()
            statuses[i] = r.status
        except Exception as e:  # noqa: BLE001 - a dropped connection is a finding too
            statuses[i] = repr(e)
        finally:
            conn.close()

    threads = [threading.Thread(target=one, args=(i, n, d)) for i, (n, d) in enumerate(bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return statuses


@pytest.mark.parametrize("scoped", [False, True])
def test_16_concurrent_publishes_of_one_new_package(server, token, tmp_path, scoped):
    name = f"@acme/{uniq('npmrace')}" if scoped else uniq("npmrace")
    versions = [f"1.0.{i}" for i in range(16)]
    bodies = [(url_name(name), json.dumps(body_for(server, tmp_path, name, v)).encode())
              for v in versions]
    statuses = race(server, bodies, token)
    assert all(s in (200, 201, 409) for s in statuses), statuses
    ok = {v for v, s in zip(versions, statuses) if s in (200, 201)}
    assert ok, f"no publish succeeded: {statuses}"
    doc = packument(server, url_name(name)).json()
    assert set(doc["versions"]) == ok, (statuses, sorted(doc["versions"]))
    assert doc["dist-tags"]["latest"] in ok
    assert {"created", "modified"} | ok <= set(doc["time"])
    for v in ok:
        dist = doc["versions"][v]["dist"]
        t = server.get(server.path_of(dist["tarball"]))
        assert t.status == 200 and nd.integrity_sha512(t.body) == dist["integrity"], v


def test_16_concurrent_publishes_of_one_version_with_different_bytes(server, token, tmp_path):
    name = uniq("npmrace-same")
    bodies, integrities = [], []
    for i in range(16):
        tgz = nd.make_npm_tarball(tmp_path / str(i), name, "1.0.0", files={"n.js": str(i)})
        integrities.append(nd.integrity_sha512(tgz))
        bodies.append((name, json.dumps(body_for(server, tmp_path, name, "1.0.0",
                                                 tarball=tgz)).encode()))
    statuses = race(server, bodies, token)
    assert all(s in (200, 201, 409) for s in statuses), statuses
    winners = [i for i, s in enumerate(statuses) if s in (200, 201)]
    assert len(winners) == 1, statuses
    dist = packument(server, name).json()["versions"]["1.0.0"]["dist"]
    assert dist["integrity"] == integrities[winners[0]]
    t = server.get(server.path_of(dist["tarball"]))
    assert nd.integrity_sha512(t.body) == integrities[winners[0]]


def test_server_still_healthy(server):
    assert server.get("/healthz").status == 200
    assert server.get("/npm/-/ping").status == 200


def test_16_concurrent_publishes_to_an_existing_package(server, token, base, tmp_path):
    versions = [f"2.0.{i}" for i in range(16)]
    bodies = [(url_name(base), json.dumps(body_for(server, tmp_path, base, v)).encode())
              for v in versions]
    statuses = race(server, bodies, token)
    assert all(s in (200, 201, 409) for s in statuses), statuses
    ok = {v for v, s in zip(versions, statuses) if s in (200, 201)}
    assert ok, statuses
    doc = packument(server, url_name(base)).json()
    assert set(doc["versions"]) == ok | {"1.0.0"}, (statuses, sorted(doc["versions"]))


def test_publishes_tags_and_deprecations_racing(server, token, base, tmp_path):
    """Publishes, dist-tag moves and deprecation PUTs of one package at once: never a 5xx,
    and afterwards every dist-tag names a version that exists."""
    doc = packument(server, url_name(base)).json()
    deprecate = json.loads(json.dumps(doc))
    deprecate["versions"]["1.0.0"]["deprecated"] = "racing"
    jobs = []
    for i in range(8):
        jobs.append(("PUT", f"/npm/{url_name(base)}",
                     json.dumps(body_for(server, tmp_path, base, f"3.0.{i}")).encode()))
        jobs.append(("PUT", f"/npm/-/package/{url_name(base)}/dist-tags/t{i}",
                     json.dumps("1.0.0").encode()))
    jobs.append(("PUT", f"/npm/{url_name(base)}", json.dumps(deprecate).encode()))
    barrier = threading.Barrier(len(jobs))
    statuses: list = [None] * len(jobs)

    def one(i, method, path, data):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        try:
            conn.connect()
            barrier.wait()
            conn.request(method, path, body=data,
                         headers={"Content-Type": "application/json", **bearer_auth(token)})
            r = conn.getresponse()
            r.read()
            statuses[i] = r.status
        except Exception as e:  # noqa: BLE001
            statuses[i] = repr(e)
        finally:
            conn.close()

    threads = [threading.Thread(target=one, args=(i, *job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(isinstance(s, int) and s < 500 for s in statuses), statuses
    # Publishes of new versions and tag moves onto 1.0.0 have nothing to conflict about.
    assert all(s in (200, 201) for s in statuses[0:16:2]), statuses
    assert all(s in (200, 201, 204) for s in statuses[1:16:2]), statuses
    after = packument(server, url_name(base)).json()
    assert set(after["versions"]) == {"1.0.0"} | {f"3.0.{i}" for i in range(8)}
    assert {f"t{i}" for i in range(8)} <= set(after["dist-tags"])
    assert all(v in after["versions"] for v in after["dist-tags"].values()), after["dist-tags"]


# --- other malformed requests: a 4xx, never a 5xx ---------------------------------------
@pytest.mark.parametrize("tag,body", [
    ("..%2f..%2fetc", '"1.0.0"'), ("a%2fb", '"1.0.0"'), ("ok-tag", "1.0.0"),
    ("ok-tag", '{"version": "1.0.0"}'), ("ok-tag", '"not a version"'), ("ok-tag", ""),
    ("ok-tag", '"9.9.9"'), ("%00", '"1.0.0"'),
])
def test_bad_dist_tag_requests_are_4xx(server, token, base, tag, body):
    before = packument(server, url_name(base)).body
    r = server.request("PUT", f"/npm/-/package/{url_name(base)}/dist-tags/{tag}",
                       body=body.encode(),
                       headers={"Content-Type": "application/json", **bearer_auth(token)})
    assert 400 <= r.status < 500, (r.status, r.reason)
    assert packument(server, url_name(base)).body == before


@pytest.mark.parametrize("method,path,headers", [
    ("GET", "/npm/-/v1/search?text=x&size=-1&from=-5", {}),
    ("GET", "/npm/-/v1/search?text=x&size=abc", {}),
    ("GET", "/npm/-/v1/search?text=x&size=100000000000000000000", {}),
    ("GET", "/npm/-/v1/search?text=%ff%fe", {}),
    ("GET", "/npm/-/v1/search", {}),
    ("GET", "/npm/" + "a" * 5000, {}),
    ("GET", "/npm/@%2f", {}),
    ("GET", "/npm/%2e%2e%2f%2e%2e%2fetc%2fpasswd", {}),
    ("GET", "/npm/@acme%2f..%2f..%2fx/-/x-1.0.0.tgz", {}),
    ("GET", "/npm/x/-/..%2f..%2f..%2fetc%2fpasswd", {}),
    ("GET", "/npm/x", {"Accept": "application/vnd.npm.install-v1+json; q=abc"}),
    ("GET", "/npm/x", {"If-None-Match": '"' + "x" * 5000 + '"'}),
    ("DELETE", "/npm/x", {}),
    ("POST", "/npm/x", {}),
    ("PUT", "/npm/-/user/org.couchdb.user:", {}),
    ("PUT", "/npm/-/user/org.couchdb.user:x", {}),
    ("POST", "/npm/-/npm/v1/security/advisories/bulk", {"Content-Encoding": "gzip"}),
])
def test_malformed_npm_requests_are_never_5xx(server, method, path, headers):
    body = b"not json" if method in ("PUT", "POST") else None
    r = server.request(method, path, body=body, headers=headers)
    assert r.status < 500, (method, path, r.status, r.reason)
    assert server.get("/npm/-/ping").status == 200
