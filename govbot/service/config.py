"""Which forge each source talks to, from the environment; dry-run when none is configured.

Credentials only ever come from the environment (or files it names), and
nothing here logs them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from govbot import bundled
from govbot.forges.base import Forge
from govbot.forges.dryrun import DryRunForge


def local_repo(environ: Mapping[str, str] = os.environ) -> Path:
    """The clone dry-run mode reads: GOVBOT_REPO_PATH, else the repo govbot runs from."""
    return Path(environ.get("GOVBOT_REPO_PATH") or bundled.root())


def forge_factory(environ: Mapping[str, str] = os.environ) -> Callable[[str], tuple[Forge, bool]]:
    """source -> (forge, dry_run). Real forges are built once and reused."""
    forges: dict[str, tuple[Forge, bool]] = {}

    def build(source: str) -> tuple[Forge, bool]:
        real: Forge | None = None
        if source == "github":
            from govbot.forges.github import GitHubForge

            real = GitHubForge.from_env(environ)
        elif source == "gerrit":
            from govbot.forges.gerrit import GerritForge

            real = GerritForge.from_env(environ)
        if real is not None:
            return real, False
        return DryRunForge(local_repo(environ)), True

    def forge_for(source: str) -> tuple[Forge, bool]:
        if source not in forges:
            forges[source] = build(source)
        return forges[source]

    return forge_for
