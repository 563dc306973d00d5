"""The monorepo builder against hostile dependencies, and its webhook against probing and
replays: a real `pipy serve`, real bubblewrap and pip.

An uploader with a token scoped to `evil-*` publishes two projects a monorepo module may
depend on: `evil-dep`, an sdist whose setup.py tries to write outside the build, and
`evil-wheel`, a wheel whose .pth file runs at every Python start in the build's venv and
tries the same, reads the server's config and catalog, dumps its environment (looking for
the builder's index credential) and tries to reach the server. Nothing may work."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

import pytest

from pipyharness import PipyServer
from pydists import FIXED_TIME, Dist, _record_hash, core_metadata, upload
from test_builder import PASSING, Repo, builds, count, log_of, settle, sign, wait_finished

pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "bwrap"], capture_output=True).returncode != 0,
    reason="bubblewrap is not installed (scripts/install-deps.sh)")

HOOK_SECRET = "e2e-security-hook-secret"
# A token secret as the builder's credential looks (auth::NewTokenSecret).
TOKEN_RE = re.compile(r"pipy_[A-Za-z0-9_-]{43}")


@pytest.fixture
def outside_tmp():
    """A folder outside /tmp: the sandbox gives every step a private /tmp anyway, so a
    server under /tmp would not show whether its data folder is hidden."""
    root = Path(tempfile.mkdtemp(prefix="pipy-e2e-sec-", dir="/var/tmp"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def server_at(outside_tmp):
    """make(folder_name, config_text) -> a started PipyServer rooted under `outside_tmp`."""
    started: list[PipyServer] = []

    def make(name: str, config_text: str) -> PipyServer:
        root = outside_tmp / name
        root.mkdir()
        s = PipyServer(root=root, config_text=config_text)
        started.append(s)
        s.start()
        return s

    yield make
    for s in started:
        rc = s.stop(timeout=10)
        s.cleanup()
        assert rc == 0, f"pipy serve exited {rc} on SIGTERM:\n{s.log()}"


def source_config(repo: Path, *, name: str = "mono", poll: str = "300ms",
                  timeout: str = "60s") -> str:
    return (f'[[sources]]\nname = "{name}"\nrepo = "{repo}"\nbranch = "main"\n'
            f'poll_interval = "{poll}"\nscope = "e2es-*"\nwebhook_secret = "{HOOK_SECRET}"\n'
            f'[builder]\nconcurrency = 1\ntimeout = "{timeout}"\n')


def hostile_code(targets: list[Path], config: Path, data: Path, port: int) -> str:
    """Python that tries to write each of `targets`, read the config and the catalog and
    reach the server, then prints what it found (and its environment) to stderr, which
    lands in the build log."""
    return f"""
import json, os, socket, sys
found = {{}}
for target in {json.dumps([str(t) for t in targets])}:
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "w") as f:
            f.write("written by hostile dependency code")
        found["wrote " + target] = "yes"
    except Exception as e:
        found["wrote " + target] = repr(e)
try:
    found["config"] = open({str(config)!r}).read()
except Exception as e:
    found["config"] = repr(e)
found["catalog_visible"] = os.path.exists({str(data / "catalog.db")!r})
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
    found["network"] = "connected"
except Exception as e:
    found["network"] = repr(e)
found["env"] = dict(os.environ)
sys.stderr.write("HOSTILE-DUMP " + json.dumps(found) + "\\n")
sys.stderr.flush()
"""


def make_hostile_sdist(out_dir: Path, name: str, version: str, code: str) -> Dist:
    """A setuptools sdist whose setup.py runs `code` (building it runs setup.py)."""
    mod = name.replace("-", "_")
    top = f"{mod}-{version}"
    meta = core_metadata(name, version)
    files = {
        "PKG-INFO": meta,
        "pyproject.toml": (b'[build-system]\nrequires = ["setuptools"]\n'
                           b'build-backend = "setuptools.build_meta"\n'),
        "setup.py": (code + f"\nfrom setuptools import setup\n"
                     f"setup(name={name!r}, version={version!r}, packages=[{mod!r}])\n").encode(),
        f"{mod}/__init__.py": b"",
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{top}.tar.gz"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for p, d in files.items():
            ti = tarfile.TarInfo(f"{top}/{p}")
            ti.size, ti.mtime, ti.mode = len(d), 1_700_000_000, 0o644
            tf.addfile(ti, io.BytesIO(d))
    path.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
    return Dist(path, name, version, meta)


def make_hostile_wheel(out_dir: Path, name: str, version: str, code: str) -> Dist:
    """A wheel with a .pth file that runs `code` at every Python start in the venv."""
    mod = name.replace("-", "_")
    info = f"{mod}-{version}.dist-info"
    meta = core_metadata(name, version)
    files = {
        f"{mod}/__init__.py": f"VERSION = {version!r}\n".encode(),
        f"{mod}_hook.py": code.encode(),
        f"{mod}.pth": f"import {mod}_hook\n".encode(),
        f"{info}/METADATA": meta,
        f"{info}/WHEEL": (b"Wheel-Version: 1.0\nGenerator: pipy-e2e\n"
                          b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
    }
    record = "".join(f"{p},{_record_hash(d)},{len(d)}\n" for p, d in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{mod}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for p, d in files.items():
            zi = zipfile.ZipInfo(p, FIXED_TIME)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            zf.writestr(zi, d)
    return Dist(path, name, version, meta)


def dumps_in(log: str) -> list[dict]:
    return [json.loads(line.split("HOSTILE-DUMP ", 1)[1])
            for line in log.splitlines() if "HOSTILE-DUMP " in line]


def module_with_dependency(repo: Repo, folder: str, name: str, dependency: str) -> None:
    mod = name.replace("-", "_")
    repo.write(f"{folder}/pyproject.toml",
               f'[project]\nname = "{name}"\nversion = "1.0"\n'
               f'dependencies = ["{dependency}"]\n'
               '[tool.pipy]\ntest = "python3 -m pytest -q -p no:cacheprovider"\n'
               '[build-system]\nrequires = ["setuptools"]\n'
               'build-backend = "setuptools.build_meta"\n'
               f'[tool.setuptools]\npy-modules = ["{mod}"]\n')
    repo.write(f"{folder}/{mod}.py", 'VERSION = "1.0"\n')
    repo.write(f"{folder}/test_{mod}.py", PASSING.format(mod=mod))


def test_hostile_dependencies_run_no_code_outside_the_sandbox_and_never_see_a_credential(
        server_at, outside_tmp):
    repo = Repo(outside_tmp / "repo")
    repo.write("README.md", "modules come later\n")
    repo.commit("start")
    server = server_at("server", source_config(repo.path))
    data = server.data
    unique = uuid.uuid4().hex
    targets = [Path(f"/tmp/pipy-hostile-{unique}/marker"),
               data / f"hostile-{unique}",
               data / "git" / f"hostile-{unique}",
               repo.path.parent / f"hostile-{unique}",
               server.root / f"hostile-{unique}",
               Path(f"/root/hostile-{unique}")]
    code = hostile_code(targets, server.config_path, data, server.port)
    evil = server.token("upload:evil-*")
    dists = outside_tmp / "dists"
    for dist in (make_hostile_sdist(dists, "evil-dep", "1.0", code),
                 make_hostile_wheel(dists, "evil-wheel", "1.0", code)):
        r = upload(server, dist, evil)
        assert r.status == 200, f"{dist.filename}: {r.status} {r.reason}"
    tokens_before = server.cli("token list").stdout

    module_with_dependency(repo, "usesdep", "e2es-usesdep", "evil-dep")
    module_with_dependency(repo, "useswheel", "e2es-useswheel", "evil-wheel")
    repo.commit("modules with hostile dependencies")

    sdist_job = wait_finished(server, "usesdep", timeout=180)
    sdist_log = log_of(server, sdist_job)
    assert sdist_job["status"] == "failed", sdist_log
    assert "wheels only" in sdist_job["message"], sdist_job["message"]
    assert '"evil-dep"' in sdist_job["message"], sdist_job["message"]
    assert "HOSTILE-DUMP" not in sdist_log, "the sdist's setup.py ran"

    wheel_job = wait_finished(server, "useswheel", timeout=180)
    wheel_log = log_of(server, wheel_job)
    # Its tests ran with the hostile .pth active, and it printed what it could reach.
    assert "test_version" in wheel_log or "passed" in wheel_log, wheel_log
    found = dumps_in(wheel_log)
    assert found, f"the .pth file never ran:\n{wheel_log}"

    for target in targets:
        assert not target.exists(), f"hostile code wrote {target}\n{wheel_log}"
    assert not list(data.rglob(f"*hostile-{unique}*")), "hostile code wrote into the data folder"
    assert server.cli("token list").stdout == tokens_before, "a token appeared"
    for dump in found:
        assert HOOK_SECRET not in dump["config"], "the config file was readable"
        assert dump["catalog_visible"] is False, "the data folder was visible"
        assert dump["network"] != "connected", "the sandbox reached the server"
        env = json.dumps(dump["env"])
        assert "PIP_INDEX_URL" not in dump["env"], env
        assert not TOKEN_RE.search(env), f"a credential in the environment: {env}"
    for log in (sdist_log, wheel_log):
        assert not TOKEN_RE.search(log), "a credential leaked into the build log"
        assert "PIP_INDEX_URL" not in log.replace('"PIP_INDEX_URL"', "")


# --- the webhook ---------------------------------------------------------------------

def push_body(repo: Repo) -> bytes:
    return json.dumps({"ref": "refs/heads/main",
                       "after": repo.git("rev-parse", "HEAD")}).encode()


def hook(server, source: str, body: bytes, signature: str | None, delivery: str | None = None):
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    if delivery is not None:
        headers["X-GitHub-Delivery"] = delivery
    return server.request("POST", f"/hooks/git/{source}", body=body, headers=headers)


def answer(r) -> tuple:
    """Everything a client sees of a response, but the Date."""
    headers = sorted((k.lower(), v) for k, v in r.headers.items() if k.lower() != "date")
    return r.status, r.reason, headers, r.body


def test_unknown_sources_answer_like_a_bad_signature(server_at, outside_tmp):
    repo = Repo(outside_tmp / "repo")
    repo.write("README.md", "nothing to build\n")
    repo.commit("start")
    config = (source_config(repo.path, name="hooked", poll="1h") +
              f'[[sources]]\nname = "quiet"\nrepo = "{repo.path}"\nbranch = "main"\n'
              'poll_interval = "1h"\nscope = "e2es-*"\n')
    server = server_at("server", config)
    body = push_body(repo)
    real = hook(server, "hooked", body, sign("wrong", body))
    assert real.status == 401
    for probe in (hook(server, "no-such-source", body, sign("wrong", body)),
                  hook(server, "no-such-source", body, sign(HOOK_SECRET, body)),
                  hook(server, "quiet", body, sign("wrong", body))):
        assert answer(probe) == answer(real)
    assert answer(hook(server, "no-such-source", body, None)) == \
        answer(hook(server, "hooked", body, None))


def test_a_replayed_delivery_fetches_nothing(server_at, outside_tmp):
    repo = Repo(outside_tmp / "repo")
    repo.write("README.md", "empty so far\n")
    repo.commit("start")
    server = server_at("server", source_config(repo.path, name="hooked", poll="1h"))
    time.sleep(1)  # the first round at start sees the README-only commit
    repo.module("one", "e2es-one", "1.0", PASSING.format(mod="e2es_one"))
    repo.commit("add a module")
    body = push_body(repo)
    r = hook(server, "hooked", body, sign(HOOK_SECRET, body), "delivery-1")
    assert r.status == 202 and r.json()["fetch"] is True, r.body
    assert wait_finished(server, "one", timeout=90)["status"] == "passed"

    # A new commit is waiting; replays of the old delivery must not fetch it.
    repo.module("two", "e2es-two", "1.0", PASSING.format(mod="e2es_two"))
    repo.commit("add another module")
    r = hook(server, "hooked", body, sign(HOOK_SECRET, body), "delivery-1")
    assert r.status == 202, (r.status, r.body)
    assert r.json()["fetch"] is False and "already received" in r.json()["reason"], r.body
    # The id is not signed: the same signed body under a fresh id is a replay too.
    r = hook(server, "hooked", body, sign(HOOK_SECRET, body), "delivery-forged")
    assert r.status == 202 and r.json()["fetch"] is False, r.body
    assert count(settle(server, 2), "two") == 0, "a replayed delivery fetched the new commit"

    new_body = push_body(repo)
    r = hook(server, "hooked", new_body, sign(HOOK_SECRET, new_body), "delivery-2")
    assert r.status == 202 and r.json()["fetch"] is True, r.body
    assert wait_finished(server, "two", timeout=90)["status"] == "passed"
    assert count(builds(server), "one") == 1


def test_outside_the_allowlist_the_webhook_is_refused_and_the_builder_warns(
        server_at, outside_tmp):
    repo = Repo(outside_tmp / "repo")
    repo.write("README.md", "x\n")
    repo.commit("start")
    server = server_at("server", '[access]\nallow = ["10.0.0.0/8"]\n' +
                       source_config(repo.path, name="hooked", poll="1h"))
    body = push_body(repo)
    r = hook(server, "hooked", body, sign(HOOK_SECRET, body), "delivery-1")
    assert r.status == 403, (r.status, r.body)
    assert server.get("/healthz").status == 200
    # The builder reads dependencies from this server over loopback, which the allowlist
    # refuses: said at start (and in the message of a build that needs dependencies).
    assert "allowlist" in server.log() and "127.0.0.1" in server.log(), server.log()
