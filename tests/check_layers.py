#!/usr/bin/python3
"""Checks DESIGN.md's layering ("Shape of the code") instead of hoping for it.

Every .h/.cc under src/ belongs to one unit (its folder, or a named part of a folder, see
SUB_UNITS). A file may include headers of its own unit and of the units its row in ALLOWED
lists; a test file (TEST_FILE_PATTERNS) may also include TEST_EXTRA. Every library target
declared in src/*/CMakeLists.txt may link only the targets of allowed units, so the build
says the same as the includes. Anything else is a violation, reported as
"file:line: unit -> unit (header)", and the check fails.

    check_layers.py [SRC_DIR]      check the tree (default: the src/ next to tests/)
    check_layers.py --self-test    check the checker on fixture trees with planted violations

Run with Debian's /usr/bin/python3; standard library only.
"""

import fnmatch
import os
import re
import sys
import tempfile

# ---------------------------------------------------------------------------------------
# The one table of allowed dependencies. DESIGN.md lists the layers top-down; each row names
# what a unit may use, always further down. Two layers the list does not show: `http` is the
# transport under every protocol layer (python, npm, web, builder, upstream use its Request
# and Response; http itself uses nothing but core), and `app` is the glue those protocol
# layers share (access control, request bodies, blob responses, the HTML page layout).
# ---------------------------------------------------------------------------------------
ALLOWED = {
    # The composition root: wires everything together.
    "cli": {"*"},
    # Protocol layers. python/ and npm/ never include each other; none of them reaches into
    # another protocol layer's internals.
    "python": {"python.publish", "python.format", "app", "http", "index", "auth", "catalog",
               "storage", "core"},
    "npm": {"npm.publish", "npm.format", "app", "http", "index", "auth", "catalog", "storage",
            "core"},
    # The web UI shows Python projects and npm packages: it reads the formats' attributes.
    "web": {"python.format", "npm.format", "app", "http", "index", "auth", "catalog",
            "storage", "core"},
    # The builder publishes the Python distributions and the npm tarballs it builds through
    # the formats' publish rules.
    "builder": {"python.publish", "python.format", "npm.publish", "npm.format", "app", "http",
                "index", "auth", "catalog", "storage", "config", "core"},
    # The proxy serves Python pages, so it uses the pure Python format (rendering,
    # negotiation, the UnknownProjects interface it implements), never python/'s handlers.
    "upstream": {"python.format", "npm.format", "app", "http", "index", "auth", "catalog",
                 "storage", "config", "core"},
    # The pure Python format: no I/O, no HTTP; it renders the index's views.
    "python.format": {"index", "catalog", "core"},
    # Publishing Python distributions: the wheel and sdist rules on the neutral
    # Index::Publish (twine's upload, `pipy import` and the builder all call it).
    "python.publish": {"python.format", "index", "auth", "catalog", "core"},
    # The pure npm format: no I/O, no HTTP; names, versions, paths, rendering, body parsing,
    # and the UnknownPackages interface the npm proxy implements.
    "npm.format": {"index", "catalog", "core"},
    # Publishing npm tarballs: npm publish's body and the builder's `npm pack` output, on the
    # neutral Index::Publish, through one tarball reader.
    "npm.publish": {"npm.format", "index", "auth", "catalog", "core"},
    # Shared by the protocol layers.
    "app": {"http", "index", "auth", "catalog", "storage", "core"},
    "http": {"core"},
    "index": {"auth", "catalog", "storage", "core"},
    "auth": {"catalog", "core"},
    # storage/ and catalog/ never mention HTTP.
    "catalog": {"core"},
    "storage": {"core"},
    "config": {"core"},
    "core": set(),
    # Test helpers (linked by test binaries only) and fuzz targets (which exercise parsers
    # of any layer).
    "testing": {"core"},
    "fuzz": {"*"},
}

# Parts of a folder that are units of their own: unit -> (file patterns relative to src/,
# the CMake library that compiles exactly those sources).
SUB_UNITS = {
    "python.format": (["python/accept.*", "python/accept_test.cc",
                       "python/multipart.*", "python/multipart_test.cc",
                       "python/simple_pages.*", "python/simple_pages_test.cc",
                       "python/python_format.*", "python/attributes.h",
                       "python/unknown_projects.h"],
                      "python_formats"),
    "npm.format": (["npm/negotiate.*", "npm/npm_format.*", "npm/packument.*", "npm/paths.*",
                    "npm/publish_body.*", "npm/json_numbers.h", "npm/unknown_packages.h",
                    "npm/upstream_packument.*",
                    "npm/upstream_packument_test.cc", "npm/*_format_test.cc",
                    "npm/negotiate_test.cc",
                    "npm/packument_test.cc", "npm/paths_test.cc", "npm/publish_body_test.cc"],
                   "npm_formats"),
    "python.publish": (["python/distribution.*", "python/distribution_test.cc",
                        "python/publish.*", "python/publish_test.cc",
                        "python/zip_directory_test.cc"],
                       "python_publish"),
    "npm.publish": (["npm/publish.*", "npm/publish_packed.*", "npm/publish_test.cc",
                     "npm/tarball.*", "npm/tarball_test.cc"],
                    "npm_publish"),
}

# Tests need real backends and fixtures from the layers below: they may use these as well.
TEST_FILE_PATTERNS = ["*_test.cc", "*_test_util.h", "*_test_util.cc", "test_util.h",
                      "*_conformance.h", "*_conformance.cc", "test_main.cc", "test_repo.h",
                      "test_repo.cc"]
TEST_EXTRA = {"testing", "storage", "catalog", "auth"}

# Deliberate exceptions: (file relative to src/, unit it may include, why). An exception that
# no longer matches anything fails the check, so this list cannot go stale.
EXCEPTIONS = [
    ("web/routes_test.cc", "python.publish",
     "publishes, through the Python rules, the projects whose pages it checks"),
    ("catalog/postgres_index_test.cc", "index",
     "checks the index's use of Catalog::WatchChanges against the real PostgreSQL; it lives "
     "with the catalog's PostgreSQL tests because only they get the ctest fixture"),
]

# ---------------------------------------------------------------------------------------

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"]([A-Za-z0-9_]+)/([^>"]+)[>"]')
# A relative path would name a header without naming its layer.
RELATIVE_INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]*\.\./[^"]*)"')
ADD_LIBRARY_RE = re.compile(r"add_library\(\s*([A-Za-z0-9_]+)([^)]*)\)", re.S)
LINK_RE = re.compile(r"target_link_libraries\(\s*([A-Za-z0-9_]+)([^)]*)\)", re.S)


def unit_of(rel, sub_units):
    """The unit of `rel`, a path relative to src/ ("python/accept.h")."""
    for unit, (patterns, _) in sub_units.items():
        if any(fnmatch.fnmatchcase(rel, p) for p in patterns):
            return unit
    return rel.split("/", 1)[0]


def is_test_file(rel):
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(name, p) for p in TEST_FILE_PATTERNS)


def may_use(allowed, unit, target):
    row = allowed.get(unit, set())
    return target == unit or "*" in row or target in row


def source_files(src):
    for folder, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            if name.endswith((".h", ".cc")):
                path = os.path.join(folder, name)
                yield os.path.relpath(path, src).replace(os.sep, "/"), path


def check_includes(src, allowed, sub_units, exceptions, used):
    problems = []
    folders = {d for d in os.listdir(src) if os.path.isdir(os.path.join(src, d))}
    layers = folders | set(allowed)
    for rel, path in source_files(src):
        unit = unit_of(rel, sub_units)
        if unit not in allowed:
            problems.append(f"src/{rel}: unit '{unit}' has no row in the table of allowed "
                            "dependencies (tests/check_layers.py)")
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                relative = RELATIVE_INCLUDE_RE.match(line)
                if relative:
                    problems.append(f"src/{rel}:{number}: a relative include "
                                    f"({relative.group(1)}); name the header as \"layer/...\"")
                    continue
                match = INCLUDE_RE.match(line)
                if not match or match.group(1) not in layers:
                    continue
                header = f"{match.group(1)}/{match.group(2)}"
                target = unit_of(header, sub_units)
                if may_use(allowed, unit, target):
                    continue
                if is_test_file(rel) and target in TEST_EXTRA:
                    continue
                key = next((i for i, e in enumerate(exceptions)
                            if e[0] == rel and e[1] == target), None)
                if key is not None:
                    used.add(key)
                    continue
                problems.append(f"src/{rel}:{number}: {unit} -> {target} ({header})")
    return problems


def cmake_libraries(src):
    """{target: (unit, sources, linked names, CMakeLists path)} of every add_library."""
    libraries = {}
    links = {}
    for folder in sorted(os.listdir(src)):
        path = os.path.join(src, folder, "CMakeLists.txt")
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            text = re.sub(r"#[^\n]*", "", f.read())
        for name, args in ADD_LIBRARY_RE.findall(text):
            sources = [a for a in args.split() if a.endswith(".cc")]
            libraries[name] = (folder, sources, path)
        for name, args in LINK_RE.findall(text):
            links.setdefault(name, []).extend(args.split())
    return libraries, links


def check_cmake(src, allowed, sub_units):
    problems = []
    libraries, links = cmake_libraries(src)
    target_unit = {name: folder for name, (folder, _, _) in libraries.items()}
    for unit, (patterns, target) in sub_units.items():
        if target not in libraries:
            problems.append(f"{unit}: no CMake library '{target}' under src/")
            continue
        folder, sources, path = libraries[target]
        target_unit[target] = unit
        for source in sources:
            if unit_of(f"{folder}/{source}", sub_units) != unit:
                problems.append(f"{os.path.relpath(path, os.path.dirname(src))}: {target} "
                                f"compiles {source}, which is not part of unit {unit}")
    for name, (folder, _, path) in libraries.items():
        unit = target_unit[name]
        for linked in links.get(name, []):
            if linked not in target_unit:
                continue  # PUBLIC/PRIVATE, or a library that is not ours
            other = target_unit[linked]
            if not may_use(allowed, unit, other):
                where = os.path.relpath(path, os.path.dirname(src))
                problems.append(f"{where}: {name} ({unit}) links {linked} ({other})")
    return problems


def check(src, allowed=None, sub_units=None, exceptions=None):
    """Every problem in the tree at `src`, as printable lines; [] when it is layered."""
    allowed = ALLOWED if allowed is None else allowed
    sub_units = SUB_UNITS if sub_units is None else sub_units
    exceptions = EXCEPTIONS if exceptions is None else exceptions
    used = set()
    problems = check_includes(src, allowed, sub_units, exceptions, used)
    problems += check_cmake(src, allowed, sub_units)
    for i, (rel, target, _) in enumerate(exceptions):
        if i not in used:
            problems.append(f"src/{rel}: the exception for '{target}' matches no include; "
                            "remove it from tests/check_layers.py")
    return problems


# ---------------------------------------------------------------------------------------
# Self-test: the checker must fail on planted violations, or a broken checker would pass.

FIXTURE_CLEAN = {
    "core/status.h": "#pragma once\n",
    "http/message.h": '#include "core/status.h"\n',
    "storage/blob_store.cc": '#include <vector>\n#include "core/status.h"\n',
    "storage/blob_store_test.cc": '#include "testing/dist_builder.h"\n',
    "testing/dist_builder.h": "#pragma once\n",
    "python/accept.h": '#include "core/status.h"\n',
    "python/routes.h": '#include "python/accept.h"\n#include "http/message.h"\n',
    "upstream/proxy.h": '#include "python/accept.h"\n#include "http/message.h"\n',
    "upstream/hijack.cc": '// #include "python/routes.h" (a comment, not an include)\n',
    "python/CMakeLists.txt": "add_library(python_formats accept.cc)\n"
                             "target_link_libraries(python_formats PUBLIC core)\n"
                             "add_library(python_publish publish.cc)\n"
                             "add_library(python routes.cc)\n"
                             "target_link_libraries(python PUBLIC python_formats http)\n",
    "upstream/CMakeLists.txt": "add_library(upstream proxy.cc)\n"
                               "target_link_libraries(upstream PUBLIC python_formats "
                               "CURL::libcurl)\n",
    "core/CMakeLists.txt": "add_library(core status.cc)\n",
    "http/CMakeLists.txt": "add_library(http message.cc)\n",
    "npm/CMakeLists.txt": "add_library(npm_formats paths.cc)\n"
                          "add_library(npm_publish publish.cc)\n"
                          "target_link_libraries(npm_publish PUBLIC npm_formats core)\n",
}

FIXTURE_PLANTED = {
    "storage/blob_store.cc": '#include "core/status.h"\n  #  include "http/message.h"\n',
    "storage/layout.cc": '#include "testing/dist_builder.h"\n',
    "upstream/hijack.cc": '#include "python/routes.h"\n',
    "upstream/CMakeLists.txt": "add_library(upstream proxy.cc)\n"
                               "target_link_libraries(upstream PUBLIC python python_formats)\n",
    "http/server.cc": '#include <python/accept.h>\n',
    "web/pages.cc": '#include "../builder/pages.h"\n',
    "newlayer/thing.cc": '#include "core/status.h"\n',
    "npm/publish.cc": '#include "http/message.h"\n',
    "npm/CMakeLists.txt": "add_library(npm_formats paths.cc)\n"
                          "add_library(npm_publish publish.cc)\n"
                          "target_link_libraries(npm_publish PUBLIC npm_formats http)\n",
    "python/CMakeLists.txt": "add_library(python_formats accept.cc routes.cc)\n"
                             "add_library(python_publish publish.cc)\n"
                             "add_library(python routes.cc)\n"
                             "target_link_libraries(python PUBLIC python_formats http)\n",
}

EXPECTED_PLANTED = {
    "src/http/server.cc:1: http -> python.format (python/accept.h)",
    "src/web/pages.cc:1: a relative include (../builder/pages.h); name the header as "
    "\"layer/...\"",
    "src/newlayer/thing.cc: unit 'newlayer' has no row in the table of allowed dependencies "
    "(tests/check_layers.py)",
    "src/storage/blob_store.cc:2: storage -> http (http/message.h)",
    "src/storage/layout.cc:1: storage -> testing (testing/dist_builder.h)",
    "src/upstream/hijack.cc:1: upstream -> python (python/routes.h)",
    "src/python/CMakeLists.txt: python_formats compiles routes.cc, which is not part of unit "
    "python.format",
    "src/upstream/CMakeLists.txt: upstream (upstream) links python (python)",
    "src/npm/publish.cc:1: npm.publish -> http (http/message.h)",
    "src/npm/CMakeLists.txt: npm_publish (npm.publish) links http (http)",
    "src/core/x.cc: the exception for 'web' matches no include; remove it from "
    "tests/check_layers.py",
}


def write_tree(root, files):
    for rel, text in files.items():
        path = os.path.join(root, "src", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return os.path.join(root, "src")


def self_test():
    failures = []
    with tempfile.TemporaryDirectory() as root:
        problems = check(write_tree(root, FIXTURE_CLEAN), exceptions=[])
        if problems:
            failures.append("the clean fixture was flagged:\n  " + "\n  ".join(problems))
    with tempfile.TemporaryDirectory() as root:
        src = write_tree(root, {**FIXTURE_CLEAN, **FIXTURE_PLANTED})
        problems = set(check(src, exceptions=[("core/x.cc", "web", "planted")]))
        for missed in sorted(EXPECTED_PLANTED - problems):
            failures.append("a planted violation was not reported: " + missed)
        for extra in sorted(problems - EXPECTED_PLANTED):
            failures.append("reported, but not planted: " + extra)
    for line in failures:
        print(line)
    print("self-test: " + ("FAILED" if failures else "ok"))
    return 1 if failures else 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    src = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src")
    problems = check(os.path.abspath(src))
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} layering violation(s); the table is in tests/check_layers.py "
              "(DESIGN.md, \"Shape of the code\")")
        return 1
    print("layers: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
