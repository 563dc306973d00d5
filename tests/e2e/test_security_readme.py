"""Security: a README that is pathological for cmark-gfm must not freeze the server.

Debian 12's cmark-gfm 0.29.0.gfm.6 needs seconds to minutes, or gigabytes, for some small
Markdown inputs. A 1 KB wheel carrying one of them as its description used to make every
view of its project page take ~28 s and /healthz wait as long (pages rendered on the I/O
threads, once per concurrent request). Pipy now renders a README once, in a child process
with a time and size budget, off the I/O threads, and shows it as escaped text when the
budget runs out.
"""
from __future__ import annotations

import concurrent.futures
import ctypes.util
import html
import subprocess
import threading
import time

from pydists import PY, make_wheel, upload

BUDGET = 2.0          # the server's default render budget (web/markdown_child.h)
MARGIN = 1.5          # process start, page build, a loaded 2-core machine
FAST = 0.5            # what an unrelated request may take meanwhile

# Each 240 KB of text/markdown; each slow for plain cmark-gfm 0.29 (checked below).
HOSTILE = {
    # Quadratic bracket/image matching: ~15 s here, ~28 s on the machine it was reported on.
    "readme-images": "![[]()" * 40000,
    # A table header 80,000 cells wide: quadratic in the header width (~10 s).
    "readme-wide-header": "|" * 80000 + "\n" + "|-" * 79999 + "|\n",
    # Rows of empty cells, each padded to a 1,000-column header: 78 million cells, many
    # gigabytes and minutes.
    "readme-empty-rows": "|a" * 1000 + "|\n" + "|-" * 1000 + "|\n" + "||\n" * 78000,
}
BENIGN = "# Benign\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"

# Renders stdin with the same library and extensions as pipy (web/markdown.cc), under a
# 2 GiB address-space limit; prints "ready" once the library is loaded.
PROBE = r"""
import ctypes, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
core = ctypes.CDLL(sys.argv[1]); ext = ctypes.CDLL(sys.argv[2])
ext.cmark_gfm_core_extensions_ensure_registered()
vp = ctypes.c_void_p
core.cmark_parser_new.restype = vp
core.cmark_find_syntax_extension.restype = vp
core.cmark_find_syntax_extension.argtypes = [ctypes.c_char_p]
core.cmark_parser_attach_syntax_extension.argtypes = [vp, vp]
core.cmark_parser_feed.argtypes = [vp, ctypes.c_char_p, ctypes.c_size_t]
core.cmark_parser_finish.restype = vp
core.cmark_parser_finish.argtypes = [vp]
core.cmark_parser_get_syntax_extensions.restype = vp
core.cmark_parser_get_syntax_extensions.argtypes = [vp]
core.cmark_render_html.restype = vp
core.cmark_render_html.argtypes = [vp, ctypes.c_int, vp]
md = sys.stdin.buffer.read()
p = core.cmark_parser_new(0)
for name in (b"table", b"autolink", b"strikethrough", b"tagfilter"):
    core.cmark_parser_attach_syntax_extension(p, core.cmark_find_syntax_extension(name))
print("ready", flush=True)
core.cmark_parser_feed(p, md, len(md))
doc = core.cmark_parser_finish(p)
out = core.cmark_render_html(doc, 0, core.cmark_parser_get_syntax_extensions(p))
print("rendered", len(ctypes.string_at(out)), flush=True)
"""


def _library(name: str) -> str:
    found = ctypes.util.find_library(name)
    assert found, f"lib{name} is needed for this check (libcmark-gfm-dev)"
    return found


def _plain_cmark(markdown: str, limit: float) -> tuple[bool, float, str]:
    """Renders `markdown` with plain cmark-gfm in a subprocess: (finished within `limit`
    seconds, seconds taken, its output)."""
    cmd = [PY, "-c", PROBE, _library("cmark-gfm"), _library("cmark-gfm-extensions")]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        out, _ = proc.communicate(markdown.encode(), timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        return False, time.monotonic() - start, out.decode()
    finished = proc.returncode == 0 and "rendered" in out.decode()
    return finished, time.monotonic() - start, out.decode()


def test_each_input_is_slow_for_plain_cmark():
    limit = 2 * BUDGET
    ok, took, out = _plain_cmark(BENIGN, limit)
    assert ok and took < limit, f"the probe itself does not work: {out!r}"
    with concurrent.futures.ThreadPoolExecutor(len(HOSTILE)) as pool:
        probes = {name: pool.submit(_plain_cmark, md, limit) for name, md in HOSTILE.items()}
        for name, probe in probes.items():
            finished, took, out = probe.result()
            assert "ready" in out, f"{name}: the probe did not start: {out!r}"
            # Still running after twice the budget, or killed by the 2 GiB limit.
            assert not finished, f"{name}: plain cmark rendered it in {took:.1f} s"


def _timed_get(server, path: str, timeout: float = 60):
    start = time.monotonic()
    r = server.get(path, timeout=timeout)
    return r, time.monotonic() - start


def test_hostile_readmes_do_not_stall_the_server(server, upload_token, tmp_path):
    for name, readme in HOSTILE.items():
        w = make_wheel(tmp_path, name, "1.0", readme=readme + "\n<script>alert(1)</script>\n")
        assert w.path.stat().st_size < 4096  # a tiny upload
        r = upload(server, w, upload_token)
        assert r.status == 200, (name, r.status, r.reason)
    benign = make_wheel(tmp_path, "readme-benign", "1.0", readme=BENIGN)
    assert upload(server, benign, upload_token).status == 200
    r, _ = _timed_get(server, "/project/readme-benign/")
    assert r.status == 200 and "<td>2</td>" in r.text

    # Several clients per hostile page at once, while others use the server.
    clients_per_page = 4
    results: dict[str, list] = {name: [] for name in HOSTILE}
    lock = threading.Lock()

    def client(name: str) -> None:
        try:
            r, took = _timed_get(server, f"/project/{name}/")
        except OSError as e:
            r, took = e, 60.0
        with lock:
            results[name].append((r, took))

    threads = [threading.Thread(target=client, args=(name,))
               for name in HOSTILE for _ in range(clients_per_page)]
    attack_start = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(0.2)  # the hostile pages are being built now
    slow = []
    while time.monotonic() - attack_start < BUDGET and not slow:
        for path in ("/healthz", "/project/readme-benign/", "/simple/readme-benign/", "/help"):
            try:
                r, took = _timed_get(server, path, timeout=5)
            except OSError as e:  # timed out or reset: it waited on the hostile READMEs
                slow.append((path, repr(e)))
                break
            assert r.status == 200, (path, r.status)
            if took >= FAST:
                slow.append((path, round(took, 2)))
        time.sleep(0.05)
    for t in threads:
        t.join(timeout=60)
    assert not slow, f"requests that waited on the hostile READMEs: {slow}"

    for name, readme in HOSTILE.items():
        assert len(results[name]) == clients_per_page, name
        for r, took in results[name]:
            assert not isinstance(r, OSError), (name, r)
            assert r.status == 200, (name, r.status)
            assert took < BUDGET + MARGIN, f"{name}: the page took {took:.1f} s"
            page = r.text
            assert "shown as plain text" in page, name
            assert html.escape(readme[:600], quote=False) in page, name
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, name
            assert "<script>alert(1)" not in page, name
            assert "<table>" not in page.split('class="readme"')[1].split("<h2>Versions")[0]

    # Rendered once: every later view is a cached page.
    for name in HOSTILE:
        r, took = _timed_get(server, f"/project/{name}/")
        assert r.status == 200 and took < FAST, (name, took)


def test_hostile_readme_is_not_rendered_again_for_a_new_file(server, upload_token, tmp_path):
    """A page rebuild (here: a new release's file) re-renders no README already seen."""
    name = "readme-rebuilt"
    w = make_wheel(tmp_path, name, "1.0", readme=HOSTILE["readme-images"])
    assert upload(server, w, upload_token).status == 200
    r, took = _timed_get(server, f"/project/{name}/")
    assert r.status == 200 and "shown as plain text" in r.text
    assert took < BUDGET + MARGIN
    # An older release (not the one whose README is shown) changes the page.
    old = make_wheel(tmp_path, name, "0.9", readme="# Old\n")
    assert upload(server, old, upload_token).status == 200
    r, took = _timed_get(server, f"/project/{name}/")
    assert r.status == 200 and "0.9" in r.text and "shown as plain text" in r.text
    assert took < FAST, f"the README was rendered again: {took:.1f} s"
