"""Attacks on the committee's vote, on GitHub, as an attacker would make them (issue 11).

Every attack goes through the real receiver (signed deliveries whose payloads
validate against GitHub's webhook schema), the real worker and the real
clock, on SQLite and on PostgreSQL. Each test's docstring names the property
of issue 11's "What to build" list that it shows. The repository the dry-run
forge reads is built once for the module: the branches and commits below.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from govbot.core import release
from govbot.core.events import ReviewRef
from govbot.forges.dryrun import DryRunForge
from govbot.repo.snapshots import read_directory
from tests.conftest import REPO
from tests.fakes.github_server import FakeGitHub, github_server
from tests.test_release_scenario import merged_event, passed_release_pull, prepared_files
from tests.test_vote_scenario import CAPABILITY
from tests.trusted_harness import (
    PROJECT,
    SECRET,
    T0,
    Bot,
    Git,
    audit,
    edit_yaml,
    files_of,
    github_comment,
    github_merged,
    github_pull,
    github_review,
    key_of,
    remove,
    reports,
    user,
)
from webhooks.signatures import sign_github

DAY, MINUTE = timedelta(days=1), timedelta(minutes=1)
MEMBERS = ["chair-alice", "chair-bob", "member-carol", "member-dave"]  # four +1 pass every class
ALICE_ROW = "| Alice Example (@chair-alice) | chair, board |"


# -- the repository ------------------------------------------------------------------------


def _required(repo: Path) -> None:
    def change(g: Any) -> None:
        caps = g["components"]["os_powered_compute"]["capabilities"]
        caps["advisory"].remove(CAPABILITY)
        caps["required"].append(CAPABILITY)

    edit_yaml(repo / "guidelines/next.yaml", change)


def _cutoff(repo: Path) -> None:
    edit_yaml(repo / "guidelines/next.yaml", lambda g: g["scoring"].update(cutoff_score=10))


def _typo(repo: Path) -> None:
    def change(g: Any) -> None:
        g["capabilities"][CAPABILITY]["description"] += " (typo fixed)"

    edit_yaml(repo / "guidelines/next.yaml", change)


def _second_cutoff(repo: Path) -> None:
    """A second ``cutoff_score`` under the first: YAML loaders keep the last value, 10."""
    path = repo / "guidelines/next.yaml"
    text = path.read_text()
    path.write_text(
        text.replace("  cutoff_score: 74\n", "  cutoff_score: 74\n  cutoff_score: 10\n", 1)
    )


def _criteria(repo: Path) -> None:
    """Scoring weights moved from one criterion to another (2017A A4.3 freezes them)."""

    def change(g: Any) -> None:
        first, second, *_ = g["scoring"]["criteria"].values()
        first["weight"] += 1
        second["weight"] -= 1

    edit_yaml(repo / "guidelines/next.yaml", change)


def _summit_passed(repo: Path) -> None:
    """The cycle's summit on 2026-04-01: the draft was published at S-3, 2026-01-01."""
    path = repo / "policies/timeline.yaml"
    path.write_text(path.read_text().replace("summit: '2027-04-20'", "summit: '2026-04-01'", 1))


def _loosen(repo: Path) -> None:
    """The release class's minimum review time from 7 days to 1: a policy change."""
    path = repo / "policies/voting.yaml"
    text = path.read_text()
    path.write_text(text.replace("min_days_open: 7\n", "min_days_open: 1\n", 2))


def _drop_tests(repo: Path) -> None:
    """26 of the 27 must-pass tests of a required capability dropped."""

    def change(g: Any) -> None:
        tests = g["capabilities"]["networks-l2-CRUD"]["tests"]
        keep = next(iter(tests))
        for name in list(tests):
            if name != keep:
                del tests[name]

    edit_yaml(repo / "guidelines/next.yaml", change)


def _attacker_rules(repo: Path) -> None:
    """The attacker's branch: they are the only member, one vote passes at once."""
    (repo / "policies/committee.yaml").write_text(
        "timezone: UTC\nroles:\n  chair:\n    description: The attacker\n"
        "    may: [hold, release, prepare-release]\n"
        "members:\n  - name: Mallory\n    github: outsider\n    github_id: 666\n"
        "    roles: [chair]\n"
    )
    (repo / "policies/voting.yaml").write_text(
        "classes:\n  - name: anything\n    description: Whatever Mallory wants\n"
        "    rule:\n      quorum: 1\n      threshold: {ratio: 1/2, of: cast}\n"
        "      min_days_open: 0\n      stale_on_change: false\n"
        "default_class: anything\nsubstantive_class: anything\n"
    )


def _outsider_joins(repo: Path) -> None:
    """A roster and rule change merged mid-vote: the outsider is a chair, one vote passes."""

    def change(c: Any) -> None:
        c["members"].append(
            {"name": "Mallory", "github": "outsider", "github_id": 666, "roles": ["chair"]}
        )

    edit_yaml(repo / "policies/committee.yaml", change)
    path = repo / "policies/voting.yaml"
    path.write_text(path.read_text().replace("min_days_open: 7\n", "min_days_open: 0\n"))


def _quoted_number(repo: Path) -> None:
    path = repo / "policies/voting.yaml"
    path.write_text(path.read_text().replace("min_days_open: 7\n", "min_days_open: '7'\n", 1))


def _class_typo(repo: Path) -> None:
    path = repo / "policies/voting.yaml"
    path.write_text(path.read_text().replace("default_class: editorial", "default_class: editoral"))


def _released(repo: Path) -> None:
    files = read_directory(repo)
    prepared = release.prepare(files, "2021.01", ["2018.11"], date(2026, 3, 2))
    files_of(prepared.files, repo)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    git = Git(tmp_path_factory.mktemp("trusted") / "repo")
    base = git.base
    w = SimpleNamespace(git=git, path=git.path, base=base)
    w.a = git.commit(base, f"Make {CAPABILITY} required", _required)
    w.b = git.commit(w.a, "Cut-off 74 -> 10", _cutoff)
    w.c = git.same_tree(w.b, base, "The same change, rebased and squashed")
    w.typo = git.commit(base, "Fix a typo", _typo)
    w.loosen = git.commit(w.typo, "Shorten the review of releases", _loosen)
    w.drop = git.commit(w.typo, "Tidy networks-l2-CRUD", _drop_tests)
    w.second_cutoff = git.commit(base, "Fix a typo", _second_cutoff)
    w.criteria = git.commit(base, "Rebalance the criteria", _criteria)
    w.summit = git.commit(base, "An earlier summit", _summit_passed, branch="summit")
    w.attacker = git.commit(base, "Mallory's rules", _attacker_rules, branch="attacker")
    w.attack_head = git.commit(w.attacker, "Approve 2021.01", _released)
    w.attack_merge = git.merge(w.attacker, w.attack_head)
    w.pinned_later = git.commit(base, "Mallory joins; no waiting", _outsider_joins)
    w.broken = git.commit(base, "Quote a number", _quoted_number, branch="broken")
    w.missing = git.commit(
        base, "Drop the roster", lambda r: remove(r / "policies/committee.yaml"), branch="missing"
    )
    w.class_typo = git.commit(base, "Typo in a class name", _class_typo, branch="class-typo")
    w.release = git.commit(base, "Approve 2021.01", _released)
    w.release2 = git.commit(w.release, "And one more thing", _typo)
    w.release_merge = git.merge(base, w.release)
    w.release2_merge = git.merge(base, w.release2)
    w.typo_merge = git.merge(w.release_merge, w.typo)  # main after the release, then the typo
    return w


def opened(bot: Bot, n: int, w: SimpleNamespace, head: str, **kw: Any) -> None:
    bot.github("pull_request", github_pull("opened", n, w.base, head, bot.now, **kw))


def approve_all(bot: Bot, n: int, head: str, logins: list[str] = MEMBERS, rid: int = 0) -> None:
    """The members approve ``head`` in reviews, a minute apart (the bot's clock moves)."""
    for i, login in enumerate(logins):
        bot.now += MINUTE
        payload = github_review("submitted", n, user(login), "approved", head, bot.now, rid + i)
        bot.github("pull_request_review", payload)


def say(bot: Bot, n: int, login: str, body: str, cid: int, **kw: Any) -> None:
    bot.github("issue_comment", github_comment("created", n, user(login), body, bot.now, cid, **kw))


def deliver(bot: Bot, event: str, payload: dict[str, Any]) -> None:
    """A signed delivery stored by the receiver, not yet processed by the worker."""
    body = json.dumps(payload).encode()
    headers = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": sign_github(SECRET.encode(), body),
    }
    assert bot.client.post("/webhooks/github", content=body, headers=headers).status_code == 202


def row(bot: Bot, n: int, who: str) -> str:
    """The line of the latest vote table about ``who``."""
    return next(line for line in bot.vote_report(key_of(n)).splitlines() if who in line)


# -- 1. one governed branch ----------------------------------------------------------------


def test_a_pull_request_to_a_branch_the_attacker_controls_passes_nothing(
    engine: Any, world: SimpleNamespace
) -> None:
    """Property 1 (one governed branch): a PR aimed at a branch whose committee.yaml and
    voting.yaml the attacker wrote is not governed: the attacker's single vote passes
    nothing, and its merge publishes nothing. ``/release --base`` names no other branch,
    and the requester is checked against the governed branch's committee."""
    bot, n = Bot(engine, world.path), 101
    bot.github("pull_request", github_pull("opened", n, world.attacker, world.attack_head, T0, branch="attacker"))  # fmt: skip
    approve_all(bot, n, world.attack_head, ["outsider"])
    bot.now = T0 + 30 * DAY
    bot.clock.tick()
    assert bot.state(key_of(n)) == "not-governed"
    assert "Not governed: this change targets `attacker`" in bot.vote_report(key_of(n))
    merged = github_merged(n, world.attacker, world.attack_head, world.attack_merge, bot.now, branch="attacker")  # fmt: skip
    bot.github("pull_request", merged)
    assert audit(bot, "published") == []
    assert [e["subject"] for e in audit(bot, "merge-not-governed")] == [key_of(n)]

    for cid, body in enumerate(["/release 2021.01 --base attacker", "/release 2021.01"]):
        say(bot, 3, "outsider", body, 900 + cid, on_pull=False)
    assert audit(bot, "release-change-opened") == []
    why = [json.loads(e["detail"])["why"] for e in audit(bot, "release-request-refused")]
    assert "made from the governed branch `main`, not from `attacker`" in why[0]
    assert "@outsider may not ask for a release: by policies/committee.yaml on main" in why[1]


# -- 2. pinned policy ----------------------------------------------------------------------


def test_a_policy_merged_mid_vote_does_not_change_the_open_vote(
    engine: Any, world: SimpleNamespace
) -> None:
    """Property 2 (pinned policy): the governed branch gains a new member and loses the
    review period while a vote is open; the open vote keeps the roster and rules of the
    commit pinned when it opened, and its table names that commit. A review opened after
    the change is judged by the new commit; the change itself, by the commit before it."""
    world.git.set_branch("gov", world.base)
    bot, n = Bot(engine, world.path), 102
    kw = {"branch": "gov", "default_branch": "gov"}
    opened(bot, n, world, world.a, **kw)
    world.git.set_branch("gov", world.pinned_later)  # merged while the vote is open
    approve_all(bot, n, world.a, ["outsider"])
    bot.github("pull_request", github_pull("synchronize", n, world.base, world.b, bot.now, **kw))
    approve_all(bot, n, world.b, ["outsider", "chair-alice"], rid=10)
    bot.now += DAY
    bot.clock.tick()
    report = bot.vote_report(key_of(n))
    assert bot.state(key_of(n)) == "pending"
    assert f"governed branch `gov` at `{world.base[:12]}`" in report
    assert "| @outsider | — | +1 | no | not on the committee |" in report

    opened(bot, n + 1, world, world.a, **kw)  # a new review: the new rules
    assert f"at `{world.pinned_later[:12]}`" in bot.vote_report(key_of(n + 1))

    world.git.set_branch("gov", world.base)  # and a change cannot add its own voters
    opened(bot, n + 2, world, world.pinned_later, **kw)
    approve_all(bot, n + 2, world.pinned_later, ["outsider"], rid=20)
    report = bot.vote_report(key_of(n + 2))
    assert "Vote class **policy-change**" in report and f"at `{world.base[:12]}`" in report
    assert "| @outsider | — | +1 | no | not on the committee |" in report


# -- 3. a ballot is the act of its actor ---------------------------------------------------


@dataclass
class NoticeBoard(DryRunForge):
    """The dry-run forge, keeping every comment it was asked to post, with its marker."""

    comments: list[tuple[str, str]] = field(default_factory=list)

    def upsert_comment(
        self, review: ReviewRef, marker: str, body: str, *, notify: Sequence[str] = ()
    ) -> str:
        self.comments.append((marker, body))
        return super().upsert_comment(review, marker, body, notify=notify)


def test_no_one_else_can_cast_or_take_back_a_members_vote(
    engine: Any, world: SimpleNamespace
) -> None:
    """Property 3 (a ballot is the act of its actor): a non-member edits a chair's comment
    into ``/vote +1``: no vote. A non-member edits a chair's ``/vote -1`` away, then
    deletes it, and dismisses another chair's "changes requested" review: both vetoes
    stay. Each attempt is audited, and the chairs are told in a notice of its own."""
    forge = NoticeBoard(world.path)
    bot, n = Bot(engine, world.path, forge=forge), 103
    opened(bot, n, world, world.a)
    alice, mallory = user("chair-alice"), user("outsider")
    say(bot, n, "chair-alice", "LGTM, but let us talk first", 301)
    edited = github_comment("edited", n, alice, "/vote +1", bot.now, 301, sender=mallory,
                            before="LGTM, but let us talk first")  # fmt: skip
    bot.github("issue_comment", edited)
    assert row(bot, n, ALICE_ROW).endswith("| — | no | not voted yet |")

    say(bot, n, "chair-alice", "/vote -1", 302)
    bob = user("chair-bob")
    bot.github("pull_request_review", github_review("submitted", n, bob, "changes_requested", world.a, bot.now, 303))  # fmt: skip
    assert bot.state(key_of(n)) == "blocked"
    away = github_comment("edited", n, alice, "Fine by me.", bot.now, 302, sender=mallory,
                          before="/vote -1")  # fmt: skip
    bot.github("issue_comment", away)
    deleted = github_comment("deleted", n, alice, "/vote -1", bot.now, 302, sender=mallory)
    bot.github("issue_comment", deleted)
    dismissed = github_review("dismissed", n, bob, "dismissed", world.a, bot.now, 303, sender=mallory)  # fmt: skip
    bot.github("pull_request_review", dismissed)
    assert bot.state(key_of(n)) == "blocked"
    assert "Blocked: Alice Example, Bob Example voted -1" in bot.vote_report(key_of(n))
    refused = audit(bot, "act-by-another-refused", key_of(n))
    assert [json.loads(e["detail"])["by_id"] for e in refused] == ["666"] * 4
    told = {m: b for m, b in forge.comments if "only the voter can cast or take back" in b}
    assert len(told) == 3  # one notice for each act (302 twice), none overwriting another
    assert all(b.endswith("cc @chair-alice @chair-bob") for b in told.values())


def test_deleting_a_superseded_vote_keeps_the_current_one(
    engine: Any, world: SimpleNamespace
) -> None:
    """Property 3 (deleting a superseded vote does not touch the current one), in both
    orders of delivery: Alice deletes her old ``/vote -1`` after voting +1; Carol deletes
    hers too, but GitHub delivers the deletion before the newer ``/vote +1`` that
    superseded it (property 7: acts ordered by their own times)."""
    bot, n = Bot(engine, world.path), 104
    opened(bot, n, world, world.a)
    alice = user("chair-alice")
    say(bot, n, "chair-alice", "/vote -1", 401)
    bot.now += MINUTE
    say(bot, n, "chair-alice", "/vote +1", 402)
    bot.now += MINUTE
    bot.github("issue_comment", github_comment("deleted", n, alice, "/vote -1", T0, 401))
    assert row(bot, n, ALICE_ROW).endswith("| +1 | yes | member |")

    carol = user("member-carol")
    say(bot, n, "member-carol", "/vote -1", 403)
    bot.now += MINUTE
    newer = github_comment("created", n, carol, "/vote +1", bot.now, 404)  # written now...
    bot.now += MINUTE
    bot.github("issue_comment", github_comment("deleted", n, carol, "/vote -1", T0, 403))
    bot.now += MINUTE
    bot.github("issue_comment", newer)  # ...delivered after the deletion of the old one
    assert row(bot, n, "(@member-carol)").endswith("| +1 | yes | member |")
    bot.github("issue_comment", github_comment("deleted", n, carol, "/vote +1", T0, 404))
    assert row(bot, n, "(@member-carol)").endswith("| — | no | withdrawn |")  # her own act


# -- 3. commands only in visible text ------------------------------------------------------


HIDDEN = [
    "Not a vote:\n\n```\n/vote -1\n```",
    "Example:\n\n    /vote -1\n",
    "> /vote -1\n\nquoting Bob",
    "<!-- /vote -1 -->\nsee you at the meeting",
    "~~~\n/vote -1\n~~~",
]


def test_votes_hidden_from_readers_count_nothing(engine: Any, world: SimpleNamespace) -> None:
    """Property 3 (commands only in visible plain text): a chair's ``/vote -1`` inside
    fenced or indented code, a block quote or an HTML comment (invisible on the page)
    vetoes nothing; the same words in plain text do."""
    bot, n = Bot(engine, world.path), 105
    opened(bot, n, world, world.a)
    for cid, body in enumerate(HIDDEN):
        bot.now += MINUTE
        say(bot, n, "chair-alice", body, 500 + cid)
    assert bot.state(key_of(n)) == "pending"
    assert row(bot, n, ALICE_ROW).endswith("| — | no | not voted yet |")
    say(bot, n, "chair-alice", "Sorry, visible:\n\n/vote -1", 599)
    assert bot.state(key_of(n)) == "blocked"


# -- 4. identity by account id -------------------------------------------------------------


def test_another_account_with_a_members_login_counts_nothing(
    engine: Any, world: SimpleNamespace
) -> None:
    """Property 4 (identity by immutable account id): an account with another GitHub user
    id that took over chair-alice's login approves, vetoes and asks for a release:
    nothing counts and no release change is opened."""
    bot, n = Bot(engine, world.path), 106
    opened(bot, n, world, world.a)
    impostor = user("chair-alice", account=31337)
    bot.now += MINUTE
    bot.github("pull_request_review", github_review("submitted", n, impostor, "approved", world.a, bot.now, 601))  # fmt: skip
    bot.github("issue_comment", github_comment("created", n, impostor, "/vote -1", bot.now, 602))
    assert bot.state(key_of(n)) == "pending"
    assert row(bot, n, ALICE_ROW).endswith("| — | no | not voted yet |")
    why = "not on the committee: Alice Example's login, but account 1000001 is theirs"
    assert row(bot, n, "| @chair-alice |").endswith(f"| -1 | no | {why} |")
    bot.github("issue_comment", github_comment("created", 3, impostor, "/release 2021.01", bot.now, 603, on_pull=False))  # fmt: skip
    assert audit(bot, "release-change-opened") == []
    assert len(audit(bot, "release-request-refused")) == 1


# -- 5. revision-bound votes, content staleness --------------------------------------------


def test_votes_stay_on_the_revision_they_were_given_on(engine: Any, world: SimpleNamespace) -> None:
    """Property 5 (revision-bound votes): the members vote on revision A; a push of B (the
    cut-off 74 -> 10) is processed before their comments and reviews are, which must not
    bind their votes to B. Votes then given on B survive a rebase to C, a new commit with
    B's governed tree: staleness follows content, not commit ids."""
    bot, n = Bot(engine, world.path), 107
    opened(bot, n, world, world.a)
    cast = T0 + 10 * MINUTE  # when the members voted on A
    bot.now = T0 + 20 * MINUTE
    bot.github("pull_request", github_pull("synchronize", n, world.base, world.b, bot.now))
    bot.now = T0 + 30 * MINUTE  # their deliveries come in only now
    for cid, login in enumerate(MEMBERS[:3]):
        say_at = github_comment("created", n, user(login), "/vote +1", cast, 700 + cid)
        bot.github("issue_comment", say_at)
    review = github_review("submitted", n, user("member-dave"), "approved", world.a, cast, 710)
    bot.github("pull_request_review", review)
    assert bot.vote_report(key_of(n)).count(f"stale: cast on {world.a[:7]}") == 4
    bot.now = T0 + 8 * DAY
    bot.clock.tick()
    assert bot.state(key_of(n)) == "pending"

    approve_all(bot, n, world.b, rid=720)
    bot.now += MINUTE
    bot.github("pull_request", github_pull("synchronize", n, world.base, world.c, bot.now))
    assert bot.vote_report(key_of(n)).count(f"stale: cast on {world.b[:7]}") == 0
    assert bot.state(key_of(n)) == "passed"


def test_a_push_delivered_late_does_not_steal_the_votes_given_on_it(
    engine: Any, world: SimpleNamespace
) -> None:
    """Property 5 (a comment vote binds to the head at the comment's own time): B is
    pushed, the members vote on B, and only then is the push delivered. Their votes are
    B's, not A's. And votes whose review govbot learns of only later (the "opened"
    delivery came after them) are bound to A once A is known, never to any head."""
    bot, n = Bot(engine, world.path), 117
    opened(bot, n, world, world.a)
    pushed = T0 + 10 * MINUTE
    for cid, login in enumerate(MEMBERS):
        bot.now = T0 + (20 + cid) * MINUTE
        say(bot, n, login, "/vote +1", 750 + cid)
    bot.now = T0 + 30 * MINUTE
    bot.github("pull_request", github_pull("synchronize", n, world.base, world.b, pushed))
    assert "stale" not in bot.vote_report(key_of(n))
    bot.now = T0 + 8 * DAY
    bot.clock.tick()
    assert bot.state(key_of(n)) == "passed"

    m = n + 100  # the votes come first, the review's own deliveries after them
    bot.now = T0 + 9 * DAY
    for cid, login in enumerate(MEMBERS):
        bot.now += MINUTE
        say(bot, m, login, "/vote +1", 760 + cid)
    bot.github("pull_request", github_pull("opened", m, world.base, world.a, T0 + 9 * DAY))
    bot.now += MINUTE
    bot.github("pull_request", github_pull("synchronize", m, world.base, world.b, bot.now))
    assert bot.vote_report(key_of(m)).count(f"stale: cast on {world.a[:7]}") == 4


# -- 6. the class judged on every head ------------------------------------------------------


def test_a_typo_fix_pushed_into_a_policy_change_restarts_the_review(
    engine: Any, world: SimpleNamespace
) -> None:
    """Property 6 (class re-judged on every head): a PR opened as a typo fix and pushed
    8 days later into a policy loosening is a policy change, whose review period starts
    at the push: 13 minutes after it, four +1 votes do not pass it; 7 days after, they do."""
    bot, n = Bot(engine, world.path), 108
    opened(bot, n, world, world.typo)
    assert "Vote class **editorial**" in bot.vote_report(key_of(n))
    push = T0 + 8 * DAY
    bot.now = push
    bot.github("pull_request", github_pull("synchronize", n, world.base, world.loosen, push))
    assert "Vote class **policy-change**" in bot.vote_report(key_of(n))
    approve_all(bot, n, world.loosen)
    bot.now = push + 13 * MINUTE
    bot.clock.tick()
    assert bot.state(key_of(n)) == "pending"
    bot.now = push + 7 * DAY + MINUTE
    bot.clock.tick()
    assert bot.state(key_of(n)) == "passed"


def test_a_push_govbot_cannot_read_restarts_the_review(engine: Any, world: SimpleNamespace) -> None:
    """Property 6 (a class change restarts the review period): 8 days into a typo fix, a
    push govbot cannot read (its class is unknown, so the substantive class judges it).
    The members approve it at once; the period runs again from the push."""
    bot, n = Bot(engine, world.path), 121
    opened(bot, n, world, world.typo)
    unreadable = "f" * 40  # not in the repository govbot reads
    push = T0 + 8 * DAY
    bot.now = push
    bot.github("pull_request", github_pull("synchronize", n, world.base, unreadable, push))
    approve_all(bot, n, unreadable)
    bot.now = push + 13 * MINUTE
    bot.clock.tick()
    assert bot.state(key_of(n)) == "pending"
    assert "Vote class **guideline-change**" in bot.vote_report(key_of(n))


def test_time_as_a_draft_does_not_count(engine: Any, world: SimpleNamespace) -> None:
    """Property 6 (draft time does not count): a PR kept as a draft for 7 days is not
    decided minutes after "ready for review": its review period starts then."""
    bot, n = Bot(engine, world.path), 109
    opened(bot, n, world, world.a, draft=True)
    approve_all(bot, n, world.a)
    ready = T0 + 7 * DAY
    bot.now = ready
    bot.github("pull_request", github_pull("ready_for_review", n, world.base, world.a, ready))
    bot.now = ready + 10 * MINUTE
    bot.clock.tick()
    assert bot.state(key_of(n)) == "pending"
    bot.now = ready + 7 * DAY + MINUTE
    bot.clock.tick()
    assert bot.state(key_of(n)) == "passed"


def test_dropping_must_pass_tests_is_never_editorial(engine: Any, world: SimpleNamespace) -> None:
    """Property 6 (what is never editorial): a typo fix pushed into dropping 26 of the 27
    must-pass tests of a required capability leaves the editorial class and its votes."""
    bot, n = Bot(engine, world.path), 110
    opened(bot, n, world, world.typo)
    approve_all(bot, n, world.typo, MEMBERS[:2])
    bot.now += MINUTE
    bot.github("pull_request", github_pull("synchronize", n, world.base, world.drop, bot.now))
    report = bot.vote_report(key_of(n))
    assert "Vote class **guideline-change**" in report
    assert report.count(f"stale: cast on {world.typo[:7]}") == 2
    bot.now = T0 + 4 * DAY  # the editorial class's 3 days are over: still not decided
    bot.clock.tick()
    assert bot.state(key_of(n)) == "pending"


def test_a_change_the_diff_cannot_read_is_never_editorial(
    engine: Any, world: SimpleNamespace
) -> None:
    """Property 6 (what is never editorial): a "typo fix" adds a second ``cutoff_score:
    10`` under ``cutoff_score: 74``. govbot's diff cannot read the file (a duplicate key),
    so it sees no change, but every YAML loader reads the cut-off as 10. Its check fails,
    and its vote is not the editorial class's two votes after three days."""
    bot, n = Bot(engine, world.path), 119
    opened(bot, n, world, world.second_cutoff)
    assert "Vote class **guideline-change**" in bot.vote_report(key_of(n))
    approve_all(bot, n, world.second_cutoff, ["chair-alice", "chair-bob"])
    bot.now = T0 + 4 * DAY
    bot.clock.tick()
    assert bot.state(key_of(n)) == "pending"


# -- 7. one clock --------------------------------------------------------------------------


def test_a_delivery_dated_30_days_back_does_not_shorten_the_review(
    engine: Any, world: SimpleNamespace
) -> None:
    """Property 7 (one clock): a signed delivery whose payload says the PR was updated
    30 days ago; the review period still runs from govbot's receipt of it."""
    bot, n = Bot(engine, world.path), 111
    bot.github("pull_request", github_pull("opened", n, world.base, world.a, T0 - 30 * DAY))
    approve_all(bot, n, world.a)
    bot.now = T0 + 4 * MINUTE
    bot.clock.tick()
    assert bot.state(key_of(n)) == "pending"
    assert "earliest decision 2026-03-09" in bot.vote_report(key_of(n))
    bot.now = T0 + 7 * DAY + MINUTE
    bot.clock.tick()
    assert bot.state(key_of(n)) == "passed"


def test_a_delivery_dated_back_does_not_reopen_a_closed_window(
    engine: Any, world: SimpleNamespace
) -> None:
    """Property 7 (one clock): the time line forbids changing the scoring criteria once
    the draft is published (2017A A4.3; here S-3 is 2026-01-01). A change of weights
    received on 2026-03-02 in a delivery dated 2025-12-01 is judged at its receipt:
    forbidden."""
    bot, n = Bot(engine, world.path), 120
    dated = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
    kw = {"branch": "summit", "default_branch": "summit"}
    bot.github("pull_request", github_pull("opened", n, world.summit, world.criteria, dated, **kw))
    [check] = reports(bot, key_of(n), kind="check")
    assert "2017A.A4.3" in check and "changes after the time line forbids it" in check


def test_a_withdrawal_processed_late_does_not_cancel_a_later_vote(
    engine: Any, world: SimpleNamespace
) -> None:
    """Property 7 (acts ordered by their own times): Carol deletes her ``/vote +1`` and
    votes +1 again in a new comment; the worker processes the deletion only afterwards.
    Her later vote stands."""
    bot, n = Bot(engine, world.path), 112
    opened(bot, n, world, world.a)
    carol = user("member-carol")
    bot.now += MINUTE
    say(bot, n, "member-carol", "/vote +1", 801)
    bot.now += MINUTE
    deliver(bot, "issue_comment", github_comment("deleted", n, carol, "/vote +1", T0, 801))
    bot.now += MINUTE
    deliver(bot, "issue_comment", github_comment("created", n, carol, "/vote +1", bot.now, 802))
    bot.now += 2 * DAY  # the worker was down
    bot.worker.run(once=True)
    assert row(bot, n, "(@member-carol)").endswith("| +1 | yes | member |")


# -- 10. fail closed -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("branch", "where"),
    [
        ("broken", "policies/voting.yaml:21"),
        ("missing", "policies/committee.yaml:1"),
        ("class-typo", "policies/voting.yaml:74"),
    ],
)
def test_an_unusable_policy_blocks_every_vote(
    engine: Any, world: SimpleNamespace, branch: str, where: str
) -> None:
    """Property 10 (fail closed): on a governed branch whose voting.yaml quotes a number
    (``min_days_open: '7'``), which lost its committee.yaml, or whose ``default_class``
    names no class (it fell back to one vote, no waiting, no veto), every vote is blocked,
    whatever the votes, with an error naming the file and line."""
    bot, n = Bot(engine, world.path), 113
    kw = {"branch": branch, "default_branch": branch}
    opened(bot, n, world, world.drop, **kw)
    approve_all(bot, n, world.drop)
    bot.now = T0 + 30 * DAY
    bot.clock.tick()
    assert bot.state(key_of(n)) == "blocked"
    report = bot.vote_report(key_of(n))
    assert "Blocked: the policies that judge this vote cannot be used" in report
    assert f"`{where}" in report


# -- 9. releases bound to their own vote ---------------------------------------------------


def test_a_release_is_published_only_by_its_own_passed_vote(
    engine: Any, world: SimpleNamespace
) -> None:
    """Property 9 (releases bound to their own vote): a release change merged without a
    vote is not published (the chairs are told); the next passed PR, with an older base,
    does not publish it either."""
    bot, n = Bot(engine, world.path), 114
    opened(bot, n, world, world.release)
    assert "Vote class **release**" in bot.vote_report(key_of(n))
    bot.github("pull_request", github_merged(n, world.base, world.release, world.release_merge, bot.now))  # fmt: skip
    assert [json.loads(e["detail"])["why"] for e in audit(bot, "release-not-published")] == [
        "the vote is pending"
    ]
    [told] = [b for b in reports(bot, key_of(n)) if "Chairs, please decide" in b]
    assert told.endswith("cc @chair-alice @chair-bob")

    opened(bot, n + 1, world, world.typo)  # based on main before the release merged
    approve_all(bot, n + 1, world.typo, rid=30)
    bot.now = T0 + 8 * DAY
    bot.clock.tick()
    assert bot.state(key_of(n + 1)) == "passed"
    bot.github("pull_request", github_merged(n + 1, world.base, world.typo, world.typo_merge, bot.now))  # fmt: skip
    assert audit(bot, "published") == []


def test_a_release_passed_on_one_head_and_merged_at_another_is_not_published(
    engine: Any, world: SimpleNamespace
) -> None:
    """Property 9: the vote passed on the release change's head, then a last-minute push
    was merged before govbot saw it; nothing is published. The same change merged at the
    head its vote passed on is published."""
    bot = Bot(engine, world.path)
    for n in (115, 116):
        bot.now = T0
        opened(bot, n, world, world.release)
        approve_all(bot, n, world.release, rid=n * 10)
    bot.now = T0 + 8 * DAY
    bot.clock.tick()
    assert bot.state(key_of(115)) == bot.state(key_of(116)) == "passed"
    bot.github("pull_request", github_merged(115, world.base, world.release2, world.release2_merge, bot.now))  # fmt: skip
    [refused] = audit(bot, "release-not-published")
    assert "merged" in json.loads(refused["detail"])["why"]
    assert audit(bot, "published") == []
    bot.github("pull_request", github_merged(116, world.base, world.release, world.release_merge, bot.now))  # fmt: skip
    assert sorted(json.loads(e["detail"])["guideline"] for e in audit(bot, "published")) == [
        "2021.01",
        "dns.2021.01",
        "orchestration.2021.01",
    ]


def test_a_merge_processed_after_the_review_period_is_judged_at_the_merge(
    engine: Any, world: SimpleNamespace
) -> None:
    """Properties 7 and 9: a maintainer merges the release change 3 days into its 7-day
    review; the worker is down and processes the merge on day 8, when the vote would have
    passed. It is judged as it stood at the merge: not published."""
    bot, n = Bot(engine, world.path), 118
    opened(bot, n, world, world.release)
    approve_all(bot, n, world.release, rid=n * 10)
    bot.now = T0 + 3 * DAY
    deliver(bot, "pull_request", github_merged(n, world.base, world.release, world.release_merge, bot.now))  # fmt: skip
    bot.now = T0 + 8 * DAY
    bot.worker.run(once=True)
    assert [json.loads(e["detail"])["why"] for e in audit(bot, "release-not-published")] == [
        "the vote is pending"
    ]
    assert audit(bot, "published") == []


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with github_server() as server:
        repo = server.add_repo(PROJECT)
        repo.commit("b" * 40, read_directory(REPO), branch="main")
        yield server


def test_a_planted_release_asset_fails_the_publication_loudly(engine: Any, gh: FakeGitHub) -> None:
    """Property 9 (a pre-existing asset whose SHA-256 differs fails loudly): before the
    release change merges, someone publishes release 2021.01 with a must-pass list of the
    right size but other tests. Publishing fails, the planted asset is not kept as if it
    were the committee's, and the chairs are told."""
    assets, _ = release.publication(prepared_files(), "2021.01")
    true_list = assets["tests-platform.txt"]
    planted = true_list.replace(b"tempest.api.compute", b"tempest.api.c0mpute", 1)
    assert len(planted) == len(true_list) and planted != true_list
    gh.repos[PROJECT].add_release("2021.01", assets={"tests-platform.txt": planted})

    bot = Bot(engine, REPO, forge=gh.forge())
    pull = passed_release_pull(bot, gh)
    bot.github("pull_request", merged_event(gh, pull, bot.now))
    key = key_of(pull["number"])
    [conflict] = [json.loads(e["detail"]) for e in audit(bot, "release-conflict")]
    assert conflict["guideline"] == "2021.01" and "tests-platform.txt" in conflict["error"]
    assert "2021.01" not in [json.loads(e["detail"])["guideline"] for e in audit(bot, "published")]
    comments = gh.repos[PROJECT].comments[pull["number"]]
    [told] = [c["body"] for c in comments if "Release 2021.01 not published" in c["body"]]
    assert "SHA-256" in told and told.endswith("cc @chair-alice @chair-bob"), key
