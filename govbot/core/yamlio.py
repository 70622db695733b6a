"""Reading and writing governance YAML: fast when files are good, precise when not.

Parsing dominates govbot's cost, so the common case (a well-formed file) goes
through ``ryaml`` (a Rust YAML 1.2 parser, ~7x faster than PyYAML's C loader).
It rejects duplicate keys, runaway alias expansion and multiple documents
outright, which is what a governance file must never contain.

Only when something is wrong, or a finding needs a line number, do we pay for
a second pass with PyYAML's C event parser (:func:`scan`), which gives exact
marks for every key and detects duplicate keys with their position.
Governance data is JSON-shaped: YAML 1.2 core schema, no tags, no dates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import ryaml
import yaml

from govbot.core.findings import Finding, KeyPath, Severity

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
"""Largest file govbot reads. The biggest real guideline is ~180 kB."""

Mark = tuple[int, int]


@dataclass(slots=True)
class Parsed:
    """One file's text and data; ``data`` is None when the file is unusable."""

    name: str
    text: str | None
    data: Any
    findings: list[Finding] = field(default_factory=list)
    source_path: Callable[[KeyPath], KeyPath] | None = None
    """Maps a path in ``data`` to the path in ``text`` when they differ (converted files)."""

    @property
    def ok(self) -> bool:
        return self.text is not None and not self.findings

    def locate(self, paths: Iterable[KeyPath]) -> list[Mark]:
        """Line and column of each path (of the key, for mapping entries).

        A path that is not in the file (a missing required key) gets the mark
        of its nearest ancestor: the mapping that should hold it.
        """
        paths = [tuple(p) for p in paths]
        if self.source_path is not None:
            paths = [self.source_path(p) for p in paths]
        if self.text is None or not paths:
            return [(1, 1)] * len(paths)
        marks = index_block(self.text, paths)
        if marks is None:  # flow style, anchors, ...: ask the real parser
            marks, _ = scan(self.text)
        out = []
        for p in paths:
            while p and p not in marks:
                p = p[:-1]
            out.append(marks.get(p, (1, 1)))
        return out


def _finding(name: str, rule: str, message: str, mark: Mark = (1, 1)) -> Finding:
    return Finding(
        file=name, rule=rule, message=message, severity=Severity.ERROR, line=mark[0], column=mark[1]
    )


def decode(
    name: str, raw: bytes, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[str | None, list[Finding]]:
    """Bytes to text, refusing oversized and non-UTF-8 input with a located finding."""
    if len(raw) > max_bytes:
        return None, [
            _finding(
                name,
                "yaml.too-large",
                f"file is {len(raw):,} bytes, over the {max_bytes:,}-byte limit; "
                "govbot does not read it (split it, or raise --max-bytes)",
            )
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        return None, [
            _finding(
                name,
                "yaml.encoding",
                f"file is not valid UTF-8 (byte 0x{raw[e.start]:02x} at offset {e.start}); "
                "save it as UTF-8",
                (line, col),
            )
        ]
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, []


def parse_bytes(name: str, raw: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Parsed:
    text, problems = decode(name, raw, max_bytes)
    if text is None:
        return Parsed(name, None, None, problems)
    return parse_text(name, text)


def parse_text(name: str, text: str) -> Parsed:
    try:
        return Parsed(name, text, ryaml.loads(text))
    except Exception as fast_error:  # ryaml raises its own InvalidYamlError
        return Parsed(name, text, None, [_explain(name, text, str(fast_error))])


_AT = re.compile(r"at line (\d+) column (\d+)")


def _explain(name: str, text: str, fast_message: str) -> Finding:
    """Turn a parse failure into one located finding, using PyYAML's exact marks."""
    _, problems = scan(text, name)
    if problems:
        return problems[0]
    if "repetition limit" in fast_message or "recursion limit" in fast_message:
        first_alias = _first_alias(text)
        return _finding(
            name,
            "yaml.alias-bomb",
            "anchors and aliases expand to more nodes than govbot accepts "
            "(a 'billion laughs' document); write the data out instead of aliasing it",
            first_alias,
        )
    if "more than one document" in fast_message:
        return _finding(
            name,
            "yaml.multiple-documents",
            "file holds more than one YAML document; a governance file holds exactly one",
            _second_document(text),
        )
    m = _AT.search(fast_message)
    mark = (int(m.group(1)), int(m.group(2))) if m else (1, 1)
    return _finding(
        name, "yaml.syntax", f"YAML error: {_AT.sub('', fast_message).strip(' ,')}", mark
    )


_SPECIAL_START = frozenset("'\"?&*!{[|>%@`")


class _Unsupported(Exception):
    """A construct :func:`index_block` leaves to the full parser."""


def _key_of(stripped: str) -> tuple[str, str] | None:
    """Split ``key: value`` into key and value text; None if the line is no mapping entry."""
    if stripped[0] in "'\"":
        quote = stripped[0]
        end = 1
        while True:
            end = stripped.find(quote, end)
            if end < 0:
                raise _Unsupported
            if quote == "'" and stripped.startswith("''", end):
                end += 2
                continue
            break
        raw = stripped[1:end]
        if quote == '"' and "\\" in raw:
            raise _Unsupported
        key = raw.replace("''", "'") if quote == "'" else raw
        rest = stripped[end + 1 :]
        if not rest.startswith(":"):
            return None
        return key, rest[1:].strip()
    if stripped[0] in "?&*!{[|>%@`":
        raise _Unsupported
    colon = stripped.find(": ")
    if colon < 0:
        if stripped.endswith(":"):
            return stripped[:-1].rstrip(), ""
        return None
    return stripped[:colon].rstrip(), stripped[colon + 2 :].strip()


def index_block(text: str, wanted: Iterable[KeyPath] | None = None) -> dict[KeyPath, Mark] | None:
    """Marks of every key path in block-style YAML, from one pass over the lines.

    About five times cheaper than walking PyYAML's events, which matters
    because every file with a finding needs its marks. It understands the
    block style govbot writes (and most people write); anything else
    (flow collections spanning lines, anchors, tags, explicit keys) makes
    it return None, and the caller falls back to :func:`scan`.

    With ``wanted``, subtrees that hold none of the wanted paths are skipped
    unread, which makes locating a few findings in a big file cheap.
    """
    prefixes = None if wanted is None else {p[:i] for p in wanted for i in range(len(p) + 1)}
    try:
        return _index_block(text, prefixes)
    except _Unsupported:
        return None


def _index_block(text: str, prefixes: set[KeyPath] | None) -> dict[KeyPath, Mark]:
    # Hot loop (every line of every file with a finding): locals over attributes.
    marks: dict[KeyPath, Mark] = {(): (1, 1)}
    stack: list[list[Any]] = []  # frames: [indent, path, is_seq, next_index]
    pending: tuple[KeyPath, int] | None = ((), -1)
    no_skip = 1 << 30
    skip = no_skip  # lines deeper than this continue the previous value
    skip_seq = -1
    special = _SPECIAL_START
    key_of = _key_of
    for lineno, line in enumerate(text.split("\n"), 1):
        stripped = line.lstrip(" ")
        if not stripped:
            continue
        indent = len(line) - len(stripped)
        if indent > skip:
            continue
        first = stripped[0]
        if first == "#":
            continue
        if indent == skip_seq and first == "-" and (stripped == "-" or stripped[1] == " "):
            continue  # a skipped key's sequence, written at the key's own indent
        skip, skip_seq = no_skip, -1
        if indent == 0 and lineno > 1 and stripped.startswith(("---", "...")):
            raise _Unsupported
        is_dash = first == "-" and (stripped == "-" or stripped[1] == " ")
        if pending is not None:
            path, parent_indent = pending
            pending = None
            if is_dash and indent >= parent_indent:
                stack.append([indent, path, True, 0])
            elif indent > parent_indent:
                stack.append([indent, path, False, 0])
        frame = stack[-1] if stack else None
        while frame is not None and (
            indent < frame[0] or (indent == frame[0] and frame[2] and not is_dash)
        ):
            stack.pop()
            frame = stack[-1] if stack else None
        if frame is None or frame[0] != indent:
            raise _Unsupported
        if frame[2]:
            if not is_dash:
                raise _Unsupported
            item: KeyPath = (*frame[1], frame[3])
            frame[3] += 1
            rest = stripped[1:].lstrip(" ")
            marks[item] = (lineno, indent + 1 + len(stripped) - len(rest))
            if prefixes is not None and item not in prefixes:
                skip = indent
                continue
            if not rest or rest[0] == "#":
                pending = (item, indent)
                continue
            if rest[0] == "-":
                raise _Unsupported
            if key_of(rest) is None:
                skip = indent
                continue
            inner = indent + (len(stripped) - len(rest))
            frame = [inner, item, False, 0]
            stack.append(frame)
            stripped, indent, first = rest, inner, rest[0]
        elif is_dash:
            raise _Unsupported
        colon = stripped.find(": ")
        if colon > 0 and first not in special:  # the common case, inlined
            key, value = stripped[:colon].rstrip(), stripped[colon + 2 :].lstrip()
        else:
            entry = key_of(stripped)
            if entry is None:
                raise _Unsupported
            key, value = entry
        path = (*frame[1], key)
        marks[path] = (lineno, indent + 1)
        if prefixes is not None and path not in prefixes:
            skip = skip_seq = indent
        elif not value or value[0] == "#":
            pending = (path, indent)
        elif value[0] in "&*!" or (value[0] in "{[" and value not in ("[]", "{}")):
            raise _Unsupported  # anchors, tags, non-empty flow collections: PyYAML knows better
        else:  # scalars and block scalars may continue on deeper lines
            skip = indent
    return marks


def _events(text: str) -> Iterator[yaml.Event]:
    return yaml.parse(text, Loader=yaml.CSafeLoader)


def _mark_of(ev: yaml.Event) -> Mark:
    m = ev.start_mark
    return (m.line + 1, m.column + 1) if m is not None else (1, 1)


def _first_alias(text: str) -> Mark:
    try:
        for ev in _events(text):
            if isinstance(ev, yaml.AliasEvent):
                return _mark_of(ev)
    except yaml.YAMLError:
        pass
    return (1, 1)


def _second_document(text: str) -> Mark:
    seen = 0
    try:
        for ev in _events(text):
            if isinstance(ev, yaml.DocumentStartEvent):
                seen += 1
                if seen == 2:
                    return _mark_of(ev)
    except yaml.YAMLError:
        pass
    return (1, 1)


class _Frame:
    __slots__ = ("expect_key", "index", "is_map", "key", "keys", "path")

    def __init__(self, path: KeyPath, is_map: bool) -> None:
        self.path = path
        self.is_map = is_map
        self.expect_key = True
        self.key: str | int | None = None
        self.index = 0
        self.keys: dict[str, Mark] = {}


def scan(text: str, name: str = "") -> tuple[dict[KeyPath, Mark], list[Finding]]:
    """One pass over PyYAML's C events: the mark of every key path, and problems.

    Problems are syntax errors (with PyYAML's mark) and duplicate keys, which
    PyYAML's loader would otherwise silently resolve by keeping the last one.
    """
    marks: dict[KeyPath, Mark] = {}
    problems: list[Finding] = []
    stack: list[_Frame] = []
    try:
        for ev in _events(text):
            mark = _mark_of(ev)
            if isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
                continue
            if not isinstance(
                ev,
                (
                    yaml.ScalarEvent,
                    yaml.AliasEvent,
                    yaml.MappingStartEvent,
                    yaml.SequenceStartEvent,
                ),
            ):
                continue
            if not stack:
                child: KeyPath = ()
                marks[child] = mark
            else:
                top = stack[-1]
                if top.is_map and top.expect_key:
                    if isinstance(ev, yaml.ScalarEvent):
                        key = ev.value
                        if key in top.keys:
                            first = top.keys[key]
                            problems.append(
                                _finding(
                                    name,
                                    "yaml.duplicate-key",
                                    f"duplicate key {key!r} (first at line {first[0]}); "
                                    "YAML loaders keep only the last value, so one is silently lost",
                                    mark,
                                )
                            )
                        else:
                            top.keys[key] = mark
                        top.key = key
                        marks[(*top.path, key)] = mark
                    else:
                        top.key = None
                    top.expect_key = False
                    if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                        stack.append(
                            _Frame((*top.path, "?"), isinstance(ev, yaml.MappingStartEvent))
                        )
                    continue
                if top.is_map:
                    child = (*top.path, top.key if top.key is not None else "?")
                    top.expect_key = True
                else:
                    child = (*top.path, top.index)
                    marks[child] = mark
                    top.index += 1
            if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                stack.append(_Frame(child, isinstance(ev, yaml.MappingStartEvent)))
    except yaml.MarkedYAMLError as e:
        m = e.problem_mark or e.context_mark
        mark = (m.line + 1, m.column + 1) if m else (1, 1)
        rule = "yaml.tab" if "\t" in (e.problem or "") or "tab" in str(e.problem) else "yaml.syntax"
        problems.append(_finding(name, rule, f"YAML error: {e.problem or e}", mark))
    return marks, problems


class _Dumper(yaml.SafeDumper):
    """Block style, insertion order, no aliases, and long keys written plainly.

    PyYAML writes keys of 128 characters or more as ``? key`` explicit keys,
    which reviewers find baffling; tempest test names often are that long.
    YAML allows implicit keys up to 1024 characters, so we allow them too.
    """

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def check_simple_key(self) -> bool:
        if isinstance(self.event, yaml.ScalarEvent):
            if self.analysis is None:
                self.analysis = self.analyze_scalar(self.event.value)
            return (
                len(self.analysis.scalar) < 1024
                and not self.analysis.empty
                and not self.analysis.multiline
            )
        return bool(super().check_simple_key())


def dump(data: Any, schema_ref: str | None = None) -> str:
    body = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    if schema_ref:
        return f"# yaml-language-server: $schema={schema_ref}\n{body}"
    return body
