"""``govbot decisions``, ``decisions verify`` and ``release publish --review`` on the database."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from govbot import cli
from govbot.core import decisions as core
from govbot.store import decisions
from tests.test_decisions import decision
from tests.test_release_flow import release_repo  # noqa: F401  (a fixture)

CHAIN = "github:governance/guidelines"


@pytest.fixture
def db(engine: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The command line pointed at the test's database (a SQLite file or a PostgreSQL schema)."""
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "postgresql":
        url += f"?options=-csearch_path%3D{engine.dialect.default_schema_name}"
    monkeypatch.setenv("DATABASE_URL", url)
    return engine


def run(capsys: Any, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(["decisions", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def seed(engine: Any) -> list[core.Entry]:
    out = []
    for d in (decision(7), decision(8, minutes=1), decision(7, "passed", minutes=2)):
        with engine.begin() as conn:
            out.append(decisions.append(conn, d))
    return out


def test_an_empty_record(db: Any, capsys: Any) -> None:
    assert run(capsys) == (0, "", "no decisions recorded yet\n")
    assert run(capsys, "verify") == (0, "", "ok: 0 chain(s) verify from their first entry\n")


def test_the_record_read_out(db: Any, capsys: Any) -> None:
    entries = seed(db)
    code, out, _ = run(capsys)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 9  # three results, two ballots each
    assert lines[0] == (
        f"{CHAIN} 1 2026-03-09T12:00:00.000000Z {CHAIN}#7 @ aaaaaaaaaaaa: release pending "
        f"(abstain 0, no 0, yes 2); policy bbbbbbbbbbbb; hash {entries[0].hash[:12]}"
    )
    assert lines[1] == (
        "    vote +1 by chair-alice (1011) on aaaaaaaaaaaa at 2026-03-09T12:01:00.000000Z "
        "via review"
    )
    code, out, _ = run(capsys, f"{CHAIN}#7")
    assert code == 0 and [line.split()[1] for line in out.splitlines() if line[0] != " "] == [
        "1",
        "3",
    ]
    code, out, _ = run(capsys, f"{CHAIN}#7", "--format", "json")
    doc = json.loads(out)
    assert [e["seq"] for e in doc["entries"]] == [1, 3]
    assert doc["entries"][1] == {"chain": CHAIN, **entries[2].to_json()}
    assert run(capsys, f"{CHAIN}#404")[0] == 2


def test_verify_names_what_was_altered(db: Any, capsys: Any) -> None:
    seed(db)
    assert run(capsys, "verify")[0] == 0
    if db.dialect.name == "postgresql":
        off, on = "ALTER TABLE decisions DISABLE TRIGGER decisions_append_only", "SELECT 1"
    else:
        off, on = "DROP TRIGGER decisions_no_update", "SELECT 1"
    with db.begin() as conn:  # the table's owner, around the triggers
        conn.execute(text(off))
        conn.execute(text("UPDATE decisions SET hash = :h WHERE seq = 2"), {"h": "e" * 64})
        conn.execute(text(on))
    code, out, _ = run(capsys, "verify")
    assert code == 1
    assert out.splitlines() == [
        f"{CHAIN}: entry 2: the hash does not match its contents: its hash was altered "
        "(the next entry links to its true hash)"
    ]
    code, out, _ = run(capsys, "verify", "--format", "json")
    assert code == 1 and json.loads(out)["chains"] == [CHAIN]
    code, out, _ = run(capsys, f"{CHAIN}#8")  # still shown, as stored
    assert code == 0 and "hash eeeeeeeeeeee" in out


def test_publish_by_hand_takes_the_record_from_the_database(
    db: Any,
    release_repo: dict[str, Any],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    seed(db)
    monkeypatch.setenv("GOVBOT_REPO_PATH", str(release_repo["repo"]))
    head = release_repo["head"]
    argv = ["release", "publish", "2021.01", "--commit", head, "--review", f"{CHAIN}#7"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "  decisions.json (" in out and "  manifest.json (" in out
    assert cli.main([*argv[:-1], f"{CHAIN}#404"]) == 2
    assert f"no decision on {CHAIN}#404 is recorded" in capsys.readouterr().err
