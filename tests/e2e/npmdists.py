"""Builds npm tarballs and publish bodies offline, and runs npm, yarn and pnpm isolated.

Tarballs are laid out as `npm pack` writes them (checked against npm 11's own output):
a gzip'd ustar archive whose members all sit under "package/", regular files only (no
directory entries), mode 0644, uid/gid 0 with empty owner names, and every mtime at npm's
fixed 1985-10-26T08:15:00Z; gzip with mtime 0. The same arguments give the same bytes.

Nothing here needs Pipy; tests/e2e/test_npm_helpers_selftest.py proves the helpers against
the real clients.
"""
from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "tests" / "npm-clients" / "node_modules" / ".bin"

# npm pack (node-tar with `portable`) stamps every entry with this time.
NPM_PACK_MTIME = 499162500  # 1985-10-26T08:15:00Z

_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy")


# --- tarballs -------------------------------------------------------------------------
def tarball_filename(name: str, version: str) -> str:
    """`npm pack`'s file name: "@acme/log" 1.0.0 -> "acme-log-1.0.0.tgz"."""
    return f"{name[1:].replace('/', '-') if name.startswith('@') else name}-{version}.tgz"


def basename(name: str) -> str:
    """The part after the scope: "@acme/log" -> "log" (the registry's tarball file name)."""
    return name.split("/", 1)[1] if name.startswith("@") else name


def registry_tarball_path(name: str, version: str) -> str:
    """The standard layout's tarball path: "@acme/log/-/log-1.0.0.tgz" (no leading /)."""
    return f"{name}/-/{basename(name)}-{version}.tgz"


def _as_bytes(data) -> bytes:
    return data.encode() if isinstance(data, str) else bytes(data)


def _gzip(data: bytes) -> bytes:
    # mtime=0 and no file name in the header, as npm pack writes it.
    return gzip.compress(data, compresslevel=9, mtime=0)


def package_json(name: str, version: str, *, dependencies=None, extra=None) -> dict:
    """The package.json make_npm_tarball writes; a key in `extra` set to None is dropped."""
    doc = {"name": name, "version": version, "description": f"{name} for the e2e tests",
           "main": "index.js", "license": "MIT"}
    if dependencies is not None:
        doc["dependencies"] = dict(dependencies)
    for k, v in (extra or {}).items():
        if v is None:
            doc.pop(k, None)
        else:
            doc[k] = v
    return doc


def make_npm_tarball(out_dir, name: str, version: str, *, dependencies=None, files=None,
                     package_json_extra=None, readme: str | None = None,
                     mtime: int = NPM_PACK_MTIME, filename: str | None = None) -> Path:
    """Writes `npm pack`'s tarball of a generated package and returns its path.

    package/package.json comes from package_json(); `files` (relative path -> str/bytes)
    are added beside the default index.js (and may replace it, or package.json itself with
    raw bytes); `readme` becomes package/README.md. The file is named as npm pack names it
    unless `filename` is given.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pj = package_json(name, version, dependencies=dependencies, extra=package_json_extra)
    contents: dict[str, bytes] = {
        "package.json": (json.dumps(pj, indent=2) + "\n").encode(),
        "index.js": f"module.exports = {json.dumps(name + '@' + version)};\n".encode(),
    }
    if readme is not None:
        contents["README.md"] = readme.encode()
    for rel, data in (files or {}).items():
        contents[rel] = _as_bytes(data)
    members = [RawMember("package/" + rel, data, mtime=mtime)
               for rel, data in contents.items()]
    path = out_dir / (filename or tarball_filename(name, version))
    make_raw_tarball(path, members)
    return path


@dataclass
class RawMember:
    """One tar entry, written as given (nothing is sanitized).

    type: "file", "dir", "symlink", "hardlink", "fifo", "chardev" or "blockdev".
    size: the size written in the header; by default len(data). A larger value declares
    bytes the archive does not hold (the archive then ends early).
    """
    name: str
    data: bytes = b""
    type: str = "file"
    linkname: str = ""
    mode: int | None = None
    size: int | None = None
    mtime: int = NPM_PACK_MTIME
    uid: int = 0
    gid: int = 0


_TYPES = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
          "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE,
          "chardev": tarfile.CHRTYPE, "blockdev": tarfile.BLKTYPE}


def raw_tar_bytes(members, *, fmt=tarfile.USTAR_FORMAT) -> bytes:
    """An uncompressed tar stream of `members` (RawMember or (name, data) pairs).

    USTAR by default, as npm pack writes; a name too long for USTAR switches that entry's
    header to PAX. Headers are written by hand so hostile names and sizes survive.
    """
    out = io.BytesIO()
    for m in members:
        if not isinstance(m, RawMember):
            m = RawMember(m[0], _as_bytes(m[1]))
        data = _as_bytes(m.data)
        info = tarfile.TarInfo(m.name)
        info.type = _TYPES[m.type]
        info.linkname = m.linkname
        info.mode = m.mode if m.mode is not None else (0o755 if m.type == "dir" else 0o644)
        info.mtime = m.mtime
        info.uid, info.gid, info.uname, info.gname = m.uid, m.gid, "", ""
        info.size = m.size if m.size is not None else (len(data) if m.type == "file" else 0)
        try:
            header = info.tobuf(fmt, "utf-8", "surrogateescape")
        except ValueError:
            header = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        out.write(header)
        if data:
            out.write(data)
            if len(data) % 512:
                out.write(b"\0" * (512 - len(data) % 512))
    out.write(b"\0" * 1024)
    return out.getvalue()


def make_raw_tarball(path, members, *, compress: bool = True,
                     fmt=tarfile.USTAR_FORMAT) -> Path:
    """Writes `members` (see raw_tar_bytes) as a .tgz (or a plain tar) at `path`.

    For bad-input tests: members may be named "package/../x" or "/etc/x", be symlinks or
    hardlinks pointing anywhere, be many, or declare a huge size, e.g.
    RawMember("package/big", b"", size=10**12).
    """
    path = Path(path)
    raw = raw_tar_bytes(members, fmt=fmt)
    path.write_bytes(_gzip(raw) if compress else raw)
    return path


def _read_member(data: bytes, member: str) -> bytes | None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
        try:
            f = tf.extractfile(member)
        except KeyError:
            return None
        return f.read() if f is not None else None


def read_package_json(tarball) -> dict:
    """package/package.json of a tarball (path or bytes)."""
    data = tarball if isinstance(tarball, (bytes, bytearray)) else Path(tarball).read_bytes()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
        f = tf.extractfile("package/package.json")
        return json.loads(f.read())


# --- digests --------------------------------------------------------------------------
def _data(path_or_bytes) -> bytes:
    if isinstance(path_or_bytes, (bytes, bytearray)):
        return bytes(path_or_bytes)
    return Path(path_or_bytes).read_bytes()


def integrity_sha512(path_or_bytes) -> str:
    """The SRI string npm writes in dist.integrity: "sha512-" + base64(digest)."""
    digest = hashlib.sha512(_data(path_or_bytes)).digest()
    return "sha512-" + base64.b64encode(digest).decode()


def shasum_sha1(path_or_bytes) -> str:
    """dist.shasum: the sha1 hex digest."""
    return hashlib.sha1(_data(path_or_bytes)).hexdigest()


# --- publishing -----------------------------------------------------------------------
def publish_body(name: str, version: str, tarball_path, *, registry_url: str,
                 tag: str = "latest", manifest_overrides=None, access=None) -> dict:
    """The JSON document `npm publish` PUTs to <registry>/<escaped name>.

    Follows libnpmpublish's buildMetadata() (npm/cli workspaces/libnpmpublish/lib/publish.js,
    as bundled in npm 11.19 = libnpmpublish 11.2): root {_id, name, description,
    "dist-tags": {tag: version}, versions: {version: manifest}, access, _attachments}; the
    manifest is package.json plus _id "name@version", _nodeVersion, _npmVersion and
    dist {integrity (sha512 only), shasum (sha1 hex), tarball}; dist.tarball is
    new URL("<name>/-/<name>-<version>.tgz", registry) with https rewritten to http, and the
    attachment is keyed "<name>-<version>.tgz" -- the FULL name, so a scoped package's
    key and URL hold "@scope/name-1.0.0.tgz" -- holding {content_type
    "application/octet-stream", data (base64), length (decoded bytes)}. npm 11 sends
    access null unless --access is given; test_npm_helpers_selftest.py compares this body
    with the one the real npm sends.

    The manifest comes from the tarball's package/package.json with name and version set
    to the arguments (so a body can disagree with its tarball); `manifest_overrides` keys
    replace manifest keys (None drops a key).
    """
    data = _data(tarball_path)
    try:
        manifest = read_package_json(data)
        readme = _read_member(data, "package/README.md")
    except (tarfile.TarError, KeyError, ValueError, OSError, EOFError):
        manifest, readme = {}, None  # a hostile tarball: the body still says name@version
    manifest["name"], manifest["version"] = name, version
    # npm's package.json normalization adds the readme (and its file name) to the manifest.
    if readme is None:
        manifest["readme"] = "ERROR: No README data found!"
    else:
        manifest["readme"] = readme.decode("utf-8", "replace")
        manifest["readmeFilename"] = "README.md"
    manifest["_id"] = f"{name}@{version}"
    manifest["_nodeVersion"] = "20.20.2"
    manifest["_npmVersion"] = "11.19.1"
    base = registry_url if registry_url.endswith("/") else registry_url + "/"
    manifest["dist"] = {
        "integrity": integrity_sha512(data),
        "shasum": shasum_sha1(data),
        "tarball": re.sub(r"^https://", "http://", base + f"{name}/-/{name}-{version}.tgz"),
    }
    for k, v in (manifest_overrides or {}).items():
        if v is None:
            manifest.pop(k, None)
        else:
            manifest[k] = copy.deepcopy(v)
    body = {"_id": name, "name": name}
    if "description" in manifest:  # JSON.stringify drops npm's undefined description
        body["description"] = manifest["description"]
    body.update({
        "dist-tags": {tag: version},
        "versions": {version: manifest},
        "access": access,
        "_attachments": {
            f"{name}-{version}.tgz": {
                "content_type": "application/octet-stream",
                "data": base64.b64encode(data).decode(),
                "length": len(data),
            }
        },
    })
    return body


def escaped_name(name: str) -> str:
    """How npm puts a name in a URL path: "@acme/log" -> "@acme%2flog"."""
    return name.replace("/", "%2f")


# --- isolated clients -----------------------------------------------------------------
def nerf_dart(registry_url: str) -> str:
    """npm's key prefix for per-registry settings: "http://h:1/npm/" -> "//h:1/npm/"."""
    u = urlsplit(registry_url)
    path = u.path if u.path.endswith("/") else u.path + "/"
    return f"//{u.netloc}{path}"


def write_npmrc(folder, registry_url: str, token: str | None = None, *,
                audit: bool = True, extra: dict | None = None) -> Path:
    """Writes FOLDER/.npmrc for a registry (auth as DESIGN says, sent as Bearer).

    Caches stay inside FOLDER, and npm neither asks for funding nor checks for updates;
    `audit=False` also stops npm install's advisory POST. Also writes FOLDER/.yarnrc
    so yarn 1 (whose HOME npm_env points here) does not look for a newer yarn.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    registry = registry_url if registry_url.endswith("/") else registry_url + "/"
    lines = [f"registry={registry}"]
    if token is not None:
        lines.append(f"{nerf_dart(registry)}:_authToken={token}")
    lines += [f"cache={folder / '.npm-cache'}", "fund=false", "update-notifier=false"]
    if not audit:
        lines.append("audit=false")
    for k, v in (extra or {}).items():
        lines.append(f"{k}={v}")
    path = folder / ".npmrc"
    path.write_text("\n".join(lines) + "\n")
    (folder / ".yarnrc").write_text(
        f'registry "{registry}"\ndisable-self-update-check true\n'
        f'cache-folder "{folder / ".yarn-cache"}"\n')
    return path


def npm_env(folder, registry_url: str | None = None) -> dict:
    """An environment that keeps npm, yarn and pnpm inside FOLDER.

    HOME, the npm user/global config, npm's cache, yarn's cache, pnpm's home (its store
    is PNPM_HOME/store) and the XDG folders all point into FOLDER; proxy variables and inherited npm_config_* are dropped
    (an installer's own settings must not leak into the test). `registry_url` also sets
    npm_config_registry for runs that have no .npmrc.
    """
    folder = Path(folder).resolve()
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in _PROXY_VARS and not k.lower().startswith("npm_config_")
           and not k.startswith(("YARN_", "PNPM_"))}
    env.update({
        "HOME": str(folder),
        "npm_config_userconfig": str(folder / ".npmrc"),
        "npm_config_globalconfig": str(folder / ".npmrc-global"),
        "npm_config_cache": str(folder / ".npm-cache"),
        "npm_config_update_notifier": "false",
        "npm_config_fund": "false",
        "YARN_CACHE_FOLDER": str(folder / ".yarn-cache"),
        "YARN_DISABLE_SELF_UPDATE_CHECK": "true",
        "PNPM_HOME": str(folder / ".pnpm-home"),
        "XDG_CACHE_HOME": str(folder / ".cache"),
        "XDG_CONFIG_HOME": str(folder / ".config"),
        "XDG_DATA_HOME": str(folder / ".local" / "share"),
        "XDG_STATE_HOME": str(folder / ".local" / "state"),
        "NO_UPDATE_NOTIFIER": "1",
        "COREPACK_ENABLE_DOWNLOAD_PROMPT": "0",
    })
    if registry_url is not None:
        env["npm_config_registry"] = registry_url
    return env


def client_bin(name: str) -> str:
    """The executable of "npm" (from PATH), "yarn" or "pnpm" (tests/npm-clients)."""
    if name == "npm":
        found = shutil.which("npm")
        if found is None:
            raise FileNotFoundError("npm is not on PATH (scripts/install-deps.sh installs it)")
        return found
    if name not in ("yarn", "pnpm"):
        raise ValueError(f"unknown npm client {name!r}")
    path = CLIENTS / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run scripts/install-deps.sh")
    return str(path)


def run_client(name: str, args, folder, *, cwd=None, timeout: float = 120,
               check: bool = False, registry_url: str | None = None):
    """Runs npm/yarn/pnpm with npm_env(folder); returns the CompletedProcess (text)."""
    proc = subprocess.run([client_bin(name), *args], cwd=cwd or folder,
                          env=npm_env(folder, registry_url), capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{name} {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc
