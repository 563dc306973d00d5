"""Fault injection (issue 12 item 3): the disk fills up during an upload.

The data folder is a size-limited tmpfs (we run as root; skipped where mounting is not
permitted). A filler file on the same tmpfs leaves less room than an upload needs; the room left is
swept from far too little up to enough, in page-sized steps near the end, so the disk runs
out at every point of the upload's way: the request spool, the extracted file, the blob,
the metadata blob, the catalog's COMMIT.
Each refused upload gets 507 Insufficient Storage with a reason that says so (DESIGN: "a
full disk answers 507"), and leaves nothing half-present: no catalog row, no partial blob (a
complete but unreferenced blob, content-addressed and perhaps shared, is left for `pipy
gc`, as after a crash), no leftover temp file, the listing unchanged, `pipy check` clean. Reads keep working while
the disk is full, and once the filler is removed the same upload succeeds, without a
restart. For a twine-style Python upload (raw, and the real twine) and an npm publish.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

import npmdists as nd
from pipyharness import HEX64, PipyServer, bearer_auth
from pydists import make_wheel, sha256_of, twine, upload

MiB = 1024 * 1024
KiB = 1024
DISK = 40 * MiB
UPLOAD = 2 * MiB
COARSE = 256 * KiB   # the sweep's step until an upload fits
FINE = 8 * KiB       # then again over the last COARSE below that, in these steps


class SmallDiskServer(PipyServer):
    """A PipyServer whose data folder lives on the tmpfs at `mount` (logs stay outside)."""
    mount: Path | None = None

    @property
    def data(self) -> Path:
        return self.mount / "data"


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK},mode=0755", "tmpfs",
                          str(mount)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


@pytest.fixture
def server(small_disk, tmp_path):
    s = SmallDiskServer(root=tmp_path / "srv")
    s.mount = small_disk
    s.root.mkdir()
    s.start()
    yield s
    try:
        assert s.stop() == 0, s.log()
    finally:
        s.cleanup()


def free_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def fill_leaving(mount: Path, headroom: int) -> Path:
    """Writes a filler file so that about `headroom` bytes stay free; returns it."""
    filler = mount / "filler"
    filler.unlink(missing_ok=True)
    size = free_bytes(mount) - headroom
    assert size > 0, (free_bytes(mount), headroom)
    with open(filler, "wb") as f:
        f.write(b"\0" * size)
    left = free_bytes(mount)
    assert abs(left - headroom) <= 8 * KiB, (left, headroom)
    return filler


def data_files(server: SmallDiskServer) -> set[str]:
    """Every file under the data folder but SQLite's journals (they come and go)."""
    return {str(p.relative_to(server.data)) for p in server.data.rglob("*")
            if p.is_file() and not p.name.endswith(("-wal", "-shm", "-journal"))}


def new_files_settled(server: SmallDiskServer, before: set[str]) -> set[str]:
    """The files added since `before`, once request spool files are gone (the spool of a
    request is removed right after its answer is sent)."""
    deadline = time.monotonic() + 3
    while True:
        added = data_files(server) - before
        if not any(a.startswith("spool/") for a in added) or time.monotonic() > deadline:
            return added
        time.sleep(0.05)


def assert_full_disk_answer(r, headroom: int) -> str:
    assert r.status == 507, (headroom, r.status, r.reason, r.text[:300])
    said = f"{r.reason} {r.text}"
    low = said.lower()
    assert "no space" in low or "full" in low or "storage" in low, said
    assert "/tmp/" not in said and "/data/" not in said, said  # no server paths
    return r.reason


def assert_only_complete_blobs(server: SmallDiskServer, added: set[str]) -> None:
    """What a refused upload may leave: complete blobs (bytes hashing to their key)."""
    for rel in added:
        p = server.data / rel
        assert HEX64.fullmatch(p.name), f"a refused upload left {rel}"
        assert sha256_of(p.read_bytes()) == p.name, f"a partial blob was left: {rel}"


def assert_check_clean(server: SmallDiskServer) -> str:
    res = server.cli("check")
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    return out


def sweep(server, mount: Path, attempt, visible, reads) -> tuple[int, set[str]]:
    """Fills the disk ever less and calls attempt(i) -> Response until one is accepted,
    then again from a little less room, finely, until one is accepted. Every refusal must be a clean 507: `visible()` (what clients see) unchanged, only
    complete blobs added, check clean, `reads()` still working. Returns (the attempt that
    was accepted, the reasons seen)."""
    reasons: set[str] = set()
    seen = visible()
    before = data_files(server)
    i = 0

    def one(headroom: int) -> bool:
        nonlocal i, seen, before
        i += 1
        filler = fill_leaving(mount, headroom)
        try:
            r = attempt(i)
            if r.status in (200, 201):
                return True
            reasons.add(assert_full_disk_answer(r, headroom))
            assert visible() == seen, (headroom, r.reason)
            added = new_files_settled(server, before)
            assert_only_complete_blobs(server, added)
            before |= added
            assert_check_clean(server)
            reads()
            return False
        finally:
            filler.unlink()

    headroom = 512 * KiB
    while not one(headroom):
        headroom += COARSE
        assert headroom < 4 * UPLOAD, "an upload never fitted"
    seen = visible()
    before = data_files(server)
    for fine in range(headroom - COARSE, headroom, FINE):
        if one(fine):
            break
    return i, reasons


def test_python_upload_on_a_full_disk_is_507_and_leaves_nothing(server, small_disk,
                                                                  tmp_path):
    token = server.token("upload:*")
    project = "pipyfull-py"
    first = make_wheel(tmp_path / "first", project, "1.0")
    assert upload(server, first, token).status == 200
    payload = os.urandom(UPLOAD)
    wheels = {}

    def attempt(i: int):
        wheels[i] = make_wheel(tmp_path / str(i), project, f"2.{i}", payload=payload)
        return upload(server, wheels[i], token, timeout=60)

    def visible():
        return (server.project_json(project).body, server.get("/simple/").body)

    def reads():
        got = server.fetch_file(project, first.filename)
        assert got.status == 200 and sha256_of(got.body) == first.sha256

    accepted, reasons = sweep(server, small_disk, attempt, visible, reads)
    # The disk ran out at several points of the upload's way.
    assert len(reasons) >= 3, reasons
    listed = set(server.files(project))
    for i, w in wheels.items():
        if w.filename in listed:
            got = server.fetch_file(project, w.filename)
            assert got.status == 200 and sha256_of(got.body) == w.sha256

    # twine itself shows the user the reason.
    big = make_wheel(tmp_path / "twine", project, "3.0", payload=payload)
    filler = fill_leaving(small_disk, 1 * MiB)
    res = twine(server, token, big)
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    assert "507" in out and "Insufficient Storage" in out, out
    assert big.filename not in server.files(project)

    # Space is freed: the same upload succeeds, with no restart.
    filler.unlink()
    pid = server.proc.pid
    r = upload(server, big, token, timeout=60)
    assert r.status == 200, (r.status, r.reason, r.text[:300])
    assert server.proc.pid == pid and server.proc.poll() is None
    got = server.fetch_file(project, big.filename)
    assert got.status == 200 and sha256_of(got.body) == big.sha256
    assert_check_clean(server)


def publish(server, name: str, version: str, tgz: Path, token: str):
    body = nd.publish_body(name, version, tgz, registry_url=server.url + "/npm/")
    return server.request("PUT", "/npm/" + nd.escaped_name(name),
                          body=json.dumps(body).encode(),
                          headers={"Content-Type": "application/json", **bearer_auth(token)},
                          timeout=60)


def test_npm_publish_on_a_full_disk_is_507_and_leaves_nothing(server, small_disk, tmp_path):
    token = server.token("upload:*")
    name = "@acme/full"
    first = nd.make_npm_tarball(tmp_path / "first", name, "1.0.0")
    assert publish(server, name, "1.0.0", first, token).status in (200, 201)
    blob = os.urandom(UPLOAD)  # random bytes do not compress: the tarball is this big
    tarballs = {}

    def attempt(i: int):
        tarballs[i] = nd.make_npm_tarball(tmp_path / str(i), name, f"2.0.{i}",
                                          files={"blob.bin": blob})
        return publish(server, name, f"2.0.{i}", tarballs[i], token)

    def visible():
        full = server.get("/npm/@acme%2ffull", {"Accept": "application/json"})
        assert full.status == 200
        doc = full.json()
        return (sorted(doc["versions"]), doc["dist-tags"], doc.get("_rev"))

    def reads():
        tgz = server.get("/npm/" + nd.registry_tarball_path(name, "1.0.0"))
        assert tgz.status == 200 and tgz.body == first.read_bytes()

    accepted, reasons = sweep(server, small_disk, attempt, visible, reads)
    assert len(reasons) >= 3, reasons
    doc = server.get("/npm/@acme%2ffull", {"Accept": "application/json"}).json()
    for i, tgz in tarballs.items():
        version = f"2.0.{i}"
        r = server.get("/npm/" + nd.registry_tarball_path(name, version))
        if version in doc["versions"]:
            assert r.status == 200 and r.body == tgz.read_bytes(), version
        else:
            assert r.status == 404, (version, r.status)

    # Space is freed (it was, after the sweep): a new version publishes, no restart.
    pid = server.proc.pid
    last = nd.make_npm_tarball(tmp_path / "last", name, "3.0.0", files={"blob.bin": blob})
    r = publish(server, name, "3.0.0", last, token)
    assert r.status in (200, 201), (r.status, r.reason, r.text[:300])
    assert server.proc.pid == pid and server.proc.poll() is None
    tgz = server.get("/npm/" + nd.registry_tarball_path(name, "3.0.0"))
    assert tgz.status == 200 and tgz.body == last.read_bytes()
    assert_check_clean(server)
