"""Builds wheels and sdists offline, uploads them, and runs twine and pip against pipy.

Wheels follow PEP 427 (RECORD with sha256 hashes, as pip verifies them); file names use
the normalized PEP 625 / PEP 491 form (lowercase, runs of -_. as one underscore).
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import re
import subprocess
import tarfile
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from pipyharness import PipyServer, basic_auth

PY = "/usr/bin/python3"
FIXED_TIME = (2024, 1, 2, 3, 4, 6)


def dist_name(name: str) -> str:
    """The file-name form of a project name: PEP 503 normalized, '-' as '_'."""
    return re.sub(r"[-_.]+", "_", name).lower()


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Dist:
    path: Path
    name: str
    version: str
    metadata: bytes          # the wheel's METADATA / the sdist's PKG-INFO

    @property
    def filename(self) -> str:
        return self.path.name

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()

    @property
    def sha256(self) -> str:
        return sha256_of(self.data)

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")


def core_metadata(name: str, version: str, summary: str = "An e2e test package",
                  requires_dist=(), requires_python: str = ">=3.7",
                  readme: str = "# Readme\n\nHello.\n") -> bytes:
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}",
             f"Summary: {summary}", f"Requires-Python: {requires_python}"]
    lines += [f"Requires-Dist: {r}" for r in requires_dist]
    lines += ["Description-Content-Type: text/markdown", "", readme]
    return "\n".join(lines).encode()


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(out_dir: Path, name: str, version: str, *, requires_dist=(),
               summary: str = "An e2e test package", readme: str = "# Readme\n\nHello.\n",
               salt: str = "", metadata: bytes | None = None, with_metadata: bool = True,
               filename: str | None = None, payload: bytes = b"") -> Dist:
    """A pure-Python wheel whose module `dist_name(name)` has VERSION = version.

    `salt` changes the bytes but not the file name; `metadata` replaces METADATA (to make
    it disagree with the file name); `payload` adds an incompressible data file."""
    mod = dist_name(name)
    info = f"{mod}-{version}.dist-info"
    meta = metadata if metadata is not None else core_metadata(
        name, version, summary, requires_dist, readme=readme)
    files = {f"{mod}/__init__.py": f"VERSION = {version!r}\nSALT = {salt!r}\n".encode()}
    if payload:
        files[f"{mod}/payload.bin"] = payload
    if with_metadata:
        files[f"{info}/METADATA"] = meta
    files[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: pipy-e2e\n"
                              b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / (filename or f"{mod}-{version}-py3-none-any.whl")
    with zipfile.ZipFile(path, "w") as zf:
        for p, d in files.items():
            zi = zipfile.ZipInfo(p, FIXED_TIME)
            zi.compress_type = zipfile.ZIP_STORED if p.endswith(".bin") else zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zf.writestr(zi, d)
    return Dist(path, name, version, meta)


def make_sdist(out_dir: Path, name: str, version: str, *, requires_dist=(),
               summary: str = "An e2e test package", salt: str = "",
               metadata: bytes | None = None, filename: str | None = None) -> Dist:
    """A setuptools (PEP 517, setuptools.build_meta) sdist named `<dist>-<ver>.tar.gz`."""
    mod = dist_name(name)
    top = f"{mod}-{version}"
    meta = metadata if metadata is not None else core_metadata(
        name, version, summary, requires_dist)
    deps = ", ".join(f'"{r}"' for r in requires_dist)
    pyproject = (
        '[build-system]\nrequires = ["setuptools>=61"]\n'
        'build-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{name}"\nversion = "{version}"\n'
        f'description = "{summary}"\nrequires-python = ">=3.7"\ndependencies = [{deps}]\n\n'
        f'[tool.setuptools]\npackages = ["{mod}"]\n')
    files = {
        "PKG-INFO": meta,
        "pyproject.toml": pyproject.encode(),
        "setup.cfg": b"[egg_info]\ntag_build =\ntag_date = 0\n",
        f"{mod}/__init__.py": f"VERSION = {version!r}\nSALT = {salt!r}\n".encode(),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / (filename or f"{top}.tar.gz")
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for p, d in files.items():
            ti = tarfile.TarInfo(f"{top}/{p}")
            ti.size, ti.mtime, ti.mode = len(d), 1_700_000_000, 0o644
            tf.addfile(ti, io.BytesIO(d))
    path.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
    return Dist(path, name, version, meta)


# --- uploads ---------------------------------------------------------------------------
def upload_form(dist_or_name, data: bytes | None = None, filename: str | None = None,
                **overrides) -> tuple[bytes, str]:
    """A twine-like multipart/form-data body. Override a field with a value, drop it
    with None. Returns (body, content type)."""
    if isinstance(dist_or_name, Dist):
        d = dist_or_name
        data = d.data if data is None else data
        filename = filename or d.filename
        name, version, wheel = d.name, d.version, d.is_wheel
    else:
        name, version = dist_or_name
        wheel = (filename or "").endswith(".whl")
    fields = {":action": "file_upload", "protocol_version": "1", "name": name,
              "version": version, "filetype": "bdist_wheel" if wheel else "sdist",
              "pyversion": "py3" if wheel else "source", "metadata_version": "2.1",
              "sha256_digest": sha256_of(data),
              "md5_digest": hashlib.md5(data).hexdigest()}
    fields.update(overrides)
    boundary = "e2e" + uuid.uuid4().hex
    out = io.BytesIO()
    for k, v in fields.items():
        if v is None:
            continue
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'
                  f"{v}\r\n".encode())
    out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="content"; '
              f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
              .encode())
    out.write(data + f"\r\n--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def upload(server: PipyServer, dist_or_name, token: str | None, *, auth=basic_auth,
           timeout: float = 60, **kw):
    """POSTs one file to /legacy/ like twine does; returns the Response."""
    body, ctype = upload_form(dist_or_name, **kw)
    headers = {"Content-Type": ctype}
    if token is not None:
        headers.update(auth(token))
    return server.request("POST", "/legacy/", body=body, headers=headers, timeout=timeout)


def twine(server: PipyServer, token: str, *dists: Dist, timeout: float = 120):
    cmd = ["twine", "upload", "--non-interactive", "--disable-progress-bar",
           "--repository-url", f"{server.url}/legacy/", "-u", "__token__", "-p", token,
           *[str(d.path) for d in dists]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWINE_")}
    env.update(NO_COLOR="1", TERM="dumb", COLUMNS="400")  # plain, unwrapped messages
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    res.stdout = re.sub(r"\x1b\[[0-9;]*m", "", res.stdout)
    res.stderr = re.sub(r"\x1b\[[0-9;]*m", "", res.stderr)
    return res


# --- pip -------------------------------------------------------------------------------
def pip_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_INPUT="1", PYTHONDONTWRITEBYTECODE="1")
    return env


def make_venv(path: Path) -> Path:
    subprocess.run([PY, "-m", "venv", "--system-site-packages", str(path)], check=True,
                   capture_output=True, timeout=180)
    return path


def pip(venv_or_python, server: PipyServer, *args: str, timeout: float = 240):
    """Runs `pip ARGS --index-url URL/simple/ --no-cache-dir`. `venv_or_python` is a venv
    folder or a python executable."""
    p = Path(venv_or_python)
    cmd = [str(p / "bin" / "pip")] if p.is_dir() else [str(p), "-m", "pip"]
    sub, *rest = args
    cmd += [sub, "--index-url", f"{server.url}/simple/", "--no-cache-dir", *rest]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=pip_env())


def venv_python(venv: Path, code: str, timeout: float = 60):
    return subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True,
                          text=True, timeout=timeout, env=pip_env())
