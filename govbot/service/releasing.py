"""Publication when a release change merges: tag, release, assets, exactly once.

A merged change is a release when a guideline is approved after it and was
not before. It is published only if its vote passed; otherwise the chairs are
told on the review. Every step is idempotent: the tag is created only if it
is absent (an existing tag on another commit is an error for humans, never
moved), and the release is found by its tag before one is created, so a
redelivered merge event, a second worker or a crash between the tag and the
release never makes a second tag or release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Connection, desc, select

from govbot.core import release
from govbot.core.events import ChangeMerged
from govbot.forges.base import ForgeError
from govbot.store.models import CheckResultRow, VoteResultRow

if TYPE_CHECKING:  # handlers imports this module
    from govbot.service.handlers import Context, Effects

ERROR_MARKER = "<!-- govbot:release -->"


def on_merged(event: ChangeMerged, ctx: Context, conn: Connection, effects: Effects) -> None:
    ref = event.review
    checks = CheckResultRow.__table__  # type: ignore[attr-defined]
    base = conn.execute(
        select(checks.c.base_sha)
        .where(checks.c.review_key == ref.key)
        .order_by(desc(checks.c.created_at))
        .limit(1)
    ).scalar()
    merged_at = event.merge_sha or event.base_ref
    if base is None:
        return  # never checked: not a change govbot judged
    released = release.released(
        ctx.forge.read_files(ref.repo, base), after := ctx.forge.read_files(ref.repo, merged_at)
    )
    if not released:
        return
    results = VoteResultRow.__table__  # type: ignore[attr-defined]
    vote = conn.execute(select(results.c.state).where(results.c.review_key == ref.key)).scalar()
    if vote != "passed":
        body = f"{', '.join(released)} merged without a passed vote (the vote is {vote or 'missing'}): not published. Chairs, please decide."
        ctx.forge.upsert_comment(ref, ERROR_MARKER, body, head_sha=merged_at)
        effects.audit.append(
            ("release-not-published", ref.key, {"guidelines": released, "vote": vote})
        )
        return
    for guideline_id in released:
        assets, notes = release.publication(after, guideline_id)
        try:
            ctx.forge.create_tag(ref.repo, guideline_id, merged_at, f"Approve {guideline_id}")
        except ForgeError as e:
            if not e.permanent:
                raise
            ctx.forge.upsert_comment(
                ref,
                ERROR_MARKER,
                f"Release {guideline_id} not published: {e}. Chairs, please decide.",
                head_sha=merged_at,
            )
            effects.audit.append(
                ("release-tag-conflict", ref.key, {"guideline": guideline_id, "error": str(e)})
            )
            continue
        ident = ctx.forge.publish_release(
            ref.repo, guideline_id, f"Guideline {guideline_id}", notes, assets
        )
        effects.audit.append(
            (
                "published",
                ref.key,
                {
                    "guideline": guideline_id,
                    "sha": merged_at,
                    "release": ident,
                    "assets": sorted(assets),
                },
            )
        )
