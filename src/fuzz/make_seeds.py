#!/usr/bin/python3
"""Writes the seed corpora of the Python-side, HTTP and builder fuzz targets
(src/fuzz/corpus/<target>/) from the shared test vectors (../shared/testdata, or the
checkout's tests/testdata copy) and the e2e helpers' real inputs (tests/e2e/pydists.py's
wheels, sdists and METADATA, with a fixed multipart boundary). Deterministic: rerunning it
rewrites the same bytes. The npm targets' seeds come from make_npm_seeds.py.

    /usr/bin/python3 src/fuzz/make_seeds.py
"""
import io
import json
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from pydists import core_metadata, make_sdist, make_wheel  # noqa: E402

SHARED = ROOT.parent / "shared" / "testdata"
TESTDATA = SHARED if (SHARED / "pep440_sorted.txt").exists() else ROOT / "tests" / "testdata"
HEX = "ab" * 32
META_HEX = "cd" * 32


def write(target: str, name: str, data: bytes | str) -> None:
    folder = HERE / "corpus" / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data.encode() if isinstance(data, str) else data)


def column(file: str, index: int = 0) -> list[str]:
    rows = (TESTDATA / file).read_text().splitlines()
    return [r.split("\t")[index] for r in rows if r and not r.startswith("#")]


def dist_filenames() -> None:
    for i, name in enumerate(column("wheel_filenames.tsv")):
        write("dist_filename", f"wheel{i:02}", name)
    for i, name in enumerate(column("sdist_filenames.tsv")):
        write("dist_filename", f"sdist{i:02}", name)


def pep440() -> None:
    versions = column("pep440_normalize.tsv")
    write("pep440", "normalize", "\n".join(versions[:16]))
    write("pep440", "normalize2", "\n".join(versions[16:32]))
    write("pep440", "sorted", "\n".join(column("pep440_sorted.txt")[::40][:16]))
    write("pep440", "invalid", "\n".join(column("pep440_invalid.txt")[:16]))
    specs = column("requires_python.tsv")
    pythons = column("requires_python.tsv", 1)
    uniq = list(dict.fromkeys(specs))
    write("pep440", "specifiers", "\n".join(uniq[:8] + list(dict.fromkeys(pythons))[:8]))
    write("pep440", "specifiers2", "\n".join(uniq[8:16] + ["3.10.0rc1", "1!2.0.post1+local.7"]))


def core_metadata_seeds(dists: Path) -> None:
    write("core_metadata", "e2e", core_metadata("acme-log", "1.0", requires_dist=["a>=1"]))
    write("core_metadata", "folded", (
        "Metadata-Version: 2.1\r\nName: foo\r\nVersion: 1.0\r\nSummary: s\r\n"
        "Description: first\r\n       |second\r\n       |\r\n"
        "License: MIT\r\n        more text\r\nKeywords: a,\r\n  b\r\n"
        "Classifier: X :: Y\r\nProvides-Extra: test\r\nRequires-Dist: b; extra == 'test'\r\n"))
    write("core_metadata", "pkg_info_body", make_sdist(dists, "acme-x", "2.0b1").metadata)


def multipart(dists: Path) -> None:
    wheel = make_wheel(dists, "acme-log", "1.0")
    boundary = "----pipyFuzzBoundary"
    fields = {":action": "file_upload", "protocol_version": "1", "name": "acme-log",
              "version": "1.0", "filetype": "bdist_wheel", "sha256_digest": HEX}
    body = b""
    for k, v in fields.items():
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'
                 f"{v}\r\n").encode()
    file_head = (f'--{boundary}\r\nContent-Disposition: form-data; name="content"; '
                 f'filename="{wheel.filename}"\r\nContent-Type: application/octet-stream\r\n\r\n')
    tail = f"\r\n--{boundary}--\r\n".encode()
    ctype = f"multipart/form-data; boundary={boundary}\n".encode()
    write("multipart", "twine_small", ctype + body + file_head.encode() + b"PK\x03\x04data" + tail)
    write("multipart", "quoted_boundary",
          b'multipart/form-data; boundary="a b"\n--a b\r\nContent-Disposition: form-data; '
          b'name="x"\r\n\r\n1\r\n--a b--')
    write("multipart", "truncated", ctype + body[:40])


def http_request() -> None:
    seeds = {
        "target": "\x00/simple/acme-log/?format=json",
        "target_abs": "\x00http://pipy.test/a%20b/%E2%82%AC?q=1",
        "target_bad": "\x00/%zz/%00",
        "inm": '\x01"abc"\nW/"abc", "def"',
        "inm_star": "\x01*",
        "accept": "\x02application/vnd.pypi.simple.v1+json, text/html;q=0.1, */*;q=0.01",
        "accept_q": '\x02text/*;q=0.5;level="1,2", application/*;q=0.8',
        "framing": "\x03chunked\n , chunked",
        "reqline": "\x03GET / HTTP/1.1\r\nHost: x\r\n\r\n3\n",
        "query": "\x04acme log\na=1&q=acme+%41log&q=2",
    }
    for name, text in seeds.items():
        write("http_request", name, text)


def archive(dists: Path) -> None:
    write("archive", "wheel", b"\x00" + make_wheel(dists, "tiny", "1.0").data)
    write("archive", "sdist", b"\x01" + make_sdist(dists, "tiny", "1.0").data)
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as zf:
        zf.writestr("../evil", b"x")
        link = zipfile.ZipInfo("link")
        link.external_attr = 0o120777 << 16
        zf.writestr(link, b"target")
    write("archive", "zip_unsafe", b"\x02" + raw.getvalue())
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w:gz") as tf:
        info = tarfile.TarInfo("a/link")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tf.addfile(info)
        d = tarfile.TarInfo("a/dir")
        d.type = tarfile.DIRTYPE
        tf.addfile(d)
    write("archive", "tar_link", b"\x01" + tar.getvalue())


def upstream_simple() -> None:
    html = (
        "<!DOCTYPE html><html><body><h1>Links for foo</h1>\n"
        f'<a href="https://files.example/packages/foo-1.0-py3-none-any.whl#sha256={HEX}" '
        f'data-requires-python="&gt;=3.8" data-core-metadata="sha256={META_HEX}">'
        "foo-1.0-py3-none-any.whl</a><br/>\n"
        f"<A HREF='../../x/foo-1.0.tar.gz#sha256={HEX.upper()}' data-yanked='bad &amp; broken'>"
        " foo-1.0.tar.gz </A>\n"
        "<a data-yanked href=/x/foo-0.9.tar.gz#md5=00></a>\n"
        f'<a href="https://evil.example/foo-0.8.zip#sha256={HEX}" data-dist-info-metadata="true">'
        "foo-0.8.zip</a>\n<!-- <a href=x> -->\n</body></html>")
    write("upstream_simple", "html", "\x00" + html)
    page = {"meta": {"api-version": "1.1"}, "name": "foo", "versions": ["1.0"], "files": [
        {"filename": "foo-1.0-py3-none-any.whl",
         "url": "https://files.example/foo-1.0-py3-none-any.whl",
         "hashes": {"sha256": HEX}, "requires-python": ">=3.8", "size": 10,
         "upload-time": "2024-01-01T00:00:00Z", "core-metadata": {"sha256": META_HEX}},
        {"filename": "foo-1.0.tar.gz", "url": "../../f/foo-1.0.tar.gz",
         "hashes": {"sha256": HEX}, "yanked": "broken", "dist-info-metadata": True},
        {"filename": "bar-1.0.tar.gz", "url": "/bar-1.0.tar.gz", "hashes": {}}]}
    write("upstream_simple", "json", "\x01" + json.dumps(page, indent=1))


def webhook() -> None:
    push = {"ref": "refs/heads/main", "after": "0" * 40, "repository": {"full_name": "a/b"},
            "commits": [{"id": "1" * 40, "message": "m"}]}
    write("webhook", "push", "sha256=" + "0" * 64 + "\n" + json.dumps(push))
    write("webhook", "ping", "delivery-1\n" + json.dumps({"zen": "x", "hook_id": 1}))
    write("webhook", "bad", "sha256=zz\n{\"ref\": 3}")


def builder() -> None:
    write("builder_package_json", "module", json.dumps({
        "name": "@acme/log", "version": "1.2.3-rc.1+b5", "scripts": {"test": "node test.js"},
        "dependencies": {"left-pad": "^1.0.0"}, "optionalDependencies": {"left-pad": "2"},
        "peerDependencies": {"react": ">=16"}, "devDependencies": {"tap": "*"}}, indent=2))
    write("builder_package_json", "pipy_test", "\ufeff" + json.dumps({
        "name": "util", "version": "0.0.1", "pipy": {"test": "make check"}}))
    write("builder_package_json", "private", '{"private": true, "workspaces": ["a"]}')
    write("builder_pyproject", "module", (
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        '[project]\nname = "Acme_Log"\nversion = "1.0.0rc1"\n'
        'dependencies = ["requests>=2", "attrs"]\n\n'
        '[project.optional-dependencies]\ntest = ["pytest"]\n\n'
        '[tool.pipy]\ntest = "python3 -m pytest -q"\n'))
    write("builder_pyproject", "minimal", '[project]\nname = "x"\nversion = "1"\n')
    write("builder_pyproject", "dynamic", '[project]\nname = "x"\ndynamic = ["version"]\n')


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        dists = Path(tmp)
        dist_filenames()
        pep440()
        core_metadata_seeds(dists)
        multipart(dists)
        http_request()
        archive(dists)
        upstream_simple()
        webhook()
        builder()


if __name__ == "__main__":
    main()
