"""The web UI in a real browser: Debian's headless Chromium, driven by playwright-core
(tests/browser/ui_check.mjs), against a running pipy with published projects."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from pydists import make_wheel, upload

BROWSER_DIR = Path(__file__).resolve().parent.parent / "browser"
README = """# Usage guide

Install it and call `hello()`.

| option | meaning |
|--------|---------|
| fast   | go fast |
"""
HOSTILE = '<img src=x onerror="window.__pwned=1">'


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

    shots = tmp_path / "screenshots"
    shots.mkdir()
    run = subprocess.run(
        [node, str(BROWSER_DIR / "ui_check.mjs"), server.url.rstrip("/"), "uitest-alpha",
         "uitest-hostile", str(shots)],
        capture_output=True, text=True, timeout=120, cwd=BROWSER_DIR)
    assert run.returncode == 0, run.stdout + run.stderr
    for shot in ("projects.png", "project.png"):
        assert (shots / shot).stat().st_size > 1000, f"{shot} is empty"
