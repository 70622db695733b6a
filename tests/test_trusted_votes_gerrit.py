"""Attacks on a committee vote held on Gerrit, through the real receiver, worker and clock.

Each test drives the real FastAPI receiver with Gerrit deliveries as the
webhooks plugin sends them (the stream-events JSON of cmd-stream-events.txt),
the real worker and clock, and the real Gerrit adapter (REST + gitiles) against
the fake Gerrit of ``tests/fakes/gerrit_server.py``, on SQLite and PostgreSQL.

Gerrit's events name accounts, never their ids (json.txt, "account": "name",
"email", "username"), so identity is what Gerrit's REST API says the username
belongs to; the properties shown here are issue 11's:

* (4) identity: another account id behind a member's username, an email, a
  username that reads as a member's account id: none counts as the member.
* (5) change kinds: TRIVIAL_REBASE and NO_CODE_CHANGE keep the votes, REWORK
  does not, ``trivial_rebase_keeps_votes: false`` says otherwise, and a
  rebase is only trusted when its edits are the voted ones.
* (11) labels: the check's label and the vote's never overwrite each other,
  their names and the bot's account come from configuration, a label reset
  to 0 is a withdrawal; end to end, a rule-breaking change keeps
  ``Verified -1`` through a vote that passes.
* (3) on Gerrit: a vote removed by someone else stays (``remover`` is not the
  ``reviewer``), and a command in code, a quote or an HTML comment is none.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from govbot.core.mentions import ZWSP
from govbot.core.yamlio import dump, parse_bytes
from govbot.forges.gerrit import GerritForge
from govbot.repo.snapshots import read_directory, read_git
from tests.conftest import REPO
from tests.fakes.gerrit_server import FakeGerrit, running
from tests.test_vote_scenario import CAPABILITY, GERRIT_IDS, T0, Bot, git

PROJECT = "governance/guidelines"
KEY = f"gerrit:{PROJECT}#42"
MEMBERS = ("member-carol", "member-erin", "chair-bob", "chair-alice")  # Dave has no Gerrit seat


def _commit(repo: Path, parent: str, files: dict[str, bytes], message: str) -> str:
    git(repo, "checkout", "-q", "--detach", parent)
    for rel, raw in files.items():
        (repo / rel).write_bytes(raw)
    git(repo, "commit", "-q", "--allow-empty", "-am", message)
    return git(repo, "rev-parse", "HEAD")


def build(root: Path, *, keeps: bool | None = None) -> dict[str, Any]:
    """base; main moved on (base2: an old guideline's comment); patch sets of change 42.

    head1: CAPABILITY made required; head2: head1 reworded (REWORK);
    rebased: head1's edit on base2 (a trivial rebase); rebased2: head2's on base2;
    nocode: head1's tree under another message; broken: head1 + an undefined
    required capability (an integrity error: the check's -1).
    """
    repo = root / "repo"
    shutil.rmtree(repo, ignore_errors=True)
    for rel, raw in read_directory(REPO).items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(raw)
    if keeps is not None:
        voting = repo / "policies/voting.yaml"
        kept = [
            line
            for line in voting.read_text().splitlines(keepends=True)
            if not line.startswith("trivial_rebase_keeps_votes:")
        ]
        voting.write_text("".join(kept) + f"trivial_rebase_keeps_votes: {str(keeps).lower()}\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")
    old = "guidelines/2015.03.yaml"
    base2 = _commit(repo, base, {old: (repo / old).read_bytes() + b"# a note\n"}, "note")
    raw = (repo / "guidelines/next.yaml").read_bytes()
    header = raw.decode().splitlines(keepends=True)[0]  # the schema comment dump() drops

    def dumped(data: Any) -> bytes:
        return (header + dump(data)).encode()

    g = copy.deepcopy(parse_bytes("next", raw).data)
    comp = g["components"]["os_powered_compute"]["capabilities"]
    comp["advisory"].remove(CAPABILITY)
    comp["required"].append(CAPABILITY)
    made = dumped(g)
    g["capabilities"][CAPABILITY]["description"] += " (reworded)"
    reworded = dumped(g)
    g["capabilities"][CAPABILITY]["description"] = g["capabilities"][CAPABILITY][
        "description"
    ].removesuffix(" (reworded)")
    comp["required"].append("no-such-capability")
    broken = dumped(g)
    gt = copy.deepcopy(parse_bytes("next", raw).data)
    gt["capabilities"][CAPABILITY]["description"] += " (typo fixed)"
    typo = dumped(gt)  # wording only: the editorial class
    nxt = "guidelines/next.yaml"
    # main changes next.yaml too, far from the change's lines: another capability's wording
    g3 = copy.deepcopy(parse_bytes("next", raw).data)
    other = next(c for c in sorted(g3["capabilities"]) if c != CAPABILITY)
    g3["capabilities"][other]["description"] = "Reworded on main."
    base3 = _commit(repo, base, {nxt: dumped(g3)}, "Reword another capability")
    comp3 = g3["components"]["os_powered_compute"]["capabilities"]
    comp3["advisory"].remove(CAPABILITY)
    comp3["required"].append(CAPABILITY)
    shas = {
        "base3": base3,
        "rebased3": _commit(repo, base3, {nxt: dumped(g3)}, "Make it required"),
        "base": base,
        "base2": base2,
        "head1": _commit(repo, base, {nxt: made}, f"Make {CAPABILITY} required"),
        "head2": _commit(repo, base, {nxt: reworded}, "Reworded"),
        "rebased": _commit(repo, base2, {nxt: made}, f"Make {CAPABILITY} required"),
        "rebased2": _commit(repo, base2, {nxt: reworded}, "Reworded"),
        "nocode": _commit(repo, base, {nxt: made}, f"Make {CAPABILITY} required (retitled)"),
        "broken": _commit(repo, base, {nxt: broken}, "Broken"),
        "typo": _commit(repo, base, {nxt: typo}, "Fix a typo"),
    }
    git(repo, "checkout", "-q", "main")
    return {"repo": repo, **shas}


@pytest.fixture(scope="module")
def revs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build(tmp_path_factory.mktemp("trusted-gerrit"))


def seed(fake: FakeGerrit, revs: dict[str, Any]) -> None:
    fake.heads[PROJECT] = "main"
    fake.accounts.update(GERRIT_IDS)
    for name, sha in revs.items():
        if name == "repo":
            continue
        fake.add_commit(PROJECT, sha, read_git(revs["repo"], sha), branch=None)
    fake.branches[PROJECT, "main"] = revs["base"]


@pytest.fixture
def gerrit(revs: dict[str, Any]) -> Iterator[FakeGerrit]:
    with running() as fake:
        seed(fake, revs)
        yield fake


def account(user: str, **override: Any) -> dict[str, Any]:
    return {"name": user, "email": f"{user}@example.org", "username": user, **override}


def change(number: int = 42, branch: str = "main") -> dict[str, Any]:
    return {"project": PROJECT, "branch": branch, "id": "I" + "a" * 40, "number": number,
            "subject": f"Make {CAPABILITY} required", "owner": account("contributor"),
            "url": f"https://review.example.org/{number}", "status": "NEW"}  # fmt: skip


def patchset(sha: str, number: int, parent: str, kind: str = "REWORK") -> dict[str, Any]:
    """cmd-stream-events.txt "patchset-created": ``patchSet`` with ``kind`` (json.txt: REWORK,
    TRIVIAL_REBASE, MERGE_FIRST_PARENT_UPDATE, NO_CODE_CHANGE, NO_CHANGE) and ``parents``."""
    return {"number": number, "revision": sha, "parents": [parent], "kind": kind,
            "ref": f"refs/changes/42/42/{number}", "uploader": account("contributor"),
            "createdOn": int(T0.timestamp())}  # fmt: skip


def pushed(
    bot: Bot,
    fake: FakeGerrit,
    sha: str,
    number: int,
    parent: str,
    kind: str = "REWORK",
    branch: str = "main",
    created: datetime | None = None,
) -> None:
    """The patch set on the fake Gerrit, then its ``patchset-created`` delivered."""
    fake.add_change(PROJECT, 42, sha, {"guidelines/next.yaml": {}}, branch=branch, kind=kind)
    bot.gerrit(
        {
            "type": "patchset-created",
            "change": change(branch=branch),
            "patchSet": patchset(sha, number, parent, kind),
            "uploader": account("contributor"),
            "eventCreatedOn": int((created or bot.now).timestamp()),
        }
    )


def voted(
    bot: Bot,
    author: dict[str, Any],
    value: int,
    old: int,
    sha: str,
    number: int,
    label: str = "Code-Review",
    comment: str | None = None,
    branch: str = "main",
) -> None:
    """cmd-stream-events.txt "comment-added": ``author``, ``approvals`` (json.txt: ``oldValue``
    "only present if the value changed as a result of this event") and ``comment``."""
    approvals = [{"type": label, "description": label, "value": str(value), "oldValue": str(old)}]
    bot.gerrit(
        {
            "type": "comment-added",
            "change": change(branch=branch),
            "patchSet": {"number": number, "revision": sha, "uploader": account("contributor")},
            "author": author,
            "approvals": approvals,
            "comment": comment or f"Patch Set {number}: {label}{value:+d}",
            "eventCreatedOn": int(bot.now.timestamp()),
        }
    )


def everyone_votes(
    bot: Bot, sha: str, number: int, minutes: int = 10, branch: str = "main", old: int = 0
) -> None:
    start = bot.now if bot.now > T0 + timedelta(minutes=minutes) else T0
    for i, user in enumerate(MEMBERS):
        bot.now = start + timedelta(minutes=minutes + i)
        voted(bot, account(user), 1, old, sha, number, branch=branch)


def row(report: str, who: str) -> str:
    """The table row of a non-member's act (``| @who | ...``)."""
    return next(line for line in report.splitlines() if line.startswith(f"| @{who} |"))


# -- (4) identity: the account id, never the username or email ---------------------------


def test_another_account_behind_a_members_username_counts_nothing(
    engine: Any, revs: dict[str, Any], gerrit: FakeGerrit
) -> None:
    """Gerrit says ``chair-alice`` is account 999 now (json.txt's account attribute carries
    no id: the REST API is asked): Alice's seat is account 1000001, so this -1 vetoes nothing."""
    bot = Bot(engine, revs["repo"], forge=gerrit.forge())
    pushed(bot, gerrit, revs["head1"], 1, revs["base"])
    gerrit.accounts["chair-alice"] = 999
    bot.now = T0 + timedelta(minutes=5)
    voted(bot, account("chair-alice"), -1, 0, revs["head1"], 1)
    assert bot.state(KEY) == "pending"
    line = row(bot.vote_report(KEY), "chair-alice")
    assert "| -1 | no |" in line and "account 1000001 is theirs" in line


def test_a_username_moved_to_another_account_is_asked_afresh(
    engine: Any, revs: dict[str, Any], gerrit: FakeGerrit
) -> None:
    """Alice's +1 counts; then her username is given to account 999: its -1 is not hers,
    even in the same worker process (no account answer is kept from before the move)."""
    bot = Bot(engine, revs["repo"], forge=gerrit.forge())
    pushed(bot, gerrit, revs["head1"], 1, revs["base"])
    bot.now = T0 + timedelta(minutes=5)
    voted(bot, account("chair-alice"), 1, 0, revs["head1"], 1)
    assert "| Alice Example (@chair-alice) | chair, board | +1 | yes | member |" in bot.vote_report(
        KEY
    )
    gerrit.accounts["alice-renamed"] = gerrit.accounts.pop("chair-alice")
    gerrit.accounts["chair-alice"] = 999
    bot.now = T0 + timedelta(minutes=6)
    voted(bot, account("chair-alice"), -1, 0, revs["head1"], 1)
    assert bot.state(KEY) == "pending"  # not blocked: the chair's veto was never cast
    assert "| Alice Example (@chair-alice) | chair, board | +1 | yes | member |" in bot.vote_report(
        KEY
    )


def test_a_members_email_without_a_username_counts_nothing(
    engine: Any, revs: dict[str, Any], gerrit: FakeGerrit
) -> None:
    """An account with no username, named by Alice's email (Gerrit resolves that email to her
    account, and several accounts may share one): the act is shown, never counted."""
    gerrit.emails["chair-alice@example.org"] = 1000001
    bot = Bot(engine, revs["repo"], forge=gerrit.forge())
    pushed(bot, gerrit, revs["head1"], 1, revs["base"])
    bot.now = T0 + timedelta(minutes=5)
    author = {"name": "Alice Example", "email": "chair-alice@example.org"}
    voted(bot, author, -1, 0, revs["head1"], 1)
    assert bot.state(KEY) == "pending"
    line = row(bot.vote_report(KEY), "chair-alice@example.org")
    assert "| -1 | no |" in line
    assert "| Alice Example (@chair-alice) | chair, board | — | no | not voted yet |" in (
        bot.vote_report(KEY)
    )


def test_a_username_that_reads_as_a_members_account_id_counts_nothing(
    engine: Any, revs: dict[str, Any], gerrit: FakeGerrit
) -> None:
    """rest-api-accounts.txt, {account-id}: "a bare account ID" resolves first, so asking Get
    Account for the username ``1000001`` answers Alice's account; only an answer whose
    username is the one asked for counts (Query Account, ``username:``, says whose it is)."""
    gerrit.accounts["1000001"] = 777
    bot = Bot(engine, revs["repo"], forge=gerrit.forge())
    pushed(bot, gerrit, revs["head1"], 1, revs["base"])
    bot.now = T0 + timedelta(minutes=5)
    voted(bot, account("1000001"), -1, 0, revs["head1"], 1)
    assert bot.state(KEY) == "pending"
    assert "| @1000001 | — | -1 | no | not on the committee |" in bot.vote_report(KEY)


# -- (5) change kinds ----------------------------------------------------------------------


def stale_rows(bot: Bot, sha: str) -> int:
    return bot.vote_report(KEY).count(f"stale: cast on {sha[:7]}")


@pytest.mark.parametrize(
    ("kind", "new", "parent"),
    [
        ("TRIVIAL_REBASE", "rebased", "base2"),  # main changed another governed file
        ("TRIVIAL_REBASE", "rebased3", "base3"),  # main changed other lines of the same file
        ("NO_CODE_CHANGE", "nocode", "base"),  # only the commit message changed
    ],
)
def test_a_trivial_rebase_or_no_code_change_keeps_the_votes(
    engine: Any, revs: dict[str, Any], gerrit: FakeGerrit, kind: str, new: str, parent: str
) -> None:
    """json.txt, patchSet.kind: TRIVIAL_REBASE "Conflict-free merge between the new parent and
    the prior patch set", NO_CODE_CHANGE "No code changed; same tree and same parent tree".
    The rebase lands on a main that moved on (other governed content: the tree differs), and
    the votes of patch set 1 still count on patch set 2; the vote passes on them."""
    bot = Bot(engine, revs["repo"], forge=gerrit.forge())
    pushed(bot, gerrit, revs["head1"], 1, revs["base"])
    everyone_votes(bot, revs["head1"], 1)
    bot.now = T0 + timedelta(hours=1)
    pushed(bot, gerrit, revs[new], 2, revs[parent], kind)
    assert stale_rows(bot, revs["head1"]) == 0
    bot.now = T0 + timedelta(days=8)
    bot.clock.tick()
    assert bot.state(KEY) == "passed"


def test_rework_makes_the_votes_stale(
    engine: Any, revs: dict[str, Any], gerrit: FakeGerrit
) -> None:
    """The very tree of the trivial rebase above, but Gerrit calls it REWORK: the governed
    content changed (main's note came in), so the votes of patch set 1 are stale."""
    bot = Bot(engine, revs["repo"], forge=gerrit.forge())
    pushed(bot, gerrit, revs["head1"], 1, revs["base"])
    everyone_votes(bot, revs["head1"], 1)
    bot.now = T0 + timedelta(hours=1)
    pushed(bot, gerrit, revs["rebased"], 2, revs["base2"], "REWORK")
    assert stale_rows(bot, revs["head1"]) == 4
    bot.now = T0 + timedelta(days=8)
    bot.clock.tick()
    assert bot.state(KEY) == "pending"


def test_a_policy_can_say_a_trivial_rebase_does_not_keep_votes(engine: Any, tmp_path: Path) -> None:
    """``trivial_rebase_keeps_votes: false`` in the governed voting.yaml: a trivial rebase
    that brings governed content in makes the votes stale like any change of content."""
    revs = build(tmp_path, keeps=False)
    with running() as fake:
        seed(fake, revs)
        bot = Bot(engine, revs["repo"], forge=fake.forge())
        pushed(bot, fake, revs["head1"], 1, revs["base"])
        everyone_votes(bot, revs["head1"], 1)
        bot.now = T0 + timedelta(hours=1)
        pushed(bot, fake, revs["rebased"], 2, revs["base2"], "TRIVIAL_REBASE")
        assert stale_rows(bot, revs["head1"]) == 4


def test_a_trivial_rebase_of_an_unseen_rework_does_not_inherit_old_votes(
    engine: Any, revs: dict[str, Any], gerrit: FakeGerrit
) -> None:
    """Patch set 2 (reworded: new content) never reaches govbot (a stream reconnect, a
    delivery given up), patch set 3 is its trivial rebase: "trivial" is relative to patch
    set 2, not to patch set 1, so the votes on patch set 1 must not count on it."""
    bot = Bot(engine, revs["repo"], forge=gerrit.forge())
    pushed(bot, gerrit, revs["head1"], 1, revs["base"])
    everyone_votes(bot, revs["head1"], 1)
    gerrit.add_change(PROJECT, 42, revs["head2"], {"guidelines/next.yaml": {}}, branch="main")
    bot.now = T0 + timedelta(hours=1)
    pushed(bot, gerrit, revs["rebased2"], 3, revs["base2"], "TRIVIAL_REBASE")
    assert stale_rows(bot, revs["head1"]) == 4
    bot.now = T0 + timedelta(days=8)
    bot.clock.tick()
    assert bot.state(KEY) == "pending"


# -- (11) labels ---------------------------------------------------------------------------


def configured(fake: FakeGerrit, monkeypatch: pytest.MonkeyPatch, **labels: str) -> GerritForge:
    """The adapter as ``govbot worker`` builds it, from the environment (labels included);
    the receiver's normaliser reads the same variables."""
    env = {
        "GOVBOT_GERRIT_URL": fake.url,
        "GOVBOT_GERRIT_USER": fake.user,
        "GOVBOT_GERRIT_HTTP_PASSWORD": fake.password,
        "GOVBOT_GERRIT_GITILES_URL": f"{fake.url}/plugins/gitiles",
        **labels,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    forge = GerritForge.from_env(env, sleep=lambda _: None)
    assert forge is not None
    return forge


def label_posts(fake: FakeGerrit) -> list[dict[str, int]]:
    return [dict(r.body.get("labels") or {}) for r in fake.reviews]


def test_the_check_label_and_the_vote_label_never_overwrite_each_other(
    engine: Any, revs: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Site-specific names: the check votes ``Check-Result``, ballots are ``Governance``
    votes, the outcome goes on ``Governance-Result``, and the bot is ``gov-robot``.

    A member's ``Check-Result`` +1 and a ``Code-Review`` +1 are no ballots; the bot's own
    messages (even quoting ``/vote -1``) are no commands; an account merely *named*
    ``govbot`` is an ordinary outsider now. The check's -1 stays while the result moves.
    """
    with running(user="gov-robot") as fake:
        seed(fake, revs)
        fake.accounts.update({"gov-robot": 4242, "govbot": 4343})
        forge = configured(
            fake,
            monkeypatch,
            GOVBOT_GERRIT_LABEL="Check-Result",
            GOVBOT_GERRIT_VOTE_LABEL="Governance",
            GOVBOT_GERRIT_RESULT_LABEL="Governance-Result",
        )
        bot = Bot(engine, revs["repo"], forge=forge)
        pushed(bot, fake, revs["broken"], 1, revs["base"])
        assert label_posts(fake)[0] == {"Check-Result": -1}
        bot.now = T0 + timedelta(minutes=1)
        voted(bot, account("member-carol"), 1, 0, revs["broken"], 1, label="Check-Result")
        voted(bot, account("member-erin"), 1, 0, revs["broken"], 1, label="Code-Review")
        robot = account("gov-robot")
        voted(bot, robot, -1, 0, revs["broken"], 1, label="Governance", comment="/vote -1")
        voted(bot, account("govbot"), 1, 0, revs["broken"], 1, label="Governance")
        report = bot.vote_report(KEY)
        assert "| Carol Example (@member-carol) | member | — | no | not voted yet |" in report
        assert "| Erin Example (@member-erin) | member | — | no | not voted yet |" in report
        assert "gov-robot" not in report
        assert "| @govbot | — | +1 | no | not on the committee |" in report
        for i, user in enumerate(MEMBERS):
            bot.now = T0 + timedelta(minutes=10 + i)
            voted(bot, account(user), 1, 0, revs["broken"], 1, label="Governance")
        bot.now = T0 + timedelta(days=8)
        bot.clock.tick()
        assert bot.state(KEY) == "passed"
        posts = label_posts(fake)
        assert all(set(p) <= {"Check-Result"} or set(p) <= {"Governance-Result"} for p in posts)
        assert [p["Check-Result"] for p in posts if "Check-Result" in p] == [-1]
        assert posts[-1] == {"Governance-Result": 1}
        labels = fake.change(PROJECT, 42)["labels"][revs["broken"]]
        assert labels == {"Check-Result": -1, "Governance-Result": 1}


def test_the_same_label_for_the_check_and_the_vote_is_refused(
    revs: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One label for two meanings would let the vote lift the check's -1 (or count the
    check as a ballot): the adapter and the normaliser refuse the configuration."""
    with running() as fake:
        with pytest.raises(ValueError, match="both"):
            configured(fake, monkeypatch, GOVBOT_GERRIT_RESULT_LABEL="Verified")
        with pytest.raises(ValueError, match="both"):
            configured(
                fake,
                monkeypatch,
                GOVBOT_GERRIT_VOTE_LABEL="Governance",
                GOVBOT_GERRIT_RESULT_LABEL="Governance",
            )
    from govbot.forges import gerrit_events

    with pytest.raises(ValueError, match="both"):
        gerrit_events.normalise({"type": "comment-added"}, "Verified", "Verified")


def test_a_label_reset_to_zero_is_a_withdrawal(
    engine: Any, revs: dict[str, Any], gerrit: FakeGerrit
) -> None:
    """A chair's Code-Review -1 vetoes; the chair sets it back to 0 (``value`` "0",
    ``oldValue`` "-1"): the veto is withdrawn, exactly as deleting the vote is, and the
    row says "withdrawn", not "abstained" (an abstention would count for the quorum)."""
    bot = Bot(engine, revs["repo"], forge=gerrit.forge())
    pushed(bot, gerrit, revs["head1"], 1, revs["base"])
    bot.now = T0 + timedelta(minutes=5)
    voted(bot, account("chair-alice"), -1, 0, revs["head1"], 1)
    assert bot.state(KEY) == "blocked"
    bot.now = T0 + timedelta(minutes=6)
    voted(bot, account("chair-alice"), 0, -1, revs["head1"], 1)
    assert bot.state(KEY) == "pending"
    assert (
        "| Alice Example (@chair-alice) | chair, board | — | no | withdrawn |"
        in bot.vote_report(KEY)
    )
    deleted = {
        "type": "vote-deleted",
        "change": change(),
        "patchSet": {"number": 1, "revision": revs["head1"]},
        "reviewer": account("member-carol"),
        "remover": account("member-carol"),
        "approvals": [{"type": "Code-Review", "value": "0", "oldValue": "1"}],
        "eventCreatedOn": int((T0 + timedelta(minutes=8)).timestamp()),
    }
    bot.now = T0 + timedelta(minutes=7)
    voted(bot, account("member-carol"), 1, 0, revs["head1"], 1)
    bot.now = T0 + timedelta(minutes=8)
    bot.gerrit(deleted)
    assert "| Carol Example (@member-carol) | member | — | no | withdrawn |" in bot.vote_report(KEY)


@pytest.mark.parametrize("result_label", [None, "Governance-Result"])
def test_a_rule_breaking_change_keeps_verified_minus_one_through_a_passed_vote(
    engine: Any,
    revs: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    result_label: str | None,
) -> None:
    """End to end: the check finds an integrity error and votes ``Verified -1``; the whole
    committee votes ``Code-Review +1``; the clock passes the review period and the vote
    passes. On Gerrit the patch set still carries govbot's ``Verified -1``: nothing the vote
    posts (a message, or its own result label when one is configured) touches ``Verified``."""
    with running() as fake:
        seed(fake, revs)
        extra = {"GOVBOT_GERRIT_RESULT_LABEL": result_label} if result_label else {}
        forge = configured(fake, monkeypatch, **extra)
        bot = Bot(engine, revs["repo"], forge=forge)
        pushed(bot, fake, revs["broken"], 1, revs["base"])
        check = fake.reviews[0].body
        assert check["labels"] == {"Verified": -1}
        assert "integrity.unknown-capability" in check["message"]
        everyone_votes(bot, revs["broken"], 1)
        assert bot.state(KEY) == "pending"
        bot.now = T0 + timedelta(days=8)
        assert len(bot.clock.tick()) == 1
        assert bot.state(KEY) == "passed"
        labels = fake.change(PROJECT, 42)["labels"][revs["broken"]]
        assert labels["Verified"] == -1
        verified = [p["Verified"] for p in label_posts(fake) if "Verified" in p]
        assert verified == [-1]  # set once, by the check, never reset
        if result_label:
            assert labels[result_label] == 1
        else:
            assert set(labels) == {"Verified"}
        assert "Vote: passed" in fake.reviews[-1].body["message"]


# -- (3) on Gerrit: a ballot is the act of its actor, in visible text -------------------------


def test_a_vote_removed_by_someone_else_stays(
    engine: Any, revs: dict[str, Any], gerrit: FakeGerrit
) -> None:
    """cmd-stream-events.txt "vote-deleted": ``reviewer`` (whose vote) and ``remover`` (who
    removed it). A project owner removing the chair's -1 does not lift the veto; the act is
    refused, audited and reported on the change."""
    bot = Bot(engine, revs["repo"], forge=gerrit.forge())
    pushed(bot, gerrit, revs["head1"], 1, revs["base"])
    bot.now = T0 + timedelta(minutes=5)
    voted(bot, account("chair-alice"), -1, 0, revs["head1"], 1)
    bot.now = T0 + timedelta(minutes=6)
    bot.gerrit(
        {
            "type": "vote-deleted",
            "change": change(),
            "patchSet": {"number": 1, "revision": revs["head1"]},
            "reviewer": account("chair-alice"),
            "remover": account("project-owner"),
            "approvals": [{"type": "Code-Review", "value": "0", "oldValue": "-1"}],
            "eventCreatedOn": int(bot.now.timestamp()),
        }
    )
    assert bot.state(KEY) == "blocked"
    messages = [str(r.body["message"]).replace(ZWSP, "") for r in gerrit.reviews]
    integrity = [m for m in messages if "only the voter" in m]
    assert len(integrity) == 1
    assert "@project-owner withdrew a vote or command of @chair-alice" in integrity[0]
    assert integrity[0].endswith("cc @chair-alice @chair-bob")  # the chairs, by the pinned roster
    # Gerrit mails a message to owner, reviewers and watchers, and text mentions alert nobody:
    # the chairs are its recipients (ReviewInput notify_details, TO)
    told = next(r.body for r in gerrit.reviews if "only the voter" in str(r.body["message"]))
    assert told["notify_details"] == {"TO": {"accounts": ["chair-alice", "chair-bob"]}}


@pytest.mark.parametrize(
    "text",
    [
        "```\n/vote -1\n```",  # a code block: shown as code, not as a command
        "    /vote -1",  # indented code
        "> /vote -1",  # a quote of someone else's words
        "<!-- /vote -1 -->",  # shown literally by Gerrit: no command (the line is no /command)
    ],
)
def test_a_command_that_is_not_visible_plain_text_counts_nothing(
    engine: Any, revs: dict[str, Any], gerrit: FakeGerrit, text: str
) -> None:
    """A chair's review message whose ``/vote -1`` sits in code, a quote or an HTML comment
    (Gerrit renders messages as Markdown after escaping ``<``: gerrit_events.strip_header)."""
    bot = Bot(engine, revs["repo"], forge=gerrit.forge())
    pushed(bot, gerrit, revs["head1"], 1, revs["base"])
    bot.now = T0 + timedelta(minutes=5)
    message = f"Patch Set 1:\n\n{text}"
    bot.gerrit(
        {
            "type": "comment-added",
            "change": change(),
            "patchSet": {"number": 1, "revision": revs["head1"]},
            "author": account("chair-alice"),
            "comment": message,
            "eventCreatedOn": int(bot.now.timestamp()),
        }
    )
    assert bot.state(KEY) == "pending"
    assert "| Alice Example (@chair-alice) | chair, board | — | no | not voted yet |" in (
        bot.vote_report(KEY)
    )


# -- (1), (6), (7) on Gerrit -------------------------------------------------------------------


def test_a_change_on_another_branch_is_not_governed(
    engine: Any, revs: dict[str, Any], gerrit: FakeGerrit
) -> None:
    """The committee governs the project's HEAD branch (``main``): a change for ``feature``
    is reported as not governed, and the whole committee's +1 passes nothing there."""
    gerrit.branches[PROJECT, "feature"] = revs["base"]
    bot = Bot(engine, revs["repo"], forge=gerrit.forge())
    pushed(bot, gerrit, revs["head1"], 1, revs["base"], branch="feature")
    everyone_votes(bot, revs["head1"], 1, branch="feature")
    bot.now = T0 + timedelta(days=8)
    bot.clock.tick()
    assert bot.state(KEY) == "not-governed"
    assert "Not governed: this change targets `feature`" in bot.vote_report(KEY)


def test_a_back_dated_patch_set_does_not_shorten_the_review_period(
    engine: Any, revs: dict[str, Any], gerrit: FakeGerrit
) -> None:
    """``eventCreatedOn`` 30 days back (a sender controls it): the seven days run from
    govbot's receipt of the patch set, so the vote is still pending a minute before."""
    bot = Bot(engine, revs["repo"], forge=gerrit.forge())
    pushed(bot, gerrit, revs["head1"], 1, revs["base"], created=T0 - timedelta(days=30))
    everyone_votes(bot, revs["head1"], 1)
    bot.now = T0 + timedelta(days=7) - timedelta(minutes=1)
    bot.clock.tick()
    assert bot.state(KEY) == "pending"
    bot.now = T0 + timedelta(days=7, minutes=1)
    bot.clock.tick()
    assert bot.state(KEY) == "passed"


def test_a_typo_fix_turned_substantive_restarts_the_review_period(
    engine: Any, revs: dict[str, Any], gerrit: FakeGerrit
) -> None:
    """Patch set 1 fixes a typo (editorial: three days, two votes); eight days later patch
    set 2 makes a capability required. The class is judged again, the votes of patch set 1
    are stale, and the seven days of the new class run from patch set 2's receipt."""
    bot = Bot(engine, revs["repo"], forge=gerrit.forge())
    pushed(bot, gerrit, revs["typo"], 1, revs["base"])
    assert "Vote class **editorial**" in bot.vote_report(KEY)
    everyone_votes(bot, revs["typo"], 1)
    bot.now = T0 + timedelta(days=8)
    pushed(bot, gerrit, revs["head1"], 2, revs["base"])
    assert "Vote class **new-required-capability**" in bot.vote_report(KEY)
    assert stale_rows(bot, revs["typo"]) == 4
    everyone_votes(bot, revs["head1"], 2, minutes=5)
    bot.now = T0 + timedelta(days=8, minutes=13)
    bot.clock.tick()
    assert bot.state(KEY) == "pending"
    bot.now = T0 + timedelta(days=15, minutes=1)
    bot.clock.tick()
    assert bot.state(KEY) == "passed"
