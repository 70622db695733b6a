"""``python -m bench.webhook_latency``: a smoke run on SQLite prints every label of its report.

Timings are never asserted: they depend on the machine and its load.
"""

from __future__ import annotations

from bench import webhook_latency


def test_webhook_latency_reports_every_label(capsys):
    assert webhook_latency.main(["--n", "2", "--database", "sqlite"]) == 0
    out = capsys.readouterr().out
    for label in (
        "govbot webhook latency",
        "machine:",
        "CPUs",
        "SQLite",
        "warm-up, not counted",
        "n 2",
        "p50",
        "p95",
        "max",
        "receiver answered 202",
        "worker picked it up",
        "base + head read from the forge",
        "check computed",
        "check run recorded by the forge",
        "delivery finished",
        "target: p95 < 1000 ms:",
        "summary",
    ):
        assert label in out, label
    assert "PostgreSQL" not in out  # only the database asked for
