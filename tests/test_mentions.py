"""No @mention govbot posts notifies anyone, whatever repository or payload text it echoes.

What notifies on GitHub is decided after rendering, on the text nodes of the
HTML outside ``pre``, ``code``, ``a``, ``style`` and ``script``, by
html-pipeline's filters (gjtorikian/html-pipeline,
``lib/html_pipeline/node_filter/mention_filter.rb`` and
``team_mention_filter.rb``):

    MentionFilter:     (?:^|\\W)@((?>[a-z0-9][a-z0-9-]*))(?!/)
                       (?=\\.+[ \\t\\W]|\\.+$|[^0-9a-zA-Z_.]|$)     /ix
    TeamMentionFilter: (?<=^|\\W)@([a-z0-9][a-z0-9-]*)(?:/|&\\#47;?)([a-z0-9][a-z0-9\\-_]*)\\b  /ix

:func:`mentions` below renders Markdown as GitHub does (CommonMark, raw HTML
allowed) and applies those two patterns (Ruby's ``\\W`` is ASCII, its ``^``
and ``$`` are line anchors) to the same text nodes: it is how these tests see
a notification.
"""

from __future__ import annotations

import copy
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import select

from govbot.core.events import ReviewRef
from govbot.core.mentions import ZWSP, inert
from govbot.core.yamlio import dump, parse_bytes
from govbot.forges.base import Annotation, CheckReport, ProposedChange
from govbot.forges.dryrun import DryRunForge
from govbot.forges.recording import RecordingForge
from govbot.repo.snapshots import read_directory
from govbot.service.proposals import COMMENT_MARKER
from govbot.service.releasing import REQUEST_MARKER
from govbot.store.models import ReportRow
from tests.conftest import REPO
from tests.fakes.github_server import FakeGitHub, github_server
from tests.test_vote_scenario import T0, Bot, approve, command, git, pull

_USER = re.compile(
    r"(?:^|\W)@([a-z0-9][a-z0-9-]*)(?!/)(?=\.+[ \t\W]|\.+$|[^0-9a-zA-Z_.]|$)", re.I | re.A | re.M
)
_TEAM = re.compile(
    r"(?:^|(?<=\W))@([a-z0-9][a-z0-9-]*)(?:/|&#47;?)([a-z0-9][a-z0-9\-_]*)\b", re.I | re.A | re.M
)
_RENDER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
_IGNORED = {"pre", "code", "a", "style", "script"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.inside: list[str] = []
        self.nodes: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.inside.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.inside:
            del self.inside[len(self.inside) - 1 - self.inside[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        if not _IGNORED & set(self.inside):
            self.nodes.append(data)


def mentions(markdown: str) -> list[str]:
    """Who GitHub would notify for this Markdown: logins and org/team names."""
    parser = _Text()
    parser.feed(_RENDER.render(markdown))
    parser.close()
    found: list[str] = []
    for node in parser.nodes:
        found += [f"{org}/{team}" for org, team in _TEAM.findall(node)]
        found += _USER.findall(_TEAM.sub("", node))
    return found


ECHOED = {
    "team": "@openstack/interop-core please",
    "user": "thanks @alice.",
    "in parentheses": "(@alice)",
    "bold": "**@alice**",
    "after emphasis": "*a*@alice",
    "after an underscore emphasis": "_a_@alice",
    "line start": "ok\n@alice",
    "escaped": "\\@alice",
    "character reference": "&#64;openstack/interop-core",
    "hex character reference": "&#x40;alice and &#X040;bob",
    "named character reference": "&commat;alice",
    "entity right after the at": "@&#97;lice",
    "team with an encoded slash": "@openstack&#47;interop-core",
    "in a table cell": "| who |\n|---|\n| @alice |",
    "in raw HTML": "<div>@alice</div>",
    "non-ASCII before": "é@alice",
}


@pytest.mark.parametrize("text", ECHOED.values(), ids=ECHOED.keys())
def test_inert_text_mentions_nobody_and_reads_the_same(text: str) -> None:
    assert mentions(text), "the detector must see the mention in the raw text"
    assert mentions(inert(text)) == []
    assert inert(text).replace(ZWSP, "") == text
    assert inert(inert(text)) == inert(text)


@pytest.mark.parametrize(
    "text", ["alice@example.org", "HEAD@{1}", "no at sign", "&#640; &amp;", "x&#64;y"]
)
def test_what_cannot_mention_is_left_alone(text: str) -> None:
    assert inert(text) == text


def test_every_text_posted_through_the_recorder_is_inert(tmp_path: Path) -> None:
    """The one gate: checks (title, summary, annotations), comments, release name and notes,
    a proposed change's message; never tag messages (the manifest) or file contents."""
    recorder = RecordingForge(DryRunForge(tmp_path), dry_run=True)
    ref = ReviewRef("github", "org/gov", "7")
    shout = "@openstack/interop-core please"
    note = Annotation("guidelines/@x.yaml", 3, "warning", f"rule {shout}", f"why {shout}")
    recorder.post_check(
        CheckReport(ref, "a" * 40, "govbot/check", "success", shout, shout, (note,))
    )
    recorder.upsert_comment(ref, "<!-- m -->", shout)
    recorder.publish_release("org/gov", "2021.01", shout, shout, {"notes.md": shout.encode()})
    recorder.open_change(
        ProposedChange("org/gov", "main", "release/x", f"Title\n\n{shout}", {"a": shout.encode()})
    )
    recorder.create_tag("org/gov", "2021.01", "a" * 40, shout)
    check, comment, published, change, tag = recorder.posted
    for posted in (check, comment, published, change):
        assert mentions(posted.title + "\n\n" + posted.body) == [], posted.kind
        assert shout in posted.body.replace(ZWSP, "")
    assert tag.body == shout  # the tag message is the manifest's carrier: byte for byte


# -- through the receiver and the worker --------------------------------------------------

SHOUT = "@openstack/interop-core please"


def shouting_head(repo: Path) -> tuple[str, str]:
    """main, and a topic commit whose capability description and flag reason call a team."""
    git(repo, "checkout", "-q", "-b", "shout")
    g = copy.deepcopy(parse_bytes("next", (repo / "guidelines/next.yaml").read_bytes()).data)
    name, capability = next(iter(g["capabilities"].items()))
    capability["description"] = SHOUT
    (repo / "guidelines/next.yaml").write_text(dump(g))
    git(repo, "commit", "-q", "-am", f"Ask the team about {name}")
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    return git(repo, "rev-parse", "main"), head


@pytest.fixture(scope="module")
def shouting(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repo = tmp_path_factory.mktemp("mentions") / "repo"
    for rel, raw in read_directory(REPO).items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_bytes(raw)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base, head = shouting_head(repo)
    return {"repo": repo, "base": base, "head": head}


def test_a_guideline_description_calling_a_team_notifies_nobody_dry_run(
    engine: Any, shouting: dict[str, Any]
) -> None:
    bot = Bot(engine, shouting["repo"])
    bot.github("pull_request", pull("opened", shouting["base"], shouting["head"], T0))
    bot.now = T0 + timedelta(minutes=1)
    bot.github("pull_request_review", approve("outsider", shouting["head"], bot.now))
    requests = [
        ("chair-alice", "/release 2021.01 @openstack/interop-core"),
        ("outsider", "/release 2021.01"),
    ]
    posted = []
    for i, (login, request) in enumerate(requests):
        bot.now = T0 + timedelta(minutes=2 + i)
        bot.github("issue_comment", command(login, request, bot.now))
        with engine.connect() as conn:
            posted += conn.execute(select(ReportRow.kind, ReportRow.title, ReportRow.body)).all()
    bodies = {title if kind == "comment" else kind: body for kind, title, body in posted}
    assert SHOUT in bodies[COMMENT_MARKER].replace(ZWSP, "")  # the description is echoed,
    assert "@outsider" in bodies["vote"].replace(ZWSP, "")  # the voter's login,
    refusals = [b.replace(ZWSP, "") for k, t, b in posted if t == REQUEST_MARKER]
    assert any("'@openstack/interop-core' is not understood" in r for r in refusals)  # arguments
    assert any("@outsider may not ask for a release" in r for r in refusals)  # and requester
    for kind, _, body in posted:
        assert mentions(body) == [], kind


@pytest.fixture
def gh(shouting: dict[str, Any]) -> Any:
    with github_server() as server:
        repo = server.add_repo("governance/guidelines")
        snapshot = read_directory(shouting["repo"])
        repo.commit(shouting["base"], snapshot, branch="main")
        head = {**snapshot, "guidelines/next.yaml": git_show(shouting, "guidelines/next.yaml")}
        repo.commit(shouting["head"], head)
        yield server


def git_show(shouting: dict[str, Any], path: str) -> bytes:
    return git(shouting["repo"], "show", f"{shouting['head']}:{path}").encode() + b"\n"


def test_a_guideline_description_calling_a_team_notifies_nobody_on_github(
    engine: Any, shouting: dict[str, Any], gh: FakeGitHub
) -> None:
    bot = Bot(engine, shouting["repo"], forge=gh.forge())
    bot.github("pull_request", pull("opened", shouting["base"], shouting["head"], T0))
    bot.now = T0 + timedelta(minutes=1)
    bot.github("pull_request_review", approve("outsider", shouting["head"], bot.now))
    repo = gh.repos["governance/guidelines"]
    [comment] = repo.comments[7]
    assert SHOUT in comment["body"].replace(ZWSP, "")
    assert mentions(comment["body"]) == []
    runs = {run["name"]: run for run in repo.check_runs}
    assert "@outsider" in runs["govbot/vote"]["output"]["summary"].replace(ZWSP, "")
    for run in runs.values():
        output = run["output"]
        assert mentions(f"{output['title']}\n\n{output['summary']}") == [], run["name"]
