"""Reading YAML: every kind of bad input becomes one located finding, never a traceback."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from govbot.core import yamlio
from tests.conftest import REPO

BUNDLED = sorted((REPO / "guidelines").rglob("*.yaml"))


def only(parsed: yamlio.Parsed) -> tuple[str, int, int]:
    assert parsed.data is None
    assert len(parsed.findings) == 1, parsed.findings
    f = parsed.findings[0]
    assert f.file == "g.yaml"
    return f.rule, f.line, f.column


def test_good_yaml_parses_to_json_shaped_data() -> None:
    parsed = yamlio.parse_bytes(
        "g.yaml", b"id: '2020.06'\nreleases: [a, b]\nadmin: no\nwhen: 2020-01-01\n"
    )
    assert parsed.findings == []
    # YAML 1.2 core schema: 'no' and dates stay strings, as in the JSON they came from.
    assert parsed.data == {
        "id": "2020.06",
        "releases": ["a", "b"],
        "admin": "no",
        "when": "2020-01-01",
    }


def test_syntax_error_points_at_the_line() -> None:
    rule, line, _ = only(
        yamlio.parse_bytes("g.yaml", b"id: next\nreleases: [a, b\nstatus: draft\n")
    )
    assert rule == "yaml.syntax"
    assert line == 3


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        (b"id: next\nstatus: draft\nid: '2020.06'\n", 3, 1),
        (b"capabilities:\n  a:\n    admin: false\n    admin: true\n", 4, 5),
    ],
)
def test_duplicate_keys_are_reported_not_silently_merged(
    text: bytes, line: int, column: int
) -> None:
    parsed = yamlio.parse_bytes("g.yaml", text)
    rule, got_line, got_column = only(parsed)
    assert (rule, got_line, got_column) == ("yaml.duplicate-key", line, column)
    assert "first at line" in parsed.findings[0].message


def test_tab_indentation_is_located() -> None:
    rule, line, _ = only(yamlio.parse_bytes("g.yaml", b"capabilities:\n\tadmin: false\n"))
    assert rule in {"yaml.tab", "yaml.syntax"}
    assert line == 2


def test_billion_laughs_is_refused_quickly_at_the_first_alias() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    rule, line, column = only(yamlio.parse_bytes("g.yaml", ("\n".join(lines) + "\n").encode()))
    assert rule == "yaml.alias-bomb"
    assert (line, column) == (2, 8)  # the first "*a"


def test_oversized_file_is_refused_unread() -> None:
    raw = b"x: " + b"a" * (50 * 1024 * 1024) + b"\n"
    rule, line, _ = only(yamlio.parse_bytes("g.yaml", raw))
    assert rule == "yaml.too-large"
    assert line == 1


def test_non_utf8_is_located_at_the_bad_byte() -> None:
    parsed = yamlio.parse_bytes("g.yaml", b"id: next\ndescription: caf\xe9\n")
    rule, line, column = only(parsed)
    assert (rule, line, column) == ("yaml.encoding", 2, 17)
    assert "0xe9" in parsed.findings[0].message


def test_multiple_documents_are_refused() -> None:
    rule, line, _ = only(yamlio.parse_bytes("g.yaml", b"id: next\n---\nid: '2020.06'\n"))
    assert rule == "yaml.multiple-documents"
    assert line == 2


def test_utf8_bom_is_accepted() -> None:
    assert yamlio.parse_bytes("g.yaml", b"\xef\xbb\xbfid: next\n").data == {"id": "next"}


def test_locate_points_missing_keys_at_their_parent() -> None:
    parsed = yamlio.parse_text("g.yaml", "a:\n  b:\n    c: 1\n")
    assert parsed.locate([("a", "b", "c"), ("a", "b", "zzz"), ("nope",)]) == [
        (3, 5),
        (2, 3),
        (1, 1),
    ]


def test_locate_handles_sequences_at_the_keys_indent() -> None:
    parsed = yamlio.parse_text(
        "g.yaml", "releases:\n- a\n- b\nplatforms:\n  P:\n    components:\n    - name: x\n"
    )
    assert parsed.locate([("releases", 1), ("platforms", "P", "components", 0, "name")]) == [
        (3, 3),
        (7, 7),
    ]


def test_locate_falls_back_to_the_full_parser_for_flow_style() -> None:
    parsed = yamlio.parse_text("g.yaml", "a: {b: 1,\n  c: 2}\n")
    assert yamlio.index_block(parsed.text or "") is None
    assert parsed.locate([("a", "c")]) == [(2, 3)]


@pytest.mark.parametrize("path", BUNDLED[::4], ids=lambda p: p.name)
def test_line_indexer_agrees_with_pyyaml_on_real_files(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    exact, problems = yamlio.scan(text)
    assert problems == []
    fast = yamlio.index_block(text)
    assert fast is not None
    assert {k: v for k, v in fast.items() if k} == {k: v for k, v in exact.items() if k}
    wanted = random.Random(path.name).sample([k for k in exact if k], 25)
    partial = yamlio.index_block(text, wanted)
    assert partial is not None
    assert [partial[k] for k in wanted] == [exact[k] for k in wanted]


def test_dump_round_trips_and_keeps_long_keys_plain() -> None:
    long_key = "tempest.api." + "x" * 200
    data = {"id": "2020.06", "yes": "no", "tests": {long_key: {"idempotent_id": "id-1"}}, "n": 1.0}
    text = yamlio.dump(data, schema_ref="../schemas/guideline.schema.json")
    assert text.startswith("# yaml-language-server: $schema=../schemas/guideline.schema.json\n")
    assert "? " not in text
    assert yamlio.parse_text("g.yaml", text).data == data
    assert yaml.safe_load(text) == data
