"""A structural diff of guidelines: what a reviewer needs to see, not a line diff.

A line diff of a guideline says "line 1532 changed"; a committee needs
"compute-servers-lock: advisory -> required in os_powered_compute". Each
:class:`Change` names its guideline, a kind from a small vocabulary, the key
path it concerns (for locating it in the files) and the values before and
after, so rules and reports share one description of a change.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from govbot.core.content import designated_sections
from govbot.core.findings import KeyPath

STATUSES = ("required", "advisory", "deprecated", "removed")
SCALARS = (
    "status",
    "target_approval",
    "approved_on",
    "replaces",
    "releases",
    "source",
    "reference",
)


@dataclass(frozen=True)
class Change:
    guideline: str
    kind: str
    path: KeyPath
    before: Any = None
    after: Any = None
    subject: str = ""

    def describe(self) -> str:
        verb = _VERBS.get(self.kind, self.kind)
        if self.before is None and self.after is not None and not isinstance(self.after, dict):
            detail = f": {_short(self.after)}"
        elif self.after is None and self.before is not None and not isinstance(self.before, dict):
            detail = f" (was {_short(self.before)})"
        elif self.before is not None and self.after is not None:
            detail = f": {_short(self.before)} -> {_short(self.after)}"
        else:
            detail = ""
        return f"{self.subject or self.guideline} {verb}{detail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "guideline": self.guideline,
            "kind": self.kind,
            "path": ".".join(str(p) for p in self.path),
            "subject": self.subject,
            "before": self.before,
            "after": self.after,
        }


_VERBS = {
    "guideline.added": "added",
    "guideline.removed": "removed",
    "guideline.field": "changed",
    "capability.added": "defined",
    "capability.removed": "no longer defined",
    "capability.field": "changed",
    "capability.status": "status",
    "test.added": "added",
    "test.removed": "removed",
    "test.id": "idempotent id changed",
    "test.flag": "flag",
    "test.aliases": "aliases",
    "criterion.added": "added",
    "criterion.removed": "removed",
    "criterion.changed": "changed",
    "cutoff": "cut-off score",
    "program.components": "components",
    "section.status": "designated-section statuses",
    "section.changed": "designated sections changed",
    "section.designation": "designation",
    "other": "changed",
}


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def component_statuses(g: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(component, capability) -> status, for every listed capability."""
    out: dict[tuple[str, str], str] = {}
    for comp, body in _d(g.get("components")).items():
        for status, names in _d(_d(body).get("capabilities")).items():
            for name in names if isinstance(names, list) else []:
                if isinstance(name, str):
                    out.setdefault((comp, name), status)
    return out


def diff_guideline(
    key: str, base: Mapping[str, Any] | None, head: Mapping[str, Any] | None
) -> list[Change]:
    if base is None and head is None:
        return []
    if base is None:
        return [
            Change(key, "guideline.added", (), None, _d(head).get("status"), f"guideline {key}")
        ]
    if head is None:
        return [
            Change(key, "guideline.removed", (), _d(base).get("status"), None, f"guideline {key}")
        ]
    if base == head:
        return []
    return list(_diff(key, _d(base), _d(head)))


def _diff(key: str, base: dict[str, Any], head: dict[str, Any]) -> Iterator[Change]:
    for field in SCALARS:
        if base.get(field) != head.get(field):
            yield Change(
                key, "guideline.field", (field,), base.get(field), head.get(field), f"{key} {field}"
            )
    yield from _diff_scoring(key, _d(base.get("scoring")), _d(head.get("scoring")))
    for section in ("platforms", "add_ons"):
        b, h = _d(base.get(section)), _d(head.get(section))
        for program in sorted(b.keys() | h.keys()):
            if _d(b.get(program)) != _d(h.get(program)):
                yield Change(
                    key,
                    "program.components",
                    (section, program),
                    b.get(program),
                    h.get(program),
                    program,
                )
    yield from _diff_statuses(key, base, head)
    yield from _diff_capabilities(key, _d(base.get("capabilities")), _d(head.get("capabilities")))
    yield from _diff_sections(key, base, head)
    handled = {
        *SCALARS,
        "id",
        "scoring",
        "platforms",
        "add_ons",
        "components",
        "capabilities",
        "designated_sections",
    }
    for field in sorted((base.keys() | head.keys()) - handled):
        if base.get(field) != head.get(field):
            yield Change(key, "other", (field,), base.get(field), head.get(field), f"{key} {field}")


def _diff_scoring(key: str, base: dict[str, Any], head: dict[str, Any]) -> Iterator[Change]:
    if base.get("cutoff_score") != head.get("cutoff_score"):
        yield Change(
            key,
            "cutoff",
            ("scoring", "cutoff_score"),
            base.get("cutoff_score"),
            head.get("cutoff_score"),
            key,
        )
    b, h = _d(base.get("criteria")), _d(head.get("criteria"))
    for name in sorted(b.keys() | h.keys()):
        path = ("scoring", "criteria", name)
        if name not in h:
            yield Change(key, "criterion.removed", path, b[name], None, f"criterion {name}")
        elif name not in b:
            yield Change(key, "criterion.added", path, None, h[name], f"criterion {name}")
        else:
            for field in ("name", "weight", "description"):
                if _d(b[name]).get(field) != _d(h[name]).get(field):
                    yield Change(
                        key,
                        "criterion.changed",
                        (*path, field),
                        _d(b[name]).get(field),
                        _d(h[name]).get(field),
                        f"criterion {name} {field}",
                    )


def _diff_statuses(key: str, base: dict[str, Any], head: dict[str, Any]) -> Iterator[Change]:
    b, h = component_statuses(base), component_statuses(head)
    for comp, cap in sorted(b.keys() | h.keys()):
        before, after = b.get((comp, cap)), h.get((comp, cap))
        if before != after:
            status_path: KeyPath = ("components", comp, "capabilities", after or before or "")
            yield Change(key, "capability.status", status_path, before, after, f"{cap} in {comp}")


def _diff_capabilities(key: str, base: dict[str, Any], head: dict[str, Any]) -> Iterator[Change]:
    for cap in sorted(base.keys() | head.keys()):
        path: KeyPath = ("capabilities", cap)
        if cap not in head:
            yield Change(key, "capability.removed", path, base[cap], None, f"capability {cap}")
            continue
        if cap not in base:
            yield Change(key, "capability.added", path, None, head[cap], f"capability {cap}")
        b, h = _d(base.get(cap)), _d(head[cap])
        if b == h:
            continue
        if cap in base:
            for field in sorted((b.keys() | h.keys()) - {"tests"}):
                if b.get(field) != h.get(field):
                    yield Change(
                        key,
                        "capability.field",
                        (*path, field),
                        b.get(field),
                        h.get(field),
                        f"{cap} {field}",
                    )
        yield from _diff_tests(key, cap, _d(b.get("tests")), _d(h.get("tests")))


def _diff_tests(key: str, cap: str, base: dict[str, Any], head: dict[str, Any]) -> Iterator[Change]:
    for test in sorted(base.keys() | head.keys()):
        path: KeyPath = ("capabilities", cap, "tests", test)
        b, h = _d(base.get(test)), _d(head.get(test))
        if test not in head:
            yield Change(
                key, "test.removed", path, b.get("idempotent_id"), None, f"test {test} ({cap})"
            )
        elif test not in base:
            yield Change(
                key, "test.added", path, None, h.get("idempotent_id"), f"test {test} ({cap})"
            )
        else:
            if b.get("idempotent_id") != h.get("idempotent_id"):
                yield Change(
                    key,
                    "test.id",
                    (*path, "idempotent_id"),
                    b.get("idempotent_id"),
                    h.get("idempotent_id"),
                    f"test {test}",
                )
            if b.get("flagged") != h.get("flagged"):
                yield Change(
                    key,
                    "test.flag",
                    (*path, "flagged"),
                    b.get("flagged"),
                    h.get("flagged"),
                    f"test {test}",
                )
            if b.get("aliases") != h.get("aliases"):
                yield Change(
                    key,
                    "test.aliases",
                    (*path, "aliases"),
                    b.get("aliases"),
                    h.get("aliases"),
                    f"test {test}",
                )


def section_statuses(g: Mapping[str, Any]) -> dict[str, set[str]]:
    """project -> the designated-section statuses it has."""
    return {p: set(_d(body)) for p, body in _d(g.get("designated_sections")).items()}


def _diff_sections(key: str, base: dict[str, Any], head: dict[str, Any]) -> Iterator[Change]:
    b, h = _d(base.get("designated_sections")), _d(head.get("designated_sections"))
    for project in sorted(b.keys() | h.keys()):
        path: KeyPath = ("designated_sections", project)
        before, after = sorted(_d(b.get(project))), sorted(_d(h.get(project)))
        if before != after:
            yield Change(
                key,
                "section.status",
                path,
                before or None,
                after or None,
                f"designated sections of {project}",
            )
        elif b.get(project) != h.get(project):
            yield Change(
                key, "section.changed", path, None, None, f"designated sections of {project}"
            )
    yield from _diff_designations(key, base, head)
    for comp in sorted(_d(base.get("components")).keys() | _d(head.get("components")).keys()):
        bs = _d(_d(_d(base.get("components")).get(comp)).get("designated_sections"))
        hs = _d(_d(_d(head.get("components")).get(comp)).get("designated_sections"))
        if bs != hs:
            yield Change(
                key,
                "section.status",
                ("components", comp, "designated_sections"),
                bs or None,
                hs or None,
                f"designated sections of {comp}",
            )


def _designation(entry: Mapping[str, bool] | None) -> str | None:
    """``required, designated`` / ``advisory, not designated``: how a section stands."""
    if not entry:
        return None
    return "; ".join(
        f"{status}, {'designated' if on else 'not designated'}"
        for status, on in sorted(entry.items())
    )


def _diff_designations(key: str, base: dict[str, Any], head: dict[str, Any]) -> Iterator[Change]:
    """One change per named section whose status or designation moves (A3.1, A3.2 per section)."""
    b, h = designated_sections(base), designated_sections(head)
    for project, section in sorted(k for k in b.keys() | h.keys() if k[1] is not None):
        before, after = (
            _designation(b.get((project, section))),
            _designation(h.get((project, section))),
        )
        if before != after:
            status = next(iter(sorted(h.get((project, section)) or b[(project, section)])))
            yield Change(
                key,
                "section.designation",
                ("designated_sections", project, status, "sections", str(section)),
                before,
                after,
                f"designated section {section!r} of {project}",
            )


def diff_documents(base: Mapping[str, Any], head: Mapping[str, Any]) -> list[Change]:
    """Diff two {key: guideline data} maps (data None for unusable files)."""
    changes: list[Change] = []
    for key in sorted(base.keys() | head.keys()):
        changes.extend(diff_guideline(key, base.get(key), head.get(key)))
    return changes
