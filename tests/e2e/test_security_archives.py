"""Hostile archives and metadata at upload: each gets a 400 naming the problem, nothing is
stored, and the server's memory stays bounded.

- A wheel whose central directory holds over a million tiny entries (its end record
  honest, or lying about the count) is refused from the end record or a constant-memory
  walk, before libarchive loads the directory: four at once keep the server's peak RSS
  small, and it serves afterwards.
- Symlinks, hard links, fifos and devices inside wheels and sdists are refused.
- Displayed metadata is capped: Summary (512 characters, one line), the README (1 MiB),
  Home-page and other fields.
"""
from __future__ import annotations

import gzip
import io
import struct
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from pipyharness import basic_auth
from pydists import (Dist, core_metadata, dist_name, make_sdist, make_wheel, upload,
                     upload_form)

MIB = 1024 * 1024


@pytest.fixture
def unchanged(server):
    """Yields; afterwards asserts the set of blobs under the data folder did not change."""
    before = set(server.blob_files())
    yield
    assert set(server.blob_files()) == before, "a refused upload left a blob behind"


def refused(server, project, res, status=400, needle=None):
    assert res.status == status, (res.status, res.reason, res.text[:300])
    assert res.reason.strip(), "the reason phrase must carry the reason"
    if needle is not None:
        assert needle in res.text, res.text[:300]
    page = server.project_json(project)
    assert page.status == 404, f"{project} exists after a refused upload: {page.text[:300]}"


# --- A. central-directory floods ------------------------------------------------------
LOCAL = struct.Struct("<4sHHHHHIIIHH")
CENTRAL = struct.Struct("<4sHHHHHHIIIHHHHHII")
ZIP64_END = struct.Struct("<4sQHHIIQQQQ")
ZIP64_LOCATOR = struct.Struct("<4sIQI")
END = struct.Struct("<4sHHHHIIH")
DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _name(i: int) -> bytes:
    out = ""
    for _ in range(5):
        i, d = divmod(i, 36)
        out += DIGITS[d]
    return out.encode()


def flood_wheel(out_dir: Path, name: str, entries: int, lie: bool) -> Dist:
    """A wheel of `entries` central-directory entries (5-byte names) that all point at one
    tiny stored member, written with struct.pack: about 51 bytes an entry. Honest: a zip64
    end record with the true count. Lying: a plain end record that says 5."""
    version = "1.0"
    path = out_dir / f"{dist_name(name)}-{version}-py3-none-any.whl"
    out_dir.mkdir(parents=True, exist_ok=True)
    member = b"x.py"
    with open(path, "wb") as f:
        f.write(LOCAL.pack(b"PK\x03\x04", 20, 0, 0, 0, 0x21, 0, 0, 0, len(member), 0) + member)
        cd_offset = f.tell()
        chunk = bytearray()
        for i in range(entries):
            chunk += CENTRAL.pack(b"PK\x01\x02", (3 << 8) | 20, 20, 0, 0, 0, 0x21, 0, 0, 0, 5,
                                  0, 0, 0, 0, 0o100644 << 16, 0)
            chunk += _name(i)
            if len(chunk) > 4 * MIB:
                f.write(chunk)
                chunk = bytearray()
        f.write(chunk)
        cd_size = f.tell() - cd_offset
        if lie:
            f.write(END.pack(b"PK\x05\x06", 0, 0, 5, 5, cd_size, cd_offset, 0))
        else:
            zip64_at = f.tell()
            f.write(ZIP64_END.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, cd_size,
                                   cd_offset))
            f.write(ZIP64_LOCATOR.pack(b"PK\x06\x07", 0, zip64_at, 1))
            f.write(END.pack(b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))
    return Dist(path, name, version, b"")


def memory_kib(pid: int) -> dict:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def test_central_directory_floods_are_refused_in_bounded_memory(server_factory, tmp_path):
    srv = server_factory("[server]\nthreads = 4\n")
    token = srv.token("upload:*")
    entries = 1_200_000  # 12 times the default entry limit; ~61 MB each
    floods = [flood_wheel(tmp_path / "honest", "pipys-flood-honest", entries, lie=False),
              flood_wheel(tmp_path / "lying", "pipys-flood-lying", entries, lie=True)]
    bodies = [upload_form(d) for d in floods]  # built once: ~61 MB each
    before = memory_kib(srv.proc.pid)
    results: list = [None] * 4

    def send(i: int) -> None:
        body, ctype = bodies[i % 2]
        headers = {"Content-Type": ctype, **basic_auth(token)}
        results[i] = srv.request("POST", "/legacy/", body=body, headers=headers, timeout=180)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = memory_kib(srv.proc.pid)
    for i, res in enumerate(results):
        assert res is not None, f"upload {i} got no answer"
        assert res.status == 400, (i, res.status, res.reason, res.text[:300])
    # Before the fix libarchive held every entry (~160 bytes each): ~190 MB per upload.
    peak_mib = after["VmHWM"] / 1024
    assert peak_mib < 150, f"server peak RSS {peak_mib:.0f} MiB (was {before}, now {after})"
    assert after["VmRSS"] / 1024 < 150, after
    for res in results:
        assert "more than 100000 members" in res.text, res.text[:300]
    assert "end record lists 1200000" in results[0].text, results[0].text[:300]
    assert srv.get("/healthz").status == 200
    ok = make_wheel(tmp_path / "ok", "pipys-after-flood", "1.0")
    assert upload(srv, ok, token).status == 200
    assert srv.project_json("pipys-after-flood").status == 200
    for d in floods:
        assert srv.project_json(d.name).status == 404


def test_zip64_wheel_within_the_limits_is_accepted(server, upload_token, dist_dir):
    # Control: zipfile writes a zip64 end record past 65,535 members; 70,000 are within
    # the default limit of 100,000 and the honest zip64 count is read as such.
    n = "pipys-zip64-ok"
    w = make_wheel(dist_dir / "z64", n, "1.0")
    with zipfile.ZipFile(w.path, "a") as zf:
        for i in range(70_000):
            zf.writestr(f"{dist_name(n)}/data/{i}.txt", b"")
    res = upload(server, w, upload_token)
    assert res.status == 200, (res.status, res.reason, res.text[:300])


# --- B. links and special files -------------------------------------------------------
def wheel_with_symlink(out_dir: Path, name: str) -> Dist:
    w = make_wheel(out_dir, name, "1.0")
    with zipfile.ZipFile(w.path, "a") as zf:
        zi = zipfile.ZipInfo(f"{dist_name(name)}/evil.py", (2024, 1, 2, 3, 4, 6))
        zi.create_system = 3
        zi.external_attr = 0o120777 << 16  # S_IFLNK | 0777
        zf.writestr(zi, "../../../../etc/passwd")
    return w


def sdist_with(out_dir: Path, name: str, kind: str) -> tuple[Dist, str]:
    """A valid sdist plus one member of `kind`; returns it and the member's name."""
    sd = make_sdist(out_dir, name, "1.0")
    top = f"{dist_name(name)}-1.0"
    raw = io.BytesIO()
    with tarfile.open(sd.path, "r:gz") as old, \
            tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as new:
        for m in old.getmembers():
            new.addfile(m, old.extractfile(m))
        ti = tarfile.TarInfo(f"{top}/{kind}-member")
        ti.mtime, ti.mode = 1_700_000_000, 0o644
        if kind == "symlink":
            ti.type, ti.linkname = tarfile.SYMTYPE, "/etc/passwd"
        elif kind == "hardlink":
            ti.type, ti.linkname = tarfile.LNKTYPE, f"{top}/PKG-INFO"
        elif kind == "fifo":
            ti.type = tarfile.FIFOTYPE
        elif kind == "chardev":
            ti.type, ti.devmajor, ti.devminor = tarfile.CHRTYPE, 1, 3
        new.addfile(ti)
    sd.path.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
    return sd, ti.name


def test_wheel_with_symlink_member_is_refused(server, upload_token, dist_dir, unchanged):
    n = "pipys-wheel-symlink"
    w = wheel_with_symlink(dist_dir / "wl", n)
    res = upload(server, w, upload_token)
    refused(server, n, res, 400, "symbolic link: pipys_wheel_symlink/evil.py")


@pytest.mark.parametrize("kind,needle", [("symlink", "symbolic link"),
                                         ("hardlink", "hard link"),
                                         ("fifo", "not a regular file or directory"),
                                         ("chardev", "not a regular file or directory")])
def test_sdist_with_link_or_special_member_is_refused(server, upload_token, dist_dir,
                                                      unchanged, kind, needle):
    n = f"pipys-sdist-{kind}"
    sd, member = sdist_with(dist_dir / kind, n, kind)
    res = upload(server, sd, upload_token)
    refused(server, n, res, 400, f"{needle}: {member}")


def test_plain_wheel_and_sdist_still_upload(server, upload_token, dist_dir):
    # Control: the same builders without the extra member are accepted.
    assert upload(server, make_wheel(dist_dir / "pw", "pipys-plain", "1.0"),
                  upload_token).status == 200
    assert upload(server, make_sdist(dist_dir / "ps", "pipys-plain", "1.0"),
                  upload_token).status == 200


# --- C. displayed metadata caps -------------------------------------------------------
def metadata_with(name: str, summary: str = "ok", extra: str = "",
                  readme: str = "# Readme\n") -> bytes:
    text = (f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\nSummary: {summary}\n{extra}"
            f"Description-Content-Type: text/markdown\n\n{readme}")
    return text.encode()


CAPS = {
    "long-summary": (dict(summary="s" * 513), "Summary"),
    "multiline-summary": (dict(summary="first line\n second line"), "single line"),
    "huge-readme": (dict(readme="r" * (MIB + 1)), "description"),
    "huge-home-page": (dict(extra="Home-page: https://x.example/" + "a" * 9000 + "\n"),
                       "Home-page"),
    "huge-author": (dict(extra="Author: " + "a" * 9000 + "\n"), "Author"),
    "huge-keywords": (dict(extra="Keywords: " + "k," * 5000 + "\n"), "Keywords"),
}


@pytest.mark.parametrize("case", sorted(CAPS))
def test_oversized_wheel_metadata_is_refused(server, upload_token, dist_dir, unchanged, case):
    n = f"pipys-cap-{case}"
    fields, needle = CAPS[case]
    w = make_wheel(dist_dir / case, n, "1.0", metadata=metadata_with(n, **fields))
    refused(server, n, upload(server, w, upload_token), 400, needle)


def test_oversized_sdist_summary_is_refused(server, upload_token, dist_dir, unchanged):
    n = "pipys-cap-sdist"
    sd = make_sdist(dist_dir / "sds", n, "1.0", metadata=metadata_with(n, summary="s" * 600))
    refused(server, n, upload(server, sd, upload_token), 400, "Summary")


def test_metadata_at_the_caps_is_accepted(server, upload_token, dist_dir):
    # 512 characters of two bytes each: the Summary cap counts characters, not bytes.
    n = "pipys-cap-at-limit"
    summary = "\u00e9" * 512
    readme = "# Big\n\n" + "word " * 200_000  # 1,000,007 bytes: under 1 MiB
    meta = metadata_with(n, summary=summary, readme=readme,
                         extra="Home-page: https://x.example/" + "a" * 4000 + "\n")
    w = make_wheel(dist_dir / "atcap", n, "1.0", metadata=meta)
    res = upload(server, w, upload_token)
    assert res.status == 200, (res.status, res.reason, res.text[:300])
    page = server.project_json(n)
    assert page.status == 200
    html = server.get(f"/project/{n}/").text
    assert summary in html
