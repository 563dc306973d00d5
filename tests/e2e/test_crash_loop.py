"""A short crash loop (tests/e2e/crashloop.py) on the backend pair the harness runs on
(PIPY_E2E_BACKENDS: filesystem + SQLite by default, or S3 + PostgreSQL): `pipy serve`
SIGKILLed at random moments under concurrent uploads and yanks, then `pipy gc`,
`pipy import` and `pipy migrate` killed midway and re-run; after every kill `pipy check` is
clean and every acknowledged upload is served with its exact bytes. bench/crashloop.sh runs
the long version (hundreds of kills)."""
from __future__ import annotations

from crashloop import crash_loop
from pipyharness import s3_postgres_mode

PAIR = "s3-postgres" if s3_postgres_mode() else "fs-sqlite"


def test_crash_loop(tmp_path):
    short = {"fs-sqlite": dict(serve_kills=15, cli_rounds=2, import_files=30, pace=0.05),
             "s3-postgres": dict(serve_kills=10, cli_rounds=2, import_files=20)}[PAIR]
    figures = crash_loop(PAIR, tmp_path, threads=3, run_window=(0.2, 1.2), **short)
    print(figures)
    serve = figures["serve"]
    assert serve["kills"] == short["serve_kills"]
    assert serve["acknowledged_uploads"] > 0 and serve["acknowledged_yanks"] > 0, figures
    # The kills must land mid-command at least once per command, or the loop tested nothing.
    for command in ("import", "migrate"):
        assert figures[command]["killed_midway"] >= 1, figures
