"""Regression tests for the HTTP holes a black-box probe found: request smuggling, bodies
read before access checks, a 500 on 'Basic ====', unescaped access-log lines, and error
answers that named server paths (a full disk). Each test replays the attack."""
from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

from pipyharness import PipyServer, basic_auth, raw_exchange
from pydists import make_wheel, upload


def read_all(sock: socket.socket, timeout: float = 5) -> bytes:
    sock.settimeout(timeout)
    buf = b""
    try:
        while True:
            got = sock.recv(65536)
            if not got:
                break
            buf += got
    except OSError:
        pass
    return buf


def statuses(raw: bytes) -> list[int]:
    return [int(m) for m in re.findall(rb"HTTP/1\.[01] (\d{3}) ", raw)]


@pytest.mark.parametrize("te", ["xchunked", "chunked, gzip", "chunked, chunked", "identity"])
def test_smuggled_request_behind_a_bad_transfer_encoding_is_never_served(server, te):
    smuggled = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    request = (f"POST /legacy/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: {te}\r\n\r\n"
               .encode() + b"0\r\n\r\n" + smuggled)
    with socket.create_connection(("127.0.0.1", server.port)) as s:
        s.sendall(request)
        raw = read_all(s)
    assert statuses(raw) == [400], raw[:400]  # one answer, then the connection closed


def test_bare_lf_chunk_lines_get_400_not_a_silent_close(server, admin_token):
    auth = basic_auth(admin_token)["Authorization"]
    request = (f"POST /api/python/pipys-lf/1.0/yank HTTP/1.1\r\nHost: x\r\n"
               f"Authorization: {auth}\r\nTransfer-Encoding: chunked\r\n\r\n"
               "2\n{}\n0\n\n").encode()
    start = time.monotonic()
    status, raw = raw_exchange(server.port, request, timeout=20)
    assert status == 400, raw[:300]
    assert time.monotonic() - start < 5


@pytest.mark.parametrize("host_lines", ["", "Host: a\r\nHost: b\r\n"])
def test_missing_or_doubled_host_is_400(server, host_lines):
    status, raw = raw_exchange(server.port, f"GET /simple/ HTTP/1.1\r\n{host_lines}\r\n".encode())
    assert status == 400, raw[:300]


@pytest.fixture(scope="module")
def server(server_factory_module):
    """This file sends hundreds of malformed credentials from one address: the per-address
    cut-off of failed authentications (429 past 20 a minute, test_security_headers.py) is
    lifted so that each one's own answer is seen."""
    return server_factory_module("[limits]\nmax_failed_auth_per_minute = 0\n")


@pytest.mark.parametrize("method,path", [
    ("GET", "/simple/"), ("POST", "/legacy/"), ("POST", "/api/python/pipys-x/1.0/yank"),
    ("GET", "/api/builds"), ("GET", "/metrics"), ("GET", "/")])
@pytest.mark.parametrize("credentials", ["====", "=", "A===", "X190b2tlbl9f=Og=="])
def test_malformed_basic_credentials_are_401_not_500(server, method, path, credentials):
    r = server.request(method, path, body=b"{}" if method == "POST" else None,
                       headers={"Authorization": f"Basic {credentials}"})
    assert r.status == 401, (method, path, r.status, r.reason)


@pytest.fixture(scope="module")
def fenced(server_factory_module):
    """A server whose allowlist leaves this (loopback) client outside."""
    return server_factory_module('[access]\nallow = ["10.0.0.0/8"]\n'
                                 '[[sources]]\nname = "mono"\nrepo = "/nonexistent/repo.git"\n'
                                 'webhook_secret = "s3cret"\npoll_interval = "1h"\n')


def announce_and_wait(port: int, path: str, extra: str = "", length: int = 100_000):
    """Sends only the head of a POST announcing `length` body bytes; returns the status and
    how long the answer took. The body is never sent."""
    start = time.monotonic()
    status, raw = raw_exchange(
        port, (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n{extra}"
               f"Content-Length: {length}\r\n\r\n").encode(), timeout=20)
    return status, time.monotonic() - start, raw


@pytest.mark.parametrize("path", ["/api/python/pipys-x/1.0/yank", "/api/builds",
                                  "/hooks/git/mono", "/hooks/git/no-such-source", "/legacy/"])
def test_outside_the_allowlist_every_route_answers_403_before_the_body(fenced, path):
    status, took, raw = announce_and_wait(fenced.port, path, length=1000)
    assert status == 403, raw[:300]
    assert took < 2, f"{path}: the answer waited {took:.1f} s for a body"
    assert fenced.get("/healthz").status == 200  # the one route open to every address


def test_outside_the_allowlist_even_unknown_paths_are_403(fenced):
    assert fenced.get("/no/such/page").status == 403


def test_yank_without_or_with_the_wrong_token_is_answered_from_the_headers(server):
    status, took, raw = announce_and_wait(server.port, "/api/python/pipys-y/1.0/yank")
    assert status == 401 and took < 2, (status, took, raw[:300])
    other = basic_auth(server.token("upload:other-*"))["Authorization"]
    status, took, raw = announce_and_wait(server.port, "/api/python/pipys-y/1.0/yank",
                                          extra=f"Authorization: {other}\r\n")
    assert status == 403 and took < 2, (status, took, raw[:300])


def test_rebuild_needs_admin_before_the_body(server):
    reader = basic_auth(server.token("read"))["Authorization"]
    status, took, raw = announce_and_wait(server.port, "/api/builds",
                                          extra=f"Authorization: {reader}\r\n")
    # 403 (not admin) or 404 (no builder configured): either way without reading a body.
    assert status in (403, 404) and took < 2, (status, took, raw[:300])


def test_a_dripped_small_body_is_cut_at_the_short_deadline(server_factory):
    s = server_factory('[limits]\nsmall_body_timeout = "1s"\n')
    auth = basic_auth(s.token("admin"))["Authorization"]
    with socket.create_connection(("127.0.0.1", s.port)) as sock:
        sock.sendall((f"POST /api/python/pipys-drip/1.0/yank HTTP/1.1\r\nHost: x\r\n"
                      f"Authorization: {auth}\r\nContent-Length: 50\r\n\r\n{{").encode())
        start = time.monotonic()
        sock.settimeout(10)
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass
        assert time.monotonic() - start < 5, "the dripping client held the connection"


def test_connections_per_address_are_capped(server_factory):
    s = server_factory('[limits]\nmax_connections_per_address = 20\n')
    held = [socket.create_connection(("127.0.0.1", s.port)) for _ in range(20)]
    try:
        # The server counts a connection once it has accepted it, which on a loaded machine
        # can take a moment after connect() returned: probe until all 20 are counted. Without
        # the cap every probe is a 200 and this fails at the deadline.
        deadline = time.monotonic() + 10
        while True:
            status, raw = raw_exchange(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            if status == 429 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert status == 429, raw[:300]
    finally:
        for h in held:
            h.close()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        status, _ = raw_exchange(s.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        if status == 200:
            break
        time.sleep(0.05)
    assert status == 200


def test_access_log_escapes_bytes_a_terminal_would_interpret(server):
    # Beast refuses ASCII controls and quotes in a target, but passes bytes >= 0x80 on:
    # 0x9b is the 8-bit CSI that starts a terminal escape sequence.
    raw_exchange(server.port, b"GET /simple/a\xff\x9b[31m HTTP/1.1\r\nHost: x\r\n\r\n")
    deadline = time.monotonic() + 5
    line = None
    while time.monotonic() < deadline and line is None:
        for ln in server.log_path.read_bytes().splitlines():
            if b"/simple/a" in ln:
                line = ln
        time.sleep(0.2)  # the access log is flushed every second
    assert line is not None, server.log()
    assert b"\x9b" not in line and b"\xff" not in line, line
    assert b'"GET /simple/a\\xff\\x9b[31m"' in line, line


@pytest.fixture
def small_disk(tmp_path):
    """A 24 MiB tmpfs as the data folder (needs root, as CI has)."""
    root = tmp_path / "pipy"
    data = root / "data"
    data.mkdir(parents=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(data)],
                      capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root)")
    server = PipyServer(root=root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        server.cleanup()
        subprocess.run(["umount", "-l", str(data)], check=False)


def test_a_full_disk_answers_507_without_naming_a_path(small_disk, tmp_path):
    s = small_disk
    token = s.token("upload:*")
    before = make_wheel(tmp_path, "pipys-before", "1.0")
    assert upload(s, before, token).status == 200
    filler = s.data / "filler"
    stat = os.statvfs(s.data)
    free = stat.f_bavail * stat.f_frsize
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, free - 2 * 1024 * 1024))  # leave 2 MiB
    big = make_wheel(tmp_path, "pipys-full", "1.0", payload=os.urandom(6 * 1024 * 1024))
    r = upload(s, big, token)
    assert r.status == 507, (r.status, r.reason)
    for text in (r.reason, r.text):
        assert str(s.data) not in text and "/spool" not in text and "/tmp" not in text, text
    assert s.project_json("pipys-full").status == 404  # nothing half-present
    assert s.get("/healthz").status == 200  # reads keep working
    assert s.project_json("pipys-before").status == 200
    filler.unlink()
    r = upload(s, big, token)  # space is back: no restart needed
    assert r.status == 200, (r.status, r.reason)
    assert s.fetch_file("pipys-full", big.filename).body == big.data
    assert s.cli("check").returncode == 0
