"""Judging a proposed change: validation of what it touches, the diff, the process rules.

Everything is decided by the *base* snapshot's policies; the head's copies of
``policies/`` are validated like any other file but never consulted, so a
change cannot loosen the rules that judge it.

A change answers for what it does, not for what it inherits:

* only the guidelines it touches are judged; approving a guideline moves
  ``next``'s predecessor, but does not make ``next``'s old differences new;
* a touched guideline's findings are compared with those of what it was
  before (itself, or for a new file the draft it was cut from and the
  approved guideline it follows), judged against the old *and* the new
  predecessor: what was already there is inherited, shown as a warning, and
  never blocks;
* readability is per defect: a duplicate key leaves a file readable (and
  judged); a syntax error the head introduces always blocks, at its line.

The process in force at the change's date (``when``) picks the rules and the
words they are cited in (:mod:`govbot.core.eras`); each file is judged in the
vocabulary of the schema it declares.

Cost follows the size of the change, not of the repo: only changed guidelines
and what they came from are parsed. Choosing predecessors needs every
guideline's status, which is read from the top-level ``status:`` line of
block YAML without parsing the file.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from functools import cached_property
from typing import Any

from govbot.core import layout, policy_links
from govbot.core.content import TestIndex, d
from govbot.core.diff import Change, diff_guideline
from govbot.core.documents import parse_document
from govbot.core.eras import ERAS_FILE, GOVBOT_SCHEMA, Eras, ProcessEra, SchemaEra
from govbot.core.findings import Finding, Severity, sort_findings
from govbot.core.layout import guideline_key, guideline_kind
from govbot.core.rules import (
    FROZEN,
    RULES,
    Hit,
    Rule,
    StateContext,
    TransitionContext,
    is_draft,
    kind_of,
    predecessors,
    scored,
    split_key,
)
from govbot.core.timeline import Timeline, TimelineError
from govbot.core.validate import (
    FindingsCache,
    SchemaSet,
    ValidationPolicy,
    classify,
    validate_files,
)
from govbot.core.yamlio import DEFAULT_MAX_BYTES, Parsed, parse_bytes

PENDING = ("review", "advisory")
"""Statuses of a guideline presented to the Board and awaiting its approval."""
_STATUS_LINE = re.compile(rb"^status:[ \t]*['\"]?([A-Za-z]+)['\"]?[ \t]*(?:#.*)?$", re.M)


@dataclass(frozen=True)
class RulesPolicy:
    severities: Mapping[str, str] = field(default_factory=dict)
    transitions: Mapping[str, list[str]] = field(
        default_factory=lambda: {
            "draft": ["review", "advisory", "approved"],
            "review": ["draft", "approved"],
            "advisory": ["draft", "approved"],
            "approved": ["superseded"],
            "superseded": [],
        }
    )
    initial: list[str] = field(default_factory=lambda: ["draft", "review", "advisory", "approved"])

    @classmethod
    def from_data(cls, data: Any) -> RulesPolicy:
        if not isinstance(data, dict):
            return cls()
        default = cls()
        rules = data.get("rules")
        rules = rules if isinstance(rules, dict) else {}
        return cls(
            severities={k: str(v.get("severity")) for k, v in rules.items() if isinstance(v, dict)},
            transitions=data.get("status_transitions") or default.transitions,
            initial=data.get("initial_statuses") or default.initial,
        )

    def severity(self, rule: Rule, cited: str | None = None) -> Severity | None:
        """The policy's severity for a rule, by the id it is cited by in the era, else its own."""
        chosen = self.severities.get(cited) if cited else None
        chosen = chosen if chosen is not None else self.severities.get(rule.id)
        if chosen == "off":
            return None
        return Severity(chosen) if chosen in {s.value for s in Severity} else rule.severity


Parser = Callable[[str, bytes, int], Parsed]


def memo_parser() -> Parser:
    """One parse per (path, content): base and head share most files, and so do commits."""
    memo: dict[tuple[str, bytes], Parsed] = {}

    def parse(path: str, raw: bytes, max_bytes: int) -> Parsed:
        key = (path, raw)
        if key not in memo:
            memo[key] = parse_document(path, raw, max_bytes)
        return memo[key]

    return parse


class Side:
    """One snapshot's guideline files, parsed lazily (only what a check needs)."""

    def __init__(
        self, files: Mapping[str, bytes], parse: Parser = parse_document, eras: Eras | None = None
    ) -> None:
        self.files = files
        self._parse = parse
        self._eras = eras or Eras()
        self.paths: dict[str, str] = {}
        for path in sorted(files):
            key = guideline_key(path)
            if not guideline_kind(path) or (path.endswith(".json") and key in self.paths):
                continue  # govbot's YAML wins over an interop JSON file of the same id
            self.paths[key] = path
        self._parsed: dict[str, Parsed] = {}

    def parsed(self, key: str) -> Parsed | None:
        path = self.paths.get(key)
        if path is None:
            return None
        if key not in self._parsed:
            self._parsed[key] = self._parse(path, self.files[path], DEFAULT_MAX_BYTES)
        return self._parsed[key]

    def data(self, key: str) -> dict[str, Any] | None:
        parsed = self.parsed(key)
        return parsed.data if parsed is not None and isinstance(parsed.data, dict) else None

    def readable(self, key: str) -> bool:
        return self.data(key) is not None

    def schema(self, key: str) -> SchemaEra:
        data = self.data(key)
        return self._eras.schema(data.get("interop_schema")) if data is not None else GOVBOT_SCHEMA

    @cached_property
    def statuses(self) -> dict[str, dict[str, Any]]:
        """{key: {"status": ...}} for every guideline, in govbot's words: enough for predecessors."""
        out = {}
        for key, path in self.paths.items():
            status = None
            if path.endswith(".yaml"):
                m = _STATUS_LINE.search(self.files[path])
                status = m.group(1).decode() if m else None
            if status is None:
                status = (self.data(key) or {}).get("status")
            out[key] = {
                "status": self.schema(key).status(status) if path.endswith(".json") else status
            }
        return out

    @cached_property
    def _predecessors(self) -> dict[str, str | None]:
        return predecessors(self.statuses)

    def predecessor(self, key: str) -> str | None:
        """The newest approved guideline before ``key`` (A1.1), or the one it declares it
        replaces when that one is newer and before the Board (in review, advisory): a
        draft is prepared to follow the guideline the Board is about to approve."""
        if key in self.paths:
            found = self._predecessors.get(key)
        else:
            found = predecessors({**self.statuses, key: {"status": "draft"}}).get(key)
        declared = (self.data(key) or {}).get("replaces") if key in self._parsed else None
        if (
            isinstance(declared, str)
            and declared != found
            and declared in self.paths
            and not is_draft(declared)
            and self.statuses[declared]["status"] in PENDING
            and (split_key(declared) or ("?", ""))[0] == (split_key(key) or ("", ""))[0]
            and (
                found is None
                or (split_key(declared) or ("", ""))[1] > (split_key(found) or ("", ""))[1]
            )
        ):
            return declared
        return found


@dataclass(frozen=True)
class Score:
    guideline: str
    capability: str
    status: str
    score: int
    cutoff: int

    @property
    def verdict(self) -> str:
        meets = self.score >= self.cutoff
        if self.status == "required":
            return "meets the cut-off" if meets else "BELOW the cut-off"
        if self.status == "advisory" and meets:
            return "candidate for required"
        return "meets the cut-off" if meets else "below the cut-off"


@dataclass
class CheckResult:
    findings: list[Finding]
    changes: list[Change]
    changed_files: list[str]
    era: str | None = None
    """The process era the change was judged by (None: no era table, today's rules)."""
    scores: list[Score] = field(default_factory=list)
    """Each capability the change touches, scored against its guideline's cut-off."""

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity is Severity.ERROR)


def load_policies(
    files: Mapping[str, bytes], default_eras: Eras | None = None
) -> tuple[ValidationPolicy, RulesPolicy, Eras]:
    from govbot.core.validate import policy_from_files

    validation, _ = policy_from_files(files)
    raw = files.get(layout.RULES)
    rules = (
        RulesPolicy.from_data(parse_bytes(layout.RULES, raw).data)
        if raw is not None
        else RulesPolicy()
    )
    raw = files.get(ERAS_FILE)
    eras = Eras.from_data(parse_bytes(ERAS_FILE, raw).data) if raw is not None else None
    return validation, rules, eras or default_eras or Eras()


@dataclass
class Memo:
    """What a check may reuse from the checks before it (a replay of history shares one)."""

    parse: Parser = field(default_factory=memo_parser)
    hits: dict[tuple[Any, ...], list[Hit]] = field(default_factory=dict)


def check(
    base_files: Mapping[str, bytes],
    head_files: Mapping[str, bytes],
    schemas: SchemaSet,
    cache: FindingsCache | None = None,
    policy_files: Mapping[str, bytes] | None = None,
    *,
    when: date | datetime | None = None,
    memo: Memo | None = None,
    locate_inherited: bool = True,
) -> CheckResult:
    """Judge the change from ``base_files`` to ``head_files``, made at ``when`` (None: today).

    The rules come from ``policy_files`` (the governed branch's, pinned by the
    bot) or, by default, from the base: never from the head, so a change
    cannot loosen the rules that judge it. ``locate_inherited=False`` leaves
    inherited findings at line 0: a replay of history reports verdicts, and
    locating every old defect of every commit would double its cost.
    """
    validation_policy, rules_policy, eras = load_policies(
        base_files if policy_files is None else policy_files, schemas.eras
    )
    schemas = _with_eras(schemas, eras)
    era = eras.at(when)
    memo = memo or Memo()
    changed = sorted(p for p, raw in head_files.items() if classify(p) and base_files.get(p) != raw)
    deleted = sorted(p for p in base_files if classify(p) and p not in head_files)
    base, head = Side(base_files, memo.parse, eras), Side(head_files, memo.parse, eras)
    retired = _retired(changed, base, head)
    findings = _validate_changed(
        changed, base, head, schemas, validation_policy, cache, memo, retired, locate_inherited
    )
    if any(p in policy_links.FILES for p in [*changed, *deleted]):
        findings += _links_introduced(base_files, head_files, validation_policy)
    touched = sorted({guideline_key(p) for p in [*changed, *deleted] if guideline_kind(p)})
    approving = {
        (split_key(k) or ("", ""))[0]
        for k in touched
        if head.statuses.get(k, {}).get("status") == "approved"
        and base.statuses.get(k, {}).get("status") != "approved"
    }
    instant = _instant(when)
    judge = _Judge(
        base,
        head,
        rules_policy,
        era,
        memo,
        approving,
        _timeline(base_files),
        instant,
        locate_inherited,
    )
    changes: list[Change] = []
    scores: list[Score] = []
    for key in touched:
        if head.paths.get(key) in retired:
            continue
        diff = _diff(key, base, head)
        changes.extend(diff)
        findings.extend(judge(key))
        scores.extend(_scores(key, diff, head, era))
    return CheckResult(
        sort_findings(findings), changes, [*changed, *deleted], era.id if era else None, scores
    )


def _scores(key: str, changes: list[Change], head: Side, era: ProcessEra | None) -> list[Score]:
    """The capabilities a change touches (status, achievements, tests), scored (A4.4)."""
    g = head.data(key)
    if g is None:
        return []
    touched = set()
    for c in changes:
        if c.path[:1] == ("capabilities",) and len(c.path) > 1:
            touched.add(str(c.path[1]))
        elif c.kind == "capability.status":
            touched.add(c.subject.split(" in ")[0])
    spec = era.scoring.get(kind_of(key)) if era is not None else None
    return [
        Score(key, cap, status, points, limit)
        for _, cap, status, points, limit in scored(g, spec.cutoff if spec else None)
        if cap in touched
    ]


def _instant(when: date | datetime | None) -> datetime | None:
    """The change's time as an aware instant (a bare date: its start, UTC)."""
    if when is None:
        return None
    if isinstance(when, datetime):
        return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    return datetime.combine(when, time(0), tzinfo=UTC)


def _timeline(files: Mapping[str, bytes]) -> Timeline | None:
    """The base's process calendar, if it has a usable one (validation reports a broken one)."""
    raw = files.get(layout.TIMELINE)
    if raw is None:
        return None
    try:
        return Timeline.from_data(parse_bytes(layout.TIMELINE, raw).data)
    except TimelineError:
        return None


_WITH_ERAS: dict[tuple[str, str], SchemaSet] = {}


def _with_eras(schemas: SchemaSet, eras: Eras) -> SchemaSet:
    """The same schemas, with a repo's own era table (policies/eras.yaml on its base);
    compiled once per table, and not at all when it is the bundled one."""
    if eras.fingerprint == schemas.eras.fingerprint:
        return schemas
    key = (schemas.fingerprint, eras.fingerprint)
    if key not in _WITH_ERAS:
        if len(_WITH_ERAS) >= 8:
            _WITH_ERAS.pop(next(iter(_WITH_ERAS)))
        _WITH_ERAS[key] = SchemaSet(schemas.sources, eras)
    return _WITH_ERAS[key]


def _links_introduced(
    base_files: Mapping[str, bytes], head_files: Mapping[str, bytes], policy: ValidationPolicy
) -> list[Finding]:
    """The cross-policy findings of the head that the base does not have already."""
    severity = policy.severity(policy_links.RULE, False)
    before = {(f.path, f.message) for f in policy_links.check(base_files, severity)}
    return [
        f for f in policy_links.check(head_files, severity) if (f.path, f.message) not in before
    ]


PARSE_RULES = ("yaml.", "json.")
INHERITED = "(already in the base version) "
UNKNOWN_BASE = "(the base version is unreadable, so this may be inherited) "
RETIRED = "(retired: its guideline moved to {new} in this change) "


def _origins(path: str, base: Side) -> list[str]:
    """The base files a head file was made from (see :func:`_origin_keys`)."""
    if not guideline_kind(path):
        return [path] if path in base.files else []
    keys = _origin_keys(guideline_key(path), base)
    if path in base.files and base.paths.get(guideline_key(path)) != path:
        keys = keys[1:]  # an interop JSON shadowed by govbot's YAML of the same id
        return [path, *(base.paths[k] for k in keys)]
    return [base.paths[k] for k in keys]


def _origin_keys(key: str, base: Side) -> list[str]:
    """Itself if it exists; for a dated guideline also the drafts of its family, since a
    release is cut from (and kept in sync with) the draft; for a new one (a new
    release, or a draft renamed as 2015B did) the drafts of its family and the
    approved guideline it follows (A1.1)."""
    parts = split_key(key)
    if parts is None or (is_draft(key) and key in base.paths):
        return [key] if key in base.paths else []
    drafts = [
        k
        for k in base.paths
        if k != key and is_draft(k) and (split_key(k) or ("?", ""))[0] == parts[0]
    ]
    if key in base.paths:
        return [key, *sorted(drafts)]
    previous = base.predecessor(key)
    return sorted({*drafts, *([previous] if previous else [])})


def _retired(changed: list[str], base: Side, head: Side) -> dict[str, str]:
    """Drafts left unreadable by a change that moved their guideline to a new draft file.

    2015B renamed the draft from ``2016.next.json`` to ``next.json`` (A1.2), and
    the commit that did it left a pointer in the old file: not a broken
    guideline, a retired one. {old path: new path}.
    """
    out = {}
    new_drafts = [
        p
        for p in changed
        if p not in base.files and guideline_kind(p) and is_draft(guideline_key(p))
    ]
    for path in changed:
        key = guideline_key(path)
        if path not in base.files or not guideline_kind(path) or head.readable(key):
            continue
        for new in new_drafts:
            if path in _origins(new, base) and head.readable(guideline_key(new)):
                out[path] = new
    return out


def _validate_changed(
    changed: list[str],
    base: Side,
    head: Side,
    schemas: SchemaSet,
    policy: ValidationPolicy,
    cache: FindingsCache | None,
    memo: Memo,
    retired: Mapping[str, str],
    locate_inherited: bool = True,
) -> list[Finding]:
    """Validation of the changed files, blocking only on what the change introduces.

    A head finding is inherited when the file it was made from has it (same
    rule, and the same key path or the same message: a renamed test keeps its
    defect); inherited errors are reported as warnings, other inherited
    findings are left out. A syntax error is judged on its own: introduced
    when the base file was readable (or new), inherited when it was not.
    """

    def unlocated(side: Side, paths: Iterable[str]) -> list[Finding]:
        # only what is reported gets located, at the end (walking a file for marks is dear)
        files = {p: side.files[p] for p in paths}
        return validate_files(files, schemas, policy, cache, memo.parse, whole=False, locate=False)

    head_findings = unlocated(head, changed)
    origins = {p: _origins(p, base) for p in changed}
    base_findings = unlocated(base, sorted({o for os_ in origins.values() for o in os_}))
    by_file: dict[str, list[Finding]] = {}
    for f in base_findings:
        by_file.setdefault(f.file, []).append(f)
    out: list[Finding] = []
    for path in changed:
        mine = [f for f in head_findings if f.file == path]
        readable = [o for o in origins[path] if not guideline_kind(o) or _readable_path(base, o)]
        # the file's own base version unreadable (a commit fixing it): nothing says what is new
        unknown = bool(origins[path]) and (
            not readable or (path in base.files and path not in readable)
        )
        head_data = head.data(guideline_key(path)) if guideline_kind(path) else None
        known = _Known()
        for o in readable:
            origin_data = base.data(guideline_key(o)) if guideline_kind(o) else None
            known.add(by_file.get(o, []), origin_data, head_data)
        head_readable = head_data is not None or not guideline_kind(path)
        for f in mine:
            if path in retired:
                f = replace(
                    f,
                    severity=Severity.NOTICE,
                    message=RETIRED.format(new=retired[path]) + f.message,
                )
            elif f.rule.startswith(PARSE_RULES) and not head_readable:
                if unknown:  # still unreadable: the change did not break it
                    f = replace(
                        f, severity=Severity.WARNING, message=INHERITED + f.message, inherited=True
                    )
            elif unknown:
                if f.severity is Severity.ERROR:
                    f = replace(
                        f,
                        severity=Severity.WARNING,
                        message=UNKNOWN_BASE + f.message,
                        inherited=True,
                    )
            elif known.take(f):
                if f.severity is not Severity.ERROR:
                    continue  # an old warning is not this change's business
                f = replace(
                    f, severity=Severity.WARNING, message=INHERITED + f.message, inherited=True
                )
            out.append(f)
    return _located(out, head, memo, locate_inherited)


def _located(
    findings: list[Finding], head: Side, memo: Memo, locate_inherited: bool
) -> list[Finding]:
    """Line and column for the findings validation left unlocated, one pass per file."""
    out = list(findings)
    by_file: dict[str, list[int]] = {}
    for i, f in enumerate(out):
        if f.line == 0 and (locate_inherited or not f.inherited) and f.file in head.files:
            by_file.setdefault(f.file, []).append(i)
    for path, indexes in by_file.items():
        parsed = memo.parse(path, head.files[path], DEFAULT_MAX_BYTES)
        marks = parsed.locate([out[i].path for i in indexes])
        for i, (line, column) in zip(indexes, marks, strict=True):
            out[i] = replace(out[i], line=line, column=column)
    return out


def _readable_path(side: Side, path: str) -> bool:
    parsed = side._parse(path, side.files[path], DEFAULT_MAX_BYTES)
    return isinstance(parsed.data, dict)


class _Known:
    """Findings a file already had, matched by (rule, path, message), by (rule, message),
    or for a finding about a test by (rule, capability, the test's identity): a test
    renamed with its old name kept as an alias keeps its old defect, not a new one."""

    def __init__(self) -> None:
        self.counters: list[tuple[Counter[tuple[Any, ...]], Callable[[Finding], Any]]] = []

    def add(
        self,
        findings: Iterable[Finding],
        origin: Mapping[str, Any] | None,
        head: Mapping[str, Any] | None,
    ) -> None:
        findings = list(findings)
        keys: list[tuple[Callable[[Finding], Any], Callable[[Finding], Any]]] = [
            (lambda f: (f.rule, f.path, f.message),) * 2,
            (lambda f: (f.rule, f.message),) * 2,
        ]
        if origin is not None and head is not None:
            index = TestIndex.of(origin)
            keys.append((_test_key(index, origin), _test_key(index, head)))
        for base_key, head_key in keys:
            counter = Counter(k for f in findings if (k := base_key(f)) is not None)
            self.counters.append((counter, head_key))

    def take(self, f: Finding) -> bool:
        for counter, key in self.counters:
            k = key(f)
            if k is not None and counter[k] > 0:
                counter[k] -= 1
                return True
        return False


def _test_key(index: TestIndex, g: Mapping[str, Any]) -> Callable[[Finding], Any]:
    caps = d(g.get("capabilities"))

    def key(f: Finding) -> Any:
        p = f.path
        if len(p) < 4 or p[0] != "capabilities" or p[2] != "tests" or not isinstance(p[3], str):
            return None
        details = d(d(d(caps.get(str(p[1]))).get("tests")).get(p[3]))
        return (f.rule, p[1], index.identity(p[3], details), p[4:])

    return key


def _diff(key: str, base: Side, head: Side) -> list[Change]:
    b, h = base.data(key), head.data(key)
    if (b is None and key in base.paths) or (h is None and key in head.paths):
        return []  # an unreadable side: validation already says why
    return diff_guideline(key, b, h)


class _Judge:
    """The process rules of one era, applied to each guideline a change touches."""

    def __init__(
        self,
        base: Side,
        head: Side,
        policy: RulesPolicy,
        era: ProcessEra | None,
        memo: Memo,
        approving: set[str],
        timeline: Timeline | None = None,
        when: datetime | None = None,
        locate_inherited: bool = True,
    ) -> None:
        self.base, self.head, self.policy, self.era, self.memo = base, head, policy, era, memo
        self.locate_inherited = locate_inherited
        self.params = {
            "transitions": policy.transitions,
            "initial": policy.initial,
            "approving": frozenset(approving),
            "timeline": timeline,
            "when": when,
        }

    def cite(self, rule: Rule) -> tuple[str, str] | None:
        if self.era is None:
            return rule.id, rule.text
        return self.era.cite(rule.id, rule.text, rule.cites)

    def state_hits(
        self, rule: Rule, key: str, side: Side, as_key: str, pred: str | None, pred_side: Side
    ) -> list[Hit]:
        g, p = side.data(as_key), pred_side.data(pred) if pred else None
        if g is None:
            return []
        memo_key = (rule.id, key, id(g), id(p), pred, self.era.id if self.era else None)
        if memo_key not in self.memo.hits:
            ctx = StateContext(key, g, p, pred, self.params, self.era, side.schema(as_key))
            self.memo.hits[memo_key] = list(rule.check(ctx))
        return self.memo.hits[memo_key]

    def __call__(self, key: str) -> list[Finding]:
        base, head = self.base, self.head
        parsed = head.parsed(key) or base.parsed(key)
        if parsed is None or (key in head.paths and not head.readable(key)):
            return []  # unreadable in the head: validation reports why, rules cannot judge
        origins = _origin_keys(key, base)
        readable = [o for o in origins if base.readable(o)]
        # With an unreadable base (a commit fixing a broken file), nothing tells what
        # this change introduced: state findings are then reported, but never block.
        blind = bool(origins) and (not readable or (key in base.paths and not base.readable(key)))
        head_pred = head.predecessor(key)
        # An approved guideline's relation to its predecessor is what the Board approved;
        # maintenance of it is judged by the transition rules (2017A D2), not re-judged.
        settled = (
            base.statuses.get(key, {}).get("status") in FROZEN
            and head.statuses.get(key, {}).get("status") in FROZEN
        )
        frozen_head = head.statuses.get(key, {}).get("status") in FROZEN
        out: list[
            tuple[Severity, Hit, tuple[str, str], str]
        ] = []  # ..., "new"/"inherited"/"unsure"
        for rule in RULES:
            citation = self.cite(rule)
            if citation is None:
                continue  # the era in force had no such rule
            severity = self.policy.severity(rule, citation[0])
            if severity is None:
                continue
            if frozen_head and rule.frozen_severity is not None and severity is Severity.ERROR:
                severity = rule.frozen_severity  # history, not a draft to fix
            if rule.kind == "state":
                if key not in head.paths or settled:
                    continue
                known = set()
                for o in readable:
                    for pred_side, pred in ((base, base.predecessor(o)), (head, head_pred)):
                        known |= {
                            h.fingerprint
                            for h in self.state_hits(rule, key, base, o, pred, pred_side)
                        }
                for hit in self.state_hits(rule, key, head, key, head_pred, head):
                    if hit.excused is not None:
                        continue
                    if hit.fingerprint in known:
                        # inherited: an old error is shown as a warning, anything milder left out
                        if severity is Severity.ERROR:
                            out.append((Severity.WARNING, hit, citation, "inherited"))
                        continue
                    out.append((severity, hit, citation, "unsure" if blind else "new"))
            else:
                ctx = TransitionContext(
                    key,
                    base.data(key) if key in base.paths else None,
                    head.data(key),
                    self.params,
                    self.era,
                    base.schema(key),
                    head.schema(key),
                )
                if key in base.paths and ctx.base is None:
                    continue  # fixing an unreadable file: there is no step to judge
                out.extend((severity, hit, citation, "new") for hit in rule.check(ctx))
        if not self.locate_inherited:
            out = [o for o in out if o[3] != "inherited"]
        marks = parsed.locate([hit.path for _, hit, _, _ in out])
        findings = []
        for (severity, hit, (cited, text), state), (line, column) in zip(out, marks, strict=True):
            message = f"{hit.message}. {cited}: \u201c{text}\u201d Fix: {hit.fix}."
            if state == "unsure" and severity is Severity.ERROR:
                severity = Severity.WARNING
                message = UNKNOWN_BASE + message
            elif state == "inherited":
                message = INHERITED + message
            findings.append(
                Finding(
                    parsed.name,
                    cited,
                    message,
                    severity,
                    line,
                    column,
                    hit.path,
                    inherited=state != "new",
                )
            )
        return findings


__all__ = ["FROZEN", "CheckResult", "Memo", "RulesPolicy", "check"]
