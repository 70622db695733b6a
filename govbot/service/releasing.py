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

from collections.abc import Mapping

from sqlalchemy import Connection

from govbot.core import decisions, release
from govbot.core.events import ChangeMerged, CommentCommand, TagPushed
from govbot.core.policies import Policies, PolicyUnusable
from govbot.forges.base import Forge, ForgeError, ProposedChange
from govbot.service import voting
from govbot.service.context import Context
from govbot.service.governed import governed_branch
from govbot.service.registry import handles
from govbot.service.voting import account_of, plain, same_person
from govbot.store import checks, reviews
from govbot.store import decisions as stored_decisions
from govbot.store.effects import Effects
from govbot.store.reviews import ReviewState

ERROR_MARKER = "<!-- govbot:release -->"
REQUEST_MARKER = "<!-- govbot:release-request -->"
USAGE = "Usage: `/release ID [--supersede OLD ...] [--base BRANCH]`, e.g. `/release 2020.06 --supersede 2018.02`."


def parse_request(args: tuple[str, ...]) -> tuple[str, list[str], str | None]:
    """``/release 2020.06 --supersede 2018.02,2017.09 --base master`` -> (id, supersede, base)."""
    if not args or args[0].startswith("-"):
        raise release.ReleaseError(f"which guideline? {USAGE}")
    release_id, supersede, base, option = args[0], [], None, None
    for word in args[1:]:
        if word in ("--supersede", "supersede", "--base"):
            option = word.lstrip("-")
        elif option == "supersede":
            supersede += [w for w in word.split(",") if w]
        elif option == "base" and base is None:
            base = word
        else:
            raise release.ReleaseError(f"{word!r} is not understood here. {USAGE}")
    return release_id, supersede, base


@handles(CommentCommand, command="release")
def on_release_request(
    event: CommentCommand, ctx: Context, conn: Connection, effects: Effects
) -> None:
    """``/release ID``: open the release change, if the base policy lets the author ask.

    The change is prepared from the base branch as it is now and opened like
    any other: the committee then votes on it, and its merge publishes. A
    redelivered or repeated request finds the change already open.
    """
    ref = event.review
    effects.audit.append((type(event).__name__, ref.key, plain(event)))
    if event.by is not None and not same_person(event.by, event.author):
        _refuse(ctx, event, f"the request was edited by @{event.by.login}, not its author", effects)
        return
    try:
        release_id, supersede, asked = parse_request(event.args)
        base = governed_branch(ctx, ref.repo, event.governed_branch)
        if asked is not None and asked.removeprefix("refs/heads/") != base:
            raise release.ReleaseError(
                f"releases are made from the governed branch `{base}`, not from `{asked}`."
            )
        files = ctx.forge.read_files(ref.repo, base)
        committee = Policies.load(files, ctx.schemas).committee
        at = ctx.when(event.at)
        account = account_of(ctx, ref.forge, event.author)
        member = committee.member_for(ref.forge, account, at, event.author.login)
        if member is None or not committee.may(member, "prepare-release"):
            who = " or ".join(committee.roles_that_may("prepare-release")) or "nobody"
            raise release.ReleaseError(
                f"@{event.author.login} may not ask for a release: by policies/committee.yaml on "
                f"{base}, only a current {who} may."
            )
        prepared = release.prepare(files, release_id, supersede, at.date())
    except PolicyUnusable as e:
        _refuse(ctx, event, f"the governed branch's policies cannot be used: {e}", effects)
        return
    except ForgeError as e:
        if not e.permanent:
            raise
        _refuse(ctx, event, str(e), effects)
        return
    except release.ReleaseError as e:
        _refuse(ctx, event, str(e), effects)
        return
    message = release.commit_message(release_id, supersede, prepared.changes)
    opened = ctx.forge.open_change(
        ProposedChange(ref.repo, base, release.branch_name(release_id), message, prepared.files)
    )
    ctx.forge.upsert_comment(
        ref,
        REQUEST_MARKER,
        f"Release change for {release_id} {'opened' if opened.created else 'already open'}: "
        f"{opened.url}\n\nThe committee votes on it there; when it merges with a passed vote, "
        f"govbot tags {release_id} and publishes its assets.",
    )
    effects.audit.append(
        (
            "release-change-opened",
            ref.key,
            {
                "guideline": release_id,
                "base": base,
                "supersede": supersede,
                "number": opened.number,
                "url": opened.url,
                "created": opened.created,
                "by": event.author.login,
                "by_id": event.author.id,
            },
        )
    )


def _refuse(ctx: Context, event: CommentCommand, why: str, effects: Effects) -> None:
    ctx.forge.upsert_comment(event.review, REQUEST_MARKER, f"No release change opened: {why}")
    effects.audit.append(
        ("release-request-refused", event.review.key, {"by": event.author.login, "why": why})
    )


def _merge_commit_unknown(
    ctx: Context,
    review: ReviewState,
    event: ChangeMerged,
    base_sha: str,
    head_sha: str,
    effects: Effects,
) -> None:
    """A merge whose commit govbot does not know (Gerrit's REST record of a change
    merged while govbot was away names none): a release is never tagged at a guessed
    commit (the branch's tip may hold later merges), so the chairs are asked to publish
    it by hand. The real event, if it comes later, carries the commit and publishes."""
    ref = event.review
    own = release.released(
        ctx.forge.read_files(ref.repo, base_sha), ctx.forge.read_files(ref.repo, head_sha)
    )
    if not own:
        return
    body = (
        f"{', '.join(own)} merged while govbot could not see the merge commit: not published. "
        "Chairs, please publish with `govbot release publish ID --commit SHA` once the "
        "merge commit is known."
    )
    ctx.forge.upsert_comment(ref, ERROR_MARKER, body, notify=tuple(voting.chairs(ctx, review)))
    effects.audit.append(("release-merge-commit-unknown", ref.key, {"guidelines": own}))


@handles(ChangeMerged)
def on_merged(event: ChangeMerged, ctx: Context, conn: Connection, effects: Effects) -> None:
    """Publish what this review itself approved, if its own vote passed at the merged head.

    Only a merge into the governed branch publishes. The guidelines released
    are those the review's own diff approves (approved at its checked head,
    not at its base), never an approval merged earlier by another change. The
    vote is tallied afresh from the stored ballots, not read from a stored
    result, and must have passed on the very head that was merged.
    """
    ref = event.review
    review = reviews.get(conn, ref.key)
    checked = checks.latest(conn, ref.key)
    if review is None or checked is None or checked.base_sha is None:
        return  # never checked: not a change govbot judged
    merged_at = event.merge_sha or event.base_ref
    if review.governed_branch and event.base_ref != review.governed_branch:
        effects.audit.append(
            ("merge-not-governed", ref.key, {"branch": event.base_ref, "sha": merged_at})
        )
        return
    if event.merge_sha is None:
        _merge_commit_unknown(ctx, review, event, checked.base_sha, checked.head_sha, effects)
        return
    after = ctx.forge.read_files(ref.repo, merged_at)
    base_files = ctx.forge.read_files(ref.repo, checked.base_sha)
    own = release.released(base_files, ctx.forge.read_files(ref.repo, checked.head_sha))
    released = [g for g in release.released(base_files, after) if g in own]
    if not released:
        return
    result = voting.judge_merged(ctx, conn, review, ctx.when(event.at))
    merged_head = event.head_sha or review.head_sha
    problem = None
    if result.state != "passed":
        problem = f"the vote is {result.state}"
    elif merged_head != result.head_sha or merged_head != checked.head_sha:
        problem = (
            f"the vote passed on {str(result.head_sha)[:12]}, but {str(merged_head)[:12]} merged"
        )
    if problem is not None:
        body = (
            f"{', '.join(released)} merged without a passed vote on the merged head ({problem}): "
            "not published. Chairs, please decide."
        )
        ctx.forge.upsert_comment(
            ref, ERROR_MARKER, body, head_sha=merged_at, notify=tuple(voting.chairs(ctx, review))
        )
        effects.audit.append(
            ("release-not-published", ref.key, {"guidelines": released, "why": problem})
        )
        return
    record = record_of(conn, ref.key)
    for guideline_id in released:
        try:
            ident = publish(ctx.forge, ref.repo, guideline_id, merged_at, after, record)
        except ForgeError as e:
            if not e.permanent:
                raise
            ctx.forge.upsert_comment(
                ref,
                ERROR_MARKER,
                f"Release {guideline_id} not published: {e}. Chairs, please decide.",
                head_sha=merged_at,
                notify=tuple(voting.chairs(ctx, review)),
            )
            effects.audit.append(
                ("release-conflict", ref.key, {"guideline": guideline_id, "error": str(e)})
            )
            continue
        effects.audit.append(
            ("published", ref.key, {"guideline": guideline_id, "sha": merged_at, "release": ident})
        )


@handles(TagPushed)
def on_tag_pushed(event: TagPushed, ctx: Context, conn: Connection, effects: Effects) -> None:
    """A new tag, recorded with the commit it names (Gerrit reports an annotated tag's
    object, which the forge peels); a tag that moved or went meanwhile is recorded as such."""
    try:
        sha = ctx.forge.tag_commit(event.repo, event.tag, event.sha)
    except ForgeError as e:
        if not e.permanent:
            raise
        effects.audit.append(("tag-pushed", f"{event.repo}@{event.tag}", {"error": str(e)}))
        return
    effects.audit.append(("tag-pushed", f"{event.repo}@{event.tag}", {"sha": sha}))


def publish(
    forge: Forge,
    repo: str,
    guideline_id: str,
    sha: str,
    files: Mapping[str, bytes],
    record: bytes | None = None,
) -> str:
    """Tag ``sha`` as ``guideline_id`` (the manifest in the tag's message), then release it.

    ``record``: the release's decision record (``decisions.json``, see
    :func:`record_of`), published as an asset, listed in the manifest and
    carried by the tag after it; None publishes without one, as before the
    record existed. Both steps find what an earlier attempt made, so this is
    safe to repeat after a crash anywhere with the same ``record``; a tag on
    another commit is a permanent ForgeError.
    """
    assets, notes = release.publication(files, guideline_id, record)
    message = release.tag_message(guideline_id, assets[release.MANIFEST], record)
    forge.create_tag(repo, guideline_id, sha, message)
    return forge.publish_release(repo, guideline_id, f"Guideline {guideline_id}", notes, assets)


def record_of(conn: Connection, review_key: str, upto: int | None = None) -> bytes | None:
    """The ``decisions.json`` of the release ``review_key`` merges, or None if none is recorded.

    The contiguous slice of the repository's chain from the review's first
    decision to its last (or to entry ``upto``, the decision the merge relied
    on, so that a retried publication exports the same bytes).
    """
    entries = stored_decisions.release_slice(conn, review_key, upto)
    return decisions.export(entries, review_key) if entries else None


def audit(forge: Forge, repo: str, guideline_id: str) -> list[str]:
    """What is wrong with a published release, compared with the repository at its tag."""
    published = forge.published(repo, guideline_id)
    expected, _ = release.publication(forge.read_files(repo, published.sha), guideline_id)
    return release.audit(expected, published.assets, guideline_id)
