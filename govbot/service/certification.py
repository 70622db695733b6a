"""Product submissions on review, and what a guideline change does to certified products.

:func:`review` is the proposal checker's hook (``proposals.on_revision``):
for a change that adds or edits products it judges every product it touches
(schema findings come from the checker; here: results parsed, a verdict per
program, with ``submission.check_submission`` and the base branch's
certification policy), and for a change to guidelines it scores the
registry of the governed branch, at the pinned policy commit, against base
and head (``impact``): which certified products would stop qualifying, and
the C5 usage report. Both go into the one check comment.

A change that touches nothing but ``products/`` is voted on as class
``certification``: the Foundation's reviewers of ``certification.yaml``
decide, through the same tally as the committee's votes
(``voting.rules_for``). A change mixing products with guidelines or
policies is an error: the committee cannot approve a product, nor the
Foundation a guideline.

The labels of :mod:`govbot.core.labels` are govbot's alone: set with the
check (:func:`label`), and put back when a person edits them
(:func:`on_labels_edited`). A forge that refuses labels for good (no
permission) costs the labels, never the check.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection

from govbot.core import certify_report, impact, labels, registry, submission
from govbot.core.certification import VOTE_CLASS
from govbot.core.events import LabelsEdited, ReviewRef
from govbot.core.findings import Finding, Severity
from govbot.core.layout import PRODUCTS_DIR, guideline_kind, is_product
from govbot.forges.base import ForgeError
from govbot.service.context import Context
from govbot.service.registry import handles
from govbot.store import labels as stored_labels
from govbot.store import reviews
from govbot.store.effects import Effects

LABELS_MARKER = "<!-- govbot:labels -->"
MIXED = "certification.mixed-change"


@dataclass
class Answer:
    """What the certification half adds to a revision's check."""

    markdown: str = ""
    findings: list[Finding] = field(default_factory=list)
    labels: frozenset[str] | None = None
    """The managed labels the review should carry; None: it is not a submission."""
    vote_class: str | None = None
    """``certification`` for a products-only change; None: the voting policy classifies."""


def touched(base: Mapping[str, bytes], head: Mapping[str, bytes]) -> list[str]:
    """Every governed path the change adds, edits or removes."""
    return sorted({p for p in head if base.get(p) != head[p]} | {p for p in base if p not in head})


def review(
    base: Mapping[str, bytes],
    head: Mapping[str, bytes],
    policy_files: Mapping[str, bytes],
    checked: Sequence[Finding],
    at: datetime,
    pinned: str = "",
) -> Answer:
    """The submission verdicts and the impact section of one revision.

    ``pinned`` is the commit ``policy_files`` were read at: the registry built from
    it is kept (per commit and day), since every push of every guideline change
    scores the same registry and building it verifies every product's results.
    """
    paths = touched(base, head)
    products = [p for p in paths if p.split("/", 1)[0] == PRODUCTS_DIR]
    answer = Answer()
    if products:
        _submission(answer, base, head, paths, products, checked, at)
    if any(guideline_kind(p) for p in paths):
        certified = _registry(policy_files, at.date(), pinned)
        answer.markdown += "\n" + impact.to_markdown(impact.impact(base, head, certified.entries))
    return answer


_REGISTRIES: OrderedDict[tuple[str, date], registry.Registry] = OrderedDict()
_REGISTRIES_KEPT = 16


_REGISTRIES_LOCK = threading.Lock()


def _registry(files: Mapping[str, bytes], day: date, pinned: str) -> registry.Registry:
    key = (pinned, day)
    with _REGISTRIES_LOCK:
        found = _REGISTRIES.get(key) if pinned else None
    if found is None:
        found = registry.build(files, day)
    if pinned:
        with _REGISTRIES_LOCK:
            _REGISTRIES[key] = found
            _REGISTRIES.move_to_end(key)
            while len(_REGISTRIES) > _REGISTRIES_KEPT:
                _REGISTRIES.popitem(last=False)
    return found


def _submission(
    answer: Answer,
    base: Mapping[str, bytes],
    head: Mapping[str, bytes],
    paths: list[str],
    products: list[str],
    checked: Sequence[Finding],
    at: datetime,
) -> None:
    judged = submission.check_submission(base, head, at.date())
    others = [p for p in paths if p not in products]
    if others:
        answer.findings.append(
            Finding(
                products[0],
                MIXED,
                f"this change edits products and {', '.join(others[:3])}"
                f"{' and more' if len(others) > 3 else ''}: the Foundation approves products "
                "(2017A C2.2), the committee guidelines and policies. Submit the product alone",
                Severity.ERROR,
            )
        )
    else:
        answer.vote_class = VOTE_CLASS
    verdicts = [v for pv in judged for v in pv.verdicts]
    own = [f for pv in judged for f in pv.findings]
    answer.findings += [*own, *(f for v in verdicts for f in v.findings)]
    answer.labels = labels.for_submission(judged, checked)
    out = ["\n### Product submission (2017A C2)\n"]
    if verdicts:
        out.append(certify_report.to_markdown(verdicts, with_findings=False))
    unreadable = [pv.path for pv in judged if pv.product is None]
    if unreadable:
        out.append(f"Not readable as a product: {', '.join(f'`{p}`' for p in unreadable)}.\n")
    gone = [p for p in base if is_product(p) and p not in head]
    if gone:
        out.append(
            f"Leaves the registry on merge: {', '.join(f'`{p}`' for p in gone)} (past "
            "validations stay on record, 2017A C6.2).\n"
        )
    if answer.labels:
        out.append("Labels: " + ", ".join(f"`{name}`" for name in sorted(answer.labels)) + "\n")
    answer.markdown += "\n".join(out)


def label(
    ctx: Context,
    conn: Connection,
    ref: ReviewRef,
    head_sha: str,
    wanted: frozenset[str] | None,
    at: datetime,
    effects: Effects,
) -> None:
    """Make the review's managed labels ``wanted`` (None: not a submission, so none of
    them, if govbot ever set some there) and remember them for :func:`on_labels_edited`."""
    if wanted is None:
        if not stored_labels.wanted(conn, ref.key):
            return  # never a submission: no label call at all
        wanted = frozenset()
    _sync(ctx, ref, wanted, head_sha, effects)
    effects.labels.append((ref.key, head_sha, tuple(sorted(wanted)), at))


def _sync(
    ctx: Context, ref: ReviewRef, wanted: frozenset[str], head_sha: str, effects: Effects
) -> tuple[list[str], list[str]]:
    """(added, removed); a permanent refusal of the forge is audited, a passing one retried."""
    try:
        add, remove = labels.corrections(ctx.forge.labels(ref), wanted)
        ctx.forge.edit_labels(ref, add, remove, head_sha)
    except ForgeError as e:
        if not e.permanent:
            raise
        effects.audit.append(
            ("labels-failed", ref.key, {"wanted": sorted(wanted), "error": str(e)})
        )
        return [], []
    return add, remove


@handles(LabelsEdited)
def on_labels_edited(event: LabelsEdited, ctx: Context, conn: Connection, effects: Effects) -> None:
    """Someone edited a label of govbot's namespace: put govbot's verdict back.

    The forge's labels are compared with the stored verdict, not with the
    event: an old event handled late changes nothing, and govbot's own edits
    (reported back by the forge) are already what it wants.
    """
    ref = event.review
    current = reviews.get(conn, ref.key)
    wanted = stored_labels.wanted(conn, ref.key) or frozenset()
    head = (current.head_sha or "") if current is not None else ""
    added, removed = _sync(ctx, ref, wanted, head, effects)
    if not added and not removed:
        return
    who = event.by.login if event.by is not None else "someone"
    edits = ", ".join([*(f"`{a}` back" for a in added), *(f"`{r}` off" for r in removed)])
    ctx.forge.upsert_comment(
        ref,
        LABELS_MARKER,
        f"The labels {', '.join(f'`{n}`' for n in event.labels)} say what govbot found in this "
        f"submission's results, so only govbot sets them: @{who}'s edit was undone ({edits}). "
        "To change them, change the submission.",
        head_sha=head,
    )
    by = {"by": who, "by_id": event.by.id if event.by is not None else ""}
    effects.audit.append(
        (
            "labels-restored",
            ref.key,
            {**by, "labels": list(event.labels), "added": added, "removed": removed},
        )
    )
