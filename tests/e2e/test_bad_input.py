"""Hostile and broken requests: each gets a clear 4xx and NOTHING is stored.

"Nothing stored" is checked three ways: the project page stays 404, no new blob appears
under the data folder, and `pipy check` passes at the end of the module."""
from __future__ import annotations

import gzip
import os
import threading

import pytest

from pipyharness import basic_auth, bearer_auth, raw_exchange
from pydists import core_metadata, make_sdist, make_wheel, sha256_of, upload, upload_form


@pytest.fixture
def unchanged(server):
    """Yields; afterwards asserts the set of blobs under the data folder did not change."""
    before = set(server.blob_files())
    yield
    assert set(server.blob_files()) == before, "a refused upload left a blob behind"


def refused(server, project, res, status):
    assert res.status == status, (res.status, res.reason, res.text[:300])
    assert res.reason.strip(), "the reason phrase must carry the reason"
    page = server.project_json(project)
    assert page.status == 404, f"{project} exists after a refused upload: {page.text[:300]}"


def test_a_valid_upload_creates_blobs_named_by_sha256(server, upload_token, dist_dir):
    # Control for the checks below: a stored file does show up as a blob.
    w = make_wheel(dist_dir, "pipyb-control", "1.0")
    assert upload(server, w, upload_token).status == 200
    assert server.blob_path(w.sha256).read_bytes() == w.data


def test_no_token_gets_401_with_basic_challenge(server, dist_dir, unchanged):
    w = make_wheel(dist_dir, "pipyb-anon", "1.0")
    res = upload(server, w, None)
    refused(server, "pipyb-anon", res, 401)
    assert "basic" in (res.header("WWW-Authenticate") or "").lower()


@pytest.mark.parametrize("auth", [basic_auth, bearer_auth])
def test_wrong_token_gets_401(server, dist_dir, unchanged, auth):
    w = make_wheel(dist_dir, "pipyb-wrong", "1.0")
    refused(server, "pipyb-wrong", upload(server, w, "pipy-not-a-real-token", auth=auth), 401)


def test_token_outside_its_scope_gets_403(server, dist_dir, unchanged):
    token = server.token("upload:other-*")
    w = make_wheel(dist_dir, "pipyb-scope", "1.0")
    refused(server, "pipyb-scope", upload(server, w, token), 403)
    read = server.token("read")
    refused(server, "pipyb-scope", upload(server, w, read), 403)


def test_sha256_mismatch_is_400(server, upload_token, dist_dir, unchanged):
    w = make_wheel(dist_dir, "pipyb-digest", "1.0")
    res = upload(server, w, upload_token, sha256_digest="0" * 64)
    refused(server, "pipyb-digest", res, 400)


@pytest.mark.parametrize("filename", [
    "pipyb_badname.whl", "pipyb_badname-1.0.whl", "pipyb_badname-1.0-py3-none.whl",
    "pipyb_badname-1.0.tar.bz2", "pipyb_badname-1.0-py3-none-any.whl.exe",
    "pipyb_badname-not.a.version-py3-none-any.whl", "pipyb_badname-1.0.tar.gz\x00.whl",
    # a compressed tag set of 24 x 24 x 16 tags, and a name over 255 bytes
    "pipyb_badname-1.0-" + "-".join(".".join(f"{c}{i}" for i in range(n))
                                    for c, n in (("a", 24), ("b", 24), ("c", 16))) + ".whl",
    "pipyb_badname-1.0-" + "x" * 230 + "-none-any.whl"])
def test_invalid_filename_is_400(server, upload_token, dist_dir, unchanged, filename):
    w = make_wheel(dist_dir, "pipyb-badname", "1.0")
    refused(server, "pipyb-badname", upload(server, w, upload_token, filename=filename), 400)


@pytest.mark.parametrize("filename,project", [
    ("../../pipyb_evil-1.0.tar.gz", "pipyb-evil"),
    ("x/../../pipyb_y-1.0-py3-none-any.whl", "pipyb-y"),
    ("..\\..\\pipyb_evil2-1.0.tar.gz", "pipyb-evil2"),
    ("/tmp/pipyb_evil3-1.0.tar.gz", "pipyb-evil3"),
])
def test_traversal_filename_is_400_and_writes_nothing_outside(server, upload_token, dist_dir,
                                                              unchanged, filename, project):
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    make = make_wheel if base.endswith(".whl") else make_sdist
    d = make(dist_dir / "trav", project, "1.0")
    refused(server, project, upload(server, d, upload_token, filename=filename), 400)
    outside = server.root.parent  # pytest's temp root: holds every server's folder
    hits = [p for p in outside.rglob(base) if dist_dir not in p.parents]
    hits += [p for p in (f"/tmp/{base}", f"/{base}") if os.path.exists(p)]
    assert not hits, f"traversal wrote {hits}"


def disagreeing_uploads(dist_dir, n):
    w = make_wheel(dist_dir, n, "1.0")
    sd = make_sdist(dist_dir, n, "1.0")
    bad_name = make_wheel(dist_dir / "mn", n, "1.0", metadata=core_metadata("pipyb-else", "1.0"))
    bad_ver = make_wheel(dist_dir / "mv", n, "1.0", metadata=core_metadata(n, "2.0"))
    bad_pkg = make_sdist(dist_dir / "pv", n, "1.0", metadata=core_metadata(n, "3.0"))
    return {
        "form-name": (w, {"name": "pipyb-other"}),
        "form-version": (w, {"version": "9.9"}),
        "sdist-form-version": (sd, {"version": "9.9"}),
        "metadata-name": (bad_name, {}),
        "metadata-version": (bad_ver, {}),
        "pkg-info-version": (bad_pkg, {}),
    }


@pytest.mark.parametrize("case", ["form-name", "form-version", "sdist-form-version",
                                  "metadata-name", "metadata-version", "pkg-info-version"])
def test_filename_form_and_metadata_must_agree(server, upload_token, dist_dir, unchanged, case):
    n = f"pipyb-mismatch-{case}"
    d, fields = disagreeing_uploads(dist_dir / case, n)[case]
    refused(server, n, upload(server, d, upload_token, **fields), 400)
    assert server.project_json("pipyb-other").status == 404


@pytest.mark.parametrize("case", ["random-wheel", "truncated-wheel", "no-metadata",
                                  "random-sdist", "gzip-not-tar"])
def test_corrupt_archive_is_400(server, upload_token, dist_dir, unchanged, case):
    n = f"pipyb-corrupt-{case}"
    w = make_wheel(dist_dir / "cw", n, "1.0")
    sd = make_sdist(dist_dir / "cs", n, "1.0")
    data, d = {
        "random-wheel": (os.urandom(3000), w),
        "truncated-wheel": (w.data[: len(w.data) // 2], w),
        "no-metadata": (make_wheel(dist_dir / "nm", n, "1.0", with_metadata=False).data, w),
        "random-sdist": (os.urandom(3000), sd),
        "gzip-not-tar": (gzip.compress(b"this is not a tar archive" * 100), sd),
    }[case]
    refused(server, n, upload(server, d, upload_token, data=data), 400)


def raw_post(port, body: bytes, ctype: str, token: str, extra: bytes = b"") -> bytes:
    head = (f"POST /legacy/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n").encode()
    auth = basic_auth(token)["Authorization"].encode()
    return head + b"Authorization: " + auth + b"\r\n" + extra + b"\r\n" + body


@pytest.mark.parametrize("case", ["no-boundary", "garbage", "unterminated", "no-content",
                                  "not-multipart"])
def test_malformed_multipart_is_400(server, upload_token, dist_dir, unchanged, case):
    w = make_wheel(dist_dir, "pipyb-multi", "1.0")
    body, ctype = upload_form(w)
    boundary = ctype.split("boundary=")[1]
    body, ctype = {
        "no-boundary": (body, "multipart/form-data"),
        "garbage": (os.urandom(2000), ctype),
        "unterminated": (body[: len(body) - len(boundary) - 40], ctype),
        "no-content": (body.split(b'name="content"')[0].rsplit(b"--", 1)[0]
                       + f"--{boundary}--\r\n".encode(), ctype),
        "not-multipart": (b'{"name": "pipyb-multi"}', "application/json"),
    }[case]
    status, raw = raw_exchange(server.port, raw_post(server.port, body, ctype, upload_token))
    assert status == 400, raw[:300]
    assert server.project_json("pipyb-multi").status == 404


BAD_REQUESTS = {
    "nul-raw": b"GET /simple/a\x00b/ HTTP/1.1\r\nHost: x\r\n\r\n",
    "nul-escaped": b"GET /simple/a%00b/ HTTP/1.1\r\nHost: x\r\n\r\n",
    "nul-in-file": b"GET /files/%00/x-1.0.tar.gz HTTP/1.1\r\nHost: x\r\n\r\n",
    "nul-in-ui": b"GET /project/a%00b/ HTTP/1.1\r\nHost: x\r\n\r\n",
    "utf8-raw": b"GET /simple/\xff\xfe/ HTTP/1.1\r\nHost: x\r\n\r\n",
    "utf8-escaped": b"GET /simple/%ff%fe%c0%af/ HTTP/1.1\r\nHost: x\r\n\r\n",
    "utf8-in-file": b"GET /files/%ff/x%c3%28-1.0.tar.gz HTTP/1.1\r\nHost: x\r\n\r\n",
    "dotdot-file": b"GET /files/../../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n",
    "dotdot-escaped": b"GET /files/%2e%2e%2f%2e%2e%2fetc%2fpasswd/x HTTP/1.1\r\nHost: x\r\n\r\n",
    "nul-header": b"GET /simple/ HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
    "no-colon-header": b"GET /simple/ HTTP/1.1\r\nHost: x\r\nBrokenHeader\r\n\r\n",
    "bad-content-length": b"POST /legacy/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\n",
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_malformed_request_gets_4xx_not_5xx(server, case):
    status, raw = raw_exchange(server.port, BAD_REQUESTS[case])
    assert status is not None and 400 <= status < 500, f"{case}: {raw[:200]!r}"
    assert b"root:" not in raw
    assert server.get("/healthz").status == 200


def test_unknown_method_is_501(server):
    status, raw = raw_exchange(server.port, b"BREW /simple/ HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 501, raw[:200]


def test_unsupported_http_version_is_505(server):
    status, raw = raw_exchange(server.port, b"GET /healthz HTTP/3.0\r\nHost: x\r\n\r\n")
    assert status == 505, raw[:200]


def test_oversized_headers_get_431(server):
    req = (b"GET /simple/ HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 64 * 1024
           + b"\r\n\r\n")
    status, raw = raw_exchange(server.port, req)
    assert status == 431, raw[:200]
    many = b"GET /simple/ HTTP/1.1\r\nHost: x\r\n" + b"X-H: 0123456789abcdef\r\n" * 4000
    status, raw = raw_exchange(server.port, many + b"\r\n")
    assert status == 431, raw[:200]
    assert server.get("/healthz").status == 200


def test_twenty_concurrent_uploads_of_one_filename_have_one_winner(server, upload_token,
                                                                   dist_dir):
    n = "pipyb-race"
    wheels = [make_wheel(dist_dir / f"race{i}", n, "1.0", salt=f"racer {i}") for i in range(20)]
    assert len({w.sha256 for w in wheels}) == 20
    results = [None] * 20
    barrier = threading.Barrier(20)

    def go(i):
        body, ctype = upload_form(wheels[i])
        barrier.wait()
        try:
            results[i] = server.request("POST", "/legacy/", body=body, timeout=60, headers={
                "Content-Type": ctype, **basic_auth(upload_token)}).status
        except OSError as e:
            results[i] = repr(e)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert sorted(results, key=str) == [200] + [409] * 19, results
    winner = wheels[results.index(200)]
    files = server.files(n)
    assert list(files) == [winner.filename]
    assert files[winner.filename]["hashes"]["sha256"] == winner.sha256
    assert sha256_of(server.fetch_file(n, winner.filename).body) == winner.sha256


def test_pipy_check_passes_after_all_refused_uploads(server):
    res = server.cli("check")
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.parametrize("auth", [basic_auth, bearer_auth])
def test_a_bad_token_is_401_on_reads_too(server, auth):
    # Anonymous reads are allowed here, but a token that does not authenticate is refused.
    for path in ("/simple/", "/simple/pipyb-control/"):
        r = server.get(path, auth("pipy-not-a-real-token"))
        assert r.status == 401, (path, r.status, r.reason)
