"""The process of a governed branch, as data: the files under ``policies/``, loaded once.

Every part of govbot that needs the process (the checker, the votes, the
clock, releases) reads it through :meth:`Policies.from_files` on one snapshot
of the governed branch, so they can never disagree about which version of
the rules applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from govbot.core import certification, layout, policy_links
from govbot.core.certification import CertificationPolicy
from govbot.core.check import RulesPolicy, load_policies
from govbot.core.findings import Finding, Severity
from govbot.core.policy import Committee, VotingPolicy
from govbot.core.timeline import Timeline, TimelineError
from govbot.core.validate import SchemaSet, ValidationPolicy, validate_parsed
from govbot.core.yamlio import parse_bytes

REQUIRED = (layout.COMMITTEE, layout.VOTING)
"""Without these no vote can be judged: their absence blocks every vote."""


class PolicyUnusable(Exception):
    """The governed branch's policies cannot be used; every finding names file:line."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__("; ".join(f"{f.file}:{f.line}:{f.column}: {f.message}" for f in findings))


@dataclass(frozen=True)
class Policies:
    committee: Committee
    voting: VotingPolicy
    timeline: Timeline | None  # None: the branch keeps no calendar
    validation: ValidationPolicy
    rules: RulesPolicy
    problems: tuple[str, ...] = ()  # what could not be used, for the logs
    certification: CertificationPolicy = field(default_factory=CertificationPolicy)
    """Who reviews product submissions for the Foundation, and by when (2017A C)."""

    @classmethod
    def load(cls, files: Mapping[str, bytes], schemas: SchemaSet) -> Policies:
        """The policies that judge votes, failing closed: PolicyUnusable when committee.yaml
        or voting.yaml is missing, or any policy file does not parse or breaks its schema.

        A vote must never fall back to "one vote, no waiting, no veto" because
        a file was deleted or a number was quoted: a broken policy blocks.
        """
        problems: list[Finding] = [
            Finding(path, "policy.missing", f"{path} is missing: no vote can be judged without it")
            for path in REQUIRED
            if path not in files
        ]
        for path, schema in layout.POLICY_SCHEMAS.items():
            if path in files:
                parsed = parse_bytes(path, files[path])
                if parsed.data is not None:  # e.g. a duplicate key: parsed, yet ambiguous
                    problems += parsed.findings
                problems += validate_parsed(parsed, schema, schemas, ValidationPolicy())
        problems += policy_links.check(files, Severity.ERROR)
        errors = [f for f in problems if f.severity is Severity.ERROR]
        if errors:
            raise PolicyUnusable(errors)
        loaded = cls.from_files(files)
        if loaded.problems:
            raise PolicyUnusable(
                [Finding(layout.TIMELINE, "policy.unusable", p) for p in loaded.problems]
            )
        return loaded

    @classmethod
    def from_files(cls, files: Mapping[str, bytes]) -> Policies:
        """The policies of a snapshot, leniently: a file that is absent gives its defaults.

        For showing and what-ifs; a vote is judged by :meth:`load`, which fails closed.
        """

        problems: list[str] = []

        def load(path: str) -> Any:
            raw = files.get(path)
            if raw is None:
                return None
            parsed = parse_bytes(path, raw)
            problems.extend(f"{f.file}:{f.line}: {f.message}" for f in parsed.findings)
            return parsed.data

        timeline = None
        if layout.TIMELINE in files:
            try:
                timeline = Timeline.from_data(load(layout.TIMELINE))
            except TimelineError as e:
                problems.append(f"{layout.TIMELINE}: unusable: {e}")
        validation, rules, _ = load_policies(files)
        certifying = (
            CertificationPolicy.from_data(load(certification.PATH))
            if certification.PATH in files
            else CertificationPolicy()
        )
        return cls(
            Committee.from_data(load(layout.COMMITTEE)),
            VotingPolicy.from_data(load(layout.VOTING)),
            timeline,
            validation,
            rules,
            tuple(problems),
            certifying,
        )
