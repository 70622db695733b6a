"""The process of a governed branch, as data: the five files under ``policies/``, loaded once.

Every part of govbot that needs the process (the checker, the votes, the
clock, releases) reads it through :meth:`Policies.from_files` on one snapshot
of the governed branch, so they can never disagree about which version of
the rules applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from govbot.core import layout
from govbot.core.check import RulesPolicy, load_policies
from govbot.core.policy import Committee, VotingPolicy
from govbot.core.timeline import Timeline, TimelineError
from govbot.core.validate import ValidationPolicy
from govbot.core.yamlio import parse_bytes


@dataclass(frozen=True)
class Policies:
    committee: Committee
    voting: VotingPolicy
    timeline: Timeline | None  # None: the branch keeps no calendar
    validation: ValidationPolicy
    rules: RulesPolicy
    problems: tuple[str, ...] = ()  # what could not be used, for the logs

    @classmethod
    def from_files(cls, files: Mapping[str, bytes]) -> Policies:
        """The policies of a snapshot; a file that is absent gives its defaults."""

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
        validation, rules = load_policies(files)
        return cls(
            Committee.from_data(load(layout.COMMITTEE)),
            VotingPolicy.from_data(load(layout.VOTING)),
            timeline,
            validation,
            rules,
            tuple(problems),
        )
