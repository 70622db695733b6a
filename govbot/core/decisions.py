"""The decision record: every vote result with its ballots, policy commit and tally, hash-chained.

A vote result shown on a review can be edited, re-tallied or lost; the record
is what lets anyone check, later and offline, that a release was decided by
the committee and how. It is pure data and arithmetic; the store keeps it
(``govbot.store.decisions``, append-only), releases export it.

**The record (version 1).** A :class:`Decision` is one vote result: the
review (key, forge, repo, number), the head it was judged at, the vote class,
the state and its explanation, the policy commit the rules were read from,
every ballot as a plain dict ``{actor_id, login, kind, value, revision, at,
source}`` (``actor_id``: the forge's immutable account id as text, or null
for a ballot recorded before govbot kept ids; ``revision``: the commit the
ballot applies to; ``at``: govbot's receipt time), the tally counts (names to
integers) and ``decided_at``. Its JSON form carries ``"version": 1``; a field
is added or changed only with a new version, which old verifiers refuse by
name rather than misread.

**Canonical bytes.** ``json.dumps`` with sorted keys, no whitespace, non-ASCII
escaped (``\\uXXXX``), no floats anywhere (a float has no single spelling),
times as UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ``: one value has one spelling, so
a verifier in any language recomputes the same hash from the parsed record.

**The chain.** One chain per governed repository (``forge:repo``), so
appends to different repositories never wait for each other and a release's
export never touches another repository. Entry ``seq`` (1, 2, ...) is
``{seq, prev, hash, record}`` with ``hash = sha256("govbot-decisions/1\\n" +
seq + "\\n" + prev + "\\n" + sha256(canonical(record)))`` (hex digests, seq in
decimal) and ``prev`` the hash of entry ``seq - 1`` (:data:`GENESIS` for entry
1): every field of an entry is covered by its hash, and each hash covers
everything before it. Because the record enters through its own digest, an
entry can be exported *elided*, ``{seq, prev, hash, record_sha256}``: its
links still verify, its contents are not shown.

**What a verifier can check offline** (:func:`verify_chain`,
:func:`verify_export`): that every entry's hash is its contents' (an altered
record or hash is named, and told apart by the next entry's link); that each
entry links to the one before (a removed, inserted, replaced or re-ordered
entry, a duplicate ``seq``, a fork where two entries follow one parent); that
entry 1 starts from :data:`GENESIS`; and, for a release's export, that every
entry is on one repository's chain and the slice starts at and ends with a
decision of the release's own review, the last one ``passed``. A release
exports a contiguous *slice* of its repository's chain (from the review's
first decision to its last), so its first ``prev`` is the hash of an entry
not exported: offline it is an anchor, checked against the full chain only by
``govbot decisions verify`` on the database. Someone who rewrites a slice and
re-hashes it whole makes it internally consistent again; that is caught by
the manifest's SHA-256 of ``decisions.json`` (which the annotated tag
carries), and by the slice no longer joining the database's chain. In a
release's export the other reviews' entries between the first and the last
are elided: they are links, and their contents are not the release's. Whether
the ballots are real acts on the forge is not a question the record answers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

FORMAT = "govbot-decisions/1"
"""The export document's ``format``; also the prefix of every entry hash."""
VERSION = 1
"""The record shape this module writes and reads."""
GENESIS = "0" * 64
"""The ``prev`` of a chain's first entry."""
PASSED = "passed"

_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_HASH = re.compile(r"[0-9a-f]{64}")
_WORD = re.compile(r"[a-z][a-z0-9-]*")
_BALLOT = {
    "actor_id": (str, None),
    "login": (str,),
    "kind": (str,),
    "value": (int, None),
    "revision": (str, None),
    "at": (str,),
    "source": (str,),
}


class DecisionError(ValueError):
    """A record that is not a version-1 decision; the message names the field."""


# -- canonical form -------------------------------------------------------------------


def format_time(at: datetime) -> str:
    """The one spelling of an instant: UTC, microseconds, ``Z``."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise DecisionError(f"time {at.isoformat()} has no time zone; record times are UTC")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    if not isinstance(text, str) or not _TIME.fullmatch(text):
        raise DecisionError(f"{text!r} is not a UTC time YYYY-MM-DDTHH:MM:SS.ffffffZ")
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    except ValueError as e:
        raise DecisionError(f"{text!r} is not a time ({e})") from None


def _plain(value: Any, where: str) -> None:
    """Refuse what JSON cannot spell once: floats, non-string keys, other types."""
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        raise DecisionError(f"{where}: {value!r} is a float; the record holds no floats")
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _plain(item, f"{where}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise DecisionError(f"{where}: key {key!r} is not a string")
            _plain(item, f"{where}.{key}")
        return
    raise DecisionError(f"{where}: {type(value).__name__} is not a JSON value")


def canonical(value: Any) -> bytes:
    """The bytes a record is hashed by (see the module docstring)."""
    _plain(value, "record")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


def record_hash(record: Mapping[str, Any]) -> str:
    """The SHA-256 of a record's canonical bytes: what an entry's hash covers of it."""
    return hashlib.sha256(canonical(record)).hexdigest()


def link(prev: str, record_sha256: str, seq: int) -> str:
    """The hash of entry ``seq`` whose record hashes to ``record_sha256``, after ``prev``."""
    return hashlib.sha256(f"{FORMAT}\n{seq}\n{prev}\n{record_sha256}".encode("ascii")).hexdigest()


def chain(prev: str, record: Mapping[str, Any], seq: int) -> str:
    """The hash of entry ``seq`` holding ``record`` after the entry whose hash is ``prev``."""
    return link(prev, record_hash(record), seq)


# -- the record -----------------------------------------------------------------------


def ballot(
    *,
    actor_id: str | None,
    login: str,
    kind: str,
    value: int | None,
    revision: str | None,
    at: datetime,
    source: str,
) -> dict[str, Any]:
    """One ballot as the record holds it (``at`` made canonical)."""
    out = {
        "actor_id": actor_id,
        "login": login,
        "kind": kind,
        "value": value,
        "revision": revision,
        "at": format_time(at),
        "source": source,
    }
    _check_ballot(out, "ballot")
    return out


def _check_ballot(b: Any, where: str) -> None:
    if not isinstance(b, Mapping):
        raise DecisionError(f"{where}: not an object")
    missing, extra = sorted(_BALLOT.keys() - b.keys()), sorted(b.keys() - _BALLOT.keys())
    if missing:
        raise DecisionError(f"{where}: missing {', '.join(missing)}")
    if extra:
        raise DecisionError(f"{where}: unknown {', '.join(extra)} (not in version {VERSION})")
    for key, kinds in _BALLOT.items():
        _typed(b[key], kinds, f"{where}.{key}")
    if not _WORD.fullmatch(b["kind"]):
        raise DecisionError(f"{where}.kind: {b['kind']!r} is not a lower-case word")
    _check_time(b["at"], f"{where}.at")


def _check_time(text: str, where: str) -> None:
    try:
        parse_time(text)
    except DecisionError as e:
        raise DecisionError(f"{where}: {e}") from None


def _typed(value: Any, kinds: tuple[type | None, ...], where: str) -> None:
    if value is None and None in kinds:
        return
    if isinstance(value, bool) or not any(k is not None and isinstance(value, k) for k in kinds):
        names = " or ".join("null" if k is None else k.__name__ for k in kinds)
        raise DecisionError(f"{where}: {value!r} is not {names}")


@dataclass(frozen=True)
class Decision:
    """One vote result, as recorded (version 1; see the module docstring)."""

    forge: str
    repo: str
    number: str
    head_sha: str | None
    vote_class: str
    state: str  # pending | passed | failed | blocked | held | ... (a lower-case word)
    explanation: str
    policy_commit: str | None
    ballots: tuple[Mapping[str, Any], ...]
    tally: Mapping[str, int]
    decided_at: datetime
    version: int = field(default=VERSION)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ballots", tuple(self.ballots))
        self.to_record()  # refuses what cannot be recorded, naming the field

    @property
    def review_key(self) -> str:
        return f"{self.forge}:{self.repo}#{self.number}"

    @property
    def chain(self) -> str:
        """The chain the decision goes on: one per governed repository."""
        return chain_of(self.forge, self.repo)

    def to_record(self) -> dict[str, Any]:
        """The record as JSON data; ``canonical`` of it is what the chain hashes."""
        record = {
            "version": self.version,
            "review_key": self.review_key,
            "forge": self.forge,
            "repo": self.repo,
            "number": self.number,
            "head_sha": self.head_sha,
            "vote_class": self.vote_class,
            "state": self.state,
            "explanation": self.explanation,
            "policy_commit": self.policy_commit,
            "ballots": [dict(b) for b in self.ballots],
            "tally": dict(self.tally),
            "decided_at": format_time(self.decided_at),
        }
        check_record(record)
        return record

    @classmethod
    def from_record(cls, record: Any) -> Decision:
        check_record(record)
        return cls(
            forge=record["forge"],
            repo=record["repo"],
            number=record["number"],
            head_sha=record["head_sha"],
            vote_class=record["vote_class"],
            state=record["state"],
            explanation=record["explanation"],
            policy_commit=record["policy_commit"],
            ballots=tuple(record["ballots"]),
            tally=record["tally"],
            decided_at=parse_time(record["decided_at"]),
        )


_RECORD: dict[str, tuple[type | None, ...]] = {
    "version": (int,),
    "review_key": (str,),
    "forge": (str,),
    "repo": (str,),
    "number": (str,),
    "head_sha": (str, None),
    "vote_class": (str,),
    "state": (str,),
    "explanation": (str,),
    "policy_commit": (str, None),
    "ballots": (list,),
    "tally": (dict,),
    "decided_at": (str,),
}


def check_record(record: Any) -> None:
    """Refuse anything but a version-1 record, naming the first field that is wrong."""
    if not isinstance(record, Mapping):
        raise DecisionError("record: not an object")
    if record.get("version") != VERSION:
        raise DecisionError(
            f"record.version: {record.get('version')!r}; this govbot reads version {VERSION}"
        )
    missing = sorted(_RECORD.keys() - record.keys())
    extra = sorted(record.keys() - _RECORD.keys())
    if missing:
        raise DecisionError(f"record: missing {', '.join(missing)}")
    if extra:
        raise DecisionError(f"record: unknown {', '.join(extra)} (not in version {VERSION})")
    for key, kinds in _RECORD.items():
        _typed(record[key], kinds, f"record.{key}")
    for key in ("forge", "state"):
        if not _WORD.fullmatch(record[key]):
            raise DecisionError(f"record.{key}: {record[key]!r} is not a lower-case word")
    expected = f"{record['forge']}:{record['repo']}#{record['number']}"
    if record["review_key"] != expected:
        raise DecisionError(
            f"record.review_key: {record['review_key']!r}, but forge, repo and number "
            f"make {expected!r}"
        )
    for i, b in enumerate(record["ballots"]):
        _check_ballot(b, f"record.ballots[{i}]")
    for name, count in record["tally"].items():
        _typed(count, (int,), f"record.tally.{name}")
    _check_time(record["decided_at"], "record.decided_at")
    _plain(record, "record")


def chain_of(forge: str, repo: str) -> str:
    return f"{forge}:{repo}"


def same_decision(record: Mapping[str, Any], decision: Decision) -> bool:
    """Whether ``decision`` says nothing new after ``record``: equal but for ``decided_at``.

    A re-tally that finds what was recorded adds no entry, so the clock's
    periodic re-tallies do not grow the chain.
    """
    new = decision.to_record()
    return {k: v for k, v in record.items() if k != "decided_at"} == {
        k: v for k, v in new.items() if k != "decided_at"
    }


# -- entries --------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One link of a chain: the record at position ``seq``, after ``prev``."""

    seq: int
    prev: str
    hash: str
    record: Mapping[str, Any]

    def to_json(self, elide: bool = False) -> dict[str, Any]:
        """As exported; ``elide``: the record's SHA-256 in place of the record (still a link)."""
        if elide:
            return {"seq": self.seq, "prev": self.prev, "hash": self.hash,
                    "record_sha256": record_hash(self.record)}  # fmt: skip
        return {"seq": self.seq, "prev": self.prev, "hash": self.hash, "record": self.record}

    @property
    def decision(self) -> Decision:
        return Decision.from_record(self.record)


def next_entry(head: Entry | None, decision: Decision) -> Entry:
    """The entry that appends ``decision`` after ``head`` (None: the chain's first)."""
    seq, prev = (1, GENESIS) if head is None else (head.seq + 1, head.hash)
    record = decision.to_record()
    return Entry(seq, prev, chain(prev, record, seq), record)


@dataclass
class _Seen:
    pos: int
    seq: int
    prev: str
    hash: str
    computed: str | None  # the hash of the contents; None when they cannot be hashed
    record: Mapping[str, Any] | None  # None: elided (only its SHA-256 is exported)


def _seen(pos: int, raw: Any) -> tuple[_Seen | None, list[str]]:
    where = f"entry at position {pos + 1}"
    if isinstance(raw, Entry):
        raw = raw.to_json()
    if not isinstance(raw, Mapping):
        return None, [f"{where}: not an object"]
    seq = raw.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        return None, [f"{where}: seq {seq!r} is not a positive integer"]
    where = f"entry {seq}"
    for key in ("prev", "hash"):
        if not isinstance(raw.get(key), str) or not _HASH.fullmatch(raw[key]):
            return None, [f"{where}: {key} {raw.get(key)!r} is not a SHA-256 in hex"]
    extra = sorted(set(raw) - {"seq", "prev", "hash", "record", "record_sha256"})
    problems = [f"{where}: unknown key(s) {', '.join(extra)}"] if extra else []
    seen = _Seen(pos, seq, raw["prev"], raw["hash"], None, None)
    if "record_sha256" in raw:  # an elided entry: its link can be checked, not its contents
        digest = raw["record_sha256"]
        if "record" in raw:
            return seen, [*problems, f"{where}: both a record and a record_sha256"]
        if not isinstance(digest, str) or not _HASH.fullmatch(digest):
            return seen, [*problems, f"{where}: record_sha256 {digest!r} is not a SHA-256 in hex"]
        seen.computed = link(seen.prev, digest, seq)
        return seen, problems
    record = raw.get("record")
    if not isinstance(record, Mapping):
        return seen, [*problems, f"{where}: record: not an object"]
    seen.record = record
    try:
        seen.computed = chain(seen.prev, record, seq)
    except DecisionError as e:
        return seen, [*problems, f"{where}: {e}"]
    try:
        check_record(record)
    except DecisionError as e:
        problems.append(f"{where}: {e}")
    return seen, problems


def _span(seqs: list[int]) -> str:
    return f"entry {seqs[0]}" if len(seqs) == 1 else f"entries {seqs[0]}-{seqs[-1]}"


def verify_chain(
    entries: Iterable[Mapping[str, Any] | Entry], *, complete: bool = False
) -> list[str]:
    """What is wrong with ``entries`` as a piece of one chain, one line each; empty if nothing.

    ``entries`` are in the order given (an export's, or the store's by seq).
    ``complete``: they must be the whole chain, from entry 1. See the module
    docstring for what this can and cannot see.
    """
    problems: list[str] = []
    items: list[_Seen] = []
    for pos, raw in enumerate(entries):
        seen, found = _seen(pos, raw)
        problems += found
        if seen is not None:
            items.append(seen)
    if not items:
        return problems or ["no entries"]
    by_seq: dict[int, list[_Seen]] = {}
    for e in items:
        by_seq.setdefault(e.seq, []).append(e)

    chains = {
        chain_of(e.record["forge"], e.record["repo"])
        for e in items
        if e.record is not None
        and isinstance(e.record.get("forge"), str)
        and isinstance(e.record.get("repo"), str)
    }
    if len(chains) > 1:
        problems.append(f"entries of more than one chain: {', '.join(sorted(chains))}")

    # contents: each hash is its entry's; the next entry's link tells what was altered
    altered_hash: dict[int, str] = {}  # pos -> the true hash of an entry whose hash was edited
    for e in items:
        if e.computed is None or e.computed == e.hash:
            continue
        after = [n for n in by_seq.get(e.seq + 1, []) if n is not e]
        if any(n.prev == e.hash for n in after):
            what = "its record was altered (the next entry still links to the old hash)"
        elif any(n.prev == e.computed for n in after):
            what = "its hash was altered (the next entry links to its true hash)"
            altered_hash[e.pos] = e.computed
        else:
            what = "its record or its hash was altered"
        problems.append(f"entry {e.seq}: the hash does not match its contents: {what}")

    # positions: no fork, each seq once, in order, none missing
    by_prev: dict[str, list[int]] = {}
    for e in items:
        by_prev.setdefault(e.prev, []).append(e.seq)
    for prev, seqs in sorted(by_prev.items()):
        if len(seqs) > 1:
            same = len(set(seqs)) == 1
            which = (
                f"{len(seqs)} entries {seqs[0]}"
                if same
                else "entries " + " and ".join(str(s) for s in sorted(seqs))
            )
            problems.append(f"fork: {which} follow the same entry ({prev[:12]})")
    for seq, group in sorted(by_seq.items()):
        if len(group) > 1 and len({g.prev for g in group}) == len(group):
            problems.append(f"duplicate seq: {len(group)} entries {seq}")
    for a, b in itertools.pairwise(items):
        if b.seq < a.seq:
            problems.append(f"out of order: entry {b.seq} comes after entry {a.seq}")
    first, last = min(by_seq), max(by_seq)
    missing = [s for s in range(first, last + 1) if s not in by_seq]
    runs: list[list[int]] = []
    for s in missing:
        if runs and runs[-1][-1] == s - 1:
            runs[-1].append(s)
        else:
            runs.append([s])
    for run in runs:
        problems.append(f"{_span(run)} missing (between entries {run[0] - 1} and {run[-1] + 1})")
    if complete and first != 1:
        problems.append(f"{_span(list(range(1, first)))} missing (the chain starts at entry 1)")

    # links: each entry follows the entry before it
    for seq in sorted(by_seq):
        for b in by_seq[seq]:
            if seq == 1:
                if b.prev != GENESIS:
                    problems.append("entry 1: does not start from the genesis hash")
                continue
            before = by_seq.get(seq - 1)
            if not before:
                continue  # a gap, named above (or the slice's anchor)
            hashes = {a.hash for a in before} | {
                altered_hash[a.pos] for a in before if a.pos in altered_hash
            }
            if b.prev not in hashes:
                problems.append(
                    f"entry {seq}: does not link to entry {seq - 1} (prev {b.prev[:12]}, "
                    f"entry {seq - 1} is {before[0].hash[:12]}): an entry was replaced or "
                    "re-hashed"
                )
    return problems


# -- a release's export ---------------------------------------------------------------


def export(entries: Sequence[Entry], review_key: str) -> bytes:
    """The ``decisions.json`` of a release: the slice of the chain that decided ``review_key``.

    The review's own entries in full; the other reviews' entries between them
    elided to ``record_sha256`` (they are links of the chain, not part of this
    decision: the slice stays small and says nothing about other reviews).
    One JSON document, the same bytes for the same entries: keys sorted,
    ASCII only, no line starting with ``#`` (git strips those from a tag's
    message, which carries it).
    """
    if not entries:
        raise DecisionError(f"no decision recorded for {review_key}")
    listed = [e.to_json(elide=e.record.get("review_key") != review_key) for e in entries]
    doc = {"format": FORMAT, "review": review_key, "entries": listed}
    _plain(doc, "export")
    return (json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=True) + "\n").encode("ascii")


def verify_export(data: bytes, review_key: str | None = None) -> list[str]:
    """What is wrong with a release's ``decisions.json``; empty when it holds up offline.

    The chain (:func:`verify_chain`), and that the slice starts at and ends
    with a decision on the review it names (``review_key``, when the caller
    knows it), the last one passed.
    """
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        return [f"not JSON ({e})"]
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        found = doc.get("format") if isinstance(doc, dict) else None
        return [f"not a {FORMAT} document (format: {found!r})"]
    entries, named = doc.get("entries"), doc.get("review")
    extra = sorted(set(doc) - {"format", "review", "entries"})
    problems = [f"unknown key(s) {', '.join(extra)}"] if extra else []
    if not isinstance(named, str):
        problems.append(f"review: {named!r} is not a review key")
    elif review_key is not None and named != review_key:
        problems.append(f"review: the record is of {named}, not of {review_key}")
    if not isinstance(entries, list) or not entries:
        return [*problems, "entries: none"]
    problems += verify_chain(entries)

    def record_of(raw: Any) -> Mapping[str, Any]:
        record = raw.get("record") if isinstance(raw, Mapping) else None
        return record if isinstance(record, Mapping) else {}

    first, last = record_of(entries[0]), record_of(entries[-1])
    other = "another review (elided)"
    if isinstance(named, str):
        if first.get("review_key") != named:
            problems.append(
                f"the record starts with a decision on {first.get('review_key', other)}, "
                f"not on {named}"
            )
        if last.get("review_key") != named:
            problems.append(
                f"the record ends with a decision on {last.get('review_key', other)}, "
                f"not on {named}"
            )
        elif last.get("state") != PASSED:
            problems.append(
                f"the last decision on {named} is {last.get('state')!r}, not {PASSED!r}"
            )
    return problems
