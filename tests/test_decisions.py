"""The decision record, pure: canonical bytes, the hash chain, and what a verifier sees offline."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from govbot.core import decisions
from govbot.core.decisions import GENESIS, Decision, DecisionError, Entry

T0 = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
HEAD = "a" * 40
POLICY = "b" * 40


def ballot(login: str, value: int | None, minutes: int, kind: str = "vote") -> dict[str, Any]:
    return decisions.ballot(
        actor_id=str(1000 + len(login)),
        login=login,
        kind=kind,
        value=value,
        revision=HEAD,
        at=T0 + timedelta(minutes=minutes),
        source="review",
    )


def decision(number: int = 7, state: str = "pending", minutes: int = 0, **kw: Any) -> Decision:
    values: dict[str, Any] = {
        "forge": "github",
        "repo": "governance/guidelines",
        "number": str(number),
        "head_sha": HEAD,
        "vote_class": "release",
        "state": state,
        "explanation": f"{state}: 2 of 3 members voted +1",
        "policy_commit": POLICY,
        "ballots": (ballot("chair-alice", 1, 1), ballot("member-carol", 1, 2)),
        "tally": {"yes": 2, "no": 0, "abstain": 0},
        "decided_at": T0 + timedelta(minutes=minutes),
    }
    return Decision(**(values | kw))


def build(*decided: Decision) -> list[Entry]:
    out: list[Entry] = []
    for d in decided:
        out.append(decisions.next_entry(out[-1] if out else None, d))
    return out


@pytest.fixture
def chain() -> list[dict[str, Any]]:
    """Six entries of one repository: reviews 7 and 8 interleaved, 7 passing last."""
    entries = build(
        *(decision(7 if i % 2 else 8, "passed" if i == 5 else "pending", i) for i in range(6))
    )
    return [e.to_json() for e in entries]


# -- canonical bytes ------------------------------------------------------------------


def test_canonical_bytes_are_sorted_compact_ascii() -> None:
    assert (
        decisions.canonical({"b": 1, "a": ["é", None, True]})
        == b'{"a":["\\u00e9",null,true],"b":1}'
    )


def test_times_are_spelled_once_in_utc() -> None:
    paris = datetime(2026, 3, 9, 13, 0, tzinfo=timezone(timedelta(hours=1)))
    assert decisions.format_time(paris) == "2026-03-09T12:00:00.000000Z"
    assert decisions.parse_time("2026-03-09T12:00:00.000000Z") == T0
    with pytest.raises(DecisionError, match="no time zone"):
        decisions.format_time(datetime(2026, 3, 9, 12, 0))
    for text in (
        "2026-03-09T12:00:00Z",
        "2026-03-09T12:00:00.000000+00:00",
        "2026-02-30T12:00:00.000000Z",
    ):
        with pytest.raises(DecisionError):
            decisions.parse_time(text)


def test_a_float_is_refused_where_it_is() -> None:
    with pytest.raises(DecisionError, match=r"record\.tally\.yes: 2\.0 is a float"):
        decisions.canonical({"tally": {"yes": 2.0}})
    with pytest.raises(DecisionError, match=r"record\.tally\.yes: 2\.0 is not int"):
        decision(tally={"yes": 2.0})


def test_the_record_round_trips_through_json_to_the_same_hash() -> None:
    [entry] = build(decision())
    again = json.loads(json.dumps(entry.to_json(), indent=3))
    assert decisions.chain(again["prev"], again["record"], again["seq"]) == entry.hash
    assert Decision.from_record(again["record"]) == decision()
    digest = hashlib.sha256(decisions.canonical(entry.record)).hexdigest()
    link = f"govbot-decisions/1\n1\n{GENESIS}\n{digest}".encode()
    assert entry.hash == hashlib.sha256(link).hexdigest()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 2}, "record.version: 2; this govbot reads version 1"),
        ({"policy_commit": 7}, "record.policy_commit: 7 is not str or null"),
        ({"state": "Passed!"}, "record.state: 'Passed!' is not a lower-case word"),
        ({"review_key": "github:other/repo#7"}, "but forge, repo and number make"),
        ({"decided_at": "2026-03-09 12:00"}, "record.decided_at: '2026-03-09 12:00' is not a UTC"),
        ({"tally": {"yes": True}}, "record.tally.yes: True is not int"),
        ({"surprise": 1}, "record: unknown surprise (not in version 1)"),
        ({"ballots": [{"login": "x"}]}, "record.ballots[0]: missing actor_id, at, kind"),
        ({"ballots": "none"}, "record.ballots: 'none' is not list"),
    ],
)
def test_a_record_that_is_not_version_1_is_refused_by_field(
    change: dict[str, Any], message: str
) -> None:
    record = decision().to_record() | change
    with pytest.raises(DecisionError, match=re.escape(message)):
        Decision.from_record(record)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"value": 1.0}, r"ballots\[0\]\.value: 1\.0 is not int or null"),
        ({"value": True}, r"ballots\[0\]\.value: True is not int or null"),
        ({"actor_id": 583231}, r"ballots\[0\]\.actor_id: 583231 is not str or null"),
        ({"at": "2026-03-09T12:00:00Z"}, r"ballots\[0\]\.at: '2026-03-09T12:00:00Z' is not a UTC"),
        ({"kind": "VOTE"}, r"ballots\[0\]\.kind: 'VOTE' is not a lower-case word"),
        ({"weight": 2}, r"ballots\[0\]: unknown weight"),
    ],
)
def test_a_ballot_is_checked_field_by_field(change: dict[str, Any], message: str) -> None:
    with pytest.raises(DecisionError, match=message):
        decision(ballots=({**ballot("chair-alice", 1, 1), **change},))


def test_a_ballot_recorded_before_ids_has_a_null_actor() -> None:
    b = decisions.ballot(
        actor_id=None,
        login="old",
        kind="withdraw",
        value=None,
        revision=None,
        at=T0,
        source="comment",
    )
    assert decision(ballots=(b,)).to_record()["ballots"] == [b]


def test_a_re_tally_that_finds_the_same_is_the_same_decision() -> None:
    first = decision(minutes=0)
    assert decisions.same_decision(first.to_record(), decision(minutes=90))
    assert not decisions.same_decision(first.to_record(), decision(state="passed"))
    assert not decisions.same_decision(
        first.to_record(), decision(ballots=(ballot("chair-alice", -1, 5),))
    )


# -- the chain ------------------------------------------------------------------------


def test_a_whole_chain_and_any_slice_of_it_verify(chain: list[dict[str, Any]]) -> None:
    assert chain[0]["prev"] == GENESIS and chain[0]["seq"] == 1
    assert [e["prev"] for e in chain[1:]] == [e["hash"] for e in chain[:-1]]
    assert decisions.verify_chain(chain, complete=True) == []
    assert decisions.verify_chain(chain[2:5]) == []  # its first prev: an anchor outside it
    assert decisions.verify_chain(chain[2:], complete=True) == [
        "entries 1-2 missing (the chain starts at entry 1)"
    ]


def test_an_altered_record_is_named(chain: list[dict[str, Any]]) -> None:
    chain[2]["record"]["state"] = "passed"
    assert decisions.verify_chain(chain) == [
        "entry 3: the hash does not match its contents: its record was altered "
        "(the next entry still links to the old hash)"
    ]


def test_an_altered_ballot_is_named(chain: list[dict[str, Any]]) -> None:
    chain[1]["record"]["ballots"][0]["actor_id"] = "666"
    assert decisions.verify_chain(chain) == [
        "entry 2: the hash does not match its contents: its record was altered "
        "(the next entry still links to the old hash)"
    ]


def test_an_altered_hash_is_named(chain: list[dict[str, Any]]) -> None:
    chain[2]["hash"] = "f" * 64
    assert decisions.verify_chain(chain) == [
        "entry 3: the hash does not match its contents: its hash was altered "
        "(the next entry links to its true hash)"
    ]


def test_the_last_entry_altered_is_named(chain: list[dict[str, Any]]) -> None:
    chain[-1]["record"]["state"] = "failed"
    assert decisions.verify_chain(chain) == [
        "entry 6: the hash does not match its contents: its record or its hash was altered"
    ]


def test_an_altered_and_re_hashed_entry_breaks_the_next_link(chain: list[dict[str, Any]]) -> None:
    forged = chain[2]
    forged["record"]["ballots"] = []
    forged["hash"] = decisions.chain(forged["prev"], forged["record"], forged["seq"])
    [problem] = decisions.verify_chain(chain)
    assert problem.startswith("entry 4: does not link to entry 3 (prev ")
    assert problem.endswith("an entry was replaced or re-hashed")


def test_a_removed_entry_is_named(chain: list[dict[str, Any]]) -> None:
    del chain[2]
    assert decisions.verify_chain(chain) == ["entry 3 missing (between entries 2 and 4)"]


def test_removed_entries_at_the_start_of_the_whole_chain_are_named(
    chain: list[dict[str, Any]],
) -> None:
    assert decisions.verify_chain(chain[1:], complete=True) == [
        "entry 1 missing (the chain starts at entry 1)"
    ]


def test_a_first_entry_not_from_genesis_is_named(chain: list[dict[str, Any]]) -> None:
    first = chain[0]
    first["prev"] = "1" * 64
    first["hash"] = decisions.chain(first["prev"], first["record"], 1)
    problems = decisions.verify_chain(chain)
    assert "entry 1: does not start from the genesis hash" in problems
    assert any(p.startswith("entry 2: does not link to entry 1") for p in problems)


def test_reordered_entries_are_named(chain: list[dict[str, Any]]) -> None:
    chain[2], chain[3] = chain[3], chain[2]
    assert decisions.verify_chain(chain) == ["out of order: entry 3 comes after entry 4"]


def test_a_fork_is_named(chain: list[dict[str, Any]]) -> None:
    """Two appends that both read entry 2 as the head: two entries 3 after one parent."""
    rival = decisions.next_entry(Entry(**chain[1]), decision(9, minutes=30)).to_json()
    chain.insert(3, rival)
    assert decisions.verify_chain(chain) == [
        f"fork: 2 entries 3 follow the same entry ({chain[1]['hash'][:12]})"
    ]


def test_a_duplicate_seq_is_named(chain: list[dict[str, Any]]) -> None:
    copy_of_4 = copy.deepcopy(chain[3])
    copy_of_4["seq"] = 3  # entry 4 renumbered into a second entry 3
    problems = decisions.verify_chain([*chain[:3], copy_of_4, *chain[3:]])
    assert "duplicate seq: 2 entries 3" in problems
    assert any(p.startswith("entry 3: the hash does not match its contents") for p in problems)


def test_entries_of_two_repositories_are_not_one_chain() -> None:
    ours = build(decision(7))
    theirs = decisions.next_entry(ours[0], decision(7, repo="someone/else"))
    assert decisions.verify_chain([ours[0], theirs]) == [
        "entries of more than one chain: github:governance/guidelines, github:someone/else"
    ]


@pytest.mark.parametrize(
    ("mangle", "problem"),
    [
        (lambda e: e.update(seq="3"), "entry at position 3: seq '3' is not a positive integer"),
        (lambda e: e.update(seq=0), "entry at position 3: seq 0 is not a positive integer"),
        (lambda e: e.update(hash="XYZ"), "entry 3: hash 'XYZ' is not a SHA-256 in hex"),
        (lambda e: e.update(prev=None), "entry 3: prev None is not a SHA-256 in hex"),
        (lambda e: e.update(record=[1]), "entry 3: record: not an object"),
        (lambda e: e["record"].update(version=2), "entry 3: record.version: 2; this govbot reads"),
        (
            lambda e: e["record"]["tally"].update(yes=2.5),
            "entry 3: record.tally.yes: 2.5 is a float",
        ),
        (lambda e: e.update(note="hi"), "entry 3: unknown key(s) note"),
    ],
)
def test_a_malformed_entry_is_named_by_position(
    chain: list[dict[str, Any]], mangle: Any, problem: str
) -> None:
    mangle(chain[2])
    problems = decisions.verify_chain(chain)
    assert any(p.startswith(problem) for p in problems), problems


def test_no_entries_is_a_problem() -> None:
    assert decisions.verify_chain([]) == ["no entries"]


# -- a release's export ---------------------------------------------------------------


def export(chain: list[dict[str, Any]], first: int, last: int, review: str) -> bytes:
    return decisions.export([Entry(**e) for e in chain[first:last]], review)


R7 = "github:governance/guidelines#7"


def test_a_release_export_is_the_reviews_slice_and_verifies(chain: list[dict[str, Any]]) -> None:
    data = export(chain, 1, 6, R7)
    assert data.isascii() and data.endswith(b"}\n")
    assert not any(line.lstrip().startswith(b"#") for line in data.splitlines())
    assert decisions.verify_export(data, R7) == []
    assert json.loads(data)["format"] == "govbot-decisions/1"


def test_an_export_ending_elsewhere_or_not_passed_is_named(chain: list[dict[str, Any]]) -> None:
    assert decisions.verify_export(export(chain, 1, 5, R7)) == [
        f"the record ends with a decision on another review (elided), not on {R7}"
    ]
    assert decisions.verify_export(export(chain, 1, 4, R7)) == [
        f"the last decision on {R7} is 'pending', not 'passed'"
    ]
    assert decisions.verify_export(export(chain, 0, 6, R7)) == [
        f"the record starts with a decision on another review (elided), not on {R7}"
    ]
    assert decisions.verify_export(export(chain, 1, 6, R7), "github:governance/guidelines#9") == [
        f"review: the record is of {R7}, not of github:governance/guidelines#9"
    ]


def test_other_reviews_entries_are_elided_and_still_link(chain: list[dict[str, Any]]) -> None:
    doc = json.loads(export(chain, 1, 6, R7))
    assert [sorted(e) for e in doc["entries"]] == [
        ["hash", "prev", "record", "seq"],
        ["hash", "prev", "record_sha256", "seq"],
    ] * 2 + [["hash", "prev", "record", "seq"]]
    assert doc["entries"][1]["record_sha256"] == decisions.record_hash(chain[2]["record"])
    assert "#8" not in json.dumps(doc)


def test_a_tampered_export_is_named(chain: list[dict[str, Any]]) -> None:
    doc = json.loads(export(chain, 1, 6, R7))
    doc["entries"][2]["record"]["ballots"].pop()
    problems = decisions.verify_export(json.dumps(doc).encode())
    assert problems == [
        "entry 4: the hash does not match its contents: its record was altered "
        "(the next entry still links to the old hash)"
    ]
    doc["entries"][1]["record_sha256"] = "0" * 64
    assert (
        "entry 3: the hash does not match its contents: its record was altered "
        "(the next entry still links to the old hash)"
    ) in decisions.verify_export(json.dumps(doc).encode())
    both = {**doc["entries"][1], "record": chain[2]["record"]}
    assert "entry 3: both a record and a record_sha256" in decisions.verify_export(
        json.dumps({**doc, "entries": [doc["entries"][0], both, *doc["entries"][2:]]}).encode()
    )
    del doc["entries"][2]
    assert "entry 4 missing (between entries 3 and 5)" in decisions.verify_export(
        json.dumps(doc).encode()
    )


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"{not json", "not JSON ("),
        (b"[]", "not a govbot-decisions/1 document (format: None)"),
        (
            b'{"format": "govbot-decisions/2"}',
            "not a govbot-decisions/1 document (format: 'govbot-decisions/2')",
        ),
        (b'{"format": "govbot-decisions/1", "review": "x", "entries": []}', "entries: none"),
        (
            b'{"format": "govbot-decisions/1", "review": 7, "entries": []}',
            "review: 7 is not a review key",
        ),
    ],
)
def test_what_is_not_an_export_is_named(data: bytes, problem: str) -> None:
    assert any(p.startswith(problem) for p in decisions.verify_export(data))


def test_nothing_to_export_is_refused() -> None:
    with pytest.raises(DecisionError, match=f"no decision recorded for {R7}"):
        decisions.export([], R7)
