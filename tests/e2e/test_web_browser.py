"""The web UI in a real browser: Debian's headless Chromium, driven by playwright-core
(tests/browser/ui_check.mjs), against a running pipy with published projects: Python ones
uploaded like twine does, and an npm package published by the real npm client."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import npmdists as nd
from pydists import make_wheel, upload

BROWSER_DIR = Path(__file__).resolve().parent.parent / "browser"
README = """# Usage guide

Install it and call `hello()`.

| option | meaning |
|--------|---------|
| fast   | go fast |
"""
HOSTILE = '<img src=x onerror="window.__pwned=1">'
NPM_PACKAGE = "@uitest/npm-widget"
NPM_README = """# Widget guide

Call `widget()` from Node.

| option | meaning |
|--------|---------|
| loud   | log more |

<script>window.__pwned=4</script>
"""


def npm_publish(server, token: str, folder: Path) -> None:
    """Publishes NPM_PACKAGE 1.0.0 with the npm on PATH, as a developer would."""
    home = folder / "home"
    nd.write_npmrc(home, server.url + "/npm/", token, audit=False)
    src = folder / "src"
    src.mkdir(parents=True)
    pj = nd.package_json(NPM_PACKAGE, "1.0.0",
                         extra={"description": "A widget <b>for</b> the browser test"})
    (src / "package.json").write_text(json.dumps(pj, indent=2) + "\n")
    (src / "index.js").write_text("module.exports = () => 'widget';\n")
    (src / "README.md").write_text(NPM_README)
    nd.run_client("npm", ["publish"], home, cwd=src, check=True)


def test_ui_in_headless_chromium(server, upload_token, tmp_path):
    node = shutil.which("node")
    assert node, "node is required for the browser test (Debian's nodejs)"
    assert Path("/usr/bin/chromium").exists(), "chromium is required (scripts/install-deps.sh)"
    assert (BROWSER_DIR / "node_modules" / "playwright-core").exists(), \
        "run `npm ci` in tests/browser (make test does)"

    for name in ("uitest-alpha", "uitest-beta", "other-gamma"):
        w = make_wheel(tmp_path, name, "1.0", readme=README)
        assert upload(server, w, upload_token).status == 200
    hostile = make_wheel(tmp_path, "uitest-hostile", "1.0", summary=HOSTILE,
                         readme=f"{HOSTILE}\n\n<script>window.__pwned=2</script>\n"
                                "[click](javascript:window.__pwned=3)\n")
    assert upload(server, hostile, upload_token).status == 200
    npm_publish(server, upload_token, tmp_path / "npm")
    # npm's own escaped spelling of a scoped name reaches the same page.
    escaped = server.get("/npm-package/" + nd.escaped_name(NPM_PACKAGE))
    assert escaped.status == 200, (escaped.status, escaped.text[:300])
    assert "yarn add " + NPM_PACKAGE in escaped.text

    shots = tmp_path / "screenshots"
    shots.mkdir()
    run = subprocess.run(
        [node, str(BROWSER_DIR / "ui_check.mjs"), server.url.rstrip("/"), "uitest-alpha",
         "uitest-hostile", str(shots), NPM_PACKAGE],
        capture_output=True, text=True, timeout=120, cwd=BROWSER_DIR)
    assert run.returncode == 0, run.stdout + run.stderr
    for shot in ("projects.png", "project.png", "npm-package.png"):
        assert (shots / shot).stat().st_size > 1000, f"{shot} is empty"
