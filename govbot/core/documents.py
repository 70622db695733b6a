"""Governed documents in either form: govbot YAML or interop JSON, parsed alike.

govbot must check the history of repositories that predate it (the interop
repo keeps its guidelines as JSON at the top level), so a JSON guideline is
read, converted to govbot's form in memory, and judged by the same schema and
rules, with findings still pointing at the JSON file's own lines.
"""

from __future__ import annotations

import json
from typing import Any

from govbot.core.findings import Finding, KeyPath, Severity
from govbot.core.interop import interop_schema_of, to_govbot
from govbot.core.yamlio import DEFAULT_MAX_BYTES, Parsed, decode, parse_text

_METADATA = {"id", "reference", "source", "scoring"}
_APPROVAL = {"target_approval", "replaces", "releases", "status"}


def parse_document(path: str, raw: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Parsed:
    text, problems = decode(path, raw, max_bytes)
    if text is None:
        return Parsed(path, None, None, problems)
    if path.endswith(".json"):
        return parse_interop_json(path, text)
    return parse_text(path, text)


def parse_interop_json(path: str, text: str) -> Parsed:
    """A JSON guideline, converted to govbot's form; JSON errors are located findings."""
    doc, findings = load_json(path, text)
    if doc is None and findings:  # a syntax error: nothing is readable
        return Parsed(path, text, None, findings)
    if not isinstance(doc, dict):
        return Parsed(
            path, text, None, [_error(path, "json.not-an-object", "a guideline is a JSON object")]
        )
    # A duplicate key is a defect of its own, not an unreadable file: the data is
    # what every JSON reader of the time saw (the last value wins), so it is
    # judged like any other, and the duplicate is reported beside it.
    v2 = isinstance(doc.get("metadata"), dict)
    return Parsed(path, text, to_govbot(doc), findings, _v2_source_path if v2 else None)


def load_json(path: str, text: str) -> tuple[Any, list[Finding]]:
    """json.loads that reports duplicate keys instead of silently keeping the last."""
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in items:
            if k in out:
                duplicates.append(k)
            out[k] = v
        return out

    try:
        doc = json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as e:
        return None, [_error(path, "json.syntax", f"invalid JSON: {e.msg}", (e.lineno, e.colno))]
    return doc, [
        _error(
            path,
            "json.duplicate-key",
            f"duplicate key {k!r}: JSON parsers keep only the last value, so one is silently lost",
            _second_occurrence(text, k),
        )
        for k in duplicates
    ]


def _v2_source_path(path: KeyPath) -> KeyPath:
    """Where a govbot path lives in the interop 2.0 JSON it was converted from."""
    if not path:
        return path
    head, rest = path[0], path[1:]
    if head == "interop_schema":
        return ("metadata", "schema", *rest)
    if head == "interop_metadata":
        return ("metadata", *rest)
    if head in _METADATA:
        return ("metadata", head, *rest)
    if head in _APPROVAL:
        return ("metadata", "os_trademark_approval", head, *rest)
    if head == "add_ons":
        return ("add-ons", *rest)
    return path


def _second_occurrence(text: str, key: str) -> tuple[int, int]:
    needle = json.dumps(key)
    first = text.find(needle)
    second = text.find(needle, first + 1) if first >= 0 else -1
    offset = second if second >= 0 else max(first, 0)
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _error(path: str, rule: str, message: str, mark: tuple[int, int] = (1, 1)) -> Finding:
    return Finding(path, rule, message, Severity.ERROR, mark[0], mark[1])


__all__ = ["interop_schema_of", "parse_document"]
