"""Hostile load against one `pipy serve`, run as a process of its own (so the clients whose
latency is measured do not share its interpreter):

- `--idle N` connections that connect and never send a byte (re-opened when the server
  closes them at its header deadline, so N stay open);
- `--slow N` slow-header clients, each dripping one byte of a never-ending header per second
  (re-opened when the server gives up on them);
- `--flood N` connections each sending 100 pipelined GETs at a time and reading the answers,
  and `--greedy N` connections pipelining GETs as fast as they can while never reading.

Connections come from `--addresses` loopback source addresses (127.0.0.2, ...), so a per-
address connection cap (Pipy's [limits] max_connections_per_address, default 128) is not what
bounds them. Prints one JSON line of counters per second.

    /usr/bin/python3 tests/e2e/hostile_load.py --port 8080 --idle 10000 --slow 1000 --flood 4
"""
from __future__ import annotations

import argparse
import errno
import json
import resource
import selectors
import socket
import threading
import time

SLOW_HEADER = (b"GET /simple/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"z" * 4000)
PIPELINED = b"".join(
    f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    for p in ("/healthz", "/simple/", "/healthz", "/metrics") * 25)


def raise_nofile() -> int:
    """Raises the soft open-file limit to the hard one; returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.values = {"idle_open": 0, "slow_open": 0, "reconnects": 0, "connect_errors": 0,
                       "flood_responses": 0, "flood_errors": 0, "greedy_bytes_sent": 0}

    def add(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.values[key] += n

    def set(self, key: str, n: int) -> None:
        with self.lock:
            self.values[key] = n

    def snapshot(self) -> dict:
        with self.lock:
            return dict(self.values)


class Holders:
    """The idle and slow connections, driven by one selector loop."""

    def __init__(self, port: int, idle: int, slow: int, addresses: int, c: Counters):
        self.port, self.want_idle, self.want_slow = port, idle, slow
        self.addresses, self.c = addresses, c
        self.sel = selectors.DefaultSelector()
        self.conns: dict = {}  # socket -> [kind, bytes of SLOW_HEADER sent]
        self.next_addr = 0

    def _open(self, kind: str) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.bind((f"127.0.0.{2 + self.next_addr % self.addresses}", 0))
            self.next_addr += 1
            err = s.connect_ex(("127.0.0.1", self.port))
            if err not in (0, errno.EINPROGRESS):
                raise OSError(err, "connect")
        except OSError:
            self.c.add("connect_errors")
            s.close()
            return
        self.conns[s] = [kind, 0]
        self.sel.register(s, selectors.EVENT_READ)

    def _close(self, s: socket.socket) -> None:
        self.sel.unregister(s)
        self.conns.pop(s, None)
        s.close()

    def _counts(self) -> tuple[int, int]:
        idle = sum(1 for k, _ in self.conns.values() if k == "idle")
        return idle, len(self.conns) - idle

    def run(self, stop: threading.Event) -> None:
        last_drip = 0.0
        while not stop.is_set():
            idle, slow = self._counts()
            self.c.set("idle_open", idle)
            self.c.set("slow_open", slow)
            # Open what is missing, a batch at a time (the listen backlog is finite).
            for _ in range(min(500, self.want_idle - idle)):
                self._open("idle")
            for _ in range(min(200, self.want_slow - slow)):
                self._open("slow")
            for key, _ in self.sel.select(timeout=0.05):
                s = key.fileobj
                try:
                    data = s.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:  # the server closed it (its deadline) or answered: re-open
                    self._close(s)
                    self.c.add("reconnects")
            now = time.monotonic()
            if now - last_drip >= 1.0:  # one byte per slow client per second
                last_drip = now
                for s, state in list(self.conns.items()):
                    if state[0] != "slow":
                        continue
                    try:
                        s.send(SLOW_HEADER[state[1]:state[1] + 1])
                        state[1] = (state[1] + 1) % len(SLOW_HEADER)
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError:
                        self._close(s)
                        self.c.add("reconnects")
        for s in list(self.conns):
            s.close()


def _read_responses(sock: socket.socket, n: int) -> int:
    """Reads `n` HTTP/1.1 responses (Content-Length bodies); returns how many came."""
    buf, got = b"", 0
    while got < n:
        head_end = buf.find(b"\r\n\r\n")
        if head_end < 0:
            chunk = sock.recv(65536)
            if not chunk:
                return got
            buf += chunk
            continue
        length = 0
        for line in buf[:head_end].split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
        while len(buf) < head_end + 4 + length:
            chunk = sock.recv(65536)
            if not chunk:
                return got
            buf += chunk
        buf = buf[head_end + 4 + length:]
        got += 1
    return got


def flood(port: int, addr: str, c: Counters, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=30,
                                          source_address=(addr, 0)) as s:
                while not stop.is_set():
                    s.sendall(PIPELINED)
                    got = _read_responses(s, 100)
                    c.add("flood_responses", got)
                    if got < 100:
                        break
        except OSError:
            c.add("flood_errors")
            time.sleep(0.1)


def greedy(port: int, addr: str, c: Counters, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5,
                                          source_address=(addr, 0)) as s:
                while not stop.is_set():
                    s.sendall(PIPELINED)  # blocks once the server stops reading
                    c.add("greedy_bytes_sent", len(PIPELINED))
        except OSError:
            time.sleep(0.2)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--slow", type=int, default=1000)
    ap.add_argument("--flood", type=int, default=4)
    ap.add_argument("--greedy", type=int, default=2)
    ap.add_argument("--addresses", type=int, default=100)
    ap.add_argument("--duration", type=float, default=3600)
    args = ap.parse_args()
    limit = raise_nofile()
    need = args.idle + args.slow + args.flood + args.greedy + 100
    if limit < need:
        print(json.dumps({"error": f"RLIMIT_NOFILE {limit} < {need}"}), flush=True)
        return 2
    c, stop = Counters(), threading.Event()
    threads = [threading.Thread(
        target=Holders(args.port, args.idle, args.slow, args.addresses, c).run,
        args=(stop,), daemon=True)]
    for i in range(args.flood):
        threads.append(threading.Thread(target=flood, daemon=True,
                                        args=(args.port, f"127.0.1.{2 + i}", c, stop)))
    for i in range(args.greedy):
        threads.append(threading.Thread(target=greedy, daemon=True,
                                        args=(args.port, f"127.0.2.{2 + i}", c, stop)))
    for t in threads:
        t.start()
    end = time.monotonic() + args.duration
    try:
        while time.monotonic() < end:
            time.sleep(1.0)
            print(json.dumps(c.snapshot()), flush=True)
    except KeyboardInterrupt:
        pass
    stop.set()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
