"""One contract for the whole command line, and the first hour of a newcomer.

Every command that prints data takes ``--format text|json``; with json it
prints one envelope (errors too); input is validated with a clear message and
exit 2; a reader that stops early (``| head``) ends it quietly; the data
directory is found from the repository wherever a command runs; settings come
from one table; logs are lines for people on a terminal and JSON otherwise;
what the code imports is what pyproject.toml declares.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import logging
import os
import re
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from govbot import cli
from govbot.cli import common, logs
from govbot.core import settings
from tests.conftest import REPO

NO_FORMAT = {
    "render": "prints a document (Markdown or HTML), not data",
    "export interop": "prints a document (interop JSON)",
    "up": "a process",
    "serve": "a process",
    "worker": "a process",
    "gerrit-listen": "a process",
    "bench": "prints measurements for people; python -m bench for the figures",
}


def leaves(parser: argparse.ArgumentParser, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from leaves(sub, f"{prefix} {name}".strip())
            return
    yield prefix, parser


def test_every_command_that_prints_data_takes_text_and_json() -> None:
    names = []
    for name, parser in leaves(cli.build_parser()):
        names.append(name)
        if name in NO_FORMAT:
            continue
        fmt = next((a for a in parser._actions if "--format" in a.option_strings), None)
        assert fmt is not None and {"text", "json"} <= set(fmt.choices), name
    assert set(NO_FORMAT) <= set(names)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("argv", "key"),
    [
        (["validate", "--severity", "error"], "findings"),
        (["validate", "--summary"], "rules"),
        (["mustpass", "2020.06"], "tests"),
        (["rules"], "items"),
        (["timeline", "--at", "2027-03-01T12:00Z"], "cycle"),
        (["config"], "settings"),
        (["release", "notes", "2020.06", "--repo", str(REPO)], "notes"),
    ],
)
def test_json_is_one_envelope(
    capsys: pytest.CaptureFixture[str], argv: list[str], key: str
) -> None:
    code, out, _ = run(capsys, *argv, "--format", "json")
    doc = json.loads(out)
    assert doc["govbot"] and doc["command"] == argv[0] + (
        f" {argv[1]}" if argv[0] == "release" else ""
    )
    assert doc["exit_code"] == code == 0 and key in doc


def test_an_error_is_an_envelope_too(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    votes = tmp_path / "votes.yaml"
    votes.write_text("- account: alice\n  value: yes\n")
    code, out, err = run(capsys, "tally", "--votes", str(votes), "--format", "json")
    assert code == 2
    assert (
        json.loads(out)["error"]["message"]
        == (f"{votes}:2: ballot 1: a vote's value is a whole number (+1, 0, -1), not True")
        or "ballot 1" in json.loads(out)["error"]["message"]
    )
    assert err.startswith("govbot: ")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- [unclosed\n", ":1:"),
        ("account: alice\n", "expected a list of ballots"),
        ("- value: 1\n", "ballot 1: no account"),
        ("- account: a\n  kind: maybe\n", "kind 'maybe' is not one of"),
        ("- account: a\n  value: '+1'\n", "a vote's value is a whole number"),
        ("- account: a\n  value: 1\n  at: last tuesday\n", "ballot 1: at: not a date or time"),
    ],
)
def test_a_malformed_votes_file_is_located(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, message: str
) -> None:
    votes = tmp_path / "votes.yaml"
    votes.write_text(content)
    code, _out, err = run(capsys, "tally", "--votes", str(votes), "--repo", str(REPO))
    assert code == 2 and message in err and "Traceback" not in err and err.count("\n") == 1


def test_times_classes_and_counts_are_validated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    votes = tmp_path / "votes.yaml"
    votes.write_text("- account: chair-alice\n  value: 1\n")
    base = ["tally", "--votes", str(votes), "--repo", str(REPO), "--base", "HEAD"]
    code, _, err = run(capsys, *base, "--class", "relase")
    assert code == 2 and "--class 'relase' is not a vote class" in err and "release" in err
    code, out, _ = run(capsys, *base, "--class", "release", "--now", "yesterday")
    assert code == 1 and "Vote class **release**" in out  # one +1 does not pass
    with pytest.raises(SystemExit) as exited:
        cli.main([*base, "--now", "next week"])
    assert exited.value.code == 2
    assert "not a date or time: 'next week'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["reports", "--limit", "0"])
    assert "not a positive whole number" in capsys.readouterr().err


def test_no_database_yet_is_said_not_created(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for command in (["reports"], ["reviews"], ["deliveries"], ["tally", "github:o/r#1"]):
        code, _, err = run(capsys, "--data-dir", str(tmp_path / "state"), *command)
        assert code == 2 and "no database at" in err and "govbot up" in err, command
    assert not (tmp_path / "state").exists()


def test_simulate_before_the_server_is_up(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    monkeypatch.delenv("GOVBOT_GITHUB_WEBHOOK_SECRET", raising=False)
    code, _, err = run(
        capsys, "--data-dir", str(tmp_path), "simulate", "--url", f"http://127.0.0.1:{port}"
    )
    assert code == 2 and "nothing answers at" in err and "govbot up" in err
    assert "Traceback" not in err


def test_a_broken_pipe_ends_quietly() -> None:
    proc = subprocess.run(
        f"{sys.executable} -m govbot mustpass 2020.06 | head -1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert proc.stdout.count("\n") == 1 and proc.stderr == ""
    code = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from govbot.cli import main; sys.exit(main(['rules']))",
        ],
        capture_output=True,
        check=False,
    ).returncode
    assert code == 0


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from govbot import __version__

    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0 and capsys.readouterr().out == f"govbot {__version__}\n"


# -- the data directory -------------------------------------------------------------


def test_the_data_directory_is_found_from_the_repository(tmp_path: Path) -> None:
    assert common.data_dir(str(tmp_path / "x"), {}) == (tmp_path / "x").resolve()
    assert common.data_dir(None, {"GOVBOT_HOME": str(tmp_path)}) == tmp_path.resolve()
    served = {"GOVBOT_REPO_PATH": str(tmp_path)}
    assert common.data_dir(None, served) == tmp_path.resolve() / ".govbot"
    # a checkout (make run's): its root, wherever the command runs
    assert common.data_dir(None, {}) == REPO.resolve() / ".govbot"


def test_state_is_shared_from_any_directory(tmp_path: Path) -> None:
    """``govbot up`` in the checkout and ``govbot simulate`` elsewhere use one secret."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOVBOT_", "DATABASE_URL"))}
    env["GOVBOT_REPO_PATH"] = str(tmp_path / "served")
    (tmp_path / "served").mkdir()
    (tmp_path / "elsewhere").mkdir()
    for cwd in (REPO, tmp_path / "elsewhere"):
        proc = subprocess.run(
            [sys.executable, "-m", "govbot", "config", "--format", "json"],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        values = {s["name"]: s["value"] for s in json.loads(proc.stdout)["settings"]}
        assert values["GOVBOT_HOME"] == str((tmp_path / "served" / ".govbot").resolve())


def test_the_checkout_ignores_the_data_directory() -> None:
    ignored = (REPO / ".gitignore").read_text().splitlines()
    assert ".govbot/" in ignored


# -- settings ------------------------------------------------------------------------


def test_every_variable_the_code_reads_is_in_the_table() -> None:
    named: set[str] = set()
    for top in ("govbot", "webhooks"):
        for path in (REPO / top).rglob("*.py"):
            named.update(re.findall(r"\"(GOVBOT_[A-Z_]+)\"", path.read_text()))
    assert named - set(settings.BY_NAME) == set()


def test_the_readme_table_is_the_settings_table() -> None:
    readme = (REPO / "README.md").read_text()
    start = readme.index("<!-- settings: generated")
    table = readme[readme.index("\n", start) + 1 : readme.index("<!-- /settings -->")]
    assert table == settings.markdown_table()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"GOVBOT_WORKER_LEASE_SECONDS": "soon"},
            "GOVBOT_WORKER_LEASE_SECONDS='soon': not a float",
        ),
        ({"GOVBOT_CLOCK_INTERVAL": "-1"}, "must be positive"),
        ({"GOVBOT_LOG_FORMAT": "xml"}, "choose one of auto, text, json"),
        ({"PORT": "http"}, "PORT='http': not a int"),
    ],
)
def test_a_bad_setting_names_its_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(settings.SettingsError, match=re.escape(message)):
        settings.Settings.from_environ(env)


def test_settings_defaults_and_masked_secrets() -> None:
    s = settings.Settings.from_environ({"GOVBOT_GOVERNED_BRANCH": "refs/heads/main"})
    assert (s.worker_lease_seconds, s.clock_interval, s.port) == (300.0, 60.0, 8000)
    assert s.governed_branch == "main" and s.log_format == "auto"
    shown = dict((n, v) for n, v, _ in settings.shown({"GOVBOT_GITHUB_TOKEN": "ghp_secret"}))
    assert shown["GOVBOT_GITHUB_TOKEN"] == "(set)" and shown["GOVBOT_HOME"] == "(unset)"


# -- logs ----------------------------------------------------------------------------


def test_json_lines_carry_the_review_key() -> None:
    stream = io.StringIO()
    logs.configure("json", "INFO", stream)
    logging.getLogger("govbot.decisions").info(
        "vote %s", "passed", extra={"review": "github:o/r#1", "state": "passed"}
    )
    line = json.loads(stream.getvalue().splitlines()[-1])
    assert line["message"] == "vote passed" and line["review"] == "github:o/r#1"
    assert line["level"] == "INFO" and line["logger"] == "govbot.decisions"


def test_human_lines_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    logs.configure("auto", "INFO", stream)
    logging.getLogger("govbot.decisions").info("vote passed", extra={"review": "github:o/r#1"})
    last = stream.getvalue().splitlines()[-1]
    assert re.fullmatch(r"\d\d:\d\d:\d\d INFO    govbot.decisions github:o/r#1 vote passed", last)
    logs.configure("auto", "WARNING", io.StringIO())  # leave a quiet handler for later tests


# -- dependencies ----------------------------------------------------------------------

RUNTIME_ONLY = {"psycopg": "SQLAlchemy's driver", "tzdata": "zoneinfo's data"}


def _imports(*tops: str) -> set[str]:
    found: set[str] = set()
    for top in tops:
        for path in (REPO / top).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    found |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names} - {
        "govbot",
        "webhooks",
        "bench",
        "tests",
        "_typeshed",
    }


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", re.split(r"[\[<>=~! ;]", name)[0]).lower()


def test_declared_dependencies_match_imports() -> None:
    """The package's imports are its dependencies; the checkout's benchmarks may also use
    the dev extra (they are not in the wheel)."""
    from importlib.metadata import packages_distributions

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {_norm(d) for d in project["dependencies"]}
    dev = {_norm(d) for d in project["optional-dependencies"]["dev"]}
    owners = packages_distributions()

    def distributions(modules: set[str]) -> set[str]:
        assert sorted(m for m in modules if m not in owners) == []
        return {_norm(owners[m][0]) for m in modules}

    package = distributions(_imports("govbot", "webhooks"))
    bench = distributions(_imports("bench"))
    assert package - declared == set(), "imported by the package but not a dependency"
    assert bench - declared - dev == set(), "imported by bench/ but not declared"
    assert declared - package - bench - set(RUNTIME_ONLY) == set(), "declared, never imported"


# -- govbot up runs the clock ------------------------------------------------------------


def test_up_runs_the_clock_and_a_failed_tick_is_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    import threading

    from govbot.cli.bot import run_clock

    ticks: list[int] = []
    stop = threading.Event()

    class Clock:
        def tick(self) -> list[str]:
            ticks.append(len(ticks))
            if len(ticks) == 1:
                raise RuntimeError("the database went away")
            if len(ticks) == 3:
                stop.set()
            return []

    caplog.set_level(logging.ERROR)
    thread = threading.Thread(target=run_clock, args=(Clock(), stop, 0.01))
    thread.start()
    thread.join(10)
    assert ticks == [0, 1, 2] and not thread.is_alive()
    assert "clock tick failed" in caplog.text


def test_up_starts_the_worker_and_the_clock_beside_the_receiver() -> None:
    """What ``govbot up`` starts (cmd_up's threads), read from its source: a receiver alone
    would never fire a deadline in the default setup."""
    source = (REPO / "govbot" / "cli" / "bot.py").read_text()
    up = source[source.index("def cmd_up(") : source.index("def cmd_clock(")]
    assert 'name="govbot-worker"' in up and 'name="govbot-clock"' in up and "run_clock" in up


def test_logs_follow_a_replaced_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """Configured while stderr was one stream (a capture, now closed), logging writes to
    the stderr of the moment instead of failing on the closed one."""
    replaced = io.StringIO()
    saved, sys.stderr = sys.stderr, replaced
    try:
        logs.configure("json", "INFO")
    finally:
        sys.stderr = saved
    replaced.close()
    logging.getLogger("govbot.decisions").info("still heard", extra={"review": "k"})
    err = capsys.readouterr().err
    assert '"message": "still heard"' in err and "Logging error" not in err
    logs.configure("auto", "WARNING", io.StringIO())
