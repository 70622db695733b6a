"""Filling in the committee's account ids: what to change in ``committee.yaml``, and the edit.

``committee.yaml`` names each member's immutable account ids (``github_id``,
``gerrit_id``); only they identify a voter. An existing roster may name only
logins: :func:`plan` compares each login's id on the forge with the one on
record, and :func:`apply` writes the ids into the YAML text in place, next to
the login they belong to, so the file keeps its comments, order and layout. An id
on record that differs from the forge's is never replaced unless forced: a
login that now answers with another id is the takeover the ids exist to stop,
and a person must look at it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from govbot.core.yamlio import dump

FORGES = ("github", "gerrit")


@dataclass(frozen=True)
class Entry:
    """One member's account on one forge, and what to do with its id.

    ``status``: "added" (no id on record), "same", "mismatch" (the record and the
    forge disagree; replaced only with force: "replaced"), "not-found" (the forge
    knows no such login).
    """

    index: int  # the member's position in ``members``
    name: str
    forge: str
    login: str
    recorded: str | None
    found: str | None
    status: str

    @property
    def writes(self) -> bool:
        return self.status in ("added", "replaced")


class RosterError(ValueError):
    """The roster cannot be read or edited."""


def members_of(text: str) -> list[dict[str, Any]]:
    data = yaml.safe_load(text)
    members = data.get("members") if isinstance(data, dict) else None
    if not isinstance(members, list):
        raise RosterError("committee.yaml has no list of members")
    return [m if isinstance(m, dict) else {} for m in members]


def plan(
    text: str,
    lookup: Callable[[str, str], str | None],
    forges: Iterable[str] = FORGES,
    force: bool = False,
) -> list[Entry]:
    """Every (member, forge) with a login: the id the forge gives ``lookup(forge, login)``
    against the one on record."""
    entries = []
    for i, m in enumerate(members_of(text)):
        for forge in forges:
            login = m.get(forge)
            if not isinstance(login, str) or not login:
                continue
            raw = m.get(f"{forge}_id")
            recorded = None if raw is None else str(raw)
            found = lookup(forge, login)
            if found is None:
                status = "not-found"
            elif recorded is None:
                status = "added"
            elif recorded == found:
                status = "same"
            else:
                status = "replaced" if force else "mismatch"
            name = str(m.get("name") or login)
            entries.append(Entry(i, name, forge, login, recorded, found, status))
    return entries


def apply(text: str, entries: Iterable[Entry]) -> str:
    """``text`` with the ids of the entries that write set: in place in a block-style
    roster (a new ``<forge>_id:`` line right under the login's, at its indentation; an
    existing value replaced on its line), else the whole file dumped again (comments lost).
    """
    edits = {(e.index, e.forge): int(e.found) if e.found and e.found.isdigit() else e.found
             for e in entries if e.writes}  # fmt: skip
    if not edits:
        return text
    try:
        edited = _in_place(text, edits)
    except _NotInPlace:
        data = yaml.safe_load(text)
        for (i, forge), value in edits.items():
            data["members"][i][f"{forge}_id"] = value
        edited = dump(data)
    _check(text, edited, edits)
    return edited


class _NotInPlace(Exception):
    pass


def _in_place(text: str, edits: Mapping[tuple[int, str], Any]) -> str:
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        raise _NotInPlace
    members = next(
        (v for k, v in root.value if isinstance(k, yaml.ScalarNode) and k.value == "members"),
        None,
    )
    if not isinstance(members, yaml.SequenceNode) or members.flow_style:
        raise _NotInPlace
    lines = text.splitlines(keepends=True)
    # (line, column of the value's start, column of its end or None to insert, new text)
    changes: list[tuple[int, int, int | None, str]] = []
    for (i, forge), value in edits.items():
        node = members.value[i]
        if not isinstance(node, yaml.MappingNode) or node.flow_style:
            raise _NotInPlace
        keys = {k.value: (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}
        if f"{forge}_id" in keys:
            _, v = keys[f"{forge}_id"]
            if not isinstance(v, yaml.ScalarNode) or v.start_mark.line != v.end_mark.line:
                raise _NotInPlace
            changes.append((v.start_mark.line, v.start_mark.column, v.end_mark.column, str(value)))
        else:
            k, v = keys[forge]
            if v.start_mark.line != v.end_mark.line or k.start_mark.line != v.end_mark.line:
                raise _NotInPlace
            changes.append((v.end_mark.line, k.start_mark.column, None, f"{forge}_id: {value}"))
    for line, start, end, new in sorted(changes, reverse=True):
        if line >= len(lines):
            raise _NotInPlace
        if end is None:
            ending = "\n" if lines[line].endswith("\n") else ""
            if not ending:
                lines[line] += "\n"
            lines.insert(line + 1, " " * start + new + "\n")
        else:
            old = lines[line]
            lines[line] = old[:start] + new + old[end:]
    return "".join(lines)


def _check(before: str, after: str, edits: Mapping[tuple[int, str], Any]) -> None:
    """The edited roster reads as the old one with exactly these ids set, nothing else."""
    want = yaml.safe_load(before)
    for (i, forge), value in edits.items():
        want["members"][i][f"{forge}_id"] = value
    if yaml.safe_load(after) != want:
        raise RosterError("editing committee.yaml in place went wrong; nothing was written")
