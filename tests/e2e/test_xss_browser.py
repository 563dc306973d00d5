"""README rendering against a corpus of XSS vectors, checked in a real browser.

tests/e2e/xss_vectors.txt holds 100+ classic vectors (script tags in every casing, event
handlers, javascript:/vbscript:/data: URLs in Markdown and raw HTML, entity and Unicode
spellings, srcdoc, <svg>/<math> namespace confusion, meta refresh, <base>, ...). They are
uploaded as the Markdown README of Python projects (several per project), as a text/x-rst
and a text/plain README, as summaries, as an npm package's README and description (published
by the real npm client), and put in the project list's query string and a project URL.
tests/browser/xss_check.mjs then opens every page in headless Chromium, with and without the
Content-Security-Policy, and fails if anything ran; this file also checks the served HTML:
no <script> but the /static/ filter script, no on*= attribute, no script-capable URL.
"""
from __future__ import annotations

import html.parser
import json
import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path

import npmdists as nd
from pydists import core_metadata, make_wheel, upload

HERE = Path(__file__).resolve().parent
BROWSER_DIR = HERE.parent / "browser"
CORPUS = HERE / "xss_vectors.txt"
GROUP_SIZE = 12        # vectors per Markdown README
SUMMARY_LIMIT = 500    # characters per summary (pipy refuses more than 512)
NPM_PACKAGE = "@xsstest/widget"


def load_corpus() -> list[tuple[str, bool, str]]:
    """(id, alone, text) for every entry of xss_vectors.txt (format in its header)."""
    entries: list[list] = []
    for line in CORPUS.read_text(encoding="utf-8").split("\n"):
        if line.startswith("%%% "):
            words = line[4:].split()
            entries.append([words[0], "alone" in words[1:], []])
        elif entries:
            entries[-1][2].append(line)
    out = []
    for vid, alone, lines in entries:
        text = "\n".join(lines).strip("\n")
        text = re.sub(r"\{U\+([0-9A-F]{4,6})\}", lambda m: chr(int(m.group(1), 16)), text)
        out.append((vid, alone, text))
    return out


VECTORS = load_corpus()


def end_marker(vid: str) -> str:
    # A paragraph after each vector: seeing it rendered proves the vector did not swallow
    # the ones after it (so each vector is really tested, not hidden in another's block).
    return f"vector-end {vid}"


def markdown_readme(title: str, vectors) -> str:
    parts = [f"# {title}"]
    for vid, _, text in vectors:
        parts += [text, end_marker(vid)]
    return "\n\n".join(parts) + "\n"


def groups() -> list[list[tuple[str, bool, str]]]:
    """The corpus split into READMEs of GROUP_SIZE vectors; a vector that leaves a construct
    open ("alone") goes last in a README, where it can swallow nothing."""
    normal = [v for v in VECTORS if not v[1]]
    alone = [v for v in VECTORS if v[1]]
    chunks = [normal[i:i + GROUP_SIZE] for i in range(0, len(normal), GROUP_SIZE)]
    while len(chunks) < len(alone):
        chunks.append([])
    for chunk, v in zip(chunks, alone):
        chunk.append(v)
    return chunks


def one_line_vectors() -> list[str]:
    return [t for _, _, t in VECTORS if "\n" not in t and not any(ord(c) < 0x20 for c in t)]


def summaries(count: int) -> list[str]:
    """At least `count` summaries that together carry every one-line vector, each under
    pipy's 512-character limit on Summary."""
    out = [""]
    for line in one_line_vectors():
        if out[-1] and len(out[-1]) + 1 + len(line) > SUMMARY_LIMIT:
            out.append("")
        out[-1] = (out[-1] + " " + line).strip()
    lines = one_line_vectors()
    while len(out) < count:
        out.append(lines[len(out) % len(lines)])
    return out


def wheel_with_type(tmp_path: Path, name: str, summary: str, readme: str, content_type: str):
    meta = core_metadata(name, "1.0", summary, readme=readme).replace(
        b"Description-Content-Type: text/markdown",
        f"Description-Content-Type: {content_type}".encode())
    return make_wheel(tmp_path, name, "1.0", metadata=meta)


def npm_publish(server, token: str, folder: Path, readme: str, description: str) -> None:
    home = folder / "home"
    nd.write_npmrc(home, server.url + "/npm/", token, audit=False)
    src = folder / "src"
    src.mkdir(parents=True)
    pj = nd.package_json(NPM_PACKAGE, "1.0.0", extra={"description": description})
    (src / "package.json").write_text(json.dumps(pj, indent=2) + "\n")
    (src / "index.js").write_text("module.exports = () => 'widget';\n")
    (src / "README.md").write_text(readme)
    nd.run_client("npm", ["publish"], home, cwd=src, check=True)


class _HtmlAudit(html.parser.HTMLParser):
    """Collects what in served HTML could run script."""

    URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "background",
                 "poster", "srcset", "srcdoc"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            src = dict(attrs).get("src") or ""
            if not re.fullmatch(r"/static/filter-[0-9a-f]+\.js", src) or len(attrs) != 1:
                self.problems.append(f"<script {attrs}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name in self.URL_ATTRS and value is not None:
                # What a browser's URL parser would see: C0 controls and spaces trimmed,
                # tabs and newlines removed.
                v = re.sub(r"[\t\n\r]", "", value).strip("".join(map(chr, range(0x21))))
                if name == "srcdoc" or re.match(r"(?i)(javascript|vbscript|data|file):", v) and \
                        not (tag == "img" and re.match(r"(?i)data:image/(png|gif|jpeg|webp);", v)):
                    self.problems.append(f"<{tag} {name}={value[:60]!r}>")

    handle_startendtag = handle_starttag


def audit_html(body: str) -> list[str]:
    audit = _HtmlAudit()
    audit.feed(body)
    audit.close()
    return audit.problems


def test_xss_vectors_do_not_run(server, upload_token, tmp_path):
    node = shutil.which("node")
    assert node, "node is required for the browser test (Debian's nodejs)"
    assert Path("/usr/bin/chromium").exists(), "chromium is required (scripts/install-deps.sh)"
    assert (BROWSER_DIR / "node_modules" / "playwright-core").exists(), \
        "run `npm ci` in tests/browser (make test does)"
    assert len(VECTORS) >= 100, len(VECTORS)
    assert len({v for v, _, _ in VECTORS}) == len(VECTORS), "duplicate vector ids"
    for vid, _, text in VECTORS:
        assert vid in text, f"vector {vid} does not name its id"

    chunks = groups()
    sums = summaries(len(chunks) + 3)
    pages = []   # (path, expected visible text, markdown group or None)
    for i, chunk in enumerate(chunks):
        name = f"xss-md-{i:02d}"
        w = make_wheel(tmp_path, name, "1.0", summary=sums[i],
                       readme=markdown_readme(f"XSS group {i}", chunk))
        r = upload(server, w, upload_token)
        assert r.status == 200, (name, r.status, r.text[:300])
        pages.append((f"/project/{name}/", [f"XSS group {i}", sums[i]], chunk))

    # Not Markdown: shown as text, so every vector must be visible verbatim.
    everything = "\n\n".join(t for _, _, t in VECTORS) + "\n"
    visible = one_line_vectors()
    for k, ctype in enumerate(("text/x-rst", "text/plain", "text/html")):
        name = f"xss-{ctype.split('/')[1]}"
        w = wheel_with_type(tmp_path, name, sums[len(chunks) + k], everything, ctype)
        r = upload(server, w, upload_token)
        assert r.status == 200, (name, r.status, r.text[:300])
        pages.append((f"/project/{name}/", visible + [sums[len(chunks) + k]], None))
    # Summaries left over: projects of their own.
    for k, summary in enumerate(sums[len(chunks) + 3:]):
        name = f"xss-summary-{k:02d}"
        r = upload(server, make_wheel(tmp_path, name, "1.0", summary=summary), upload_token)
        assert r.status == 200, (name, r.status, r.text[:300])
        pages.append((f"/project/{name}/", [summary], None))

    # An npm package: every vector in its README (the one "alone" vector last), vectors in
    # its description.
    normal = [v for v in VECTORS if not v[1]]
    npm_readme_vectors = normal + [v for v in VECTORS if v[1]][:1]
    npm_description = sums[0]
    npm_publish(server, upload_token, tmp_path / "npm",
                markdown_readme("XSS npm", npm_readme_vectors), npm_description)
    pages.append((f"/npm-package/{NPM_PACKAGE}", ["XSS npm", npm_description],
                  npm_readme_vectors))

    # The project list (and its reflected query) and an error page naming a hostile project.
    pages.append(("/", ["xss-md-00"], None))
    for q in ("\"><script>window.__pwned='q01'</script>",
              "\" autofocus onfocus=\"window.__pwned='q02'",
              "</title><img src=x onerror=window.__pwned=/q03/.source>"):
        pages.append(("/?q=" + urllib.parse.quote(q, safe=""), [], None))
    pages.append(("/project/" + urllib.parse.quote(
        "<img src=x onerror=window.__pwned=/q04/.source>", safe="") + "/", [], None))

    # Server side: the served HTML itself, before any browser parses it.
    for path, _, chunk in pages:
        r = server.get(path)
        assert r.status in (200, 400, 404), (path, r.status)
        problems = audit_html(r.text)
        assert not problems, (path, problems)
        if chunk is not None:
            for vid, alone, _ in chunk:
                if not alone:
                    assert f"<p>{end_marker(vid)}</p>" in r.text, \
                        f"{path}: vector {vid} swallowed what follows it"

    spec = {"pages": [{"path": p, "expectText": t} for p, t, _ in pages],
            "ids": [v for v, _, _ in VECTORS] + ["q01", "q02", "q03", "q04"]}
    spec_path = tmp_path / "xss_spec.json"
    spec_path.write_text(json.dumps(spec))
    run = subprocess.run([node, str(BROWSER_DIR / "xss_check.mjs"), server.url.rstrip("/"),
                          str(spec_path)],
                         capture_output=True, text=True, timeout=300, cwd=BROWSER_DIR)
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    summary = run.stdout.strip().splitlines()[-1]
    assert summary.startswith(f"xss_check: {len(pages)} pages x 2 modes, 0 failed"), summary
