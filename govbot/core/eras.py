"""Eras: which process and which schema judged a change when it was made.

A program's rules change over its life. OpenStack's interop process went
through 2015A, 2015B, 2016A and 2017A; its guidelines through JSON schemas 1.2
to 2.0, each with its own vocabulary ("superceded" was the only spelling the
repository's schema allowed until 2017). Judging a 2015 commit by 2017A and
schema 2.0 blames it for rules that did not exist yet, so:

* a **process era** is chosen by the change's date, and rules cite that era's
  paragraph (``2015B.A4.5``) with its own words; a rule whose paragraph the
  era lacks does not apply then;
* a **schema era** is chosen by the version a file declares, and relaxes
  govbot's schema (a merge patch) and rules (test ids, flag details) to what
  that version allowed.

The table is data (``policies/eras.yaml``); this module only reads it. An
empty table means "today's rules only": every change is judged by the rules
as written in :mod:`govbot.core.rules` and govbot's own schema.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from govbot.core.policy import day_of

ERAS_FILE = "policies/eras.yaml"
PARAGRAPH = re.compile(r"^\d{4}[A-Z]\.(?P<paragraph>[A-Z]\d+\.\d+)$")


@dataclass(frozen=True)
class Scoring:
    """An era's Board-approved criteria for one kind of guideline."""

    criteria: tuple[str, ...]
    weight_sum: int | None = None
    cutoff: int | None = None


@dataclass(frozen=True)
class ProcessEra:
    id: str
    since: date
    document: str = ""
    paragraphs: Mapping[str, str] = field(default_factory=dict)
    scoring: Mapping[str, Scoring] = field(default_factory=dict)

    def cite(self, rule_id: str, text: str, cites: str | None = None) -> tuple[str, str] | None:
        """(id, text) a rule is cited by in this era, or None when the era has no such rule.

        Process rules carry a paragraph in their id (``2017A.A4.5``) and apply
        only in eras that have it; govbot's own rules may name the paragraph
        that backs them in some eras (``cites``), and keep their own id and
        text in the others.
        """
        m = PARAGRAPH.match(rule_id)
        paragraph = m.group("paragraph") if m else cites
        if paragraph is not None and paragraph in self.paragraphs:
            return f"{self.id}.{paragraph}", self.paragraphs[paragraph]
        return None if m else (rule_id, text)


@dataclass(frozen=True)
class SchemaEra:
    version: str
    document: str = ""
    statuses: Mapping[str, str] = field(default_factory=dict)
    test_ids: bool = True
    flag_fields: tuple[str, ...] = ("reason", "action")
    schema_patch: Mapping[str, Any] = field(default_factory=dict)

    def status(self, value: Any) -> Any:
        """govbot's name for a status spelled the way this version spelled it."""
        return self.statuses.get(value, value) if isinstance(value, str) else value


NO_PROCESS = ProcessEra("-", date.min)
"""Before the first era of a table: no process paragraph applies, only govbot's own rules."""

GOVBOT_SCHEMA = SchemaEra("govbot")
"""govbot's own guideline files: its schema as written, ids and flag details required."""


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)) or (0,)


def _scoring(data: Any) -> dict[str, Scoring]:
    out = {}
    for kind, spec in (data if isinstance(data, dict) else {}).items():
        if not isinstance(spec, dict):
            continue
        criteria = spec.get("criteria")
        weight_sum, cutoff = spec.get("weight_sum"), spec.get("cutoff")
        out[str(kind)] = Scoring(
            tuple(str(c) for c in criteria) if isinstance(criteria, list) else (),
            weight_sum if isinstance(weight_sum, int) else None,
            cutoff if isinstance(cutoff, int) else None,
        )
    return out


@dataclass(frozen=True)
class Eras:
    process: tuple[ProcessEra, ...] = ()
    schemas: tuple[SchemaEra, ...] = ()

    @classmethod
    def from_data(cls, data: Any) -> Eras:
        """The table from parsed ``eras.yaml``; malformed rows are skipped (validation names them)."""
        if not isinstance(data, dict):
            return cls()
        process = []
        for row in data.get("process") or []:
            since = day_of(row.get("since")) if isinstance(row, dict) else None
            if since is None or not isinstance(row.get("id"), str):
                continue
            paragraphs = row.get("paragraphs")
            process.append(
                ProcessEra(
                    row["id"],
                    since,
                    str(row.get("document") or ""),
                    {str(k): str(v) for k, v in paragraphs.items()}
                    if isinstance(paragraphs, dict)
                    else {},
                    _scoring(row.get("scoring")),
                )
            )
        schemas = []
        for row in data.get("schemas") or []:
            if not isinstance(row, dict) or row.get("version") is None:
                continue
            statuses, fields = row.get("statuses"), row.get("flag_fields")
            patch = row.get("schema_patch")
            schemas.append(
                SchemaEra(
                    str(row["version"]),
                    str(row.get("document") or ""),
                    {str(k): str(v) for k, v in statuses.items()}
                    if isinstance(statuses, dict)
                    else {},
                    bool(row.get("test_ids", True)),
                    tuple(str(f) for f in fields)
                    if isinstance(fields, list)
                    else ("reason", "action"),
                    patch if isinstance(patch, dict) else {},
                )
            )
        return cls(
            tuple(sorted(process, key=lambda e: e.since)),
            tuple(sorted(schemas, key=lambda s: _version(s.version))),
        )

    def at(self, when: date | datetime | None) -> ProcessEra | None:
        """The era in force on ``when`` (None: today's, the latest).

        None for an empty table (the rules as written apply); :data:`NO_PROCESS`
        before the table's first era, when no process was in force yet.
        """
        if not self.process:
            return None
        day = day_of(when) if when is not None else None
        if day is None:
            return self.process[-1]
        current = NO_PROCESS
        for era in self.process:
            if era.since <= day:
                current = era
        return current

    def schema(self, declared: Any) -> SchemaEra:
        """The vocabulary of a declared interop schema version (None: govbot's own format)."""
        if declared is None or not self.schemas:
            return GOVBOT_SCHEMA
        wanted = _version(str(declared))
        chosen = self.schemas[0]
        for era in self.schemas:
            if _version(era.version) <= wanted:
                chosen = era
        return chosen

    @property
    def fingerprint(self) -> str:
        material = json.dumps(
            [
                [(e.id, str(e.since), sorted(e.paragraphs.items())) for e in self.process],
                [
                    (s.version, sorted(s.statuses.items()), s.test_ids, s.flag_fields)
                    for s in self.schemas
                ],
                [s.schema_patch for s in self.schemas],
            ],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(material.encode()).hexdigest()[:16]


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: ``patch`` applied to a copy of ``target`` (null deletes a key)."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out
