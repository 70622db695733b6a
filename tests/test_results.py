"""Reading vendors' results: subunit v2, RefStack JSON, plain lists; every defect located.

Protocol facts the tests rely on:
- subunit v2 (testing-cabal/subunit README, "Version 2"): packets start with
  the signature 0xB3, end with a CRC-32; statuses are exists, inprogress,
  success, uxsuccess, skip, fail, xfail; the stream resynchronises after a
  packet ("a subunit v2 packet starts after a newline or directly after the
  end of the prior packet").
- RefStack upload JSON (refstack/api/validators.py TestResultValidator):
  required cpid (string), duration_seconds (integer), results (list of
  {"name", "uuid"}), additionalProperties false; an upload must contain at
  least one passing test. refstack-client's subunit processor strips the
  "[...]" attributes from the name and stores the id as "uuid".
"""

from __future__ import annotations

import io
import json

import subunit

from govbot.core.findings import Severity
from govbot.core.results import detect, from_published, normal_id, parse_results, split_test_id

ID = "6c0a0990-43b6-4529-9b61-5fd8daf7c55c"


def stream(events: list[tuple[str, str]]) -> tuple[bytes, list[int]]:
    """A v2 stream of (test id, status) events and the offset after each packet."""
    buf = io.BytesIO()
    out = subunit.StreamResultToBytes(buf)
    ends = []
    for test_id, status in events:
        out.status(test_id=test_id, test_status=status, test_tags={"worker-0"})
        ends.append(len(buf.getvalue()))
    return buf.getvalue(), ends


def errors(parsed: object) -> list[str]:
    return [f.rule for f in parsed.findings if f.severity is Severity.ERROR]  # type: ignore[attr-defined]


def test_test_ids_and_uuids() -> None:
    assert split_test_id(f"a.B.test_c[id-{ID},smoke]") == ("a.B.test_c", ID)
    assert split_test_id("a.B.test_c") == ("a.B.test_c", None)
    assert split_test_id("setUpClass (a.B)") is None
    assert normal_id(f"id-{ID.upper()}") == ID
    assert normal_id(ID.replace("-", "")) == ID
    assert normal_id("id-nope") is None


def test_subunit_statuses_final_and_retried() -> None:
    raw, _ = stream(
        [
            (f"t.A.test_ok[id-{ID}]", "inprogress"),
            (f"t.A.test_ok[id-{ID}]", "success"),
            ("t.A.test_fail", "inprogress"),
            ("t.A.test_fail", "fail"),
            ("t.A.test_retried", "fail"),
            ("t.A.test_retried", "success"),
            ("t.A.test_skip", "skip"),
            ("t.A.test_listed", "exists"),
        ]
    )
    read = parse_results("run.subunit", raw)
    assert read.ok and read.results is not None
    assert dict(read.results.passed) == {"t.A.test_ok": ID, "t.A.test_retried": None}
    assert dict(read.results.not_passed) == {"t.A.test_fail": "fail", "t.A.test_skip": "skip"}
    assert read.results.passes("renamed.test", ID)
    assert read.results.published() == [f"t.A.test_ok[id-{ID}]", "t.A.test_retried"]


def test_subunit_garbage_is_located_and_skipped() -> None:
    raw, ends = stream([("t.A.test_1", "success"), ("t.A.test_2", "success")])
    damaged = raw[: ends[0]] + b"oops\n" + raw[ends[0] :]
    read = parse_results("run.subunit", damaged)
    assert errors(read) == ["results.subunit.garbage"]
    assert f"at offset {ends[0]}" in read.findings[0].message
    assert read.results is not None and set(read.results.passed) == {"t.A.test_1", "t.A.test_2"}


def test_subunit_bad_checksum_and_truncation() -> None:
    raw, ends = stream(
        [("t.A.test_1", "success"), ("t.A.test_2", "success"), ("t.A.test_3", "success")]
    )
    flipped = bytearray(raw)
    flipped[ends[0] + 8] ^= 0xFF
    read = parse_results("run.subunit", bytes(flipped))
    assert errors(read) == ["results.subunit.corrupt"]
    assert f"at offset {ends[0]}" in read.findings[0].message
    assert read.results is not None and set(read.results.passed) == {"t.A.test_1", "t.A.test_3"}
    cut = parse_results("run.subunit", raw[:-3])
    assert errors(cut) == ["results.subunit.corrupt"] and "Short read" in cut.findings[0].message


def test_subunit_v1_and_other_bytes_refused() -> None:
    v1 = parse_results("run.subunit", b"test: t.A.test_1\nsuccess: t.A.test_1\n")
    assert v1.results is None and "subunit v1" in v1.findings[0].message
    assert detect("run.subunit", b"anything") == "subunit"
    empty = parse_results("run.subunit", b"")
    assert "it is empty" in empty.findings[0].message


def test_refstack_json_as_the_client_writes_it() -> None:
    doc = {
        "cpid": "abc",
        "duration_seconds": 12,
        "results": [{"name": "t.A.test_1", "uuid": ID}, {"name": "t.A.test_2"}],
    }
    read = parse_results("r.json", json.dumps(doc, indent=4).encode())
    assert read.ok and read.results is not None
    assert read.results.format == "refstack" and read.results.cpid == "abc"
    assert dict(read.results.passed) == {"t.A.test_1": ID, "t.A.test_2": None}


def test_refstack_json_defects_are_located() -> None:
    text = (
        '{\n  "cpid": 7,\n  "results": [\n    {"name": "t.A.test_1", "uuid": "zz"},\n'
        '    {"nom": "x"}\n  ],\n  "meta": {}\n}\n'
    )
    read = parse_results("r.json", text.encode())
    by_rule = {f.rule: f for f in read.findings}
    assert by_rule["results.refstack.type"].line == 2
    assert by_rule["results.refstack.uuid"].line == 4
    assert by_rule["results.refstack.entry"].line == 5
    assert by_rule["results.refstack.unknown-key"].severity is Severity.WARNING
    assert by_rule["results.refstack.unknown-key"].line == 7
    assert "results.refstack.missing-key" in by_rule  # duration_seconds
    syntax = parse_results("r.json", b'{"cpid": "a",\n "results": [}\n')
    assert syntax.results is None and syntax.findings[0].rule == "results.json.syntax"
    assert syntax.findings[0].line == 2
    dup = parse_results(
        "r.json", b'{"cpid": "a", "cpid": "b", "duration_seconds": 1, "results": []}'
    )
    assert dup.findings[0].rule == "results.json.duplicate-key"


def test_empty_results_refused_as_refstack_did() -> None:
    read = parse_results("r.json", b'{"cpid": "a", "duration_seconds": 1, "results": []}')
    assert errors(read) == ["results.empty"]


def test_plain_list_every_bad_line_reported() -> None:
    text = f"# passed\nt.A.test_1[id-{ID}]\n\n  t.A.test_2  \nt.A.test_3 ... ok\nbad[line\n"
    read = parse_results("passed.txt", text.encode())
    assert read.results is not None and set(read.results.passed) == {"t.A.test_1", "t.A.test_2"}
    assert [(f.line, f.column) for f in read.findings] == [(5, 11), (6, 1)]
    assert "holds a space" in read.findings[0].message


def test_encoding_and_size_limits() -> None:
    bad = parse_results("passed.txt", b"t.A.test_1\n\xff\n")
    assert bad.results is None and bad.findings[0].rule == "results.encoding"
    assert bad.findings[0].line == 2
    big = parse_results("passed.txt", b"x" * 100, max_bytes=10)
    assert big.findings[0].rule == "results.too-large"


def test_published_lists_round_trip() -> None:
    results = from_published("p", [f"t.A.test_1[id-{ID}]", "t.A.test_2", "not a test"])
    assert dict(results.passed) == {"t.A.test_1": ID, "t.A.test_2": None}
