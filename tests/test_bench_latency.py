"""``bench/webhook_latency.py``: a smoke run on SQLite prints every label of its report.

Timings are never asserted: they depend on the machine and its load.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tests.conftest import REPO


def load_bench() -> ModuleType:
    """bench/ is a directory of scripts, not a package: load the script by its path."""
    name = "bench_webhook_latency"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / "webhook_latency.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_webhook_latency_reports_every_label(capsys):
    bench = load_bench()
    assert bench.main(["--n", "2", "--database", "sqlite"]) == 0
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
