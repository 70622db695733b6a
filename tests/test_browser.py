"""What people see, in a real browser: the dashboard, the site, the offline API docs.

Playwright for Python drives Debian's Chromium (``/usr/bin/chromium``;
Playwright's own browser download is not reachable here) against the real
app served by uvicorn on a loopback port, with a worker processing real
signed deliveries. Each test writes a screenshot to ``artifacts/screenshots/``
(``GOVBOT_ARTIFACTS`` moves it), which CI keeps. Where Chromium or Playwright is
missing these tests skip, saying so; in CI (``CI=true``) they fail instead.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from govbot.cli.reviews import policy_files
from govbot.forges.dryrun import DryRunForge
from govbot.repo import bundled
from govbot.service.dashboard import board
from govbot.service.worker import Worker
from govbot.store import migrate
from govbot.store.db import make_engine
from govbot.web.reviews import router as reviews_router
from tests.conftest import REPO
from tests.test_vote_scenario import GH_KEY, SECRET, T0, approve, build_revisions, pull
from webhooks.app import create_app
from webhooks.settings import Settings
from webhooks.signatures import sign_github

CHROMIUM = Path(os.environ.get("GOVBOT_CHROMIUM", "/usr/bin/chromium"))
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("GOVBOT_ARTIFACTS", REPO / "artifacts")) / "screenshots"
VIEWPORT = {"width": 1200, "height": 800}


def _unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser tests are mandatory in CI: {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -e '.[browser]')")
    if not CHROMIUM.is_file():
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT)
    p = context.new_page()
    outside: list[str] = []
    p.on(
        "request",
        lambda r: (
            None if r.url.startswith(("http://127.0.0.1", "data:")) else outside.append(r.url)
        ),
    )
    p.outside = outside
    yield p
    context.close()


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


class Served:
    """The app (receiver, site, dashboard) under uvicorn, a worker, and a clock the test moves."""

    def __init__(self, tmp: Path, repo: Path) -> None:
        self.now = T0
        self.engine = make_engine(f"sqlite:///{tmp / 'govbot.db'}")
        migrate.upgrade(self.engine)
        forge = DryRunForge(repo)
        schemas = bundled.schema_set()

        def source() -> dict[str, Any]:
            return board(
                self.engine,
                lambda _: (forge, True),
                schemas,
                local_policies=lambda: policy_files(repo),
                now=self.now,
            )

        settings = Settings(github_secret=SECRET.encode(), gerrit_secret=SECRET.encode())
        app = create_app(
            self.engine,
            settings,
            now=lambda: self.now,
            routers=[reviews_router(source, refresh_seconds=0.5)],
        )
        self.worker = Worker(self.engine, lambda _: (forge, True), schemas, now=lambda: self.now)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.server.started, "uvicorn did not start"

    def deliver(self, event: str, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign_github(SECRET.encode(), body),
            "Content-Type": "application/json",
        }
        answer = httpx.post(f"{self.url}/webhooks/github", content=body, headers=headers)
        assert answer.status_code == 202, answer.text
        self.worker.run(once=True)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
        self.engine.dispose()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, dict[str, Any]]]:
    revisions = build_revisions(tmp_path_factory)
    s = Served(tmp_path_factory.mktemp("served"), revisions["repo"])
    yield s, revisions
    s.stop()


def test_the_dashboard_shows_a_pending_vote_and_updates_when_a_vote_arrives(
    served: tuple[Served, dict[str, Any]], page: Any
) -> None:
    s, rev = served
    s.deliver("pull_request", pull("opened", rev["base"], rev["head1"], T0))
    s.now = T0 + timedelta(minutes=10)
    s.deliver("pull_request_review", approve("member-carol", rev["head1"], s.now))

    page.goto(f"{s.url}/reviews")
    review = page.locator(f'section.review[id="{GH_KEY}"]')
    assert review.get_attribute("data-state") == "pending"
    assert review.locator(".class").inner_text() == "new-required-capability"
    assert review.locator(".earliest").inner_text() == "2026-03-09T09:00:00Z"
    assert review.locator(".counts .yes").inner_text() == "1"
    carol = review.locator("tr", has_text="Carol Example")
    assert carol.locator("td").nth(3).inner_text() == "yes"  # binding
    erin = review.locator("tr", has_text="Erin Example")
    assert "not voted yet" in erin.inner_text()
    assert "minimum review time runs until 2026-03-09T09:00:00Z" in review.inner_text()
    assert "the next cycle has not started" in page.locator("#timeline").inner_text()
    page.evaluate("window.loadedOnce = true")  # gone if the page reloads

    s.now = T0 + timedelta(minutes=20)
    s.deliver("pull_request_review", approve("member-dave", rev["head1"], s.now))
    page.wait_for_function(
        "document.querySelector('.counts .yes').textContent === '2'", timeout=15000
    )
    assert page.evaluate("window.loadedOnce") is True  # updated in place, not reloaded
    dave = page.locator("tr", has_text="Dave Example")
    assert dave.locator(".vote").inner_text().strip() == "+1"
    shot(page, "dashboard")
    assert page.outside == []


def test_the_site_index_a_guideline_and_a_diff(
    served: tuple[Served, dict[str, Any]], page: Any
) -> None:
    s, _ = served
    page.goto(f"{s.url}/")
    assert page.locator("h1").first.inner_text() == "Interoperability guidelines"
    valid = page.locator("#valid").inner_text()
    assert "2020.06" in valid and "2019.11" in valid
    rows = page.locator("#platform + table tbody tr")
    assert rows.first.get_attribute("id") == "next"  # newest first, the draft on top
    assert "draft" in rows.first.locator(".badge").first.inner_text()
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != "Times New Roman"
    shot(page, "site")

    page.locator('tr[id="2018.02"] td').first.locator("a").click()
    page.wait_for_url("**/guidelines/2018.02")
    assert "is superseded" in page.locator(".callout").inner_text()
    assert page.locator("h1 .headerlink, h2 .headerlink").count() > 3  # anchors
    shot(page, "guideline")

    page.goto(f"{s.url}/")
    page.select_option('form.compare select[name="from"]', "2018.02")
    page.select_option('form.compare select[name="to"]', "2020.06")
    page.locator("form.compare button").click()
    page.wait_for_url("**/diff?from=2018.02&to=2020.06")
    assert (
        page.locator("#capabilities-removed").inner_text().startswith("Capabilities removed (14)")
    )
    assert (
        page.locator("#capabilities-promoted").inner_text().startswith("Capabilities promoted (5)")
    )
    shot(page, "diff")
    assert page.outside == []


def test_the_static_site_works_from_files(tmp_path: Path, page: Any) -> None:
    from govbot.repo.snapshots import read_directory
    from govbot.web.build import build

    for rel, data in build(read_directory(bundled.root())).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    page.goto((tmp_path / "index.html").as_uri())
    page.select_option('form.compare select[name="from"]', "2020.06")
    page.select_option('form.compare select[name="to"]', "next")
    page.locator("form.compare button").click()
    page.wait_for_url("**/diff/2020.06..next.html")
    assert page.locator("#capabilities-demoted").inner_text().startswith("Capabilities demoted (3)")
    page.locator("header nav a", has_text="By release").click()
    assert "ussuri" in page.locator("#ussuri").inner_text()


def test_the_api_docs_render_offline(served: tuple[Served, dict[str, Any]], page: Any) -> None:
    s, _ = served
    page.goto(f"{s.url}/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15000)
    assert "govbot" in page.locator(".swagger-ui .info .title").inner_text()
    page.get_by_text("/v1/guidelines/{version}/tests", exact=True).first.wait_for()
    shot(page, "docs")
    assert page.outside == []  # nothing from a CDN


def test_screenshots_are_written_where_the_readme_says() -> None:
    readme = (REPO / "README.md").read_text()
    assert "artifacts/screenshots/" in readme
    for name in ("dashboard", "site", "diff"):
        committed = REPO / "docs" / "screenshots" / f"{name}.png"
        assert committed.is_file() and committed.stat().st_size < 250_000, committed
        assert f"docs/screenshots/{name}.png" in readme
