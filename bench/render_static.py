#!/usr/bin/python3
"""Renders pipy's index as static files for nginx, and checks it on the way.

Fetches /simple/ and every /simple/<name>/ from pipy as HTML (no Accept header) and as
PEP 691 JSON, writes them to DOCROOT/simple/[<name>/]index.{html,json}, and places every
file the pages link at the same URL path under DOCROOT (a hard link to the generated file,
or a copy). Checks that every uploaded file is linked exactly once with the right sha256 and
that HTML and JSON pages list the same files. Writes the URL lists wrk rotates over to
--lists DIR and prints a JSON summary; exits 1 on any inconsistency.
"""

import argparse
import json
import os
import re
import shutil
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import httpclient  # noqa: E402
from upload import read_manifest  # noqa: E402

JSON_ACCEPT = "application/vnd.pypi.simple.v1+json"
def normalize(name):
    """PEP 503 normalized name."""
    return re.sub(r"[-_.]+", "-", name).lower()


HREF = re.compile(r'<a\s[^>]*href="([^"]*)"')


def place(src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.exists(dst):
        return
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--docroot", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--lists", required=True)
    a = ap.parse_args()

    files_dir = os.path.join(os.path.dirname(os.path.abspath(a.manifest)), "files")
    rows = {r["filename"]: r for r in read_manifest(a.manifest)}
    conn = httpclient.Connection(a.port)
    problems = []

    def fetch(path, accept):
        resp = conn.get(path, {"Accept": accept} if accept else None)
        if resp.status != 200:
            raise SystemExit("render: GET %s (Accept %s) -> %d %s"
                             % (path, accept, resp.status, resp.reason))
        return resp

    def write(path, data):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    simple = os.path.join(a.docroot, "simple")
    root_html = fetch("/simple/", None)
    root_json = fetch("/simple/", JSON_ACCEPT)
    write(os.path.join(simple, "index.html"), root_html.body)
    write(os.path.join(simple, "index.json"), root_json.body)
    if not root_json.headers.get("content-type", "").startswith(JSON_ACCEPT):
        problems.append("/simple/ JSON has Content-Type %r" % root_json.headers.get("content-type"))
    names = [normalize(p["name"]) for p in json.loads(root_json.body)["projects"]]
    html_links = HREF.findall(root_html.body.decode())
    if len(html_links) != len(names):
        problems.append("/simple/: %d HTML links but %d JSON projects"
                        % (len(html_links), len(names)))
    expected_projects = {normalize(r["name"]) for r in rows.values()}
    if set(names) != expected_projects:
        problems.append("/simple/ lists %d projects, %d were uploaded (missing e.g. %s)"
                        % (len(names), len(expected_projects),
                           sorted(expected_projects - set(names))[:3]))

    seen = {}
    project_paths = []
    for name in names:
        path = "/simple/%s/" % name
        project_paths.append(path)
        html = fetch(path, None)
        js = fetch(path, JSON_ACCEPT)
        write(os.path.join(simple, name, "index.html"), html.body)
        write(os.path.join(simple, name, "index.json"), js.body)
        page = json.loads(js.body)
        hrefs = [urllib.parse.urljoin(path, h).split("#")[0]
                 for h in HREF.findall(html.body.decode())]
        urls = [urllib.parse.urljoin(path, f["url"]).split("#")[0] for f in page["files"]]
        if sorted(hrefs) != sorted(urls):
            problems.append("%s: HTML and JSON link different files" % path)
        for f in page["files"]:
            url = urllib.parse.urljoin(path, f["url"]).split("#")[0]
            row = rows.get(f["filename"])
            if row is None:
                problems.append("%s links unknown file %s" % (path, f["filename"]))
                continue
            if f.get("hashes", {}).get("sha256") != row["sha256"]:
                problems.append("%s: wrong sha256 for %s" % (path, f["filename"]))
            if f["filename"] in seen:
                problems.append("%s linked twice" % f["filename"])
            seen[f["filename"]] = url
            place(os.path.join(files_dir, f["filename"]),
                  os.path.join(a.docroot, urllib.parse.unquote(url).lstrip("/")))
    missing = sorted(set(rows) - set(seen))
    if missing:
        problems.append("%d uploaded files are not linked (e.g. %s)" % (len(missing), missing[:3]))

    os.makedirs(a.lists, exist_ok=True)
    with open(os.path.join(a.lists, "projects.txt"), "w") as f:
        f.write("".join(p + "\n" for p in project_paths))
    summary = {"projects": len(names), "files": len(seen), "problems": problems[:20]}
    for kind in ("small", "big1m", "big50m"):
        match = [fn for fn, r in rows.items() if r["kind"] == kind and fn in seen
                 and fn.endswith(".whl")]
        if match:
            summary[kind + "_url"] = seen[sorted(match)[0]]
            summary[kind + "_size"] = int(rows[sorted(match)[0]]["size"])
    print(json.dumps(summary))
    conn.close()
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
