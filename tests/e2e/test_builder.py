"""The monorepo builder end to end: a real git repository made here, a real `pipy serve` with a
[[sources]] entry pointing at it, real bubblewrap, pip and `python3 -m build`."""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from pipyharness import basic_auth
from pydists import make_venv, pip, venv_python

pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "bwrap"], capture_output=True).returncode != 0,
    reason="bubblewrap is not installed (scripts/install-deps.sh)")


class Repo:
    """A git repository driven with the git CLI."""

    def __init__(self, path: Path):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "e2e@example.com")
        self.git("config", "user.name", "e2e")

    def git(self, *args: str) -> str:
        res = subprocess.run(["git", "-C", str(self.path), *args], capture_output=True,
                             text=True, timeout=60)
        assert res.returncode == 0, f"git {args}: {res.stdout}{res.stderr}"
        return res.stdout.strip()

    def write(self, rel: str, text: str) -> None:
        f = self.path / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD")

    def module(self, folder: str, name: str, version: str, test_body: str,
               test_command: str = "python3 -m pytest -q -p no:cacheprovider",
               backend: str = "setuptools") -> None:
        mod = name.replace("-", "_")
        if backend == "hatchling":
            build = ('[build-system]\nrequires = ["hatchling"]\n'
                     'build-backend = "hatchling.build"\n'
                     f'[tool.hatch.build.targets.wheel]\nonly-include = ["{mod}.py"]\n')
        else:
            build = ('[build-system]\nrequires = ["setuptools"]\n'
                     'build-backend = "setuptools.build_meta"\n'
                     f'[tool.setuptools]\npy-modules = ["{mod}"]\n')
        self.write(f"{folder}/pyproject.toml",
                   f'[project]\nname = "{name}"\nversion = "{version}"\n'
                   f'[tool.pipy]\ntest = "{test_command}"\n' + build)
        self.write(f"{folder}/{mod}.py", f'VERSION = "{version}"\n')
        self.write(f"{folder}/test_{mod}.py", test_body)


PASSING = "import {mod}\n\ndef test_version():\n    assert {mod}.VERSION\n"


def builds(server) -> list[dict]:
    r = server.get("/api/builds?limit=1000")
    assert r.status == 200, r.reason
    assert r.header("Content-Type") == "application/json"
    return r.json()


def wait_for(server, predicate, what: str, timeout: float = 90) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = builds(server)
        if predicate(current):
            return current
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}: {json.dumps(builds(server), indent=1)}"
                         f"\n{server.log()}")


def finished(jobs: list[dict], module: str, n: int = 1) -> list[dict]:
    done = [j for j in jobs if j["module"] == module and j["status"] not in ("queued", "running")]
    return done if len(done) >= n else []


def wait_finished(server, module: str, n: int = 1, timeout: float = 120) -> dict:
    """The newest finished build of `module`, once `n` have finished."""
    jobs = wait_for(server, lambda js: finished(js, module, n), f"{n} build(s) of {module}",
                    timeout)
    return finished(jobs, module, n)[0]


def kinds(filenames) -> list[str]:
    """"sdist"/"wheel" per file, sorted (setuptools may spell the sdist e2eb-x or e2eb_x)."""
    return sorted("wheel" if f.endswith(".whl") else "sdist" if f.endswith(".tar.gz") else f
                  for f in filenames)


def log_of(server, job: dict) -> str:
    r = server.get(server.path_of(job["log_url"]))
    assert r.status == 200
    assert r.header("Content-Type").startswith("text/plain")
    return r.text


def sources_config(repo: Path, *, name: str = "mono", poll: str = "300ms", secret: str = "",
                   timeout: str = "6s", concurrency: int = 2) -> str:
    hook = f'webhook_secret = "{secret}"\n' if secret else ""
    return (f'[[sources]]\nname = "{name}"\nrepo = "{repo}"\nbranch = "main"\n'
            f'poll_interval = "{poll}"\nscope = "e2eb-*"\n{hook}'
            f'[builder]\nconcurrency = {concurrency}\ntimeout = "{timeout}"\n')


# --- one shared server for the tests that do not interfere ------------------------------

@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Repo:
    r = Repo(tmp_path_factory.mktemp("mono") / "repo")
    r.module("good", "e2eb-good", "1.0", PASSING.format(mod="e2eb_good"))
    r.module("bad", "e2eb-bad", "1.0",
             "def test_always_fails():\n    assert 1 == 2, 'the e2e failure'\n")
    r.module("hatch", "e2eb-hatch", "1.0", PASSING.format(mod="e2eb_hatch"),
             backend="hatchling")
    r.write("broken/pyproject.toml", '[project\nname = "e2eb-broken"\n')
    r.module("outside", "someone-else", "1.0", PASSING.format(mod="someone_else"))
    r.write("README.md", "# the monorepo\n")
    r.commit("first modules")
    return r


@pytest.fixture(scope="module")
def mono(server_factory_module, repo):
    return server_factory_module(sources_config(repo.path))


def test_a_passing_module_is_published_and_pip_installable(mono, tmp_path):
    job = wait_finished(mono, "good")
    assert job["status"] == "passed", log_of(mono, job)
    assert job["project"] == "e2eb-good" and job["version"] == "1.0"
    assert len(job["commit"]) == 40 and job["finished_at"] and job["created_at"]
    assert kinds(mono.files("e2eb-good")) == ["sdist", "wheel"]
    venv = make_venv(tmp_path / "v")
    res = pip(venv, mono, "install", "e2eb-good")
    assert res.returncode == 0, res.stdout + res.stderr
    assert venv_python(venv, "import e2eb_good; print(e2eb_good.VERSION)").stdout.strip() == "1.0"
    assert mono.get(f"/api/builds/{job['id']}").json()["status"] == "passed"


def test_hatchling_modules_build_too(mono):
    job = wait_finished(mono, "hatch")
    assert job["status"] == "passed", log_of(mono, job)
    assert kinds(mono.files("e2eb-hatch")) == ["sdist", "wheel"]


def test_a_failing_module_is_not_published_and_its_log_shows_the_test(mono):
    job = wait_finished(mono, "bad")
    assert job["status"] == "failed"
    assert "tests failed" in job["message"]
    log = log_of(mono, job)
    assert "test_always_fails" in log and "the e2e failure" in log, log
    assert mono.project_json("e2eb-bad").status == 404


def test_a_malformed_pyproject_fails_with_a_clear_message(mono):
    job = wait_finished(mono, "broken")
    assert job["status"] == "failed"
    assert "pyproject.toml is not valid TOML" in job["message"], job["message"]
    assert "not valid TOML" in log_of(mono, job)


def test_a_module_outside_the_scope_is_refused(mono):
    job = wait_finished(mono, "outside")
    assert job["status"] == "failed"
    assert 'outside the scope "e2eb-*"' in job["message"], job["message"]
    assert mono.project_json("someone-else").status == 404


def test_provenance_is_shown_in_the_api_and_the_project_page(mono):
    job = wait_finished(mono, "good")
    r = mono.get("/api/python/e2eb-good/1.0")
    assert r.status == 200, r.reason
    files = r.json()["files"]
    assert len(files) == 2
    for f in files:
        p = f["provenance"]
        assert p["commit"] == job["commit"] and p["build_id"] == job["id"]
        assert p["module"] == "good" and p["source"] == "mono" and p["test_result"] == "passed"
    page = mono.get("/project/e2eb-good/").text
    assert f"built from <code>{job['commit'][:12]}</code>" in page
    assert f"build {job['id']}</a>, tests passed" in page
    builds_page = mono.get("/builds").text
    assert f"/builds/{job['id']}" in builds_page and "passed" in builds_page


def test_network_in_tests_fails_inside_the_sandbox_and_a_hang_is_killed(mono, repo):
    wait_finished(mono, "good")
    # The server is reachable from here; the test must not reach it from the sandbox.
    repo.module("net", "e2eb-net", "1.0",
                "import socket\n\ndef test_network():\n"
                f"    socket.create_connection(('127.0.0.1', {mono.port}), timeout=3).close()\n")
    repo.module("hang", "e2eb-hang", "1.0",
                "import time\n\ndef test_hangs():\n    time.sleep(300)\n")
    repo.commit("net and hang")
    net = wait_finished(mono, "net")
    assert net["status"] == "failed", log_of(mono, net)
    net_log = log_of(mono, net)
    assert "test_network" in net_log and "ConnectionRefusedError" in net_log, net_log
    start = time.monotonic()
    hang = wait_finished(mono, "hang")
    assert hang["status"] == "failed"
    assert "timed out after 6s" in hang["message"], hang["message"]
    assert time.monotonic() - start < 60
    assert mono.project_json("e2eb-net").status == 404
    assert mono.project_json("e2eb-hang").status == 404


def count(jobs: list[dict], module: str) -> int:
    return sum(1 for j in jobs if j["module"] == module)


def settle(server, seconds: float = 2.0) -> list[dict]:
    """Waits for several poll rounds, then for the queue to drain."""
    time.sleep(seconds)
    return wait_for(server, lambda js: all(j["status"] not in ("queued", "running") for j in js),
                    "the queue to drain")


def test_unchanged_modules_are_not_rebuilt_and_docs_only_commits_build_nothing(mono, repo):
    before = settle(mono)
    assert count(before, "good") == 1, "the net/hang commit rebuilt an unchanged module"
    repo.write("README.md", "# the monorepo, documented\n")
    repo.write("docs/guide.md", "how to\n")
    repo.commit("docs only")
    after = settle(mono)
    assert len(after) == len(before), "a docs-only commit built something"


def test_another_branch_is_ignored(mono, repo):
    before = settle(mono, 0)
    repo.git("checkout", "-q", "-b", "feature")
    repo.module("good", "e2eb-good", "9.0", PASSING.format(mod="e2eb_good"))
    repo.commit("feature work")
    repo.git("checkout", "-q", "main")
    after = settle(mono)
    assert len(after) == len(before), "a commit on another branch was built"


def test_a_version_bump_publishes_the_new_version(mono, repo, tmp_path):
    repo.module("good", "e2eb-good", "1.1", PASSING.format(mod="e2eb_good"))
    repo.commit("bump good")
    job = wait_finished(mono, "good", n=2)
    assert job["status"] == "passed" and job["version"] == "1.1", log_of(mono, job)
    venv = make_venv(tmp_path / "v")
    res = pip(venv, mono, "install", "e2eb-good==1.1")
    assert res.returncode == 0, res.stdout + res.stderr
    metrics = mono.get("/metrics").text
    # The series exist from the start at 0; these counted builds of this module's history.
    for status in ("passed", "failed"):
        m = re.search(rf'^pipy_builds_total{{status="{status}"}} (\d+)$', metrics, re.M)
        assert m and int(m.group(1)) >= 1, (status, metrics[-2000:])


# --- the webhook and rebuilds: a server that does not poll on its own ---------------------

def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_the_webhook_triggers_a_build_and_a_bad_signature_gets_401(server_factory,
                                                                 tmp_path_factory):
    repo = Repo(tmp_path_factory.mktemp("hook") / "repo")
    repo.write("README.md", "empty so far\n")
    repo.commit("start")
    secret = "e2e-hook-secret"
    server = server_factory(sources_config(repo.path, name="hooked", poll="1h", secret=secret))
    time.sleep(1)  # the first round at start sees the README-only commit
    repo.module("hooked", "e2eb-hooked", "1.0", PASSING.format(mod="e2eb_hooked"))
    repo.commit("add a module")
    body = json.dumps({"ref": "refs/heads/main", "after": repo.git("rev-parse", "HEAD")}).encode()
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "push"}

    r = server.request("POST", "/hooks/git/hooked", body=body, headers=headers)
    assert r.status == 401
    r = server.request("POST", "/hooks/git/hooked", body=body,
                       headers={**headers, "X-Hub-Signature-256": sign("wrong", body)})
    assert r.status == 401
    time.sleep(1.5)
    assert builds(server) == [], "a rejected webhook started a build"

    r = server.request("POST", "/hooks/git/hooked", body=body,
                       headers={**headers, "X-Hub-Signature-256": sign(secret, body)})
    assert r.status == 202, r.reason
    job = wait_finished(server, "hooked", timeout=60)
    assert job["status"] == "passed", log_of(server, job)
    # A replay is harmless: no second build of the same commit.
    r = server.request("POST", "/hooks/git/hooked", body=body,
                       headers={**headers, "X-Hub-Signature-256": sign(secret, body)})
    assert r.status == 202
    assert count(settle(server, 1.5), "hooked") == 1

    # POST /api/builds: admin only; a rebuild of a published version is skipped, saying so.
    payload = json.dumps({"source": "hooked", "module": "hooked"}).encode()
    r = server.request("POST", "/api/builds", body=payload,
                       headers=basic_auth(server.token("upload:*")))
    assert r.status == 403
    r = server.request("POST", "/api/builds", body=payload,
                       headers=basic_auth(server.token("admin")))
    assert r.status == 202, r.reason
    rebuilt = wait_finished(server, "hooked", n=2, timeout=60)
    assert rebuilt["status"] == "skipped"
    assert "e2eb-hooked 1.0 is already published" in rebuilt["message"]
    assert len(server.files("e2eb-hooked")) == 2


def test_a_restart_mid_build_reruns_the_job_and_publishes_once(server_factory,
                                                              tmp_path_factory):
    repo = Repo(tmp_path_factory.mktemp("restart") / "repo")
    repo.module("slow", "e2eb-slow", "1.0",
                "import time\n\ndef test_slow():\n    print('slow test started', flush=True)\n"
                "    time.sleep(4)\n")
    repo.commit("a slow module")
    server = server_factory(sources_config(repo.path, name="restart", timeout="60s"))
    running = wait_for(server, lambda js: any(j["status"] == "running" for j in js),
                       "the slow build to start")
    job_id = running[0]["id"]
    time.sleep(1.5)  # inside the slow test
    server.kill()  # kill -9: the job is left `running` in the catalog
    server.start()
    job = wait_finished(server, "slow", timeout=90)
    assert job["id"] == job_id and job["status"] == "passed", log_of(server, job)
    assert "re-queued" in log_of(server, job)
    assert len(builds(server)) == 1
    assert kinds(server.files("e2eb-slow")) == ["sdist", "wheel"]


def test_a_private_repository_still_builds_with_internal_dependencies(server_factory,
                                                                      tmp_path):
    """With anonymous reads off, the runner's pip reads Pipy with a credential of the server
    process; it never appears in the build log."""
    r = Repo(tmp_path / "private")
    r.module("dep", "e2eb-priv-dep", "1.0", PASSING.format(mod="e2eb_priv_dep"))
    r.commit("the dependency")
    s = server_factory("[access]\nanonymous_read = false\n" + sources_config(r.path))
    auth = basic_auth(s.token("read"))

    def wait_passed(module: str) -> dict:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            resp = s.get("/api/builds?limit=1000", headers=auth)
            assert resp.status == 200, resp.reason
            done = [j for j in resp.json()
                    if j["module"] == module and j["status"] not in ("queued", "running")]
            if done:
                return done[0]
            time.sleep(0.2)
        raise AssertionError(f"no finished build of {module}\n{s.log()}")

    assert wait_passed("dep")["status"] == "passed"
    r.write("app/pyproject.toml",
            '[project]\nname = "e2eb-priv-app"\nversion = "1.0"\n'
            'dependencies = ["e2eb-priv-dep"]\n'
            '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
            '[tool.setuptools]\npy-modules = ["e2eb_priv_app"]\n')
    r.write("app/e2eb_priv_app.py", "import e2eb_priv_dep\nVERSION = '1.0'\n")
    r.write("app/test_e2eb_priv_app.py",
            "import e2eb_priv_app\n\ndef test_it():\n    assert e2eb_priv_app.VERSION\n")
    r.commit("an app that needs the dependency")
    job = wait_passed("app")
    log = s.get(s.path_of(job["log_url"]), headers=auth).text
    assert job["status"] == "passed", log
    assert "e2eb-priv-dep" in log  # pip installed it from Pipy
    assert "pipy_" not in log, "the server's credential leaked into the build log"
