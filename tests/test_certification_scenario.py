"""Product submissions from first delivery to the registry, through the real receiver.

Signed deliveries go to the real FastAPI receiver; the real worker and clock
act on them with the real adapters (PyGithub, the Gerrit REST client) over
HTTP against the local fake forges, whose time the test moves. What the
forges end up holding (check runs, comments, labels and hashtags, review
messages) and what the store recorded are asserted.

Labels follow GitHub's REST documentation ("Labels": every pull request is an
issue and its labels are the issue's; "Add labels to an issue" creates a
label the repository lacks, github/docs#35718; "Remove a label from an
issue" answers 404 when the issue lacks it) and Gerrit's
rest-api-changes.txt ("Get Hashtags", "Set Hashtags": a HashtagsInput of
``add`` and ``remove``) and cmd-stream-events.txt (``hashtags-changed``:
``editor``, ``added``, ``removed``).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from govbot.core import registry
from govbot.core.mentions import ZWSP
from govbot.core.results import parse_results
from govbot.core.yamlio import dump, parse_bytes
from govbot.repo.snapshots import read_directory
from govbot.store.models import AuditEntry, CertificationRow, VoteResultRow
from tests.certification_fixtures import OUT as FIXTURES
from tests.conftest import REPO
from tests.fakes.gerrit_server import FakeGerrit, running
from tests.fakes.github_schema import minimal_payload
from tests.fakes.github_server import FakeGitHub, FakeRepo, github_server
from tests.test_certify import product_yaml
from tests.test_vote_scenario import T0, Bot, git, iso

PROJECT = "governance/guidelines"
BASE = "b" * 40
PRODUCT = "products/acme/cloud.yaml"
RESULTS = "products/acme/acme-cloud/platform.subunit"
IDS = {"acme-vendor": 7000, "foundation-grace": 1000010, "foundation-heidi": 1000011,
       "chair-alice": 1000001, "chair-bob": 1000002, "member-carol": 1000003, "outsider": 666}  # fmt: skip
NEW_TEST = (
    "tempest.api.compute.servers.test_multiple_create.MultipleCreateTestJSON."
    "test_multiple_create_with_reservation_return"
)


def user(login: str) -> dict[str, Any]:
    return {"login": login, "id": IDS[login]}


@pytest.fixture(scope="module")
def base_files() -> dict[str, bytes]:
    return read_directory(REPO)


def submission(
    base: dict[str, bytes],
    fixture: str = "platform-2020.06-pass.subunit",
    data: bytes | None = None,
    name: str = "acme-cloud/platform.subunit",
    **product: Any,
) -> dict[str, bytes]:
    """The base tree plus acme's product file and its results (a fixture, or ``data``)."""
    files = dict(base)
    files[PRODUCT] = product_yaml(results=name, **product)
    files[f"products/acme/{name}"] = data if data is not None else (FIXTURES / fixture).read_bytes()
    return files


def failing(kind: str, base: dict[str, bytes]) -> dict[str, bytes]:
    if kind == "missing":
        return submission(base, "platform-2020.06-failures.subunit")
    if kind == "superseded":
        return submission(
            base,
            "platform-2018.11-pass.txt",
            name="acme-cloud/platform.txt",
            guideline="2018.11",
            release="rocky",
        )
    if kind == "broken":
        return submission(base, data=b"\xb3\x29\x01garbage, not a subunit stream")
    files = submission(base)
    files[PRODUCT] = files[PRODUCT].replace(b"kind: public-cloud", b"kind: cloud")
    return files


def decertifying(files: dict[str, bytes]) -> dict[str, bytes]:
    """``next`` makes an advisory capability required, with a test no product has run."""
    g = copy.deepcopy(parse_bytes("next", files["guidelines/next.yaml"]).data)
    cap = "compute-servers-create-multiple"
    g["capabilities"][cap]["tests"][NEW_TEST] = {
        "idempotent_id": "id-eceb6a38-8c1a-4d7f-9f4c-0a0d9f0b1c2d"
    }
    statuses = g["components"]["os_powered_compute"]["capabilities"]
    statuses["advisory"].remove(cap)
    statuses["required"].append(cap)
    return {**files, "guidelines/next.yaml": dump(g).encode()}


def audit(bot: Bot, action: str) -> list[dict[str, Any]]:
    with bot.engine.connect() as conn:
        rows = conn.execute(
            select(AuditEntry.detail).where(AuditEntry.action == action).order_by(AuditEntry.id)
        ).all()
    return [json.loads(r[0]) for r in rows]


def vote_state(bot: Bot, key: str) -> tuple[str, str]:
    with bot.engine.connect() as conn:
        row = conn.execute(
            select(VoteResultRow.vote_class, VoteResultRow.state).where(
                VoteResultRow.review_key == key
            )
        ).one()
    return str(row[0]), str(row[1])


# -- GitHub ----------------------------------------------------------------------------------


@pytest.fixture
def gh(base_files: dict[str, bytes]) -> Iterator[FakeGitHub]:
    with github_server() as server:
        server.add_repo(PROJECT).commit(BASE, base_files, branch="main", parents=[])
        yield server


def open_pull(repo: FakeRepo, branch: str, sha: str, files: dict[str, bytes]) -> dict[str, Any]:
    repo.commit(sha, files, branch=branch, parents=[repo.refs["refs/heads/main"]])
    return repo.open_pull(branch, "main", f"Submit {branch}")


def pull_event(action: str, pull: dict[str, Any], at: datetime, **extra: Any) -> dict[str, Any]:
    fields = {"number": pull["number"], "title": pull["title"], "updated_at": iso(at),
              "user": user("acme-vendor"), "base": {"ref": "main", "sha": pull["base"]},
              "head": {"ref": pull["head_ref"], "sha": pull["head"]}, **extra}  # fmt: skip
    return minimal_payload("pull_request", action, {
        "number": pull["number"], "pull_request": fields, "sender": user("acme-vendor"),
        "repository": {"full_name": PROJECT, "default_branch": "main"},
    })  # fmt: skip


def label_event(action: str, pull: dict[str, Any], name: str, login: str, at: datetime) -> dict[str, Any]:  # fmt: skip
    payload = pull_event(action, pull, at)
    payload["label"] = {"id": 1, "node_id": "LA_1", "url": f"https://api.github.com/repos/{PROJECT}/labels/{name}",
                        "name": name, "color": "ededed", "default": False, "description": None}  # fmt: skip
    payload["sender"] = user(login)
    return payload


def approve(login: str, pull: dict[str, Any], at: datetime) -> dict[str, Any]:
    return minimal_payload("pull_request_review", "submitted", {
        "review": {"id": int(at.timestamp()), "state": "approved", "user": user(login),
                   "commit_id": pull["head"], "submitted_at": iso(at)},
        "sender": user(login), "pull_request": {"number": pull["number"]},
        "repository": {"full_name": PROJECT, "default_branch": "main"},
    })  # fmt: skip


def comment(login: str, number: int, body: str, at: datetime, on_pr: bool = True) -> dict[str, Any]:  # fmt: skip
    issue: dict[str, Any] = {"number": number}
    if on_pr:
        issue["pull_request"] = {"url": f"https://api.github.com/repos/{PROJECT}/pulls/{number}"}
    return minimal_payload("issue_comment", "created", {
        "comment": {"id": int(at.timestamp()), "body": body, "user": user(login),
                    "created_at": iso(at), "updated_at": iso(at)},
        "sender": user(login), "issue": issue,
        "repository": {"full_name": PROJECT, "default_branch": "main"},
    })  # fmt: skip


def check_run(repo: FakeRepo, sha: str) -> dict[str, Any]:
    [run] = [r for r in repo.check_runs if r["head_sha"] == sha and r["name"] == "govbot/check"]
    return run


def bodies(repo: FakeRepo, number: int, marker: str = "") -> list[str]:
    """govbot's comments starting with ``marker``, as they read (posted @mentions are inert)."""
    found = [c["body"] for c in repo.comments.get(number, []) if c["body"].startswith(marker)]
    return [b.replace(ZWSP, "") for b in found]


def test_a_github_submission_is_verified_labelled_approved_and_listed(
    engine: Any,
    gh: FakeGitHub,
    base_files: dict[str, bytes],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOVBOT_REGISTRY_DIR", str(tmp_path / "site"))
    repo = gh.repos[PROJECT]
    bot = Bot(engine, REPO, forge=gh.forge())
    pull = open_pull(repo, "acme", "a" * 40, submission(base_files))
    key = f"github:{PROJECT}#{pull['number']}"
    bot.github("pull_request", pull_event("opened", pull, T0))

    run = check_run(repo, pull["head"])
    assert run["conclusion"] == "success", run["output"]["summary"]
    [body] = bodies(repo, pull["number"], "<!-- govbot:check -->")
    assert "### Product submission (2017A C2)" in body
    assert "platform), guideline 2020.06, on 2026-03-02: qualifies" in body
    assert "Unofficial Results - Not Yet Accepted By The OpenStack Foundation" in body
    assert repo.issue_labels[pull["number"]] == ["tests-verified-2020.06"]
    assert vote_state(bot, key) == ("certification", "pending")

    # the vendor edits govbot's labels: they are put back, and only govbot's
    repo.add_labels(pull["number"], ["missing-tests", "needs-docs"])
    repo.issue_labels[pull["number"]].remove("tests-verified-2020.06")
    at = T0 + timedelta(minutes=5)
    bot.github("pull_request", label_event("labeled", pull, "missing-tests", "acme-vendor", at))
    assert sorted(repo.issue_labels[pull["number"]]) == ["needs-docs", "tests-verified-2020.06"]
    [restored] = audit(bot, "labels-restored")
    assert restored["by"] == "acme-vendor" and restored["added"] == ["tests-verified-2020.06"]
    assert restored["removed"] == ["missing-tests"]
    [note] = bodies(repo, pull["number"], "<!-- govbot:labels -->")
    assert "only govbot sets them" in note
    bot.github("pull_request", label_event("labeled", pull, "needs-docs", "acme-vendor", at))
    assert len(audit(bot, "labels-restored")) == 1  # a label of the project's own: untouched

    # votes by people who do not review for the Foundation do not approve it
    for i, login in enumerate(["member-carol", "outsider", "chair-alice"]):
        bot.now = T0 + timedelta(minutes=10 + i)
        bot.github("pull_request_review", approve(login, pull, bot.now))
    assert vote_state(bot, key) == ("certification", "pending")
    report = bot.vote_report(key)
    assert "Vote class **certification**" in report and "certification.yaml" in report
    assert "| @member-carol | — | +1 | no | not on the committee |" in report
    assert "Alice Example (@chair-alice) | interop-liaison | +1 | yes | member |" in report
    bot.now = T0 + timedelta(hours=1)
    bot.github("pull_request_review", approve("foundation-grace", pull, bot.now))
    assert vote_state(bot, key) == ("certification", "passed")

    # merged: it enters the registry (the governed branch), once, however often redelivered
    sha = repo.merge_pull(pull["number"])
    for i in range(2):
        at = bot.now + timedelta(seconds=i)
        bot.github("pull_request", pull_event("closed", pull, at, merged=True,
                   merge_commit_sha=sha, closed_at=iso(at)))  # fmt: skip
    listed = registry.build(repo.files("main"), date(2026, 3, 2))
    assert [(e.product, e.guideline, e.status) for e in listed.current()] == [
        ("acme/cloud", "2020.06", "current"),
        ("example/example-cloud", "2020.06", "current"),
    ]
    with engine.connect() as conn:
        rows = conn.execute(select(CertificationRow.product, CertificationRow.vote_state)).all()
    assert [tuple(r) for r in rows] == [(PRODUCT, "passed")]
    certified = audit(bot, "product-certified")
    assert [(c["product"], c["guideline"], c["vote"]) for c in certified][:1] == [
        ("acme/cloud", "2020.06", "passed")
    ]
    [entered] = bodies(repo, pull["number"], "<!-- govbot:certified -->")
    assert "In the registry of certified products" in entered and "| `acme/cloud` |" in entered
    record = json.loads((tmp_path / "site/products/acme/cloud/platform.json").read_text())
    assert record["product"] == "acme/cloud" and record["approved_on"] == "2026-03-02"
    run = parse_results(RESULTS, (FIXTURES / "platform-2020.06-pass.subunit").read_bytes())
    assert run.results is not None  # the passes, per test, and nothing else (2017A C4.3, C4.4)
    assert record["passed_tests"] == run.results.published()

    # a guideline change that would decertify it says so on its review
    after = repo.files("main")
    change = open_pull(repo, "next-change", "c" * 40, decertifying(after))
    bot.now = T0 + timedelta(days=1)
    bot.github("pull_request", pull_event("opened", change, bot.now))
    [body] = bodies(repo, change["number"], "<!-- govbot:check -->")
    assert "would stop qualifying** if this change were approved" in body
    assert "| `acme/cloud` | platform | 2020.06 | next | `compute-servers-create-multiple`" in body
    assert change["number"] not in repo.issue_labels  # not a submission: no label call
    assert vote_state(bot, f"github:{PROJECT}#{change['number']}")[0] != "certification"


@pytest.mark.parametrize(
    ("kind", "labels", "why"),
    [
        (
            "missing",
            ["missing-tests"],
            "| ❌ | required | `compute-servers-rebuild` | 0/3 | "
            "`tempest.api.compute.servers.test_server_actions.ServerActionsTestJSON.test_rebuild_server`",
        ),
        ("superseded", ["guideline-not-valid"], "on 2026-03-02 (usable: 2020.06, 2019.11)"),
        ("broken", ["submission-invalid"], "results.subunit"),
        ("schema", ["submission-invalid"], "schema.enum"),
    ],
)
def test_a_github_submission_that_does_not_qualify_fails_saying_why(
    engine: Any,
    gh: FakeGitHub,
    base_files: dict[str, bytes],
    kind: str,
    labels: list[str],
    why: str,
) -> None:
    repo = gh.repos[PROJECT]
    bot = Bot(engine, REPO, forge=gh.forge())
    pull = open_pull(repo, kind, "d" * 40, failing(kind, base_files))
    bot.github("pull_request", pull_event("opened", pull, T0))
    assert check_run(repo, pull["head"])["conclusion"] == "failure"
    [body] = bodies(repo, pull["number"], "<!-- govbot:check -->")
    assert body.startswith("<!-- govbot:check -->\n❌ **govbot check failed**")
    assert why in body, body
    assert repo.issue_labels[pull["number"]] == labels


def test_labels_survive_forge_errors(
    engine: Any, gh: FakeGitHub, base_files: dict[str, bytes]
) -> None:
    """A 502 while labelling is retried by the adapter; a refusal (403) costs the labels only."""
    repo = gh.repos[PROJECT]
    bot = Bot(engine, REPO, forge=gh.forge())
    pull = open_pull(repo, "acme", "a" * 40, submission(base_files))
    gh.fail_next(1, 502, path="/labels")
    bot.github("pull_request", pull_event("opened", pull, T0))
    assert repo.issue_labels[pull["number"]] == ["tests-verified-2020.06"]

    other = open_pull(repo, "acme-failing", "e" * 40, submission(base_files, "platform-2020.06-failures.subunit"))  # fmt: skip
    gh.labels_forbidden = True
    bot.github("pull_request", pull_event("opened", other, T0 + timedelta(minutes=1)))
    assert check_run(repo, other["head"])["conclusion"] == "failure"  # the check still answers
    assert other["number"] not in repo.issue_labels
    [failed] = audit(bot, "labels-failed")
    assert failed["wanted"] == ["missing-tests"] and "403" in failed["error"]


def test_a_product_merged_without_the_foundations_approval_is_listed_and_reviewers_told(
    engine: Any, gh: FakeGitHub, base_files: dict[str, bytes]
) -> None:
    repo = gh.repos[PROJECT]
    bot = Bot(engine, REPO, forge=gh.forge())
    pull = open_pull(repo, "acme", "a" * 40, submission(base_files))
    bot.github("pull_request", pull_event("opened", pull, T0))
    sha = repo.merge_pull(pull["number"])  # an admin merges before any Foundation review
    at = T0 + timedelta(hours=1)
    bot.github("pull_request", pull_event("closed", pull, at, merged=True, merge_commit_sha=sha, closed_at=iso(at)))  # fmt: skip
    [said] = bodies(repo, pull["number"], "<!-- govbot:certified -->")
    assert "**Merged without a passed Foundation review** (the vote is pending)" in said
    assert said.endswith("cc @foundation-grace @foundation-heidi")
    with engine.connect() as conn:
        assert conn.execute(select(CertificationRow.vote_state)).scalar_one() == "pending"


def test_a_change_mixing_products_with_guidelines_is_refused_and_loses_its_labels(
    engine: Any, gh: FakeGitHub, base_files: dict[str, bytes]
) -> None:
    repo = gh.repos[PROJECT]
    bot = Bot(engine, REPO, forge=gh.forge())
    pull = open_pull(repo, "acme", "a" * 40, submission(base_files))
    key = f"github:{PROJECT}#{pull['number']}"
    bot.github("pull_request", pull_event("opened", pull, T0))
    assert repo.issue_labels[pull["number"]] == ["tests-verified-2020.06"]

    mixed = decertifying(submission(base_files))
    repo.commit("5" * 40, mixed, branch="acme", parents=[pull["head"]])
    pull["head"] = "5" * 40
    bot.now = T0 + timedelta(minutes=5)
    bot.github("pull_request", pull_event("synchronize", pull, bot.now))
    assert check_run(repo, pull["head"])["conclusion"] == "failure"
    [body] = bodies(repo, pull["number"], "<!-- govbot:check -->")
    assert "certification.mixed-change" in body and "Submit the product alone" in body
    assert vote_state(bot, key)[0] != "certification"  # the committee's class, not the Foundation's

    repo.commit("6" * 40, decertifying(base_files), branch="acme", parents=[pull["head"]])
    pull["head"] = "6" * 40
    bot.now = T0 + timedelta(minutes=10)
    bot.github("pull_request", pull_event("synchronize", pull, bot.now))
    assert repo.issue_labels[pull["number"]] == []  # no longer a submission: govbot's go


# -- flag requests (2017A C3) ----------------------------------------------------------------

FLAGGED = (
    "tempest.api.compute.servers.test_server_actions.ServerActionsTestJSON.test_rebuild_server"
)


def test_a_flag_request_is_acknowledged_within_30_days_with_reminders(
    engine: Any, gh: FakeGitHub
) -> None:
    repo = gh.repos[PROJECT]
    bot = Bot(engine, REPO, forge=gh.forge())
    bot.github("issue_comment", comment("acme-vendor", 3, "/flag-request no-such.test reason", T0, on_pr=False))  # fmt: skip
    [refused] = bodies(repo, 3, "<!-- govbot:flag-command -->")
    assert "is not a test of a guideline in use on `main`" in refused

    asked = f"Our hypervisor cannot rebuild.\n\n/flag-request {FLAGGED} rebuild needs a host feature we lack"  # fmt: skip
    bot.github("issue_comment", comment("acme-vendor", 3, asked, T0, on_pr=False))
    bot.github("issue_comment", comment("acme-vendor", 3, asked, T0 + timedelta(hours=1), on_pr=False))  # fmt: skip
    [reply] = [b for b in bodies(repo, 3, "<!-- govbot:flag-request:")]
    assert f"Flag request recorded** for `{FLAGGED}` (in next, 2020.06, 2019.11)" in reply
    assert "due by **2026-04-01 09:00 UTC**" in reply
    assert "cc @chair-alice @chair-bob" in reply  # whoever may acknowledge-flags
    assert len(audit(bot, "flag-requested")) == 1  # asked twice, recorded once

    assert bot.clock.tick() == []
    bot.now = datetime(2026, 3, 29, 10, tzinfo=UTC)  # 3 days before, local time (Chicago)
    [first] = bot.clock.tick()
    assert first == f"flag-remind:github:{PROJECT}#3|{FLAGGED}:3d"
    assert bot.clock.tick() == []
    [reminder] = bodies(repo, 3, "<!-- govbot:flag-reminder:")
    assert "must be acknowledged within 3 day(s) (2017A.C3.3)" in reminder

    bot.now += timedelta(days=1)
    edited = comment("acme-vendor", 3, f"/flag-ack {FLAGGED}", bot.now, on_pr=False)
    edited["sender"] = user("outsider")  # someone else edits the vendor's comment into an answer
    bot.github("issue_comment", edited)
    assert (
        "was edited by @outsider, not its author"
        in bodies(repo, 3, "<!-- govbot:flag-command -->")[0]
    )
    bot.github("issue_comment", comment("member-carol", 3, f"/flag-ack {FLAGGED}", bot.now, on_pr=False))  # fmt: skip
    assert "may not acknowledge flag requests" in bodies(repo, 3, "<!-- govbot:flag-command -->")[0]
    bot.github("issue_comment", comment("chair-bob", 3, f"/flag-ack {FLAGGED} the WG will flag it in next", bot.now, on_pr=False))  # fmt: skip
    [answered] = bodies(repo, 3, "<!-- govbot:flag-request:")
    assert "Flag request acknowledged** for" in answered and "by @chair-bob" in answered
    assert "the WG will flag it in next" in answered
    [ack] = audit(bot, "flag-acknowledged")
    assert ack["late"] is False
    bot.now = datetime(2026, 4, 2, tzinfo=UTC)
    assert bot.clock.tick() == []  # acknowledged: no more reminders


# -- Gerrit ----------------------------------------------------------------------------------

GERRIT_AT = datetime(2019, 8, 1, 9, tzinfo=UTC)  # 2018.11 is among the two latest approved


@pytest.fixture
def gerrit(base_files: dict[str, bytes]) -> Iterator[FakeGerrit]:
    with running() as fake:
        fake.add_commit(PROJECT, BASE, base_files, branch="main")
        fake.heads[PROJECT] = "main"
        fake.accounts.update(IDS)
        yield fake


def gerrit_event(kind: str, revision: str, at: datetime, **extra: Any) -> dict[str, Any]:
    account = {"name": "Acme", "email": "ops@acme.example", "username": "acme-vendor"}
    return {
        "type": kind,
        "change": {"project": PROJECT, "branch": "main", "id": "I" + "a" * 40, "number": 42,
                   "subject": "Submit Acme Cloud", "owner": account,
                   "url": "https://review.example.org/42", "status": "NEW"},
        "patchSet": {"number": 1, "revision": revision, "parents": [BASE],
                     "ref": "refs/changes/42/42/1", "uploader": account, "createdOn": int(at.timestamp())},
        "eventCreatedOn": int(at.timestamp()),
        **extra,
    }  # fmt: skip


def gerrit_vote(user_name: str, revision: str, at: datetime) -> dict[str, Any]:
    author = {"name": user_name, "email": f"{user_name}@example.org", "username": user_name}
    approvals = [{"type": "Code-Review", "description": "Code-Review", "value": "1", "oldValue": "0"}]  # fmt: skip
    return gerrit_event("comment-added", revision, at, author=author, approvals=approvals,
                        comment="Patch Set 1: Code-Review+1")  # fmt: skip


def test_a_gerrit_submission_is_verified_hashtagged_merged_and_reminded_before_expiry(
    engine: Any, gerrit: FakeGerrit, base_files: dict[str, bytes]
) -> None:
    files = failing("superseded", base_files)  # 2018.11 results: valid in August 2019
    head = "f" * 40
    gerrit.add_commit(PROJECT, head, files)
    gerrit.add_change(PROJECT, 42, head, {PRODUCT: {"status": "A"}}, branch="main")
    bot = Bot(engine, REPO, forge=gerrit.forge())
    bot.now = GERRIT_AT
    bot.gerrit(gerrit_event("patchset-created", head, GERRIT_AT))

    [check] = [r.body for r in gerrit.reviews if (r.body or {}).get("labels")]
    assert check["labels"] == {"Verified": 1}
    assert "guideline 2018.11, on 2019-08-01: qualifies" in check["message"]
    assert gerrit.change(PROJECT, 42)["hashtags"] == ["tests-verified-2018.11"]

    # someone removes govbot's hashtag and adds another of its namespace: undone
    gerrit.change(PROJECT, 42)["hashtags"] = ["missing-tests"]
    editor = {"name": "Acme", "email": "ops@acme.example", "username": "acme-vendor"}
    edited = gerrit_event("hashtags-changed", head, GERRIT_AT, editor=editor, added=["missing-tests"],
                          removed=["tests-verified-2018.11"], hashtags=["missing-tests"])  # fmt: skip
    bot.gerrit(edited)
    assert gerrit.change(PROJECT, 42)["hashtags"] == ["tests-verified-2018.11"]
    assert [a["by"] for a in audit(bot, "labels-restored")] == ["acme-vendor"]

    bot.now = GERRIT_AT + timedelta(hours=2)
    bot.gerrit(gerrit_vote("foundation-grace", head, bot.now))
    assert vote_state(bot, f"gerrit:{PROJECT}#42") == ("certification", "passed")
    merged = gerrit.merge(PROJECT, 42)
    bot.gerrit({**gerrit_event("change-merged", head, bot.now), "newRev": merged})
    [entered] = [m for m in messages(gerrit) if "In the registry of certified products" in m]
    assert (
        "acme/cloud | OpenStack Powered Platform | 2018.11 | rocky | current | 2019-11-01"
        in entered
    )

    # 2018.11 leaves the two latest approved when 2019.11 is approved (2019-11-01)
    bot.now = datetime(2019, 10, 3, tzinfo=UTC)
    keys = bot.clock.tick()
    assert [k for k in keys if k.startswith("expiry:")] == [
        f"expiry:gerrit:{PROJECT}:acme/cloud:platform:2018.11:2019-11-01:30d"
    ]
    assert not [k for k in bot.clock.tick() if k.startswith("expiry:")]
    [reminder] = [
        m for m in messages(gerrit) if m.startswith("Reminder to Acme Ops <ops@acme.example>")
    ]
    assert "expires on 2019-11-01, in 30 day(s)" in reminder
    assert "cc @foundation-grace @foundation-heidi" in reminder
    bot.now = datetime(2019, 10, 26, tzinfo=UTC)
    assert [k.rsplit(":", 1)[1] for k in bot.clock.tick() if k.startswith("expiry:")] == ["7d"]


def messages(gerrit: FakeGerrit) -> list[str]:
    return [str((r.body or {}).get("message", "")).replace(ZWSP, "") for r in gerrit.reviews]


def test_the_foundation_is_reminded_of_its_30_day_review(
    engine: Any, base_files: dict[str, bytes], tmp_path: Path
) -> None:
    """C2.3 on the dry-run forge: reminders 7 and 1 days ahead, a notice when it is late."""
    repo = tmp_path / "repo"

    def commit(files: dict[str, bytes], message: str) -> str:
        for rel, raw in files.items():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_bytes(raw)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", message)
        return git(repo, "rev-parse", "HEAD")

    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    base = commit(base_files, "base")
    head = commit(submission(base_files), "Submit Acme Cloud")
    bot = Bot(engine, repo)
    pull = {
        "number": 9,
        "title": "Submit Acme Cloud",
        "base": base,
        "head": head,
        "head_ref": "acme",
    }
    bot.github("pull_request", pull_event("opened", pull, T0))
    key = f"github:{PROJECT}#9"
    assert vote_state(bot, key) == ("certification", "pending")

    def deadlines(at: datetime) -> list[str]:
        bot.now = at
        keys = [k for k in bot.clock.tick() if k.startswith("review-due:")]
        return [k.removeprefix(f"review-due:{key}:").split(":")[0] for k in keys]

    assert deadlines(T0 + timedelta(days=22)) == []
    assert deadlines(T0 + timedelta(days=23, minutes=1)) == ["7d"]
    assert deadlines(T0 + timedelta(days=23, minutes=2)) == []
    assert deadlines(T0 + timedelta(days=30, minutes=1)) == ["0d"]  # the 1-day one was missed
    assert deadlines(T0 + timedelta(days=31)) == []
    due = [(a["days_before"], a["due"]) for a in audit(bot, "review-deadline-reminded")]
    assert due == [(7, "2026-04-01T09:00:00+00:00"), (0, "2026-04-01T09:00:00+00:00")]

    # once a Foundation reviewer decides, nothing more is due
    bot.github("pull_request_review", approve("foundation-heidi", pull, bot.now))
    assert vote_state(bot, key) == ("certification", "passed")


def check_message(gerrit: FakeGerrit) -> tuple[dict[str, int], str]:
    """The check's review on Gerrit: its label vote and message (plain text)."""
    [check] = [r.body for r in gerrit.reviews if (r.body or {}).get("labels")]
    return check["labels"], str(check["message"]).replace(ZWSP, "")


@pytest.mark.parametrize(
    ("kind", "hashtag", "why"),
    [
        ("missing", "missing-tests", "compute-servers-rebuild | 0/3 | tempest.api.compute.servers"),
        ("superseded", "guideline-not-valid", "on 2026-03-02 (usable: 2020.06, 2019.11)"),
    ],
)
def test_a_gerrit_submission_that_does_not_qualify_is_verified_minus_one(
    engine: Any, gerrit: FakeGerrit, base_files: dict[str, bytes], kind: str, hashtag: str, why: str
) -> None:
    head = "9" * 40
    gerrit.add_commit(PROJECT, head, failing(kind, base_files))
    gerrit.add_change(PROJECT, 42, head, {PRODUCT: {"status": "A"}}, branch="main")
    gerrit.fail_next(1, 503, path="/hashtags", method="POST")  # retried by the REST client
    bot = Bot(engine, REPO, forge=gerrit.forge())
    bot.gerrit(gerrit_event("patchset-created", head, T0))
    labels, message = check_message(gerrit)
    assert labels == {"Verified": -1}
    assert why in message, message
    assert gerrit.change(PROJECT, 42)["hashtags"] == [hashtag]
    assert len(gerrit.calls("POST", "/hashtags")) == 2


def test_a_guideline_change_on_gerrit_names_the_products_it_would_decertify(
    engine: Any, gerrit: FakeGerrit, base_files: dict[str, bytes]
) -> None:
    head = "7" * 40
    gerrit.add_commit(PROJECT, head, decertifying(base_files))
    gerrit.add_change(PROJECT, 42, head, {"guidelines/next.yaml": {}}, branch="main")
    bot = Bot(engine, REPO, forge=gerrit.forge())
    bot.gerrit(gerrit_event("patchset-created", head, T0))
    _, message = check_message(gerrit)
    assert "1 certified product program(s) would stop qualifying" in message, message
    assert (
        "| example/example-cloud | platform | 2020.06 | next | compute-servers-create-multiple"
        in message
    )
    assert not gerrit.calls("GET", "/hashtags")  # not a submission: no hashtag call
