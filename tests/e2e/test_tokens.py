"""Token lifecycle: `pipy token create --expires`, `pipy token list`'s columns, an expired
token's 401, and the admin API (GET/POST /api/tokens, DELETE /api/tokens/<name>) over real
HTTP, with a revoked token refused on the very next request."""
from __future__ import annotations

import datetime
import json
import time

from pipyharness import bearer_auth


def _rfc3339(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _listed(server) -> dict[str, list[str]]:
    res = server.cli("token list")
    assert res.returncode == 0, res.stderr
    rows = {}
    for line in res.stdout.splitlines():
        cols = line.split("\t")
        assert len(cols) == 6, line  # name, scopes, state, created, expires, last used
        rows[cols[0]] = cols
    return rows


def _json(server, method: str, path: str, token: str | None, body=None):
    headers = bearer_auth(token) if token else {}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    r = server.request(method, path, body=data, headers=headers)
    return r, (json.loads(r.body) if r.body.startswith((b"{", b"[")) else None)


def test_cli_create_with_expiry_and_list(server):
    before = datetime.datetime.now(datetime.timezone.utc)
    res = server.cli("token create", "--name", "quarterly", "--scope", "read",
                     "--scope", "upload:acme-*", "--expires", "90d")
    assert res.returncode == 0, res.stderr
    secret = res.stdout.strip().splitlines()[-1]
    assert "expiring at" in res.stderr, res.stderr

    row = _listed(server)["quarterly"]
    assert row[1] == "read,upload:acme-*"
    assert row[2] == "active"
    created, expires = _rfc3339(row[3]), _rfc3339(row[4])
    assert abs((created - before).total_seconds()) < 60, row
    assert abs((expires - created) - datetime.timedelta(days=90)) < datetime.timedelta(seconds=1)
    assert row[5] == "never"
    assert secret not in "\t".join(row)

    assert server.get("/simple/", bearer_auth(secret)).status == 200
    used = _listed(server)["quarterly"][5]
    assert used != "never" and abs((_rfc3339(used) - created).total_seconds()) < 60, used

    # A token without --expires never expires.
    forever = server.token("read", name="forever")
    assert server.get("/simple/", bearer_auth(forever)).status == 200
    assert _listed(server)["forever"][4] == "never"


def test_cli_refuses_a_bad_lifetime(server):
    for bad in ("5w", "0s", "90", "-1d"):
        res = server.cli("token create", "--name", "badlife", "--scope", "read", "--expires", bad)
        assert res.returncode == 2, (bad, res.stdout, res.stderr)
    assert "badlife" not in _listed(server)


def test_an_expired_token_gets_401_saying_so(server):
    res = server.cli("token create", "--name", "brief", "--scope", "read", "--expires", "1s")
    assert res.returncode == 0, res.stderr
    secret = res.stdout.strip().splitlines()[-1]
    expires = _listed(server)["brief"][4]
    time.sleep(1.2)
    r = server.get("/simple/", bearer_auth(secret))
    assert r.status == 401, (r.status, r.body)
    assert f"token 'brief' expired at {expires}" in r.body.decode(), r.body
    assert _listed(server)["brief"][2] == "expired"


def test_admin_api_creates_lists_and_revokes(server):
    admin = server.token("admin", name="api-admin")
    reader = server.token("read", name="api-reader")

    # Only admins: no token 401, another token 403.
    for method, path in (("GET", "/api/tokens"), ("POST", "/api/tokens"),
                         ("DELETE", "/api/tokens/api-reader")):
        r, _ = _json(server, method, path, None, {"name": "x", "scopes": ["read"]})
        assert r.status == 401, (method, path, r.status)
        r, _ = _json(server, method, path, reader, {"name": "x", "scopes": ["read"]})
        assert r.status == 403, (method, path, r.status)

    r, made = _json(server, "POST", "/api/tokens", admin,
                    {"name": "api-deploy", "scopes": ["upload:acme-*"], "expires": "30d"})
    assert r.status == 201, (r.status, r.body)
    assert made["name"] == "api-deploy" and made["scopes"] == ["upload:acme-*"]
    secret = made["secret"]
    assert secret.startswith("pipy_")
    assert _rfc3339(made["expires_at"]) - _rfc3339(made["created_at"]) == datetime.timedelta(days=30)
    assert server.get("/simple/", bearer_auth(secret)).status == 200

    r, listing = _json(server, "GET", "/api/tokens", admin)
    assert r.status == 200
    assert secret.encode() not in r.body and b"secret" not in r.body and b"hash" not in r.body
    by_name = {t["name"]: t for t in listing}
    assert by_name["api-deploy"]["expires_at"] == made["expires_at"]
    assert by_name["api-deploy"]["last_used_at"] is not None
    assert by_name["api-reader"]["expires_at"] is None
    # The CLI sees what the API made.
    assert _listed(server)["api-deploy"][1] == "upload:acme-*"

    r, _ = _json(server, "POST", "/api/tokens", admin, {"name": "api-deploy", "scopes": ["read"]})
    assert r.status == 409, r.body
    for bad in ({"name": "x2", "scopes": ["write"]}, {"name": "x2", "scopes": []},
                {"name": "x2", "scopes": ["read"], "expires": "soon"}, b"not json",
                {"name": "a/b", "scopes": ["read"]}):
        r, _ = _json(server, "POST", "/api/tokens", admin, bad)
        assert r.status == 400, (bad, r.status, r.body)

    r, _ = _json(server, "DELETE", "/api/tokens/api-deploy", admin)
    assert r.status == 200, r.body
    r = server.get("/simple/", bearer_auth(secret))
    assert r.status == 401, (r.status, r.body)
    r, _ = _json(server, "DELETE", "/api/tokens/no-such-token", admin)
    assert r.status == 404
    assert _listed(server)["api-deploy"][2] == "revoked"


def test_admin_api_token_expires(server):
    admin = server.token("admin", name="api-admin-2")
    r, made = _json(server, "POST", "/api/tokens", admin,
                    {"name": "api-brief", "scopes": ["read"], "expires": "1s"})
    assert r.status == 201, r.body
    time.sleep(1.2)
    r = server.get("/simple/", bearer_auth(made["secret"]))
    assert r.status == 401
    assert b"token 'api-brief' expired at" in r.body
