"""Benchmarks of certification: verifying a results stream, and the impact of a change.

Run from the repo root: ``python -m bench.certify [--repeat 5] [--products 500]``.

1. **verify**: a 1,500-test subunit v2 stream (the 2020.06 platform must-pass
   run plus other Tempest passes, stestr-like: ``inprogress`` and a final
   status per test, worker tags, timestamps, a log attachment) verified
   against 2020.06 ``platform`` from bytes: results parsed, the guideline
   read and compiled, the verdict made. Target < 0.2 s. The baseline is the
   bare parse of the same stream with python-subunit into a do-nothing
   ``StreamResult``, in the same run.
2. **impact**: ``next`` with one capability moved from advisory to required,
   scored over 500 certified products given as their published records
   (JSON, passes only). Target < 1 s. The baseline is the bare parse of the
   same input: both versions of ``next.yaml`` and the 500 JSON records.

Each figure is the best of ``--repeat`` runs; nothing fails on a timing.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from collections.abc import Callable
from datetime import date

import ryaml
import subunit
import testtools

from govbot.core import impact, registry
from govbot.core.certify import requirements, verify
from govbot.core.mustpass import test_list
from govbot.core.results import parse_results
from govbot.core.validity import Validity
from govbot.repo import bundled
from govbot.repo.snapshots import read_directory

GUIDELINE = "guidelines/2020.06.yaml"
AT = date(2020, 7, 1)


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def stream(size: int) -> bytes:
    """The must-pass run plus other passes, ``size`` tests in all, stestr-like."""
    files = read_directory(bundled.root())
    data = ryaml.loads(files[GUIDELINE].decode())
    tests = test_list(data, "platform", ["required"])
    rng = random.Random(2020)
    while len(tests) < size:
        n = len(tests)
        tests.append(
            f"tempest.api.other.test_more.MoreTest.test_{n}[id-{rng.getrandbits(128):032x}]"
        )
    buf = io.BytesIO()
    out = subunit.StreamResultToBytes(buf)
    ts = 1593604800.0
    from datetime import UTC, datetime

    for i, test in enumerate(tests[:size]):
        when = datetime.fromtimestamp(ts + i, UTC)
        tags = {f"worker-{i % 4}"}
        out.status(test_id=test, test_status="inprogress", test_tags=tags, timestamp=when)
        out.status(
            test_id=test,
            test_status="fail" if i % 97 == 0 else "success",
            test_tags=tags,
            file_name="pythonlogging:''",
            file_bytes=b"2020-07-01 12:00:00 INFO request ok\n" * 3,
            mime_type="text/plain; charset=utf8",
            eof=True,
            timestamp=when,
        )
    return buf.getvalue()


def bench_verify(repeat: int, size: int) -> None:
    files = read_directory(bundled.root())
    raw = stream(size)

    def bare() -> None:
        subunit.ByteStreamToStreamResult(io.BytesIO(raw)).run(testtools.StreamResult())

    def full() -> object:
        read = parse_results("run.subunit", raw)
        assert read.results is not None
        req = requirements("2020.06", ryaml.loads(files[GUIDELINE].decode()), "platform")
        return verify(read.results, req, Validity.from_files(files), AT, release="ussuri")

    verdict = full()
    t_bare, t_full = best(bare, repeat), best(full, repeat)
    print(
        f"verify: {size:,}-test subunit v2 stream ({len(raw) / 1e6:.2f} MB) against 2020.06 platform"
    )
    print(f"  bare parse (python-subunit, no-op result)   {t_bare * 1000:8.1f} ms")
    print(
        f"  govbot verify (parse + guideline + verdict) {t_full * 1000:8.1f} ms   target < 200 ms"
    )
    print(f"  ratio verify / bare parse                   {t_full / t_bare:8.2f}x")
    print(f"  verdict: qualifies={verdict.qualifies}, {len(verdict.findings)} finding(s)")  # type: ignore[attr-defined]


def products(n: int, files: dict[str, bytes]) -> list[bytes]:
    """``n`` published records of the 2020.06 platform run: most pass everything, every
    fifth lacks the upload test the change makes required, every fifth misses 3 others."""
    data = ryaml.loads(files[GUIDELINE].decode())
    tests = test_list(data, "platform", ["required", "advisory"])
    nxt = ryaml.loads(files["guidelines/next.yaml"].decode())
    tests = sorted({*tests, *test_list(nxt, "platform", ["required", "advisory"])})
    rng = random.Random(500)
    out = []
    for i in range(n):
        if i % 5 == 0:
            passed = [t for t in tests if "test_volume_upload" not in t]
        elif i % 5 == 1:
            drop = set(rng.sample(range(len(tests)), 3))
            passed = [t for j, t in enumerate(tests) if j not in drop]
        else:
            passed = tests
        record = {
            "product": f"vendor-{i // 3}/cloud-{i}",
            "name": f"Cloud {i}",
            "vendor": f"Vendor {i // 3}",
            "kind": "public-cloud",
            "program": "platform",
            "program_name": "OpenStack Powered Platform",
            "guideline": "2020.06",
            "release": "ussuri",
            "status": "current",
            "passed_tests": passed,
        }
        out.append(json.dumps(record).encode())
    return out


def require_upload(next_yaml: bytes) -> bytes:
    text = next_yaml.decode()
    start = text.index("components:\n  os_powered_compute:")
    head, tail = text[:start], text[start:]
    tail = tail.replace("      advisory:\n      - volumes-v3-upload\n", "      advisory:\n", 1)
    tail = tail.replace("      required:\n", "      required:\n      - volumes-v3-upload\n", 1)
    return (head + tail).encode()


def bench_impact(repeat: int, n: int) -> None:
    base = read_directory(bundled.root())
    head = dict(base)
    head["guidelines/next.yaml"] = require_upload(base["guidelines/next.yaml"])
    records = products(n, base)

    def bare() -> None:
        ryaml.loads(base["guidelines/next.yaml"].decode())
        ryaml.loads(head["guidelines/next.yaml"].decode())
        for r in records:
            json.loads(r)

    def full() -> impact.ImpactReport:
        entries = registry.entries_from_json([json.loads(r) for r in records])
        return impact.impact(base, head, entries)

    report = full()
    t_bare, t_full = best(bare, repeat), best(full, repeat)
    print(f"impact: one capability made required in next, over {n} certified products")
    print(f"  bare parse (both next.yaml + {n} JSON records) {t_bare * 1000:8.1f} ms")
    print(
        f"  govbot impact (parse + score both versions)   {t_full * 1000:8.1f} ms   target < 1000 ms"
    )
    print(f"  ratio impact / bare parse                     {t_full / t_bare:8.2f}x")
    print(
        f"  {report.scored} scored, {len(report.stop)} would stop qualifying, "
        f"{len(report.failing)} fail both, {len(report.usage)} advisory capabilities counted"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.certify", description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--tests", type=int, default=1500)
    p.add_argument("--products", type=int, default=500)
    args = p.parse_args(argv)
    bench_verify(args.repeat, args.tests)
    print()
    bench_impact(args.repeat, args.products)
    return 0


if __name__ == "__main__":
    sys.exit(main())
