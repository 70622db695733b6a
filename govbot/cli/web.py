"""The web service as ``govbot serve`` and ``govbot up`` run it (uvicorn ``--factory``).

The composition root: ``webhooks.app`` is the receiver and the site; the
committee dashboard reads through the service layer, which the receiver's
package never imports, so its router is added here, with what ``/readyz``
asks of each forge.
"""

from __future__ import annotations

import os
from typing import Any


def web_app() -> Any:
    """The receiver and the site, the committee dashboard, and the forges' readiness."""
    from govbot.cli.reviews import load_board
    from govbot.web.reviews import router as reviews_router
    from webhooks.app import create_app

    return create_app(routers=[reviews_router(load_board)], ready_checks=forge_checks())


def forge_checks() -> dict[str, Any]:
    """What ``/readyz`` asks beyond the database: each forge answers (dry-run: its clone)."""
    from govbot.forges.registry import FORGES, forge_factory

    forge_for = forge_factory()

    def check(source: str) -> Any:
        def probe() -> str | None:
            forge, dry_run = forge_for(source)
            if dry_run:
                from govbot.repo.bundled import local_repo

                if not local_repo().is_dir():
                    raise FileNotFoundError(f"{local_repo()}: the dry-run clone is missing")
                return "dry-run"
            repo = os.environ.get("GOVBOT_READY_REPO", "").strip()
            if not repo:
                return "not probed: set GOVBOT_READY_REPO"
            forge.default_branch(repo)  # one cheap read, with the configured credentials
            return None

        return probe

    return {f"forge:{source}": check(source) for source in FORGES}
