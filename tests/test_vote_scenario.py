"""A committee vote from first delivery to decision, through the real receiver, on both forges.

A change that makes a capability required is opened; three members approve,
a non-member approves, a chair votes -1 and then +1; the content changes and
the votes cast on the old revision go stale; the members vote again; the
clock passes the minimum review time and the vote goes pending -> passed.
The report posted (recorded: dry-run) carries the exact table.
"""

from __future__ import annotations

import base64
import copy
import json
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from govbot.core.mentions import ZWSP
from govbot.core.yamlio import dump, parse_bytes
from govbot.forges.dryrun import DryRunForge
from govbot.repo import bundled
from govbot.repo.snapshots import read_directory, read_git
from govbot.service.clock import Clock
from govbot.service.worker import Worker
from govbot.store.models import Delivery, ReportRow, VoteResultRow
from tests.conftest import REPO
from tests.fakes.gerrit_server import FakeGerrit, running
from tests.fakes.github_schema import minimal_payload
from webhooks.app import create_app
from webhooks.settings import Settings
from webhooks.signatures import sign_github

SECRET = "scenario-secret"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CAPABILITY = "compute-servers-create-multiple"  # advisory in next, required in 2020.06


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture(scope="module")
def revisions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return build_revisions(tmp_path_factory)


def build_revisions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A repo: main at the base; on topic, a capability made required, then reworded."""
    repo = tmp_path_factory.mktemp("vote") / "repo"
    for rel, raw in read_directory(REPO).items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(raw)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "-b", "topic")  # main stays at the base, as on a forge
    g = copy.deepcopy(parse_bytes("next", (repo / "guidelines/next.yaml").read_bytes()).data)
    comp = g["components"]["os_powered_compute"]["capabilities"]
    comp["advisory"].remove(CAPABILITY)
    comp["required"].append(CAPABILITY)
    (repo / "guidelines/next.yaml").write_text(dump(g))
    git(repo, "commit", "-q", "-am", f"Make {CAPABILITY} required")
    head1 = git(repo, "rev-parse", "HEAD")
    g["capabilities"][CAPABILITY]["description"] += " (reworded)"
    (repo / "guidelines/next.yaml").write_text(dump(g))
    git(repo, "commit", "-q", "-am", "Reword")
    head2 = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    return {"repo": repo, "base": base, "head1": head1, "head2": head2}


class Bot:
    """The receiver (real app), a worker and a clock whose time the test moves."""

    def __init__(self, engine: Any, repo: Path, forge: Any = None) -> None:
        settings = Settings(github_secret=SECRET.encode(), gerrit_secret=SECRET.encode())
        self.now = T0
        self.client = TestClient(create_app(engine, settings, now=lambda: self.now))
        self.engine = engine
        dry_run = forge is None  # a real adapter (against a fake forge) when given
        chosen = forge or DryRunForge(repo)
        self.worker = Worker(
            engine, lambda _: (chosen, dry_run), bundled.schema_set(), now=lambda: self.now
        )
        self.clock = Clock(
            engine, lambda _: (chosen, dry_run), bundled.schema_set(), now=lambda: self.now
        )

    def deliver_github(self, event: str, payload: dict[str, Any]) -> Any:
        """POST it signed, under a new delivery id, as GitHub does; the HTTP answer."""
        body = json.dumps(payload).encode()
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign_github(SECRET.encode(), body),
        }
        return self.client.post("/webhooks/github", content=body, headers=headers)

    def github(self, event: str, payload: dict[str, Any], expect: int = 202) -> None:
        """Deliver and work; ``expect`` 200: a duplicate event."""
        answer = self.deliver_github(event, payload)
        assert answer.status_code == expect, answer.text
        self.worker.run(once=True)

    def gerrit(self, event: dict[str, Any]) -> None:
        auth = "Basic " + base64.b64encode(f"gerrit:{SECRET}".encode()).decode()
        answer = self.client.post(
            "/webhooks/gerrit", content=json.dumps(event).encode(), headers={"Authorization": auth}
        )
        assert answer.status_code == 200 and answer.json()["status"] == "queued", answer.text
        self.worker.run(once=True)

    def state(self, key: str) -> str:
        with self.engine.connect() as conn:
            return str(
                conn.execute(
                    select(VoteResultRow.state).where(VoteResultRow.review_key == key)
                ).scalar_one()
            )

    def vote_report(self, key: str) -> str:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ReportRow.body)
                .where(ReportRow.review_key == key, ReportRow.kind == "vote")
                .order_by(ReportRow.posted_at.desc())
            ).all()
        return str(rows[0][0]).replace(ZWSP, "")  # as it reads: posted @mentions are inert


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


GH_KEY = "github:governance/guidelines#7"
# GitHub user ids: the bundled committee.yaml names these for its members.
GITHUB_IDS = {"chair-alice": 1000001, "chair-bob": 1000002, "member-carol": 1000003,
              "member-dave": 1000004, "member-frank": 1000006, "contributor": 500, "outsider": 666}  # fmt: skip


def github_user(login: str) -> dict[str, Any]:
    return {"login": login, "id": GITHUB_IDS[login]}


def pull(action: str, base: str, head: str, at: datetime) -> dict[str, Any]:
    return minimal_payload("pull_request", action, {
        "number": 7,
        "pull_request": {"number": 7, "title": f"Make {CAPABILITY} required", "updated_at": iso(at),
                         "user": github_user("contributor"), "base": {"ref": "main", "sha": base}, "head": {"ref": "topic", "sha": head}},
        "repository": {"full_name": "governance/guidelines", "default_branch": "main"},
    })  # fmt: skip


def approve(login: str, head: str, at: datetime) -> dict[str, Any]:
    return minimal_payload("pull_request_review", "submitted", {
        "review": {"id": int(at.timestamp()), "state": "approved", "user": github_user(login), "commit_id": head, "submitted_at": iso(at)},
        "sender": github_user(login),
        "pull_request": {"number": 7},
        "repository": {"full_name": "governance/guidelines", "default_branch": "main"},
    })  # fmt: skip


def command(login: str, body: str, at: datetime) -> dict[str, Any]:
    return minimal_payload("issue_comment", "created", {
        "comment": {"id": int(at.timestamp()), "body": body, "user": github_user(login), "created_at": iso(at), "updated_at": iso(at)},
        "sender": github_user(login),
        "issue": {"number": 7, "pull_request": {"url": "https://api.github.com/repos/governance/guidelines/pulls/7"}},
        "repository": {"full_name": "governance/guidelines", "default_branch": "main"},
    })  # fmt: skip


PASSED_TABLE = """| Member | Role | Vote | Counts | Why |
|---|---|---|---|---|
| Alice Example (@chair-alice) | chair, board | +1 | yes | member |
| Bob Example (@chair-bob) | chair | +1 | yes | member |
| Carol Example (@member-carol) | member | +1 | yes | member |
| Dave Example (@member-dave) | member | +1 | yes | member |
| Erin Example | member | — | no | not voted yet |
| @outsider | — | +1 | no | not on the committee |"""


def test_a_github_vote_from_opening_to_decision(engine: Any, revisions: dict[str, Any]) -> None:
    bot = Bot(engine, revisions["repo"])
    base, head1, head2 = revisions["base"], revisions["head1"], revisions["head2"]
    bot.github("pull_request", pull("opened", base, head1, T0))
    assert bot.state(GH_KEY) == "pending"
    for i, login in enumerate(["member-carol", "member-dave", "chair-bob", "outsider"]):
        bot.now = T0 + timedelta(minutes=10 + i)
        bot.github("pull_request_review", approve(login, head1, bot.now))
    assert "| @outsider | — | +1 | no | not on the committee |" in bot.vote_report(GH_KEY)
    bot.now = T0 + timedelta(minutes=20)
    bot.github("issue_comment", command("chair-alice", "/vote -1", bot.now))
    assert bot.state(GH_KEY) == "blocked"
    bot.now = T0 + timedelta(minutes=30)
    bot.github("issue_comment", command("chair-alice", "/vote +1", bot.now))
    assert bot.state(GH_KEY) == "pending"  # four binding +1, but the minimum review time runs
    # the content changes: the votes cast on the first revision no longer count
    bot.now = T0 + timedelta(hours=1)
    bot.github("pull_request", pull("synchronize", base, head2, bot.now))
    report = bot.vote_report(GH_KEY)
    assert report.count(f"stale: cast on {head1[:7]}") == 4 and bot.state(GH_KEY) == "pending"
    for i, login in enumerate(["member-carol", "member-dave", "chair-bob"]):
        bot.now = T0 + timedelta(hours=2, minutes=i)
        bot.github("pull_request_review", approve(login, head2, bot.now))
    bot.now = T0 + timedelta(hours=3)
    bot.github("issue_comment", command("chair-alice", "/vote +1", bot.now))
    assert bot.state(GH_KEY) == "pending"
    assert bot.clock.tick() == []  # nothing due yet
    bot.now = T0 + timedelta(days=7, minutes=1)  # the clock passes the minimum review time
    assert bot.clock.tick() == [f"decide:{GH_KEY}:{(T0 + timedelta(days=7)).isoformat()}"]
    assert bot.clock.tick() == []  # and acts once
    assert bot.state(GH_KEY) == "passed"
    assert PASSED_TABLE in bot.vote_report(GH_KEY)


def dismissed(login: str, head: str, submitted: datetime, by: str) -> dict[str, Any]:
    payload = approve(login, head, submitted)
    payload["action"] = "dismissed"
    payload["review"]["state"] = "dismissed"
    payload["sender"] = github_user(by)
    return payload


def test_captured_reviews_sent_again_change_no_vote(engine: Any, revisions: dict[str, Any]) -> None:
    """Carol approves, then dismisses her approval; later she approves again. Bodies
    captured on the way and sent again under new delivery ids (the id is not signed)
    are the same events: the receiver answers duplicate, and no vote changes — the
    old approval does not come back, the old dismissal does not withdraw the new one."""
    bot = Bot(engine, revisions["repo"])
    base, head1 = revisions["base"], revisions["head1"]
    bot.github("pull_request", pull("opened", base, head1, T0))
    carol = "| Carol Example (@member-carol) | member | +1 | yes | member |"

    def send(body: bytes, delivery: str) -> Any:
        headers = {"X-GitHub-Event": "pull_request_review", "X-GitHub-Delivery": delivery,
                   "X-Hub-Signature-256": sign_github(SECRET.encode(), body)}  # fmt: skip
        answer = bot.client.post("/webhooks/github", content=body, headers=headers)
        bot.worker.run(once=True)
        return answer

    first = T0 + timedelta(minutes=10)
    bot.now = first
    approval = json.dumps(approve("member-carol", head1, first)).encode()
    assert send(approval, "approval").status_code == 202
    assert carol in bot.vote_report(GH_KEY)
    bot.now = T0 + timedelta(minutes=20)
    dismissal = json.dumps(dismissed("member-carol", head1, first, by="member-carol")).encode()
    assert send(dismissal, "dismissal").status_code == 202
    assert carol not in bot.vote_report(GH_KEY)  # withdrawn

    bot.now = T0 + timedelta(hours=1)  # the captured approval, again
    again = send(approval, str(uuid.uuid4()))
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    assert carol not in bot.vote_report(GH_KEY)

    bot.now = T0 + timedelta(hours=2)
    bot.github("pull_request_review", approve("member-carol", head1, bot.now))
    assert carol in bot.vote_report(GH_KEY)
    bot.now = T0 + timedelta(hours=5)  # the captured dismissal, again
    replay = send(dismissal, str(uuid.uuid4()))
    assert (replay.status_code, replay.json()) == (200, {"status": "duplicate"})
    assert carol in bot.vote_report(GH_KEY)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Delivery)).scalar() == 4


def gerrit_event(
    kind: str, revision: str, number: int, at: datetime, **extra: Any
) -> dict[str, Any]:
    account = {"name": "Contributor", "email": "c@example.org", "username": "contributor"}
    return {
        "type": kind,
        "change": {"project": "governance/guidelines", "branch": "main", "id": "I" + "a" * 40, "number": 42,
                   "subject": "Make a capability required", "owner": account, "url": "https://review.example.org/42", "status": "NEW"},
        "patchSet": {"number": number, "revision": revision, "ref": f"refs/changes/42/42/{number}", "uploader": account, "createdOn": int(at.timestamp())},
        "eventCreatedOn": int(at.timestamp()),
        **extra,
    }  # fmt: skip


def review_vote(
    user: str, value: int, old: int, revision: str, number: int, at: datetime
) -> dict[str, Any]:
    author = {"name": user, "email": f"{user}@example.org", "username": user}
    approvals = [
        {
            "type": "Code-Review",
            "description": "Code-Review",
            "value": str(value),
            "oldValue": str(old),
        }
    ]
    return gerrit_event(
        "comment-added",
        revision,
        number,
        at,
        author=author,
        approvals=approvals,
        comment=f"Patch Set {number}: Code-Review{value:+d}",
    )


GERRIT_KEY = "gerrit:governance/guidelines#42"


GERRIT_IDS = {"chair-alice": 1000001, "chair-bob": 1000002, "member-carol": 1000003,
              "member-erin": 1000005, "member-frank": 1000006, "contributor": 500, "outsider": 666}  # fmt: skip


def seeded_gerrit(fake: FakeGerrit, revisions: dict[str, Any]) -> None:
    """The repository on the fake Gerrit: main at the base, the two patch sets' trees."""
    repo = revisions["repo"]
    fake.heads["governance/guidelines"] = "main"
    fake.accounts.update(GERRIT_IDS)
    for name in ("base", "head1", "head2"):
        sha = revisions[name]
        files = read_git(repo, sha)
        fake.add_commit(
            "governance/guidelines", sha, files, branch="main" if name == "base" else None
        )
        if name != "base":
            changed = {"guidelines/next.yaml": {"status": "M"}}
            fake.add_change("governance/guidelines", 42, sha, changed, branch="main")


def test_the_same_vote_on_gerrit(engine: Any, revisions: dict[str, Any]) -> None:
    """Through the real Gerrit adapter: accounts resolve to ids through Gerrit's REST API."""
    with running() as fake:
        seeded_gerrit(fake, revisions)
        bot = Bot(engine, revisions["repo"], forge=fake.forge())
        _gerrit_vote(bot, revisions)


def _gerrit_vote(bot: Bot, revisions: dict[str, Any]) -> None:
    head1, head2 = revisions["head1"], revisions["head2"]
    bot.gerrit(gerrit_event("patchset-created", head1, 1, T0))
    assert bot.state(GERRIT_KEY) == "pending"
    for i, user in enumerate(["member-carol", "member-erin", "chair-bob", "outsider"]):
        bot.now = T0 + timedelta(minutes=10 + i)
        bot.gerrit(review_vote(user, 1, 0, head1, 1, bot.now))
    bot.now = T0 + timedelta(minutes=20)
    bot.gerrit(review_vote("chair-alice", -1, 0, head1, 1, bot.now))
    assert bot.state(GERRIT_KEY) == "blocked"
    bot.now = T0 + timedelta(minutes=30)
    bot.gerrit(review_vote("chair-alice", 1, -1, head1, 1, bot.now))
    assert bot.state(GERRIT_KEY) == "pending"
    bot.now = T0 + timedelta(hours=1)
    bot.gerrit(gerrit_event("patchset-created", head2, 2, bot.now))
    assert bot.vote_report(GERRIT_KEY).count(f"stale: cast on {head1[:7]}") == 4
    for i, user in enumerate(["member-carol", "member-erin", "chair-bob", "chair-alice"]):
        bot.now = T0 + timedelta(hours=2, minutes=i)
        bot.gerrit(review_vote(user, 1, 0, head2, 2, bot.now))
    assert bot.state(GERRIT_KEY) == "pending"
    bot.now = T0 + timedelta(days=8)
    assert len(bot.clock.tick()) == 1
    assert bot.state(GERRIT_KEY) == "passed"
    report = bot.vote_report(GERRIT_KEY)
    assert "| Erin Example (@member-erin) | member | +1 | yes | member |" in report
    assert "| Dave Example | member | — | no | not voted yet |" in report
    assert "| @outsider | — | +1 | no | not on the committee |" in report
