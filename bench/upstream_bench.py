"""Driver of bench/upstream_bench.sh: cached upstream page vs internal page, wrk req/s."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from pipyharness import PIP_JSON, PipyServer  # noqa: E402
from pydists import make_wheel, upload  # noqa: E402
from stub_upstream import StubUpstream  # noqa: E402

FILES = 20


def wrk(url: str, duration: str) -> float:
    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{duration}", "-H", f"Accept: {PIP_JSON}",
                          url], capture_output=True, text=True, timeout=600).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if m is None or non2xx is not None:
        raise SystemExit(f"upstream_bench: wrk failed on {url}:\n{out}")
    return float(m.group(1))


def main() -> None:
    pipy_bin, duration = sys.argv[1], sys.argv[2]
    work = Path(tempfile.mkdtemp(prefix="pipy-upstream-bench."))
    private_bin = work / "pipy"
    shutil.copy2(pipy_bin, private_bin)  # a rebuild during the run cannot mix binaries
    import pipyharness
    pipyharness.PIPY_BIN = private_bin
    stub = StubUpstream().start()
    server = None
    try:
        for i in range(FILES):
            stub.add(make_wheel(work / "up", "pubpage", f"1.{i}"))
        server = PipyServer(root=work / "server", config_text=(
            f'[server]\nthreads = 2\naccess_log = false\n'
            f'[upstream]\nurl = "{stub.simple_url}"\nttl = "1h"\n'))
        (work / "server").mkdir()
        server.start()
        token = server.token("upload:*")
        for i in range(FILES):
            r = upload(server, make_wheel(work / "in", "acme-page", f"1.{i}"), token)
            assert r.status == 200, (r.status, r.reason)
        internal = f"{server.url}/simple/acme-page/"
        proxied = f"{server.url}/simple/pubpage/"
        sizes = {}
        for key, url in (("internal", internal), ("upstream", proxied)):
            r = server.get(server.path_of(url), {"Accept": PIP_JSON})
            assert r.status == 200 and len(r.json()["files"]) == FILES, (url, r.status)
            sizes[key] = len(r.body)
        page_requests = len(stub.requests)
        results = {"internal": [], "upstream": []}
        for _round in range(3):
            results["internal"].append(wrk(internal, duration))
            results["upstream"].append(wrk(proxied, duration))
        assert len(stub.requests) == page_requests, "the cached page went to the upstream"
        best = {k: max(v) for k, v in results.items()}
        print(f"internal page  /simple/acme-page/ : {best['internal']:10.0f} req/s "
              f"(runs: {', '.join(f'{x:.0f}' for x in results['internal'])}; {sizes['internal']} bytes)")
        print(f"upstream page  /simple/pubpage/   : {best['upstream']:10.0f} req/s "
              f"(runs: {', '.join(f'{x:.0f}' for x in results['upstream'])}; {sizes['upstream']} bytes)")
        print(f"upstream / internal               : {best['upstream'] / best['internal']:10.3f}")
    finally:
        if server is not None:
            server.stop()
        stub.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
