"""The audit log (issue 13, item 3), end to end: twine uploads, npm publish, yank and
un-yank, dist-tags, deprecate, npm unpublish, token create and revoke through the API and
the CLI, and refusals for permission reasons are each recorded with the right action,
token, address and outcome; GET /api/audit is admin only, filters and pages; `pipy audit`
prints the same records; no token secret is ever in a record; `pipy migrate` and
`pipy backup` keep the log.

One server per module; every test uses names of its own.
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

import npmdists as nd
from pipyharness import bearer_auth, run_cli
from pydists import make_wheel, twine, upload

SECRETS: list[str] = []  # every token secret this module saw, checked against the log


def uniq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def token(server, *scopes: str, name: str | None = None) -> tuple[str, str]:
    name = name or uniq("aud")
    secret = server.token(*scopes, name=name)
    SECRETS.append(secret)
    return secret, name


@pytest.fixture(scope="module")
def admin(server):
    return token(server, "admin", name=uniq("aud-admin"))


def api(server, method: str, path: str, secret: str | None, body=None):
    headers = bearer_auth(secret) if secret else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    return server.request(method, path, body=data, headers=headers)


def audit_page(server, admin_secret: str, query: str = ""):
    r = api(server, "GET", "/api/audit" + ("?" + query if query else ""), admin_secret)
    assert r.status == 200, (r.status, r.reason, r.text[:300])
    assert r.header("Content-Type", "").startswith("application/json")
    return r.json()


def audit_all(server, admin_secret: str, query: str = "") -> list[dict]:
    """Every matching record, newest first, walking the pages."""
    out, cursor = [], None
    while True:
        q = "&".join(p for p in (query, "limit=1000", f"cursor={cursor}" if cursor else "") if p)
        page = audit_page(server, admin_secret, q)
        out += page["records"]
        cursor = page["next_cursor"]
        if cursor is None:
            return out


def summary(records: list[dict]) -> list[tuple]:
    """(action, token, address, target, outcome word) oldest first."""
    return [(r["action"], r["token"], r["address"], r["target"], r["outcome"].split(":")[0])
            for r in reversed(records)]


def npm_home(tmp_path: Path, server, secret: str, sub: str) -> Path:
    home = tmp_path / sub
    nd.write_npmrc(home, server.url + "/npm/", secret, audit=False)
    return home


def npm(args, home: Path, *, cwd=None, check=True):
    return nd.run_client("npm", args, home, cwd=cwd, check=check, timeout=180)


def npm_source(folder: Path, name: str, version: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "package.json").write_text(json.dumps(nd.package_json(name, version)))
    (folder / "index.js").write_text("module.exports = 1;\n")
    return folder


def test_python_publish_yank_and_refusals_are_recorded(server, admin, tmp_path):
    project = uniq("pipyt-aud")
    up_secret, up_name = token(server, f"upload:{project}")
    other_secret, other_name = token(server, "upload:someone-else-*")
    wheel = make_wheel(tmp_path, project, "1.0")
    refused = make_wheel(tmp_path / "b", project, "1.1")

    res = twine(server, up_secret, wheel)
    assert res.returncode == 0, res.stdout + res.stderr
    res = twine(server, up_secret, wheel)  # a retry: a no-op that succeeds
    assert res.returncode == 0, res.stdout + res.stderr
    # A token of the wrong scope: refused by the index, recorded as denied.
    r = upload(server, refused, other_secret)
    assert r.status == 403, (r.status, r.reason)
    yank = f"/api/python/{project}/1.0/yank"
    assert api(server, "POST", yank, up_secret, {"reason": "broken"}).status == 200
    assert api(server, "DELETE", yank, up_secret).status == 200
    # Refused by the route's guard, before any body is read: recorded too.
    assert api(server, "POST", yank, other_secret, {"reason": "x"}).status == 403

    records = audit_all(server, admin[0], f"project={project}")
    target = f"1.0 {wheel.filename}"
    assert summary(records) == [
        ("publish", up_name, "127.0.0.1", target, "ok"),
        ("publish", up_name, "127.0.0.1", target, "ok"),
        ("publish", other_name, "127.0.0.1", f"1.1 {refused.filename}", "denied"),
        ("yank", up_name, "127.0.0.1", "1.0", "ok"),
        ("unyank", up_name, "127.0.0.1", "1.0", "ok"),
        ("yank", other_name, "127.0.0.1", "1.0", "denied"),
    ], records
    assert records[4]["outcome"] == "ok: unchanged (the identical file exists)"
    assert "may not upload" in records[3]["outcome"]
    for r in records:
        assert r["format"] == "python" and r["project"] == project
        assert r["time"].endswith("Z") and r["time"][:2] == "20"


def test_npm_publish_tag_deprecate_unpublish_are_recorded(server, admin, tmp_path):
    name = f"@acme/{uniq('aud')}"
    pub_secret, pub_name = token(server, "upload:@acme/*")
    wrong_secret, wrong_name = token(server, "upload:@other/*")
    home = npm_home(tmp_path, server, pub_secret, "publisher")
    for version in ("1.0.0", "1.1.0"):
        npm(["publish"], home, cwd=npm_source(tmp_path / version, name, version))
    npm(["dist-tag", "add", f"{name}@1.0.0", "stable"], home)
    npm(["dist-tag", "rm", name, "stable"], home)
    npm(["deprecate", f"{name}@1.0.0", "use 1.1"], home)
    # upload scope may not unpublish: the handler refuses, the log says so.
    proc = npm(["unpublish", f"{name}@1.0.0"], home, check=False)
    assert proc.returncode != 0
    npm(["unpublish", f"{name}@1.0.0"], npm_home(tmp_path, server, admin[0], "admin"))
    # A token of another scope: refused before the body is read.
    tgz = nd.make_npm_tarball(tmp_path / "w", name, "2.0.0")
    body = nd.publish_body(name, "2.0.0", tgz, registry_url=server.url + "/npm/")
    r = server.request("PUT", "/npm/" + nd.escaped_name(name), body=json.dumps(body).encode(),
                       headers={"Content-Type": "application/json", **bearer_auth(wrong_secret)})
    assert r.status == 403, (r.status, r.reason)

    records = audit_all(server, admin[0], f"project={name}")
    # A publish's target is "<version> <tarball filename>": compared by its version here.
    got = [(a, t, addr, tg.split(" ")[0] if a == "publish" else tg, o)
           for a, t, addr, tg, o in summary(records)]
    expected_in_order = [
        ("publish", pub_name, "127.0.0.1", "1.0.0", "ok"),
        ("publish", pub_name, "127.0.0.1", "1.1.0", "ok"),
        ("tag.set", pub_name, "127.0.0.1", "stable 1.0.0", "ok"),
        ("tag.remove", pub_name, "127.0.0.1", "stable", "ok"),
        ("deprecate", pub_name, "127.0.0.1", "1.0.0", "ok"),
        ("takedown.release", pub_name, "127.0.0.1", "1.0.0", "denied"),
        ("takedown.release", admin[1], "127.0.0.1", "1.0.0", "ok"),
        ("publish", wrong_name, "127.0.0.1", "", "denied"),
    ]
    it = iter(got)
    for want in expected_in_order:  # in this order, with only other records between
        assert any(g == want for g in it), (want, got)
    assert all(r["format"] == "npm" for r in records), records
    # The publish's own dist-tag ("latest") is a tag change too.
    assert ("tag.set", pub_name, "127.0.0.1", "latest 1.0.0", "ok") in got


def test_token_changes_from_api_and_cli_are_recorded_without_secrets(server, admin):
    api_name, cli_name = uniq("aud-api-tok"), uniq("aud-cli-tok")
    r = api(server, "POST", "/api/tokens", admin[0], {"name": api_name, "scopes": ["read"]})
    assert r.status == 201, (r.status, r.text)
    SECRETS.append(r.json()["secret"])
    assert api(server, "DELETE", f"/api/tokens/{api_name}", admin[0]).status == 200
    reader, reader_name = token(server, "read")
    r = api(server, "POST", "/api/tokens", reader, {"name": uniq("nope"), "scopes": ["admin"]})
    assert r.status == 403
    token(server, "read", name=cli_name)
    res = server.cli("token revoke", "--name", cli_name)
    assert res.returncode == 0, res.stderr

    records = audit_all(server, admin[0], "action=token.create") + \
        audit_all(server, admin[0], "action=token.revoke")
    mine = {(r["action"], r["token"], r["address"], r["target"], r["outcome"].split(":")[0])
            for r in records}
    assert ("token.create", admin[1], "127.0.0.1", f"{api_name} (read)", "ok") in mine
    assert ("token.revoke", admin[1], "127.0.0.1", api_name, "ok") in mine
    assert ("token.create", reader_name, "127.0.0.1", "", "denied") in mine
    assert ("token.create", "", "cli", f"{cli_name} (read)", "ok") in mine
    assert ("token.revoke", "", "cli", cli_name, "ok") in mine

    # No secret anywhere: not over the API, not from the CLI, not in any field.
    everything = json.dumps(audit_all(server, admin[0]))
    cli_out = server.cli("audit").stdout
    assert len(SECRETS) >= 5
    for secret in SECRETS:
        assert secret not in everything and secret not in cli_out
    assert "pipy_" not in everything  # the secrets' prefix


def test_audit_api_is_admin_only_and_checks_its_parameters(server, admin):
    assert api(server, "GET", "/api/audit", None).status == 401
    uploader, _ = token(server, "upload:*")
    assert api(server, "GET", "/api/audit", uploader).status == 403
    for bad in ("limit=0", "limit=1001", "limit=x", "since=yesterday", "cursor=abc", "proj=x"):
        r = api(server, "GET", f"/api/audit?{bad}", admin[0])
        assert r.status == 400, (bad, r.status)
        assert bad.split("=")[0] in r.text, (bad, r.text)


def test_filters_and_paging(server, admin, tmp_path):
    project = uniq("pipyt-aud-page")
    up_secret, up_name = token(server, f"upload:{project}")
    for i in range(5):
        wheel = make_wheel(tmp_path / str(i), project, f"1.{i}")
        assert upload(server, wheel, up_secret).status == 200

    full = audit_all(server, admin[0])
    # Pages of 2 walk the same records, newest first, no repeats, no gaps.
    walked, cursor, pages = [], None, 0
    while True:
        page = audit_page(server, admin[0], "limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert len(page["records"]) <= 2
        walked += page["records"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == full and pages == (len(full) + 1) // 2
    assert [r["time"] for r in full] == sorted((r["time"] for r in full), reverse=True)

    by_token = audit_all(server, admin[0], f"token={up_name}")
    assert [r["target"].split()[0] for r in by_token] == ["1.4", "1.3", "1.2", "1.1", "1.0"]
    assert audit_all(server, admin[0], f"project={project}&action=yank") == []
    assert len(audit_all(server, admin[0], f"project={project}&action=publish")) == 5
    first = by_token[-1]["time"]  # RFC 3339, ms
    assert audit_all(server, admin[0], f"token={up_name}&since={first}")[-1] == by_token[-1]
    assert audit_all(server, admin[0], "since=4102444800") == []  # 2100-01-01, Unix seconds
    page = audit_page(server, admin[0], f"token={up_name}&limit=5")
    assert len(page["records"]) == 5 and page["next_cursor"] is None


def test_cli_prints_the_same_records(server, admin):
    api_records = audit_all(server, admin[0])
    res = server.cli("audit")
    assert res.returncode == 0, res.stderr
    cli_records = [json.loads(line) for line in res.stdout.splitlines()]
    # The CLI reads the catalog straight; nothing was appended in between.
    assert cli_records == api_records
    res = server.cli("audit", "--action", "token.create", "--limit", "2")
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert lines == audit_all(server, admin[0], "action=token.create")[:2]
    assert server.cli("audit", "--since", "soon").returncode == 2


def test_migrate_and_backup_keep_the_audit_log(server, admin, tmp_path):
    records = audit_all(server, admin[0])
    assert len(records) > 10
    target = tmp_path / "migrated"
    for _ in range(2):  # a re-run copies nothing twice
        res = run_cli("migrate", "--from-data", str(server.data), "--to-data", str(target),
                      timeout=300)
        assert res.returncode == 0, res.stdout + res.stderr
        copied = [json.loads(line) for line in
                  run_cli("audit", "--data", str(target)).stdout.splitlines()]
        assert copied == records

    dest = tmp_path / "backup"
    res = run_cli("backup", "--data", str(server.data), "--to", str(dest), timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    restored = tmp_path / "restored"
    res = run_cli("restore", "--from", str(dest), "--data", str(restored), timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    kept = [json.loads(line) for line in
            run_cli("audit", "--data", str(restored)).stdout.splitlines()]
    assert kept == records


def test_admin_publish_overriding_the_hijack_refusal_has_its_own_action(server_factory,
                                                                       tmp_path):
    from stub_upstream import StubUpstream
    stub = StubUpstream().start()
    try:
        stub.add(make_wheel(tmp_path / "up", "public-thing", "5.0"))
        up = server_factory(f'[upstream]\nurl = "{stub.simple_url}"\nttl = "1h"\n'
                            'timeout = "2s"\n')
        admin_secret, admin_name = up.token("admin", name="root-aud"), "root-aud"
        uploader = up.token("upload:*", name="ci-aud")
        assert upload(up, make_wheel(tmp_path, "public-thing", "1.0"), uploader).status == 409
        assert upload(up, make_wheel(tmp_path, "public-thing", "1.0"), admin_secret).status == 200
        assert upload(up, make_wheel(tmp_path, "brand-new-thing", "1.0"),
                      admin_secret).status == 200
        records = audit_all(up, admin_secret, "action=publish.shadow_override")
        assert [(r["project"], r["token"], r["outcome"]) for r in records] == \
            [("public-thing", admin_name, "ok")]
        refused = audit_all(up, admin_secret, "project=public-thing&action=publish")
        assert [(r["token"], r["outcome"].split(":")[0]) for r in refused] == \
            [("ci-aud", "refused")]
        assert "dependency confusion" in refused[0]["outcome"]
        assert audit_all(up, admin_secret, "project=brand-new-thing")[0]["action"] == "publish"
    finally:
        stub.stop()


def test_python_takedowns_and_their_refusals_are_recorded(server, admin, tmp_path):
    project = uniq("pipyt-aud-down")
    up_secret, up_name = token(server, f"upload:{project}")
    wheel = make_wheel(tmp_path, project, "1.0")
    assert upload(server, wheel, up_secret).status == 200
    assert upload(server, make_wheel(tmp_path / "2", project, "2.0"), up_secret).status == 200
    assert api(server, "DELETE", f"/api/python/{project}/2.0", up_secret).status == 403
    r = api(server, "DELETE", f"/api/python/{project}/1.0/{wheel.filename}", admin[0])
    assert r.status == 200, (r.status, r.text)
    r = api(server, "DELETE", f"/api/python/{project}/2.0", admin[0])
    assert r.status == 200, (r.status, r.text)

    got = summary(audit_all(server, admin[0], f"project={project}"))[2:]
    assert got == [
        ("takedown.release", up_name, "127.0.0.1", "2.0", "denied"),
        ("takedown.file", admin[1], "127.0.0.1", wheel.filename, "ok"),
        ("takedown.release", admin[1], "127.0.0.1", "2.0", "ok"),
    ], got
