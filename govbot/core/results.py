"""Vendors' test results, in the three forms they actually produce, as one shape.

* **subunit v2**: what Tempest and stestr write (``stestr last --subunit``).
  A binary stream of packets (signature ``0xB3``); each test status packet
  carries a test id such as
  ``tempest.api.compute.test_x.T.test_y[id-6c0a0990-…,smoke]`` and a status:
  ``exists``, ``inprogress``, ``success``, ``uxsuccess``, ``skip``, ``fail`` or
  ``xfail`` (python-subunit's ``ByteStreamToStreamResult.status_lookup``).
* **RefStack JSON**: what refstack-client saved and uploaded,
  ``{"cpid": str, "duration_seconds": int, "results": [{"name": str,
  "uuid": str}, …]}`` (refstack-client ``_form_result_content``; RefStack's
  ``TestResultValidator`` required those three keys, allowed no other, and
  refused an upload without a passing test). Only passes are listed; the
  ``[…]`` attributes are stripped from the name and the id is ``uuid``.
* **a plain list** of passed test ids, one per line, as RefStack listed them:
  ``name[id-<uuid>]`` or a bare ``name``; ``#`` comments and blank lines ignored.

Matching a guideline's tests uses the name and the idempotent id, so a test
renamed since the guideline was written still counts (2017A A2.4: ids are
durable). Bad input never raises: every defect is a located finding (line and
column for text, the byte offset for a binary stream) and what could be read
is kept.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import subunit

from govbot.core.documents import load_json
from govbot.core.findings import Finding, Severity
from govbot.core.yamlio import Parsed, decode

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Largest results file read. A full Tempest run with its logs attached is tens of MB."""
FORMATS = ("subunit", "refstack", "list")
SIGNATURE = 0xB3
PASSED = "success"
UUID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
TEST_ID = re.compile(r"(?P<name>[^\s\[\]]+)(?:\[(?P<attrs>[^\[\]\s]*)\])?")
_V1_LINE = re.compile(
    rb"^(?:test|testing|success|successful|failure|error|skip|xfail|uxsuccess|tags|time)[:\s]",
    re.M,
)


def normal_id(value: str) -> str | None:
    """``id-6C0A…`` or ``6c0a…`` -> ``6c0a…`` (lower case, dashed); None if not a UUID."""
    m = UUID.fullmatch(value.removeprefix("id-").strip())
    if m is None:
        return None
    hexes = m.group(0).replace("-", "").lower()
    return f"{hexes[:8]}-{hexes[8:12]}-{hexes[12:16]}-{hexes[16:20]}-{hexes[20:]}"


@lru_cache(maxsize=1 << 16)
def split_test_id(test_id: str) -> tuple[str, str | None] | None:
    """``name[id-…,smoke]`` -> (name, normalised id or None); None if it is not a test id.

    Cached: the same test ids recur in every product's results.
    """
    m = TEST_ID.fullmatch(test_id)
    if m is None:
        return None
    ident = None
    for attr in (m.group("attrs") or "").split(","):
        if attr.startswith("id-"):
            ident = normal_id(attr)
    return m.group("name"), ident


@dataclass(frozen=True)
class TestResults:
    """What a results file says passed (and, from subunit, what did not).

    ``passed`` maps each passed test's name (attributes stripped) to its
    idempotent id when the results carry one. ``not_passed`` maps tests that
    ran without passing to their last status (``fail``, ``skip``, …): only a
    subunit stream knows them, the other formats list passes only.
    """

    __test__ = False  # not a pytest test class, despite the name

    source: str
    format: str
    passed: Mapping[str, str | None]
    not_passed: Mapping[str, str] = field(default_factory=dict)
    cpid: str | None = None
    duration_seconds: int | None = None

    @cached_property
    def passed_ids(self) -> frozenset[str]:
        return frozenset(i for i in self.passed.values() if i)

    def passes(self, name: str, ident: str | None = None) -> bool:
        """Whether a test passed, by name or by (normalised) idempotent id."""
        return name in self.passed or (ident is not None and ident in self.passed_ids)

    def published(self) -> list[str]:
        """The passes as RefStack listed them (2017A C4.3, C4.4): ``name[id-…]``, sorted."""
        return sorted(f"{n}[id-{i}]" if i else n for n, i in self.passed.items())


@dataclass
class ParsedResults:
    """The results, and every defect found reading them (results is None when unusable)."""

    results: TestResults | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.results is not None and not any(
            f.severity is Severity.ERROR for f in self.findings
        )


def _finding(
    name: str,
    rule: str,
    message: str,
    mark: tuple[int, int] = (1, 1),
    severity: Severity = Severity.ERROR,
    path: tuple[str | int, ...] = (),
) -> Finding:
    return Finding(name, rule, message, severity, mark[0], mark[1], path)


def detect(name: str, raw: bytes) -> str:
    """The format of a results file: by its first byte, then by its first character."""
    if raw[:1] == bytes([SIGNATURE]):
        return "subunit"
    if name.endswith((".subunit", ".stream")):
        return "subunit"  # says so; parsing will explain why it is not
    head = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    return "refstack" if head in (b"{", b"[") or name.endswith(".json") else "list"


def parse_results(
    name: str, raw: bytes, fmt: str = "auto", max_bytes: int = DEFAULT_MAX_BYTES
) -> ParsedResults:
    """Read one results file; ``fmt`` is ``auto`` or one of :data:`FORMATS`."""
    if len(raw) > max_bytes:
        return ParsedResults(
            None,
            [
                _finding(
                    name,
                    "results.too-large",
                    f"file is {len(raw):,} bytes, over the {max_bytes:,}-byte limit; "
                    "submit the must-pass run only, without attachments",
                )
            ],
        )
    chosen = detect(name, raw) if fmt == "auto" else fmt
    if chosen == "subunit":
        return parse_subunit(name, raw)
    text, problems = decode(name, raw, max_bytes)
    if text is None:
        return ParsedResults(None, [_retag(f) for f in problems])
    if chosen == "refstack":
        return parse_refstack(name, text)
    if chosen == "list":
        return parse_list(name, text)
    raise ValueError(f"unknown results format {fmt!r}; choose auto or one of {FORMATS}")


def _retag(f: Finding) -> Finding:
    rule = f"results.{f.rule.removeprefix('yaml.')}"  # results.encoding, results.json.syntax
    return Finding(f.file, rule, f.message, f.severity, f.line, f.column)


def _empty(name: str, found: ParsedResults) -> ParsedResults:
    if found.results is not None and not found.results.passed:
        found.findings.append(
            _finding(
                name,
                "results.empty",
                "the results hold no passed test (RefStack refused such uploads); "
                "submit the run of the must-pass list",
            )
        )
    return found


# -- subunit v2 ----------------------------------------------------------------


class _Collector:
    """A StreamResult that keeps each test's statuses and where the stream broke.

    ``base`` is the offset of ``source`` in the whole stream (parsing resumes
    after garbage on a fresh reader), so offsets in messages are the file's.
    """

    def __init__(self) -> None:
        self.statuses: dict[str, list[str]] = {}
        self.errors: list[tuple[int, str]] = []
        self.source = io.BytesIO()
        self.base = 0
        self._end = 0  # offset after the last packet read

    def read(self, source: io.BytesIO, base: int) -> None:
        self.source, self.base, self._end = source, base, base

    def status(
        self,
        test_id: str | None = None,
        test_status: str | None = None,
        file_name: str | None = None,
        file_bytes: Any = None,
        **_: Any,
    ) -> None:
        if test_id == "subunit.parser":  # python-subunit's report of a corrupt packet
            if file_name == "Parser Error" and file_bytes is not None:
                why = bytes(file_bytes).decode("utf-8", "replace")
                self.errors.append((self._end, why))
                self._end = self.base + self.source.tell()
            return
        self._end = self.base + self.source.tell()
        if test_id is not None and test_status is not None:
            self.statuses.setdefault(test_id, []).append(test_status)


def parse_subunit(name: str, raw: bytes) -> ParsedResults:
    """A subunit v2 stream: a test passed if any of its status events is ``success``.

    That is RefStack's reading (refstack-client kept every ``addSuccess``), so a
    test retried after a failure counts as passed. Bytes that are no packet are
    reported and skipped to the next packet signature, as the protocol's
    recovery rule says, so one damaged spot does not lose the rest.
    """
    findings: list[Finding] = []
    if raw[:1] != bytes([SIGNATURE]):
        return ParsedResults(None, [_not_v2(name, raw)])
    collector = _Collector()
    start = 0
    while start < len(raw):
        source = io.BytesIO(raw[start:])
        collector.read(source, start)
        try:
            subunit.ByteStreamToStreamResult(source, non_subunit_name=None).run(collector)
            break
        except Exception:  # python-subunit: "Non subunit content" between packets
            offset = start + max(source.tell() - 1, 0)
            resume = raw.find(bytes([SIGNATURE]), offset + 1)
            skipped = (resume if resume >= 0 else len(raw)) - offset
            findings.append(
                _finding(
                    name,
                    "results.subunit.garbage",
                    f"{skipped} byte(s) at offset {offset} are no subunit v2 packet "
                    f"(first: 0x{raw[offset]:02x}); skipped to the next packet. "
                    "Submit the stream exactly as stestr or tempest wrote it",
                )
            )
            if resume < 0:
                break
            start = resume
    for offset, why in collector.errors:
        findings.append(
            _finding(
                name,
                "results.subunit.corrupt",
                f"corrupt packet at offset {offset}: {why}; its test result is lost",
            )
        )
    passed: dict[str, str | None] = {}
    not_passed: dict[str, str] = {}
    for test_id, statuses in collector.statuses.items():
        split = split_test_id(test_id)
        test, ident = split if split is not None else (test_id, None)
        final = [s for s in statuses if s not in ("exists", "inprogress")]
        if PASSED in final:
            passed[test] = ident or passed.get(test)
            not_passed.pop(test, None)
        elif final and test not in passed:
            not_passed[test] = final[-1]
    return _empty(name, ParsedResults(TestResults(name, "subunit", passed, not_passed), findings))


def _not_v2(name: str, raw: bytes) -> Finding:
    if _V1_LINE.search(raw[:4096]):
        why = (
            "it is subunit v1 text; convert it with subunit-1to2 "
            "(or run `stestr last --subunit`, which writes v2)"
        )
    elif not raw:
        why = "it is empty"
    else:
        why = f"it starts with byte 0x{raw[0]:02x}, not the packet signature 0xb3"
    return _finding(name, "results.subunit.not-v2", f"not a subunit v2 stream: {why}")


# -- RefStack JSON -----------------------------------------------------------------

REFSTACK_KEYS = {"cpid": str, "duration_seconds": int, "results": list}


def parse_refstack(name: str, text: str) -> ParsedResults:
    """RefStack's upload JSON; each defect is a finding at its line and key."""
    doc, problems = load_json(name, text)
    if problems:
        return ParsedResults(None, [_retag(f) for f in problems])
    issues: list[tuple[tuple[str | int, ...], str, str, Severity]] = []
    if not isinstance(doc, dict):
        return ParsedResults(
            None,
            [
                _finding(
                    name,
                    "results.refstack.not-an-object",
                    'RefStack results are a JSON object: {"cpid", "duration_seconds", "results"}',
                )
            ],
        )
    for key, kind in REFSTACK_KEYS.items():
        if key not in doc:
            issues.append(
                ((), "results.refstack.missing-key", f"missing key {key!r}", Severity.ERROR)
            )
        elif not isinstance(doc[key], kind) or isinstance(doc[key], bool):
            issues.append(
                (
                    (key,),
                    "results.refstack.type",
                    f"{key!r} must be a {'string' if kind is str else 'integer' if kind is int else 'list'}, "
                    f"not {type(doc[key]).__name__}",
                    Severity.ERROR,
                )
            )
    for key in sorted(set(doc) - set(REFSTACK_KEYS)):
        issues.append(
            (
                (key,),
                "results.refstack.unknown-key",
                f"unknown key {key!r}: RefStack accepted only cpid, duration_seconds and results; "
                "it is kept in the file but not read",
                Severity.WARNING,
            )
        )
    passed: dict[str, str | None] = {}
    listed = doc.get("results")
    entries: list[Any] = listed if isinstance(listed, list) else []
    for i, entry in enumerate(entries):
        issues.extend(_refstack_entry(i, entry, passed))
    cpid = doc.get("cpid") if isinstance(doc.get("cpid"), str) else None
    duration = doc.get("duration_seconds")
    duration = duration if isinstance(duration, int) and not isinstance(duration, bool) else None
    located = Parsed(name, text, doc)
    marks = located.locate([p for p, *_ in issues])
    findings = [
        _finding(name, rule, message, mark, severity, path)
        for (path, rule, message, severity), mark in zip(issues, marks, strict=True)
    ]
    results = TestResults(name, "refstack", passed, {}, cpid, duration)
    return _empty(name, ParsedResults(results, findings))


def _refstack_entry(
    i: int, entry: Any, passed: dict[str, str | None]
) -> Iterator[tuple[tuple[str | int, ...], str, str, Severity]]:
    where: tuple[str | int, ...] = ("results", i)
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
        yield (
            where,
            "results.refstack.entry",
            'each result is {"name": "test.id", "uuid": "…"}',
            (Severity.ERROR),
        )
        return
    split = split_test_id(entry["name"])
    if split is None:
        yield (
            (*where, "name"),
            "results.refstack.name",
            f"{entry['name']!r} is not a test id",
            (Severity.ERROR),
        )
        return
    test, ident = split
    raw_uuid = entry.get("uuid")
    if raw_uuid is not None:
        ident = normal_id(raw_uuid) if isinstance(raw_uuid, str) else None
        if ident is None:
            yield (
                (*where, "uuid"),
                "results.refstack.uuid",
                f"{raw_uuid!r} is not a UUID",
                (Severity.ERROR),
            )
    for key in sorted(set(entry) - {"name", "uuid"}):
        yield (
            (*where, key),
            "results.refstack.unknown-key",
            f"unknown key {key!r} in a result",
            (Severity.WARNING),
        )
    passed[test] = ident or passed.get(test)


# -- plain list ------------------------------------------------------------------------


def parse_list(name: str, text: str) -> ParsedResults:
    """One passed test per line; every malformed line is reported, the rest is kept."""
    passed: dict[str, str | None] = {}
    findings: list[Finding] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        split = split_test_id(stripped)
        if split is None:
            column = len(line) - len(line.lstrip()) + 1
            bad = re.search(r"\s", stripped)
            findings.append(
                _finding(
                    name,
                    "results.list.line",
                    f"{stripped[:120]!r} is not a test id"
                    + (" (it holds a space)" if bad else "")
                    + "; write one passed test per line: name or name[id-<uuid>]",
                    (lineno, column + (bad.start() if bad else 0)),
                )
            )
            continue
        test, ident = split
        passed[test] = ident or passed.get(test)
    return _empty(name, ParsedResults(TestResults(name, "list", passed), findings))


def from_published(source: str, tests: Iterable[str]) -> TestResults:
    """Results from a published pass list (``name[id-…]`` strings), e.g. the registry's JSON."""
    passed: dict[str, str | None] = {}
    for t in tests:
        split = split_test_id(t)
        if split is not None:
            passed[split[0]] = split[1] or passed.get(split[0])
    return TestResults(source, "list", passed)
