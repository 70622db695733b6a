"""``govbot bench reconcile``: a reconciliation sweep of a repository where nothing changed.

1,000 open pull requests on the fake GitHub (tests/fakes/github_server.py, real
HTTP, answering ETags and 304 as GitHub documents), all already swept once.
govbot's sweep asks the listings conditionally and reads only down to its
watermark; the baseline, measured in the same run against the same server, is
the naive sweep: every page of open pull requests, then each one's reviews and
comments, unconditionally. Figures: requests counted against GitHub's rate
limit (a 304 is not counted) and seconds. Targets: at most 20 requests and
under 2 s for govbot's sweep.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from govbot.forges import github_sweep
from govbot.forges.github import GitHubForge
from govbot.service.reconcile import reconcile
from govbot.store import migrate
from govbot.store.db import make_engine

REPO = "org/governance"
PULLS = 1000
NOW = datetime(2024, 5, 1, 13, 0, tzinfo=UTC)


def naive(forge: GitHubForge, numbers: list[int]) -> int:
    """What a sweep without ETags or a watermark reads; returns the requests sent."""
    sent = 0
    answer = github_sweep.get(forge, f"/repos/{REPO}/pulls", {"state": "open", "per_page": 100})
    sent += 1
    while answer.next_url:
        answer = github_sweep.get(forge, answer.next_url)
        sent += 1
    for n in numbers:
        for path in (f"/repos/{REPO}/pulls/{n}/reviews", f"/repos/{REPO}/issues/{n}/comments"):
            github_sweep.get(forge, path, {"per_page": 100})
            sent += 1
    return sent


def main(args: argparse.Namespace) -> int:
    from tests.fakes.github_server import github_server  # the checkout's fake, like the others

    print(f"govbot bench reconcile: {PULLS} open pull requests, none changed since the last sweep")
    print("targets: govbot's sweep <= 20 requests counted against the rate limit, < 2 s")
    with github_server() as gh, tempfile.TemporaryDirectory() as tmp:
        repo = gh.add_repo(REPO)
        base = "b" * 40
        repo.commit(base, {"README.md": b"governance\n"}, branch="main", parents=[])
        for n in range(1, PULLS + 1):
            repo.add_pull(n, f"{n:040x}", base, [])
        forge = gh.forge()
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate.upgrade(engine)
        start = time.perf_counter()
        [first] = reconcile(engine, "github", forge, scopes=[REPO], now=lambda: NOW)
        print(
            f"first sweep (not measured: no watermark yet): {first.requests} requests, "
            f"{first.stored} deliveries queued, {time.perf_counter() - start:.2f} s"
        )
        best_seconds, counted, sent = float("inf"), 0, 0
        for _ in range(max(1, args.repeat)):
            before = len(gh.counted())
            start = time.perf_counter()
            [sweep] = reconcile(engine, "github", forge, scopes=[REPO], now=lambda: NOW)
            best_seconds = min(best_seconds, time.perf_counter() - start)
            counted = max(counted, len(gh.counted()) - before)  # the worst of the runs
            sent = max(sent, sweep.requests)
            if sweep.stored:
                print(f"error: the unchanged repository gave {sweep.stored} new deliveries")
                return 1
        before = len(gh.counted())
        start = time.perf_counter()
        naive_sent = naive(forge, sorted(repo.pulls))
        naive_seconds = time.perf_counter() - start
        naive_counted = len(gh.counted()) - before
        engine.dispose()
    print(
        f"govbot sweep   {sent:5d} requests, {counted:5d} counted against the rate limit, "
        f"{best_seconds:7.3f} s (best time, most requests of {max(1, args.repeat)} run(s))"
    )
    print(
        f"naive sweep    {naive_sent:5d} requests, {naive_counted:5d} counted against the rate limit, "
        f"{naive_seconds:7.3f} s"
    )
    ok = counted <= 20 and best_seconds < 2.0
    print(
        f"govbot / naive: {counted / max(1, naive_counted):.4f} of the counted requests, "
        f"{best_seconds / naive_seconds:.4f} of the time; targets {'met' if ok else 'NOT met'}"
    )
    sys.stdout.flush()
    return 0
