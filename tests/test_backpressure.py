"""Back-pressure without blocking: workers against the real GitHub adapter and a flaky forge.

Real PyGithub over HTTP against tests/fakes/github_server.py, a real inbox on
SQLite and PostgreSQL, in-process workers whose ``sleep`` is a spy. Time is
never measured on the wall clock: what a faulty review costs the others is
counted (the waits slept, the requests that hung times the timeout).

GitHub, "Best practices for using the REST API" > "Handle rate limit errors
appropriately": "If you receive a rate limit error, you should stop making
requests temporarily according to these guidelines: If the retry-after
response header is present, you should not retry your request until after
that many seconds has elapsed. If the x-ratelimit-remaining header is 0, you
should not make another request until after the time specified by the
x-ratelimit-reset header. The x-ratelimit-reset header is in UTC epoch
seconds. Otherwise, wait for at least one minute before retrying."
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from govbot import metrics
from govbot.core.yamlio import dump, parse_bytes
from govbot.forges.base import DEFAULT_TIMEOUT
from govbot.forges.github import GitHubForge
from govbot.forges.github_client import MAX_WAIT
from govbot.repo import bundled
from govbot.repo.snapshots import read_directory
from govbot.service.worker import Worker
from govbot.store import inbox, tables
from govbot.store.models import utcnow
from tests.conftest import REPO
from tests.fakes.github_server import TOKEN, FakeGitHub, Fault, github_server

BASE = "b" * 40
HEADS = {1: "1" * 40, 2: "2" * 40, 3: "3" * 40}  # PR number -> head sha
REPO_NAME = "governance/guidelines"
TIMEOUT = 1  # the tests' forge timeout (seconds; PyGithub takes an int)


@pytest.fixture
def gh() -> Iterator[FakeGitHub]:
    with github_server() as server:
        server.tokens.add(TOKEN)
        seed(server)
        yield server


def seed(gh: FakeGitHub) -> None:
    files = read_directory(REPO)
    repo = gh.add_repo(REPO_NAME)
    repo.commit(BASE, files, branch="main")
    for number, head in HEADS.items():
        g = copy.deepcopy(parse_bytes("next", files["guidelines/next.yaml"]).data)
        g["releases"] = [f"release-{number}"]
        repo.commit(head, {**files, "guidelines/next.yaml": dump(g).encode()}, parents=[BASE])
        repo.add_pull(number, head, BASE, ["guidelines/next.yaml"])


def opened(number: int) -> bytes:
    return json.dumps({
        "action": "opened",
        "number": number,
        "pull_request": {"number": number, "title": f"change {number}", "user": {"login": "contributor"},
                         "updated_at": "2026-01-01T00:00:00Z", "base": {"ref": "main", "sha": BASE},
                         "head": {"ref": f"pr-{number}", "sha": HEADS[number]}},
        "repository": {"full_name": REPO_NAME},
    }).encode()  # fmt: skip


def deliver(engine: Any, number: int) -> None:
    with engine.begin() as conn:
        inbox.record(conn, "github", f"d-{number}", "pull_request", "opened", opened(number))


class Clock:
    """The forge client's monotonic clock: a rate limit ends when the test says."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def forge(gh: FakeGitHub, sleeps: list[float], clock: Clock | None = None) -> GitHubForge:
    return GitHubForge(gh.url, token=TOKEN, throttle=False, sleep=sleeps.append,
                       timeout=TIMEOUT, clock=clock or time.monotonic)  # fmt: skip


def worker(engine: Any, f: GitHubForge, name: str = "w1") -> Worker:
    return Worker(engine, lambda _: (f, False), bundled.schema_set(), worker_id=name)


def status(engine: Any, delivery: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            select(tables.deliveries).where(tables.deliveries.c.delivery_id == delivery)
        ).one()


def check_runs(gh: FakeGitHub, number: int) -> list[dict[str, Any]]:
    runs = gh.repos[REPO_NAME].check_runs
    return [r for r in runs if r["head_sha"] == HEADS[number] and r["name"] == "govbot/check"]


# -- (a) a review whose own objects fail or hang never holds up another's ---------------


FAULTS = {
    # its check run's creation answers 502, every time
    "5xx on its check run": lambda: Fault("POST", "/check-runs", 502, head_sha=HEADS[1]),
    # reading its check runs answers 502, every time (a read: retried while the waits are short)
    "5xx on its reads": lambda: Fault("GET", f"/commits/{HEADS[1]}/check-runs", 502),
    # its check run's creation hangs until the client's timeout, every time
    "a hang on its check run": lambda: Fault("POST", "/check-runs", 502, hang=3, head_sha=HEADS[1]),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failing_review_delays_a_healthy_one_by_under_5_seconds(
    engine: Any, gh: FakeGitHub, fault: str
) -> None:
    """Review 1's own forge objects keep failing; review 2, queued behind it, is checked
    after review 1 cost at most: the waits slept in-process plus the hung requests'
    timeouts (the production timeout, GOVBOT_FORGE_TIMEOUT's default) — under 5 s."""
    broken = FAULTS[fault]()
    gh.faults.append(broken)
    deliver(engine, 1)
    deliver(engine, 2)
    sleeps: list[float] = []
    w = worker(engine, forge(gh, sleeps))

    outcomes = []
    while status(engine, "d-2").status != "done":
        outcomes.append(w.run_once())
        assert len(outcomes) < 5, outcomes

    assert broken.seen >= 1  # the fault was met
    hung = broken.seen if broken.hang else 0
    cost = sum(sleeps) + hung * DEFAULT_TIMEOUT
    assert cost < 5.0, (sleeps, hung)
    assert all(s <= MAX_WAIT for s in sleeps)
    assert outcomes == ["queued", "done"]  # review 1 rescheduled; the worker moved on
    assert len(check_runs(gh, 2)) == 1 and check_runs(gh, 1) == []
    one = status(engine, "d-1")
    assert one.status == "queued" and one.attempts == 1 and "forge" in one.last_error
    assert inbox.claim(engine, "w2") is None  # backing off: not due yet

    gh.faults.clear()  # the fault ends: review 1 is checked on its next turn, once
    with engine.begin() as conn:
        conn.execute(update(tables.deliveries).values(available_at=utcnow()))
    assert w.run_once() == "done"
    assert len(check_runs(gh, 1)) == 1


def test_a_persistent_fault_backs_off_exponentially_with_jitter_then_parks(
    engine: Any, gh: FakeGitHub
) -> None:
    """Each failed attempt waits longer (between half and all of 2**attempts s), so a
    broken review takes a worker less and less often; after max_attempts it is parked."""
    gh.faults.append(FAULTS["5xx on its check run"]())
    deliver(engine, 1)
    sleeps: list[float] = []
    w = worker(engine, forge(gh, sleeps))
    w.max_attempts = 4
    waits = []
    for attempt in range(1, 5):
        before = utcnow()
        outcome = w.run_once()
        row = status(engine, "d-1")
        if attempt < 4:
            assert outcome == "queued"
            wait = (row.available_at if row.available_at.tzinfo else
                    row.available_at.replace(tzinfo=before.tzinfo)) - before  # fmt: skip
            assert 2**attempt / 2 - 0.1 <= wait.total_seconds() <= 2**attempt + 1
            waits.append(wait)
            with engine.begin() as conn:
                conn.execute(update(tables.deliveries).values(available_at=utcnow()))
        else:
            assert outcome == "parked"
    assert waits == sorted(waits) and sleeps == []


def test_backoff_has_jitter() -> None:
    assert inbox.backoff(3, rand=lambda: 0.0) == timedelta(seconds=4)
    assert inbox.backoff(3, rand=lambda: 1.0) == timedelta(seconds=8)
    assert inbox.backoff(30) <= timedelta(seconds=3600)


# -- (b) a rate limit: no request before the reset, and no worker sleeps -----------------


def test_during_a_rate_limit_no_request_goes_out_and_no_worker_sleeps(
    engine: Any, gh: FakeGitHub
) -> None:
    """GitHub, "Rate limits for the REST API" > "Exceeding the rate limit": "If you
    exceed your primary rate limit, you will receive a 403 or 429 response, and the
    x-ratelimit-remaining header will be 0. You should not retry your request until
    after the time specified by the x-ratelimit-reset header."

    The limit belongs to the token: it holds every worker (here two, each with its
    own client, as two processes would be) off GitHub, through the database, and
    the deliveries waiting hold no worker."""
    reset = int(time.time()) + 120
    headers = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0",
               "x-ratelimit-reset": str(reset), "x-ratelimit-resource": "core"}  # fmt: skip
    gh.fail_next(1, 403, headers, "API rate limit exceeded for installation ID 5.",
                 path=f"/{REPO_NAME}/check-runs")  # fmt: skip
    for number in HEADS:
        deliver(engine, number)
    sleeps: list[float] = []
    clocks = Clock(), Clock()
    w1 = worker(engine, forge(gh, sleeps, clocks[0]), "w1")
    w2 = worker(engine, forge(gh, sleeps, clocks[1]), "w2")

    assert w1.run_once() == "queued"  # rate-limited: rescheduled until the reset
    limited = status(engine, "d-1")
    assert limited.attempts == 0  # a rate limit is no failure: the attempt is given back
    holds = inbox.forge_holds(engine)
    assert set(holds) == {"github"}
    assert reset <= holds["github"].timestamp() <= reset + 5
    sent = len(gh.requests)

    for w in (w1, w2, w1, w2):  # reviews 2 and 3 are due, but GitHub is off limits
        assert w.run_once() is None
    assert len(gh.requests) == sent  # not one request before the reset
    assert sleeps == []  # and no worker slept through it
    assert {status(engine, f"d-{n}").status for n in HEADS} == {"queued"}

    # The reset passes (the shared hold, the client's own clock, the delivery's time).
    with engine.begin() as conn:
        conn.execute(update(tables.forge_limits).values(until=utcnow() - timedelta(seconds=1)))
        conn.execute(update(tables.deliveries).values(available_at=utcnow()))
    for clock in clocks:
        clock.t += 125
    done = [w.run_once() for w in (w1, w2, w1)]
    assert done == ["done"] * 3 and w1.run_once() is None
    assert all(len(check_runs(gh, n)) == 1 for n in HEADS)
    assert sleeps == []


def test_a_rate_limited_client_sends_nothing_before_the_reset(gh: FakeGitHub) -> None:
    """Within one process too: the client that was answered the limit refuses to send
    (no request, no sleep) until its clock passes the reset."""
    reset = int(time.time()) + 60
    gh.fail_next(1, 429, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
                 "API rate limit exceeded")  # fmt: skip
    sleeps: list[float] = []
    clock = Clock()
    f = forge(gh, sleeps, clock)
    with pytest.raises(Exception) as first:
        f.default_branch(REPO_NAME)
    sent = len(gh.requests)
    with pytest.raises(Exception) as second:
        f.resolve(REPO_NAME, "main")
    assert getattr(first.value, "rate_limited", False) and second.value.rate_limited
    assert len(gh.requests) == sent and sleeps == []
    clock.t += 62
    assert f.resolve(REPO_NAME, "main") == BASE


# -- (c) a crash loop parks after N claims ---------------------------------------------


class Died(BaseException):
    """What a worker's death looks like from inside: nothing after it runs."""


def test_a_delivery_that_kills_its_worker_every_time_is_parked_after_n_claims(
    engine: Any, gh: FakeGitHub
) -> None:
    """Attempts are counted at claim. A worker that dies mid-delivery records nothing;
    once its lease expires the delivery is claimed again, and after max_attempts
    claims the next claim parks it instead of handing it out, and takes the next one."""
    deliver(engine, 1)
    deliver(engine, 2)
    sleeps: list[float] = []
    real = forge(gh, sleeps)

    class Deadly(GitHubForge):
        def post_check(self, report: Any) -> str:
            if report.head_sha == HEADS[1]:
                raise Died  # e.g. killed by the OOM killer while posting review 1's check
            return real.post_check(report)

    deadly = Deadly(gh.url, token=TOKEN, throttle=False, sleep=sleeps.append)
    w = Worker(engine, lambda _: (deadly, False), bundled.schema_set(), max_attempts=3)

    for attempt in range(1, 4):
        with pytest.raises(Died):
            w.run_once()
        row = status(engine, "d-1")
        assert (row.status, row.attempts) == ("processing", attempt)
        with engine.begin() as conn:  # the dead worker's lease runs out
            conn.execute(
                update(tables.deliveries)
                .where(tables.deliveries.c.delivery_id == "d-1")
                .values(locked_until=utcnow() - timedelta(seconds=1))
            )
    parked_before = metrics.DELIVERIES_PARKED._value.get()
    assert w.run_once() == "done"  # the 4th claim parks review 1 and checks review 2
    assert metrics.DELIVERIES_PARKED._value.get() == parked_before + 1  # operators see it
    row = status(engine, "d-1")
    assert (row.status, row.attempts) == ("parked", 3) and "never finished" in row.last_error
    assert status(engine, "d-2").status == "done"
    assert w.run_once() is None  # parked stays parked

    assert inbox.requeue_parked(engine) == 1  # the operator's `govbot requeue --parked`
    assert (status(engine, "d-1").status, status(engine, "d-1").attempts) == ("queued", 0)


# -- (d) an ambiguous create is looked up, not repeated ---------------------------------


@pytest.mark.parametrize("lost", ["502 after the effect", "a hang after the effect"])
def test_a_check_run_created_despite_a_lost_answer_exists_once(
    engine: Any, gh: FakeGitHub, lost: str
) -> None:
    """GitHub, "Create a check run" (POST /repos/{owner}/{repo}/check-runs) makes a new
    run each time; "List check runs for a Git reference" (GET
    /repos/{owner}/{repo}/commits/{ref}/check-runs, ``check_name``: "Returns check runs
    with the specified name") finds it. After a POST that took effect but whose answer
    was a 502 or never came (the client's timeout), the run is looked up by head sha +
    name and completed, never created a second time."""
    hang = 3 if lost.startswith("a hang") else 0
    gh.faults.append(Fault("POST", "/check-runs", 502, after=True, hang=hang,
                           head_sha=HEADS[1], times=1))  # fmt: skip
    deliver(engine, 1)
    sleeps: list[float] = []
    w = worker(engine, forge(gh, sleeps))
    outcome = w.run_once()
    if outcome != "done":  # the look-up may itself come too early: the retry looks again
        with engine.begin() as conn:
            conn.execute(update(tables.deliveries).values(available_at=utcnow()))
        outcome = w.run_once()
    assert outcome == "done"
    runs = check_runs(gh, 1)
    assert len(runs) == 1, runs
    assert runs[0]["status"] == "completed" and runs[0]["output"]["title"]
    assert len(gh.calls("POST", f"/{REPO_NAME}/check-runs")) == 2  # check + vote: no third
    assert all(s <= MAX_WAIT for s in sleeps)


def test_a_comment_posted_despite_a_lost_answer_exists_once(gh: FakeGitHub) -> None:
    """The same for the review's comment (POST .../issues/{n}/comments): looked up by
    govbot's marker before it is posted again."""
    from govbot.core.events import ReviewRef

    gh.faults.append(Fault("POST", "/issues/1/comments", 502, after=True, times=1))
    f = forge(gh, [])
    review = ReviewRef("github", REPO_NAME, "1")
    first = f.upsert_comment(review, "<!-- govbot -->", "hello")
    assert f.upsert_comment(review, "<!-- govbot -->", "hello") == first
    assert len(gh.repos[REPO_NAME].comments[1]) == 1


def test_requeue_parked_queues_every_parked_delivery_again(
    engine: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``govbot requeue --parked``: after a fix, every parked delivery goes back in line."""
    from govbot import cli
    from tests import processes

    for number in HEADS:
        deliver(engine, number)
    with engine.begin() as conn:
        conn.execute(
            update(tables.deliveries)
            .where(tables.deliveries.c.delivery_id != "d-3")
            .values(status="parked", attempts=8)
        )
    url = processes.worker_env(engine, "http://127.0.0.1:9", TOKEN, Path("."))["DATABASE_URL"]
    monkeypatch.setenv("DATABASE_URL", url)
    assert cli.main(["requeue", "--parked", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["requeued"] == 2
    assert inbox.counts(engine) == {"queued": 3}
    assert cli.main(["requeue", "--parked"]) == 0  # nothing parked: nothing to do, no error
    assert cli.main(["requeue"]) != 0  # neither ids nor --parked: a usage error


@pytest.fixture(scope="module")
def revisions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from tests.test_vote_scenario import build_revisions

    return build_revisions(tmp_path_factory)


def test_the_clock_sends_a_rate_limited_forge_nothing_until_the_limit_ends(
    engine: Any, revisions: dict[str, Any]
) -> None:
    """The clock reads the same shared limit: a decision that falls due on a forge under
    a rate limit waits for the limit's end (nothing claimed, nothing sent), then is made."""
    from tests.test_vote_scenario import GH_KEY, T0, Bot, pull

    bot = Bot(engine, revisions["repo"])
    bot.github("pull_request", pull("opened", revisions["base"], revisions["head1"], T0))
    bot.now = T0 + timedelta(days=7, minutes=1)  # the minimum review time is over
    inbox.hold_forge(engine, "github", "token:x", utcnow() + timedelta(minutes=5))
    assert bot.clock.tick() == []
    with engine.begin() as conn:
        conn.execute(update(tables.forge_limits).values(until=utcnow() - timedelta(seconds=1)))
    assert f"decide:{GH_KEY}:{(T0 + timedelta(days=7)).isoformat()}" in bot.clock.tick()


def test_a_worker_process_killed_on_the_same_delivery_every_time_parks_it(
    engine: Any, gh: FakeGitHub, tmp_path: Path
) -> None:
    """The crash loop with real processes: ``govbot worker`` is SIGKILLed while review 1's
    check run is being created, GOVBOT_WORKER_MAX_ATTEMPTS (2) times; once the last lease
    runs out, the next worker's claim parks it and goes on to review 2."""
    from tests import processes

    gh.faults.append(Fault("POST", "/check-runs", 502, hang=30, head_sha=HEADS[1]))
    deliver(engine, 1)
    env = processes.worker_env(engine, gh.url, TOKEN, tmp_path)
    env["GOVBOT_WORKER_MAX_ATTEMPTS"] = "2"
    for attempt in (1, 2):
        processes.kill_worker_when(env, lambda a=attempt: gh.faults[0].seen >= a, "hung")
        assert (status(engine, "d-1").status, status(engine, "d-1").attempts) == (
            "processing",
            attempt,
        )
    deliver(engine, 2)
    processes.drain(env)  # waits out the lease, then one worker --once
    row = status(engine, "d-1")
    assert (row.status, row.attempts) == ("parked", 2) and "never finished" in row.last_error
    assert status(engine, "d-2").status == "done" and len(check_runs(gh, 2)) == 1


def test_a_gerrit_quota_429_holds_every_worker_off_gerrit_until_it_ends(
    engine: Any, revisions: dict[str, Any]
) -> None:
    """Gerrit's quota plugin answers 429 with Retry-After when the account's quota is
    spent: the wait belongs to the account, so nothing is sent to Gerrit (and no worker
    sleeps) until it is over; then the waiting events are handled, each once."""
    from tests.fakes.gerrit_server import running
    from tests.test_vote_scenario import GERRIT_KEY, T0, Bot, gerrit_event, seeded_gerrit

    with running() as fake:
        seeded_gerrit(fake, revisions)
        sleeps: list[float] = []
        clock = Clock()
        gerrit = fake.forge(sleeps.append)
        gerrit.rest._clock = clock
        bot = Bot(engine, revisions["repo"], forge=gerrit)
        fake.fail_next(1, 429, {"Retry-After": "60"})
        bot.gerrit(gerrit_event("patchset-created", revisions["head1"], 1, T0))
        assert set(inbox.forge_holds(engine)) == {"gerrit"}
        sent = len(fake.requests)
        bot.now = T0 + timedelta(minutes=1)
        bot.gerrit(gerrit_event("patchset-created", revisions["head2"], 2, bot.now))
        assert bot.worker.run(once=True) == 0 and len(fake.requests) == sent and sleeps == []

        with engine.begin() as conn:  # a minute later
            conn.execute(update(tables.forge_limits).values(until=utcnow() - timedelta(seconds=1)))
            conn.execute(update(tables.deliveries).values(available_at=utcnow()))
        clock.t += 61
        assert bot.worker.run(once=True) == 2
        assert inbox.counts(engine) == {"done": 2} and sleeps == []
        assert bot.state(GERRIT_KEY) == "pending"
