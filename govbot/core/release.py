"""Cutting a release: the draft becomes the approved guideline, old ones are superseded.

Approving a guideline is a handful of edits that reviewers and vendors rely
on being exactly right (interop's "Approve 2020.06, supersede 2018.02"), so
they are computed here, purely, from a ``{path: bytes}`` snapshot; the I/O and
git live in :mod:`govbot.release_cli`. Add-ons are released with their
platform guideline, because the Board approves them together and each add-on
names the platform guideline it builds on. For the same reason a plain date in
``supersede`` (``2018.02``) also supersedes the approved add-ons of that date,
as the interop repo shows (``dns.2018.02`` and ``orchestration.2018.02`` are
superseded there while the 2018.11 ones are approved); ``dns.2018.02``
supersedes only that add-on.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from govbot.core import decisions, mustpass, render
from govbot.core.diff import Change, component_statuses, diff_guideline
from govbot.core.documents import parse_document
from govbot.core.interop import to_interop
from govbot.core.layout import guideline_key, guideline_kind
from govbot.core.rules import FROZEN, predecessors, split_key
from govbot.core.yamlio import dump, parse_text

MANIFEST = "manifest.json"  # the asset listing every other asset's SHA-256 and size
DECISIONS = "decisions.json"  # the decision record of the release's vote (govbot.core.decisions)
RECORDED = (DECISIONS,)
"""Assets that are recorded, not rebuilt: the repository at the tag cannot reproduce them."""
RELEASE_ID = re.compile(r"\d{4}\.(0[1-9]|1[0-2])")
SCHEMA_REFS = {False: "../schemas/guideline.schema.json", True: "../../schemas/add-on.schema.json"}
"""The header line the importer writes, for platform guidelines and add-ons."""
HEAD_ORDER = ("id", "status", "target_approval", "approved_on", "replaces")


class ReleaseError(Exception):
    """The release cannot be made as asked; the message says why (exit 2)."""


@dataclass(frozen=True)
class Doc:
    path: str
    raw: bytes
    data: dict[str, Any]
    family: str  # "" for the platform guideline, "dns" for dns.2020.06
    version: str  # "2020.06" or "next"


@dataclass
class Prepared:
    files: dict[str, bytes | None]
    """Changed and added paths with their new bytes; a removed path maps to None."""
    changes: list[tuple[str, str]] = field(default_factory=list)
    notes: str = ""


def guidelines(files: Mapping[str, bytes], prefix: str = "") -> dict[str, Doc]:
    """Every guideline file (either layout) under ``prefix``, by key; an unreadable one refuses."""
    out: dict[str, Doc] = {}
    for path in sorted(p for p in files if p.startswith(prefix) and guideline_kind(p)):
        key = guideline_key(path)
        parts = split_key(key)
        if parts is None:
            continue
        parsed = parse_document(path, files[path])
        if parsed.findings or not isinstance(parsed.data, dict):
            why = parsed.findings[0].message if parsed.findings else "not a mapping"
            raise ReleaseError(f"{path}: cannot be read ({why}); run govbot validate")
        if key in out:
            raise ReleaseError(f"guideline {key} is in both {out[key].path} and {path}")
        out[key] = Doc(path, files[path], parsed.data, *parts)
    return out


def apply(files: Mapping[str, bytes], changes: Mapping[str, bytes | None]) -> dict[str, bytes]:
    """The whole snapshot after a prepared change: what the release commit holds."""
    merged = {**files, **changes}
    return {p: b for p, b in sorted(merged.items()) if b is not None}


def _reordered(data: Mapping[str, Any], **updates: Any) -> dict[str, Any]:
    """``data`` with ``updates`` (None drops a key), approval fields first, as the importer orders."""
    merged = {k: v for k, v in {**data, **updates}.items() if v is not None}
    head = {k: merged[k] for k in HEAD_ORDER if k in merged}
    return head | {k: v for k, v in merged.items() if k not in head}


def _renamed_source(source: Any, old: str, new: str) -> Any:
    """A ``source`` URL naming the old file (.../next.json) names the new one instead."""
    for ext in (".json", ".yaml"):
        if isinstance(source, str) and source.endswith(f"/{old}{ext}"):
            return source[: -len(old + ext)] + new + ext
    return source


def with_status(raw: bytes, data: Mapping[str, Any], status: str, addon: bool) -> bytes:
    """The file with only its status line changed, so the review diff is that one line.

    The edit is proven by parsing it back; a file the line edit cannot handle
    (flow style, a comment on the line) is rewritten whole instead.
    """
    want = {**data, "status": status}
    old = re.escape(str(data.get("status")))
    text, n = re.subn(
        rf"^status:[ \t]*(['\"]?){old}\1[ \t]*$", f"status: {status}", raw.decode(), flags=re.M
    )
    if n == 1 and parse_text("", text).data == want:
        return text.encode("utf-8")
    return dump(want, schema_ref=SCHEMA_REFS[addon]).encode("utf-8")


def _supersede_targets(docs: Mapping[str, Doc], supersede: Sequence[str]) -> list[str]:
    approved = sorted(k for k, d in docs.items() if d.data.get("status") == "approved")
    targets: set[str] = set()
    for sid in supersede:
        doc = docs.get(sid)
        if doc is None or doc.version == "next":
            known = ", ".join(approved) or "none"
            raise ReleaseError(f"cannot supersede {sid!r}: no such guideline (approved: {known})")
        if doc.data.get("status") != "approved":
            raise ReleaseError(
                f"cannot supersede {sid}: it is {doc.data.get('status')}, not approved"
            )
        targets.add(sid)
        if not doc.family:  # the add-ons approved with a platform guideline go with it
            targets.update(k for k in approved if docs[k].family and docs[k].version == doc.version)
    return sorted(targets, key=lambda k: (docs[k].family, k))


def _check(docs: Mapping[str, Doc], release_id: str) -> None:
    if not RELEASE_ID.fullmatch(release_id):
        raise ReleaseError(f"release id {release_id!r} is not YYYY.MM (for example 2020.06)")
    if "next" not in docs:
        raise ReleaseError("guidelines/next.yaml: no draft guideline to approve")
    taken = sorted(d.path for d in docs.values() if d.version == release_id)
    if taken:
        raise ReleaseError(f"{release_id} exists already: {', '.join(taken)}")
    newest = max((d.version for d in docs.values() if d.version != "next"), default="")
    if newest > release_id:
        raise ReleaseError(f"{release_id} is older than guideline {newest}; releases go forward")


def prepare(
    files: Mapping[str, bytes], release_id: str, supersede: Sequence[str], approved_on: date
) -> Prepared:
    """Approve ``guidelines/next.yaml`` and every add-on draft as ``release_id``.

    A release replaces the newest approved guideline of its family (what rule
    2017A.A1.1 expects), the fresh draft starts from the release, and each
    superseded guideline changes its status and nothing else (govbot.immutable).
    """
    docs = guidelines(files, prefix="guidelines/")
    _check(docs, release_id)
    targets = _supersede_targets(docs, supersede)
    preds = predecessors({k: d.data for k, d in docs.items()})
    out, notes = Prepared({}), []
    for draft in sorted(
        (k for k, d in docs.items() if d.version == "next"), key=lambda k: (docs[k].family, k)
    ):
        doc = docs[draft]
        key, previous = draft.removesuffix("next") + release_id, preds[draft]
        schema = SCHEMA_REFS[bool(doc.family)]
        release = _reordered(
            doc.data,
            id=key,
            status="approved",
            target_approval=release_id,
            approved_on=approved_on.isoformat(),
            replaces=previous or doc.data.get("replaces"),
            source=_renamed_source(doc.data.get("source"), draft, key),
        )
        fresh = _reordered(
            release,
            id=draft,
            status="draft",
            approved_on=None,
            replaces=key,
            source=_renamed_source(release.get("source"), key, draft),
        )
        path = doc.path.rsplit("/", 1)[0] + f"/{key}.yaml"
        out.files[path] = dump(release, schema_ref=schema).encode("utf-8")
        out.files[doc.path] = dump(fresh, schema_ref=schema).encode("utf-8")
        since = f", replaces {previous}" if previous else ""
        out.changes.append((path, f"{key}: approved on {approved_on.isoformat()}{since}"))
        out.changes.append((doc.path, f"{draft}: new draft, starting from {key}"))
        notes.append(
            release_notes(docs[previous].data if previous else None, release, previous, key)
        )
    for key in targets:
        doc = docs[key]
        out.files[doc.path] = with_status(doc.raw, doc.data, "superseded", bool(doc.family))
        out.changes.append((doc.path, f"{key}: status approved -> superseded"))
    out.notes = "\n".join(notes)
    return out


# -- release notes ---------------------------------------------------------------


def commit_message(release_id: str, supersede: Sequence[str], changes: Sequence[Any]) -> str:
    """Worded like interop's own release commits: "Approve 2020.06, supersede 2018.02"."""
    title = f"Approve {release_id}" + (f", supersede {', '.join(supersede)}" if supersede else "")
    return title + "\n\n" + "".join(f"- {what}\n" for _, what in changes)


def branch_name(release_id: str) -> str:
    """The branch (GitHub) or topic (Gerrit) of a release change: it names the change."""
    return f"release/{release_id}"


HEADINGS = {
    "added": "Capabilities added",
    "required": "Capabilities promoted to required",
    "deprecated": "Capabilities deprecated",
    "removed": "Capabilities removed",
    "status": "Other capability status changes",
    "recorded": "Listed as removed, absent from the predecessor (no change for products)",
    "capability": "Capability details",
    "test.added": "Tests added",
    "test.removed": "Tests removed",
    "flagged": "Tests flagged",
    "unflagged": "Tests unflagged",
    "test.id": "Idempotent id changes",
    "test.aliases": "Test aliases",
    "sections": "Designated sections",
    "scoring": "Scoring criteria and cut-off",
    "programs": "Programs",
    "guideline": "Guideline",
    "other": "Other changes",
}
ALWAYS_COUNTED = ("added", "required", "deprecated", "removed", "test.added", "test.removed")
IMPLIED = ("status", "target_approval", "approved_on", "replaces")
"""Fields every release changes; listing them would only bury the news."""


def _c(value: Any) -> str:
    return f"`{value}`" if "`" not in str(value) else f"`` {value} ``"


def _t(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        text = ", ".join(value)
    else:
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    text = text if len(text) <= 120 else text[:117] + "..."
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("|", "\\|")  # no raw HTML


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _entries(
    c: Change, base: Mapping[str, Any], head: Mapping[str, Any], moved: set[Any]
) -> list[tuple[str, str]]:
    """The (heading, Markdown line) pairs a change contributes; none for implied fields."""
    p, b, a, k = c.path, c.before, c.after, c.kind
    if k == "capability.status":
        cap, comp = c.subject.rsplit(" in ", 1)
        where = f"{_c(cap)} in {comp}"
        if b is None and a == "removed":  # a record of an old removal: neither added nor removed
            return [("recorded", f"{where}")]
        if b is None:
            return [("added", f"{where}, as {a}")]
        if a in ("required", "deprecated"):
            return [(a, f"{where} (was {b})")]
        if a in ("removed", None):
            return [("removed", f"{where} (was {b}{'' if a else '; no longer listed'})")]
        return [("status", f"{where}: {b} -> {a}")]
    if k in ("capability.added", "capability.removed"):
        added = k == "capability.added"
        what = f"{_c(p[1])} {'defined' if added else 'no longer defined'}"
        return [] if p[1] in moved else [("added" if added else "removed", what)]
    if k == "capability.field":
        return [("capability", f"{_c(p[1])} {p[2]}: {_t(b)} -> {_t(a)}")]
    if k.startswith("test."):
        test = f"{_c(p[3])} ({p[1]})"
        if k == "test.flag" and not b:
            return [("flagged", f"{test}: {_t(_d(a).get('reason', ''))}")]
        if k == "test.flag":
            return [("unflagged", test)] if not a else [("flagged", f"{test}: flag changed")]
        return [(k, f"{test}: {_c(b)} -> {_c(a)}" if k == "test.id" else test)]
    if k == "section.status" and p[0] == "designated_sections":
        return [
            ("sections", f"{p[1]}: {_t(b or 'none')} -> {_t(a or 'none (no longer designated)')}")
        ]
    if k == "section.changed":
        old, new = (_d(_d(g.get("designated_sections")).get(str(p[1]))) for g in (base, head))
        out = []
        for status in sorted(s for s in old if old[s] != new.get(s)):
            before, after = _d(old[status]).get("guidance"), _d(new[status]).get("guidance")
            what = (
                f"guidance {_t(before)} -> {_t(after)}" if before != after else "sections changed"
            )
            out.append(("sections", f"{p[1]} ({status}): {what}"))
        return out
    if k == "program.components":
        old, new = _d(b), _d(a)
        keys = sorted(f for f in old.keys() | new.keys() if old.get(f) != new.get(f))
        return [("programs", f"{p[1]} {f}: {_t(old.get(f))} -> {_t(new.get(f))}") for f in keys]
    if k == "guideline.field":
        return [] if p[0] in IMPLIED else [("guideline", f"{p[0]}: {_t(b)} -> {_t(a)}")]
    if p == ("test_repositories",):
        old, new = _d(b), _d(a)
        ref = {
            r: (_d(old.get(r)).get("reference"), _d(new.get(r)).get("reference"))
            for r in old.keys() | new.keys()
        }
        return [
            ("other", f"test repository {r}: reference {_c(ref[r][0])} -> {_c(ref[r][1])}")
            for r in sorted(ref)
            if old.get(r) != new.get(r)
        ]
    group = {"criterion": "scoring", "cutoff": "scoring", "section": "sections"}.get(
        k.split(".")[0]
    )
    return [(group or "other", _t(c.describe()))]


def release_notes(
    previous: Mapping[str, Any] | None,
    release: Mapping[str, Any],
    previous_id: str | None,
    release_id: str,
) -> str:
    """Markdown notes of what a release changes since the previous approved one (deterministic)."""
    when = f", approved on {release['approved_on']}" if release.get("approved_on") else ""
    lines = [f"# Release notes: {release_id}", ""]
    if previous is None:
        required = {cap for (_, cap), s in component_statuses(release).items() if s == "required"}
        lines.append(
            f"{release_id} is the first of its family{when}: {len(required)} required capabilities."
        )
        return "\n".join(lines) + "\n"
    changes = diff_guideline(release_id, previous, release)
    moved = {c.subject.rsplit(" in ", 1)[0] for c in changes if c.kind == "capability.status"}
    entries = [e for c in changes for e in _entries(c, previous, release, moved)]
    lines += [f"{release_id} replaces {previous_id}{when}: {len(entries)} change(s).", ""]
    counts = {h: sum(1 for g, _ in entries if g == h) for h in HEADINGS}
    lines += ["| Change | Count |", "|---|---:|"]
    lines += [f"| {HEADINGS[h]} | {n} |" for h, n in counts.items() if n or h in ALWAYS_COUNTED]
    lines += [f"| **Total** | {len(entries)} |", ""]
    if not any(counts[h] for h in ("added", "required", "deprecated", "removed", "status")):
        lines += ["No capability was added, promoted, deprecated or removed.", ""]
    for h, title in HEADINGS.items():
        if counts[h]:
            lines += [f"## {title}", "", *(f"- {text}" for g, text in entries if g == h), ""]
    return "\n".join(lines).rstrip() + "\n"


# -- published assets -----------------------------------------------------------


def targets_of(release: Mapping[str, Any], release_id: str) -> list[str]:
    """Must-pass targets: the platforms a guideline defines, or an add-on's own name."""
    family = (split_key(release_id) or ("", ""))[0]
    platforms = release.get("platforms") or {}
    return (
        [family] if family else [t for t, n in mustpass.PLATFORM_TARGETS.items() if n in platforms]
    )


def assets(
    release: dict[str, Any], release_id: str, notes: str, *, source: bytes | None = None
) -> dict[str, bytes]:
    """The files published for a release: the same bytes whenever they are regenerated.

    A superseded guideline is published as it was approved (superseding
    changes only its status), so assets made on approval day still verify
    later. ``source``, the repo's file, is published byte for byte.
    """
    if release.get("status") not in FROZEN:
        raise ReleaseError(
            f"{release_id} is {release.get('status')}; only approved guidelines are published"
        )
    g, addon = {**release, "status": "approved"}, bool((split_key(release_id) or ("", ""))[0])
    yaml_bytes = dump(g, schema_ref=SCHEMA_REFS[addon]).encode("utf-8")
    if source is not None and parse_text("", source.decode("utf-8", "replace")).data == release:
        yaml_bytes = with_status(source, release, "approved", addon)
    out = {
        f"{release_id}.yaml": yaml_bytes,
        f"{release_id}.json": (
            json.dumps(to_interop(g), indent=4, ensure_ascii=False) + "\n"
        ).encode(),
        f"{release_id}.md": render.to_markdown(g).encode("utf-8"),
        f"{release_id}.html": render.to_html(g).encode("utf-8"),
        "RELEASE-NOTES.md": notes.encode("utf-8"),
    }
    for target in targets_of(g, release_id):
        try:
            tests = mustpass.test_list(g, target, ("required",))
        except mustpass.UnknownTarget as e:
            raise ReleaseError(str(e)) from e
        out[f"tests-{target}.txt"] = "".join(t + "\n" for t in tests).encode("utf-8")
    return dict(sorted(out.items()))


def manifest(files: Mapping[str, bytes], guideline_id: str | None = None) -> bytes:
    """SHA-256 and size of every asset; the id defaults to the one ``<id>.yaml`` names."""
    if guideline_id is None:
        names = [n.removesuffix(".yaml") for n in files if "/" not in n and n.endswith(".yaml")]
        guideline_id = names[0] if len(names) == 1 else None
    entries = {
        n: {"sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)} for n, b in files.items()
    }
    doc = {"guideline": guideline_id, "files": entries}
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


TAG_MANIFEST_INTRO = "Release assets (SHA-256 and size of each), as published by govbot:"
TAG_DECISIONS_INTRO = f"Decision record ({DECISIONS}, listed in the manifest above):"


def tag_message(guideline_id: str, manifest_bytes: bytes, record: bytes | None = None) -> str:
    """The annotated tag's message: it carries the manifest, so the tag alone can be verified.

    Gerrit has no place for release assets; with the manifest in the tag, the
    assets rebuilt from the tagged commit are checked against what was
    published on approval day, on any forge. The decision record cannot be
    rebuilt from any commit (it is made by the vote, after the release change
    was written, and committing it would change the voted head), so the tag
    carries it too, after the manifest: an immutable tag object is then the
    one place where the release, its manifest and the vote that approved it
    are kept together, on Gerrit and GitHub alike. Its bytes are ASCII JSON
    with no line starting with ``#``, which git's message clean-up keeps as
    they are.
    """
    message = f"Approve {guideline_id}\n\n{TAG_MANIFEST_INTRO}\n\n{manifest_bytes.decode('utf-8')}"
    if record is not None:
        message += f"\n{TAG_DECISIONS_INTRO}\n\n{record.decode('utf-8')}"
    return message


def manifest_in(message: str) -> bytes | None:
    """The manifest a :func:`tag_message` carries, or None (a tag govbot did not write)."""
    _, found, rest = message.partition(TAG_MANIFEST_INTRO)
    if not found:
        return None
    text = rest.partition(TAG_DECISIONS_INTRO)[0].strip()
    try:
        json.loads(text)
    except ValueError:
        return None
    return (text + "\n").encode("utf-8")


def decisions_in(message: str) -> bytes | None:
    """The decision record a :func:`tag_message` carries, as published (None: no record).

    Returned even when it does not parse: :func:`verify` then says how it
    differs from the manifest, instead of calling it missing.
    """
    _, found, rest = message.partition(TAG_DECISIONS_INTRO)
    return (rest.strip() + "\n").encode("utf-8") if found else None


def tag_assets(message: str) -> dict[str, bytes]:
    """What a tag's message carries, as assets: the manifest, and the decision record if any."""
    manifest_bytes = manifest_in(message)
    if manifest_bytes is None:
        return {}
    record = decisions_in(message)
    return {MANIFEST: manifest_bytes} | ({DECISIONS: record} if record is not None else {})


def verify(
    files: Mapping[str, bytes], manifest_bytes: bytes, guideline_id: str | None = None
) -> list[str]:
    """What does not match the manifest, one line per file; empty when all is well."""
    try:
        doc = json.loads(manifest_bytes)
    except ValueError:
        doc = None
    listed = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or not isinstance(listed, dict):
        return ["manifest: not a govbot release manifest (JSON with a files mapping)"]
    problems = []
    if guideline_id is not None and doc.get("guideline") != guideline_id:
        problems.append(f"manifest: describes {doc.get('guideline')!r}, not {guideline_id!r}")
    for name in sorted(listed.keys() | files.keys()):
        entry, data = listed.get(name), files.get(name)
        if data is None:
            problems.append(f"{name}: missing")
        elif not isinstance(entry, dict):
            problems.append(f"{name}: not in the manifest")
        elif entry.get("bytes") != len(data):
            problems.append(f"{name}: {len(data)} bytes, the manifest says {entry.get('bytes')}")
        elif entry.get("sha256") != hashlib.sha256(data).hexdigest():
            problems.append(f"{name}: sha256 differs from the manifest")
    if DECISIONS in files:  # the record must hold up on its own too (its hash chain)
        problems += [f"{DECISIONS}: {p}" for p in decisions.verify_export(files[DECISIONS])]
    return problems


def audit(
    expected: Mapping[str, bytes], published: Mapping[str, bytes], guideline_id: str
) -> list[str]:
    """Published files (with manifest.json) against their manifest and the rebuilt ``expected``.

    Where the forge keeps only the manifest and the decision record (Gerrit:
    both are in the tag), the rebuilt files with the recorded ones are what
    is checked against it; elsewhere each published file must match both the
    manifest and the repository. The decision record is never rebuilt: it is
    checked against the manifest and by its own hash chain.
    """
    found = dict(published)
    manifest_bytes = found.pop(MANIFEST, None)
    expected = {n: b for n, b in expected.items() if n != MANIFEST and n not in RECORDED}
    if manifest_bytes is None:
        return ["manifest.json: not published"]
    rebuilt = not (found.keys() - set(RECORDED))
    problems = verify({**expected, **found} if rebuilt else found, manifest_bytes, guideline_id)
    if rebuilt:
        return problems
    named = {p.split(": ", 1)[0] for p in problems}
    for name in sorted((expected.keys() | found.keys()) - named - set(RECORDED)):
        if found.get(name) != expected.get(name):
            what = (
                "missing" if name not in found else "extra" if name not in expected else "differs"
            )
            problems.append(f"{name}: {what}, compared with the repository at the tag")
    return problems


def publication(
    files: Mapping[str, bytes], guideline_id: str, record: bytes | None = None
) -> tuple[dict[str, bytes], str]:
    """Everything published for ``guideline_id`` in a snapshot: assets (with the manifest) and notes.

    ``record``: the release's ``decisions.json`` (govbot.core.decisions.export),
    published as an asset and listed in the manifest; None for a release
    whose vote was not recorded (before the record existed).
    """
    docs = guidelines(files)
    if guideline_id not in docs:
        raise ReleaseError(f"no guideline {guideline_id!r} in this revision")
    doc = docs[guideline_id]
    previous = predecessors({k: d.data for k, d in docs.items()}).get(guideline_id)
    notes = release_notes(
        docs[previous].data if previous else None, doc.data, previous, guideline_id
    )
    files_out = assets(
        doc.data, guideline_id, notes, source=doc.raw if doc.path.endswith(".yaml") else None
    )
    if record is not None:
        files_out = dict(sorted({**files_out, DECISIONS: record}.items()))
    files_out[MANIFEST] = manifest(files_out, guideline_id)
    return files_out, notes


def released(before: Mapping[str, bytes], after: Mapping[str, bytes]) -> list[str]:
    """Guidelines approved by a change: approved after it, not before (a release merged)."""

    def approved(files: Mapping[str, bytes]) -> set[str]:
        out = set()
        for path in files:
            if guideline_kind(path):
                parsed = parse_document(path, files[path])
                if isinstance(parsed.data, dict) and parsed.data.get("status") == "approved":
                    out.add(guideline_key(path))
        return out

    return sorted(approved(after) - approved(before))
