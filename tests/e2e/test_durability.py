"""Crashes, slow clients and the maintenance commands (`pipy check`, `pipy gc`)."""
from __future__ import annotations

import os
import socket
import threading
import time

from pipyharness import basic_auth
from pydists import make_wheel, sha256_of, upload, upload_form


def test_kill_9_during_an_upload_leaves_nothing_visible(server_factory, tmp_path):
    s = server_factory()
    token = s.token("upload:*")
    w = make_wheel(tmp_path, "pipyd-half", "1.0", payload=os.urandom(8 * 1024 * 1024))
    body, ctype = upload_form(w)
    head = (f"POST /legacy/ HTTP/1.1\r\nHost: 127.0.0.1:{s.port}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"Authorization: {basic_auth(token)['Authorization']}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", s.port), timeout=30) as sock:
        sock.sendall(head + body[: len(body) // 2])
        time.sleep(1.0)  # let the server spool what it got
        s.kill()
    s.start()
    assert s.project_json("pipyd-half").status == 404
    assert w.sha256 not in {p.name for p in s.blob_files()}
    res = s.cli("check")
    assert res.returncode == 0, res.stdout + res.stderr
    # The name is still free: the complete upload works after the restart.
    assert upload(s, w, token).status == 200


def test_kill_9_right_after_the_200_keeps_the_file(server_factory, tmp_path):
    s = server_factory()
    token = s.token("upload:*")
    w = make_wheel(tmp_path, "pipyd-durable", "1.0", payload=os.urandom(1024 * 1024))
    r = upload(s, w, token)
    s.kill()
    assert r.status == 200, (r.status, r.reason)
    s.start()
    assert sha256_of(s.fetch_file("pipyd-durable", w.filename).body) == w.sha256
    res = s.cli("check")
    assert res.returncode == 0, res.stdout + res.stderr


def test_slow_header_clients_do_not_delay_others(server):
    stop = threading.Event()
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"z" * 40 + b"\r\n\r\n"

    def trickle():
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
                for byte in request:
                    if stop.is_set():
                        return
                    sock.sendall(bytes([byte]))
                    stop.wait(1.0)
        except OSError:
            pass

    slow = [threading.Thread(target=trickle, daemon=True) for _ in range(4)]
    for t in slow:
        t.start()
    try:
        time.sleep(1.5)
        for path in ("/healthz", "/simple/", "/metrics", "/simple/", "/"):
            t0 = time.monotonic()
            r = server.get(path, timeout=5)
            elapsed = time.monotonic() - t0
            assert r.status == 200, (path, r.status)
            assert elapsed < 1.0, f"{path} took {elapsed:.2f} s while slow clients trickled"
            time.sleep(0.5)
    finally:
        stop.set()
        for t in slow:
            t.join(5)


def test_pipy_check_names_a_corrupted_file(server_factory, tmp_path):
    s = server_factory()
    w = make_wheel(tmp_path, "pipyd-rot", "1.0")
    other = make_wheel(tmp_path, "pipyd-fine", "1.0")
    for d in (w, other):
        assert upload(s, d, s.token("upload:*")).status == 200
    res = s.cli("check")
    assert res.returncode == 0, res.stdout + res.stderr

    blob = s.blob_path(w.sha256)
    os.chmod(blob, 0o644)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    res = s.cli("check")
    out = res.stdout + res.stderr
    assert res.returncode != 0, out
    assert w.filename in out, out
    assert other.filename not in out, out


def test_pipy_gc_removes_old_orphans_and_keeps_the_rest(server_factory, tmp_path):
    s = server_factory()
    w = make_wheel(tmp_path, "pipyd-gc", "1.0")
    assert upload(s, w, s.token("upload:*")).status == 200
    referenced = set(s.blob_files())
    assert s.blob_path(w.sha256) in referenced

    old_data, young_data = os.urandom(5000), os.urandom(5000)
    old_key, young_key = sha256_of(old_data), sha256_of(young_data)
    old = s.plant_orphan_blob(old_data, old_key)
    young = s.plant_orphan_blob(young_data, young_key)
    two_hours_ago = time.time() - 2 * 3600
    os.utime(old, (two_hours_ago, two_hours_ago))

    res = s.cli("check")
    assert res.returncode == 0, res.stdout + res.stderr  # orphans are listed, not errors
    assert old_key in res.stdout + res.stderr, res.stdout + res.stderr

    res = s.cli("gc")
    assert res.returncode == 0, res.stdout + res.stderr
    assert not old.exists(), "gc kept an unreferenced blob older than an hour"
    assert young.exists(), "gc removed a blob younger than an hour (may be mid-upload)"
    assert referenced <= set(s.blob_files()), "gc removed a referenced blob"
    assert s.cli("check").returncode == 0
    assert sha256_of(s.fetch_file("pipyd-gc", w.filename).body) == w.sha256
