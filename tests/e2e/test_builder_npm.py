"""The monorepo builder's npm modules and dependency order, end to end: a real git repository
made here, a real `pipy serve` with a [[sources]] entry pointing at it, real bubblewrap, the
real npm client (Pipy's own /npm/ registry, never the public one) and pip.

The npm modules are plain folders (package.json, index.js, a test run with node); nothing
comes from the internet."""
from __future__ import annotations

import json
import re
import subprocess
import time
from datetime import datetime

import pytest

import npmdists as nd
from pipyharness import basic_auth
from pydists import make_venv, pip, venv_python
from test_builder import PASSING, Repo, sources_config

pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "bwrap"], capture_output=True).returncode != 0
    or subprocess.run(["which", "npm"], capture_output=True).returncode != 0,
    reason="bubblewrap or npm is not installed (scripts/install-deps.sh)")

DONE = ("passed", "failed", "skipped")


# --- fixture modules ---------------------------------------------------------------------

def default_test_js(name: str, version: str) -> str:
    return (f"const m = require('./index.js');\n"
            f"if (m.VERSION !== {json.dumps(version)}) {{\n"
            f"  console.log('wrong version ' + m.VERSION); process.exit(1);\n}}\n"
            f"console.log({json.dumps(name)} + ' test ok ' + m.VERSION);\n")


def npm_module(repo: Repo, folder: str, name: str, version: str, *,
               test_js: str | None = None, index_js: str | None = None,
               scripts: dict | None = None, dependencies: dict | None = None,
               dev_dependencies: dict | None = None, pipy: dict | None = None,
               extra: dict | None = None) -> None:
    """An npm module: package.json, index.js (exports NAME and VERSION) and test.js, run by
    `"scripts": {"test": "node test.js"}` unless `scripts` says otherwise ({} = none)."""
    doc = {"name": name, "version": version, "description": f"{name} for the builder e2e",
           "main": "index.js", "license": "MIT",
           "scripts": {"test": "node test.js"} if scripts is None else scripts}
    if dependencies is not None:
        doc["dependencies"] = dependencies
    if dev_dependencies is not None:
        doc["devDependencies"] = dev_dependencies
    if pipy is not None:
        doc["pipy"] = pipy
    doc.update(extra or {})
    repo.write(f"{folder}/package.json", json.dumps(doc, indent=2) + "\n")
    repo.write(f"{folder}/index.js", index_js if index_js is not None else
               f"module.exports = {{ NAME: {json.dumps(name)}, VERSION: {json.dumps(version)} }};\n")
    repo.write(f"{folder}/test.js", test_js if test_js is not None
               else default_test_js(name, version))


def python_module(repo: Repo, folder: str, name: str, version: str, *, test_py: str,
                  dependencies: list[str] | None = None,
                  test_extra: list[str] | None = None) -> None:
    """A setuptools module whose test is `python3 test_<mod>.py` (so what it prints shows in
    the build log, uncaptured)."""
    mod = name.replace("-", "_")
    deps = f"dependencies = {json.dumps(dependencies)}\n" if dependencies is not None else ""
    extras = (f"[project.optional-dependencies]\ntest = {json.dumps(test_extra)}\n"
              if test_extra is not None else "")
    repo.write(f"{folder}/pyproject.toml",
               f'[project]\nname = "{name}"\nversion = "{version}"\n{deps}{extras}'
               f'[tool.pipy]\ntest = "python3 test_{mod}.py"\n'
               '[build-system]\nrequires = ["setuptools"]\n'
               'build-backend = "setuptools.build_meta"\n'
               f'[tool.setuptools]\npy-modules = ["{mod}"]\n')
    repo.write(f"{folder}/{mod}.py", f'VERSION = "{version}"\n')
    repo.write(f"{folder}/test_{mod}.py", test_py)


def uses_dependency_js(me: str, dep: str, version_prefix: str) -> str:
    """A test that prints what it got from `dep` (installed from Pipy) and checks its major."""
    return (f"const dep = require({json.dumps(dep)});\n"
            f"console.log({json.dumps(me)} + ' saw ' + {json.dumps(dep)} + ' ' + dep.VERSION);\n"
            f"if (!dep.VERSION.startsWith({json.dumps(version_prefix)})) process.exit(1);\n")


def uses_dependency_py(me: str, dep: str, version: str) -> str:
    mod = dep.replace("-", "_")
    return (f"import {mod}\n"
            f"print({json.dumps(me)}, 'saw', {json.dumps(dep)}, {mod}.VERSION, flush=True)\n"
            f"assert {mod}.VERSION == {json.dumps(version)}, {mod}.VERSION\n")


PY_OK = "print('python test ok')\n"


def first_commit(repo: Repo) -> None:
    """The shared server's first commit: the modules of the tests that need no earlier state,
    and version 1 of the dependency tests' modules."""
    npm_module(repo, "nlog", "e2eb-nlog", "1.0.0",
               index_js="// e2eb-nlog: the module's own index.js\n"
                        "module.exports = { NAME: 'e2eb-nlog', VERSION: '1.0.0',\n"
                        "  greet: (who) => 'hello ' + who + ' from e2eb-nlog' };\n")
    npm_module(repo, "nbad", "e2eb-nbad", "1.0.0",
               test_js="console.log('e2eb-nbad: about to fail');\n"
                       "require('assert').strictEqual(1, 2, 'the e2e npm failure');\n")
    npm_module(repo, "nnotest", "e2eb-nnotest", "1.0.0", scripts={})
    # "pipy".test wins over scripts.test (which would fail).
    npm_module(repo, "ncustom", "e2eb-ncustom", "1.0.0", scripts={"test": "exit 7"},
               pipy={"test": "node check.js"})
    repo.write("ncustom/check.js", "console.log('e2eb-ncustom ran check.js');\n")
    # A lockfile: installed with npm ci (no dependencies, so no registry URL in it).
    npm_module(repo, "nlocked", "e2eb-nlocked", "1.0.0")
    repo.write("nlocked/package-lock.json", json.dumps({
        "name": "e2eb-nlocked", "version": "1.0.0", "lockfileVersion": 3, "requires": True,
        "packages": {"": {"name": "e2eb-nlocked", "version": "1.0.0", "license": "MIT"}}},
        indent=2) + "\n")
    npm_module(repo, "nout", "someone-else-js", "1.0.0")
    # A private package.json (workspace root, tooling) is not a module.
    repo.write("tools/package.json", json.dumps(
        {"name": "e2eb-tools", "version": "1.0.0", "private": True,
         "scripts": {"test": "exit 1"}}) + "\n")
    # A folder with both files: two modules.
    repo.module("mixed", "e2eb-mixed", "1.0", PASSING.format(mod="e2eb_mixed"))
    npm_module(repo, "mixed", "e2eb-mixed", "1.0.0")
    # Version 1 of the dependency-order modules (test 4: npm, test 5: Python).
    npm_module(repo, "a", "e2eb-a", "1.0.0")
    npm_module(repo, "b", "e2eb-b", "1.0.0", dependencies={"e2eb-a": "^1.0.0"},
               test_js=uses_dependency_js("e2eb-b", "e2eb-a", "1."))
    python_module(repo, "pa", "e2eb-pa", "1.0", test_py=PY_OK)
    python_module(repo, "pb", "e2eb-pb", "1.0", dependencies=["e2eb-pa>=1.0"],
                  test_py=uses_dependency_py("e2eb-pb", "e2eb-pa", "1.0"))
    repo.write("README.md", "# the npm monorepo\n")


def net_and_hang(repo: Repo, port: int) -> None:
    npm_module(repo, "nnet", "e2eb-nnet", "1.0.0", test_js=(
        "const http = require('http');\n"
        f"const req = http.get({{host: '127.0.0.1', port: {port}, path: '/healthz',"
        " timeout: 3000}, (res) => {\n"
        "  console.log('e2eb-nnet REACHED the server: ' + res.statusCode); process.exit(0);\n"
        "});\n"
        "req.on('timeout', () => { console.log('e2eb-nnet network error: timeout');"
        " process.exit(1); });\n"
        "req.on('error', (e) => { console.log('e2eb-nnet network error: ' + e.code);"
        " process.exit(1); });\n"))
    npm_module(repo, "nhang", "e2eb-nhang", "1.0.0", test_js=(
        "console.log('e2eb-nhang is hanging');\nsetTimeout(() => {}, 300000);\n"))


def npm_version_2(repo: Repo) -> None:
    npm_module(repo, "a", "e2eb-a", "2.0.0",
               index_js="module.exports = { NAME: 'e2eb-a', VERSION: '2.0.0',\n"
                        "  shout: (s) => s.toUpperCase() + '!' };\n")
    npm_module(repo, "b", "e2eb-b", "1.1.0", dependencies={"e2eb-a": "^2.0.0"},
               test_js=uses_dependency_js("e2eb-b", "e2eb-a", "2.")
               + "if (dep.shout('new') !== 'NEW!') process.exit(1);\n")
    npm_module(repo, "bdev", "e2eb-bdev", "1.0.0", dev_dependencies={"e2eb-a": "^1.0.0"},
               test_js=uses_dependency_js("e2eb-bdev", "e2eb-a", "1."))


def python_version_2(repo: Repo) -> None:
    python_module(repo, "pa", "e2eb-pa", "2.0", test_py=PY_OK)
    python_module(repo, "pb", "e2eb-pb", "1.1", dependencies=["e2eb-pa>=2.0"],
                  test_py=uses_dependency_py("e2eb-pb", "e2eb-pa", "2.0"))
    # A test extra is not an ordering edge.
    python_module(repo, "pbdev", "e2eb-pbdev", "1.0", test_extra=["e2eb-pa>=1.0"],
                  test_py=PY_OK)


def failing_dependency(repo: Repo) -> None:
    npm_module(repo, "fdep", "e2eb-fdep", "1.0.0",
               test_js="console.log('e2eb-fdep fails'); process.exit(1);\n")
    npm_module(repo, "fmid", "e2eb-fmid", "1.0.0", dependencies={"e2eb-fdep": "^1.0.0"},
               test_js=uses_dependency_js("e2eb-fmid", "e2eb-fdep", "1."))
    npm_module(repo, "ftop", "e2eb-ftop", "1.0.0",
               extra={"optionalDependencies": {"e2eb-fmid": "^1.0.0"}},
               test_js=uses_dependency_js("e2eb-ftop", "e2eb-fmid", "1."))
    python_module(repo, "pfdep", "e2eb-pfdep", "1.0", test_py="raise SystemExit(3)\n")
    python_module(repo, "pfapp", "e2eb-pfapp", "1.0", dependencies=["e2eb-pfdep"],
                  test_py=uses_dependency_py("e2eb-pfapp", "e2eb-pfdep", "1.0"))


def cycle(repo: Repo) -> None:
    npm_module(repo, "cyca", "e2eb-cyca", "1.0.0", dependencies={"e2eb-cycb": "1.0.0"})
    npm_module(repo, "cycb", "e2eb-cycb", "1.0.0", extra={"peerDependencies": {"e2eb-cyca": "1"}})
    npm_module(repo, "cycc", "e2eb-cycc", "1.0.0", dependencies={"e2eb-cyca": "1.0.0"})


def two_chains(repo: Repo) -> None:
    python_module(repo, "p", "e2eb-dw-p", "1.0", test_py=PY_OK)
    python_module(repo, "p2", "e2eb-dw-p2", "1.0", dependencies=["e2eb-dw-p"],
                  test_py=uses_dependency_py("e2eb-dw-p2", "e2eb-dw-p", "1.0"))
    npm_module(repo, "n", "e2eb-dw-n", "1.0.0")
    npm_module(repo, "n2", "e2eb-dw-n2", "1.0.0", dependencies={"e2eb-dw-n": "^1.0.0"},
               test_js=uses_dependency_js("e2eb-dw-n2", "e2eb-dw-n", "1."))


def slow_module(repo: Repo) -> None:
    # Ticks keep the log flowing, so the test can see the test step is under way.
    npm_module(repo, "nslow", "e2eb-nslow", "1.0.0", test_js=(
        "console.log('slow test started');\nlet n = 0;\n"
        "const t = setInterval(() => { console.log('tick ' + (++n));"
        " if (n >= 25) { clearInterval(t); console.log('slow test done'); } }, 200);\n"))


def private_app(repo: Repo) -> None:
    npm_module(repo, "papp", "e2eb-priv-napp", "1.0.0", dependencies={"e2eb-priv-ndep": "^1.0.0"},
               test_js=uses_dependency_js("e2eb-priv-napp", "e2eb-priv-ndep", "1."))


# --- reading the builds ------------------------------------------------------------------

def all_builds(server, headers: dict | None = None) -> list[dict]:
    r = server.get("/api/builds?limit=1000", headers=headers)
    assert r.status == 200, r.reason
    return sorted(r.json(), key=lambda j: j["id"], reverse=True)  # newest first


def wait_until(server, predicate, what: str, *, timeout: float = 150, idle_grace: float = 25,
               headers: dict | None = None) -> list[dict]:
    """Polls the builds until `predicate(builds)`; fails early once nothing has been queued or
    running for `idle_grace` seconds (the build it waits for will not come)."""
    deadline = time.monotonic() + timeout
    idle_since = time.monotonic()
    while True:
        current = all_builds(server, headers)
        if predicate(current):
            return current
        now = time.monotonic()
        if any(j["status"] not in DONE for j in current):
            idle_since = now
        if now > deadline or now - idle_since > idle_grace:
            why = "timed out" if now > deadline else f"the queue was idle for {idle_grace} s"
            raise AssertionError(f"{why} waiting for {what}:\n{json.dumps(current, indent=1)}"
                                 f"\n{server.log()}")
        time.sleep(0.2)


def of(jobs: list[dict], module: str, fmt: str) -> list[dict]:
    return [j for j in jobs if j["module"] == module and j.get("format") == fmt]


def done_of(jobs: list[dict], module: str, fmt: str) -> list[dict]:
    return [j for j in of(jobs, module, fmt) if j["status"] in DONE]


def wait_build(server, module: str, fmt: str = "npm", n: int = 1, **kw) -> dict:
    """The newest finished `fmt` build of `module`, once `n` of them have finished."""
    jobs = wait_until(server, lambda js: len(done_of(js, module, fmt)) >= n,
                      f"{n} finished {fmt} build(s) of {module}", **kw)
    return done_of(jobs, module, fmt)[0]


def log_text(server, job: dict, headers: dict | None = None) -> str:
    r = server.get(server.path_of(job["log_url"]), headers=headers)
    assert r.status == 200, r.reason
    return r.text


def when(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")


def assert_waited(dependent: dict, dependency: dict) -> None:
    assert dependent["waits_for"] == [dependency["id"]], (dependent, dependency)
    assert when(dependent["started_at"]) >= when(dependency["finished_at"]), (
        f"{dependent['module']} started at {dependent['started_at']}, before its dependency "
        f"{dependency['module']} finished at {dependency['finished_at']}")


def packument(server, name: str, headers: dict | None = None):
    return server.get(f"/npm/{name}", headers={"Accept": "application/json", **(headers or {})})


def registry(server) -> str:
    return f"{server.url}/npm/"


def assert_npm_provenance(server, job: dict, source: str, headers: dict | None = None) -> dict:
    """The packument lists the build's version with _provenance naming the build."""
    r = packument(server, job["project"], headers)
    assert r.status == 200, f"/npm/{job['project']} -> {r.status} {r.reason}"
    doc = r.json()
    assert job["version"] in doc["versions"], list(doc["versions"])
    prov = doc["versions"][job["version"]].get("_provenance")
    assert prov is not None, doc["versions"][job["version"]]
    assert prov["source"] == source and prov["commit"] == job["commit"]
    assert prov["module"] == job["module"] and prov["build_id"] == job["id"]
    assert prov["test_result"] == "passed"
    assert prov["build_url"].rstrip("/").endswith(f"/builds/{job['id']}"), prov["build_url"]
    return doc


def metric_line(text: str, name: str, **labels: str) -> str | None:
    """The first sample line of `name` carrying every label in `labels` (any order)."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in line.split("}")[0] for k, v in labels.items()):
            return line
    return None


# --- one shared server for the tests that do not interfere ------------------------------

@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Repo:
    r = Repo(tmp_path_factory.mktemp("npmmono") / "repo")
    first_commit(r)
    r.commit("first npm modules")
    return r


@pytest.fixture(scope="module")
def mono(server_factory_module, repo):
    return server_factory_module(sources_config(repo.path, name="npmmono"))


def test_a_passing_npm_module_is_published_and_npm_installable(mono, repo, tmp_path):
    job = wait_build(mono, "nlog")
    assert job["status"] == "passed", f"{job}\n{log_text(mono, job)}"
    assert job["format"] == "npm"
    assert job["project"] == "e2eb-nlog" and job["version"] == "1.0.0"
    assert job["waits_for"] == [] and job["blocked_by"] is None
    assert "e2eb-nlog test ok 1.0.0" in log_text(mono, job)
    assert_npm_provenance(mono, job, "npmmono")

    home = tmp_path / "home"
    nd.write_npmrc(home, registry(mono), audit=False)
    proj = tmp_path / "consumer"
    proj.mkdir()
    (proj / "package.json").write_text(json.dumps(
        {"name": "consumer", "version": "1.0.0", "private": True}))
    res = nd.run_client("npm", ["install", "e2eb-nlog"], home, cwd=proj)
    assert res.returncode == 0, res.stdout + res.stderr
    installed = proj / "node_modules" / "e2eb-nlog"
    assert (installed / "index.js").read_text() == (repo.path / "nlog" / "index.js").read_text()
    assert json.loads((installed / "package.json").read_text())["version"] == "1.0.0"
    out = subprocess.run(["node", "-e", "console.log(require('e2eb-nlog').greet('e2e'))"],
                         cwd=proj, capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "hello e2e from e2eb-nlog", out.stdout + out.stderr


def test_a_private_package_json_is_not_a_module(mono):
    wait_build(mono, "nlog")
    jobs = wait_until(mono, lambda js: js and all(j["status"] in DONE for j in js),
                      "the first commit's builds")
    assert not [j for j in jobs if j["module"] == "tools"], "a private package.json was built"
    assert packument(mono, "e2eb-tools").status == 404


def test_a_failing_npm_module_is_not_published_and_its_log_shows_the_test(mono):
    job = wait_build(mono, "nbad")
    assert job["status"] == "failed", job
    assert job["format"] == "npm"
    log = log_text(mono, job)
    assert "e2eb-nbad: about to fail" in log and "the e2e npm failure" in log, log
    assert packument(mono, "e2eb-nbad").status == 404


def test_an_npm_module_without_a_test_script_fails_saying_so(mono):
    job = wait_build(mono, "nnotest")
    assert job["status"] == "failed", job
    assert "package.json has no test script" in job["message"], job["message"]
    assert "package.json has no test script" in log_text(mono, job)
    assert packument(mono, "e2eb-nnotest").status == 404


def test_the_pipy_test_field_wins_over_npm_test(mono):
    job = wait_build(mono, "ncustom")
    log = log_text(mono, job)
    assert job["status"] == "passed", f"{job}\n{log}"
    assert "e2eb-ncustom ran check.js" in log, log
    assert packument(mono, "e2eb-ncustom").status == 200


def test_a_module_with_a_lockfile_installs_with_npm_ci(mono):
    job = wait_build(mono, "nlocked")
    log = log_text(mono, job)
    assert job["status"] == "passed", f"{job}\n{log}"
    assert re.search(r"^\$ .*\bnpm\b.* ci\b", log, re.M), log
    assert packument(mono, "e2eb-nlocked").status == 200


def test_an_npm_module_outside_the_scope_is_refused(mono):
    job = wait_build(mono, "nout")
    assert job["status"] == "failed", job
    assert 'outside the scope "e2eb-*"' in job["message"], job["message"]
    assert packument(mono, "someone-else-js").status == 404


def test_a_folder_with_pyproject_and_package_json_is_two_modules(mono, tmp_path):
    py = wait_build(mono, "mixed", "python")
    js = wait_build(mono, "mixed", "npm")
    assert py["id"] != js["id"]
    assert py["status"] == "passed", f"{py}\n{log_text(mono, py)}"
    assert js["status"] == "passed", f"{js}\n{log_text(mono, js)}"
    assert (py["project"], py["version"]) == ("e2eb-mixed", "1.0")
    assert (js["project"], js["version"]) == ("e2eb-mixed", "1.0.0")
    assert len(of(all_builds(mono), "mixed", "python")) == 1
    assert len(of(all_builds(mono), "mixed", "npm")) == 1
    assert_npm_provenance(mono, js, "npmmono")
    venv = make_venv(tmp_path / "v")
    res = pip(venv, mono, "install", "e2eb-mixed==1.0")
    assert res.returncode == 0, res.stdout + res.stderr
    assert venv_python(venv, "import e2eb_mixed; print(e2eb_mixed.VERSION)").stdout.strip() == "1.0"


def test_network_in_npm_tests_fails_and_a_hang_is_killed(mono, repo):
    wait_until(mono, lambda js: js and all(j["status"] in DONE for j in js),
               "the first commit's builds")
    # The server is reachable from here; the test must not reach it from the sandbox.
    net_and_hang(repo, mono.port)
    repo.commit("net and hang")
    net = wait_build(mono, "nnet")
    net_log = log_text(mono, net)
    assert net["status"] == "failed", f"{net}\n{net_log}"
    assert "e2eb-nnet network error" in net_log and "REACHED" not in net_log, net_log
    start = time.monotonic()
    hang = wait_build(mono, "nhang")
    assert hang["status"] == "failed", hang
    assert "timed out after 6s" in hang["message"], hang["message"]
    assert "e2eb-nhang is hanging" in log_text(mono, hang)
    assert time.monotonic() - start < 60
    assert packument(mono, "e2eb-nnet").status == 404
    assert packument(mono, "e2eb-nhang").status == 404


def test_an_npm_dependent_is_built_after_and_against_its_dependency(mono, repo):
    a1 = wait_build(mono, "a")
    b1 = wait_build(mono, "b")
    assert a1["status"] == "passed", f"{a1}\n{log_text(mono, a1)}"
    assert b1["status"] == "passed", f"{b1}\n{log_text(mono, b1)}"
    assert_waited(b1, a1)
    wait_until(mono, lambda js: all(j["status"] in DONE for j in js), "the queue to drain")
    # A 2.0.0 has new behaviour, which B 1.1.0 needs (^2.0.0: not installable before A's
    # build of this commit published it). bdev names A only as a devDependency: no edge.
    npm_version_2(repo)
    repo.commit("a 2.0.0 and b 1.1.0")
    a2 = wait_build(mono, "a", n=2)
    b2 = wait_build(mono, "b", n=2)
    b_log = log_text(mono, b2)
    assert a2["status"] == "passed" and a2["version"] == "2.0.0", f"{a2}\n{log_text(mono, a2)}"
    assert b2["status"] == "passed" and b2["version"] == "1.1.0", f"{b2}\n{b_log}"
    assert "e2eb-b saw e2eb-a 2.0.0" in b_log, b_log
    assert_waited(b2, a2)
    assert_npm_provenance(mono, b2, "npmmono")
    bdev = wait_build(mono, "bdev")
    assert bdev["status"] == "passed", f"{bdev}\n{log_text(mono, bdev)}"
    assert bdev["waits_for"] == [], "a devDependency ordered the builds"
    assert "e2eb-bdev saw e2eb-a 1.0.0" in log_text(mono, bdev)


def test_a_python_dependent_is_built_after_and_against_its_dependency(mono, repo):
    pa1 = wait_build(mono, "pa", "python")
    pb1 = wait_build(mono, "pb", "python")
    assert pa1["status"] == "passed", f"{pa1}\n{log_text(mono, pa1)}"
    assert pb1["status"] == "passed", f"{pb1}\n{log_text(mono, pb1)}"
    assert_waited(pb1, pa1)
    wait_until(mono, lambda js: all(j["status"] in DONE for j in js), "the queue to drain")
    python_version_2(repo)
    repo.commit("pa 2.0 and pb 1.1")
    pa2 = wait_build(mono, "pa", "python", n=2)
    pb2 = wait_build(mono, "pb", "python", n=2)
    pb_log = log_text(mono, pb2)
    assert pa2["status"] == "passed" and pa2["version"] == "2.0", f"{pa2}\n{log_text(mono, pa2)}"
    assert pb2["status"] == "passed" and pb2["version"] == "1.1", f"{pb2}\n{pb_log}"
    assert "e2eb-pb saw e2eb-pa 2.0" in pb_log, pb_log
    assert_waited(pb2, pa2)
    pbdev = wait_build(mono, "pbdev", "python")
    assert pbdev["status"] == "passed", f"{pbdev}\n{log_text(mono, pbdev)}"
    assert pbdev["waits_for"] == [], "a test extra ordered the builds"


def test_a_failed_dependency_skips_its_dependents(mono, repo):
    wait_until(mono, lambda js: js and all(j["status"] in DONE for j in js), "the queue to drain")
    failing_dependency(repo)
    repo.commit("a failing dependency and its dependents")
    fdep = wait_build(mono, "fdep")
    fmid = wait_build(mono, "fmid")
    ftop = wait_build(mono, "ftop")
    assert fdep["status"] == "failed", f"{fdep}\n{log_text(mono, fdep)}"
    for dependent in (fmid, ftop):
        assert dependent["status"] == "skipped", dependent
        assert dependent["blocked_by"] == fdep["id"], dependent
        assert "e2eb-fdep" in dependent["message"], dependent["message"]
        assert "failed in this commit" in dependent["message"], dependent["message"]
        assert "e2eb-fdep" in log_text(mono, dependent)
    assert fmid["waits_for"] == [fdep["id"]] and ftop["waits_for"] == [fmid["id"]]
    for name in ("e2eb-fdep", "e2eb-fmid", "e2eb-ftop"):
        assert packument(mono, name).status == 404, name
    pfdep = wait_build(mono, "pfdep", "python")
    pfapp = wait_build(mono, "pfapp", "python")
    assert pfdep["status"] == "failed", pfdep
    assert pfapp["status"] == "skipped" and pfapp["blocked_by"] == pfdep["id"], pfapp
    assert "e2eb-pfdep" in pfapp["message"], pfapp["message"]
    assert mono.project_json("e2eb-pfdep").status == 404
    assert mono.project_json("e2eb-pfapp").status == 404


def test_a_dependency_cycle_fails_its_modules(mono, repo):
    wait_until(mono, lambda js: js and all(j["status"] in DONE for j in js), "the queue to drain")
    cycle(repo)
    repo.commit("a dependency cycle")
    cyca = wait_build(mono, "cyca")
    cycb = wait_build(mono, "cycb")
    for job in (cyca, cycb):
        assert job["status"] == "failed", job
        assert "dependency cycle" in job["message"], job["message"]
        assert "e2eb-cyca" in job["message"] and "e2eb-cycb" in job["message"], job["message"]
        # DESIGN: a failed build says why in its message and in its log.
        assert "dependency cycle" in log_text(mono, job), job
    cycc = wait_build(mono, "cycc")
    assert cycc["status"] == "skipped", cycc
    assert "e2eb-cyca" in cycc["message"], f"{cycc}\n{cyca}"
    for name in ("e2eb-cyca", "e2eb-cycb", "e2eb-cycc"):
        assert packument(mono, name).status == 404, name


def test_a_module_skipped_behind_a_cycle_is_blocked_by_a_build_of_the_cycle(mono):
    """blocked_by names the failed build that caused a skip; behind a cycle, that is a build
    of the cycle (the one the message names)."""
    cyca = wait_build(mono, "cyca")
    cycb = wait_build(mono, "cycb")
    cycc = wait_build(mono, "cycc")
    assert cycc["blocked_by"] in (cyca["id"], cycb["id"]), cycc



def test_a_changed_npm_module_whose_version_is_published_is_skipped(mono, repo):
    first = wait_build(mono, "nlog")
    wait_until(mono, lambda js: js and all(j["status"] in DONE for j in js), "the queue to drain")
    repo.write("nlog/test.js", default_test_js("e2eb-nlog", "1.0.0") + "// more tests\n")
    repo.commit("nlog: a test changed, the version did not")
    job = wait_build(mono, "nlog", n=2)
    assert job["id"] != first["id"] and job["status"] == "skipped", job
    assert "e2eb-nlog 1.0.0 is already published" in job["message"], job["message"]
    doc = assert_npm_provenance(mono, first, "npmmono")
    assert list(doc["versions"]) == ["1.0.0"]

# --- servers of their own ---------------------------------------------------------------

def test_done_when_two_chains_of_python_and_npm_modules(server_factory, tmp_path_factory):
    repo = Repo(tmp_path_factory.mktemp("donewhen") / "repo")
    two_chains(repo)
    repo.commit("two chains")
    start = time.monotonic()
    server = server_factory(sources_config(repo.path, name="donewhen"))
    jobs = wait_until(server, lambda js: len([j for j in js if j["status"] in DONE]) >= 4,
                      "four builds", timeout=150)
    elapsed = time.monotonic() - start
    assert len(jobs) == 4, jobs
    by = {(j["module"], j.get("format")): j for j in jobs}
    assert set(by) == {("p", "python"), ("p2", "python"), ("n", "npm"), ("n2", "npm")}, by
    for j in jobs:
        assert j["status"] == "passed", f"{j}\n{log_text(server, j)}"
    assert len({j["commit"] for j in jobs}) == 1
    assert_waited(by["p2", "python"], by["p", "python"])
    assert_waited(by["n2", "npm"], by["n", "npm"])
    assert by["p", "python"]["waits_for"] == [] and by["n", "npm"]["waits_for"] == []
    assert "e2eb-dw-p2 saw e2eb-dw-p 1.0" in log_text(server, by["p2", "python"])
    assert "e2eb-dw-n2 saw e2eb-dw-n 1.0.0" in log_text(server, by["n2", "npm"])
    for name in ("e2eb-dw-p", "e2eb-dw-p2"):
        files = server.files(name)
        assert sorted("wheel" if f.endswith(".whl") else "sdist" for f in files) == \
            ["sdist", "wheel"], files
    assert_npm_provenance(server, by["n", "npm"], "donewhen")
    assert_npm_provenance(server, by["n2", "npm"], "donewhen")
    assert elapsed < 150
    metrics = server.get("/metrics").text
    npm_line = metric_line(metrics, "pipy_builds_by_format_total", format="npm", status="passed")
    py_line = metric_line(metrics, "pipy_builds_by_format_total", format="python", status="passed")
    assert npm_line and float(npm_line.split()[-1]) == 2, metrics
    assert py_line and float(py_line.split()[-1]) == 2, metrics


def test_a_restart_mid_build_reruns_the_npm_job_and_publishes_once(server_factory,
                                                                  tmp_path_factory):
    repo = Repo(tmp_path_factory.mktemp("nrestart") / "repo")
    slow_module(repo)
    repo.commit("a slow npm module")
    server = server_factory(sources_config(repo.path, name="nrestart", timeout="60s"))

    def in_the_test(js: list[dict]) -> bool:
        return any(j["status"] == "running" and "tick 2" in log_text(server, j) for j in js)

    running = wait_until(server, in_the_test, "the slow test to run", timeout=90)
    job_id = running[0]["id"]
    server.kill()  # kill -9: the job is left `running` in the catalog
    server.start()
    job = wait_build(server, "nslow", timeout=90)
    log = log_text(server, job)
    assert job["id"] == job_id and job["status"] == "passed", f"{job}\n{log}"
    assert "re-queued" in log, log
    assert "slow test done" in log
    assert len(all_builds(server)) == 1
    doc = assert_npm_provenance(server, job, "nrestart")
    assert list(doc["versions"]) == ["1.0.0"]


def test_a_private_repository_still_builds_npm_modules_with_internal_dependencies(
        server_factory, tmp_path):
    """With anonymous reads off, the runner's npm reads Pipy with a credential of its own; it
    never appears in the build log."""
    r = Repo(tmp_path / "private")
    npm_module(r, "pdep", "e2eb-priv-ndep", "1.0.0")
    r.commit("the dependency")
    s = server_factory("[access]\nanonymous_read = false\n" +
                       sources_config(r.path, name="privnpm"))
    auth = basic_auth(s.token("read"))
    dep = wait_build(s, "pdep", headers=auth)
    assert dep["status"] == "passed", f"{dep}\n{log_text(s, dep, auth)}"
    private_app(r)
    r.commit("an app that needs the dependency")
    job = wait_build(s, "papp", headers=auth)
    log = log_text(s, job, auth)
    assert job["status"] == "passed", f"{job}\n{log}"
    assert "e2eb-priv-napp saw e2eb-priv-ndep 1.0.0" in log, log
    assert "pipy_" not in log, "a credential leaked into the build log"
    assert packument(s, "e2eb-priv-napp").status == 401
    assert_npm_provenance(s, job, "privnpm", auth)
