"""Comment commands count only in visible plain text: every hiding trick, and the plain cases.

The structure a reader sees is CommonMark's (https://spec.commonmark.org/0.31.2/):
"An indented code block is composed of one or more indented chunks" of lines
indented four or more spaces (4.4); "A code fence is a sequence of at least
three consecutive backtick characters (`) or tildes (~)" (4.5); a block quote
line starts with ``>``, and "a paragraph continuation text" line is a *lazy*
continuation of the quote (5.1); "An HTML block is a group of lines that is
treated as raw HTML" (4.6), which GitHub passes through its sanitizer, keeping
``<details>`` ("collapsed sections", GitHub Docs: "Organizing information with
collapsed sections"), while "an HTML comment consists of ``<!--`` ... ``-->``"
(6.6) and is not shown at all. GitHub's tables and strikethrough are GFM
extensions (https://github.github.com/gfm/, 4.10 and 6.5).
"""

from __future__ import annotations

import pytest

from govbot.core.commands import MAX_CHARS, parse_command, visible_lines
from govbot.core.events import parse_command as events_parse_command

VOTE = ("vote", ("-1",))

HIDDEN = {
    "backtick fence": "```\n/vote -1\n```",
    "tilde fence": "~~~\n/vote -1\n~~~",
    "fence with an info string": "```text\n/vote -1\n```",
    "unclosed fence (runs to the end)": "ok\n\n```\n/vote -1",
    "longer closing fence": "````\n```\n/vote -1\n````",
    "four-space indent": "    /vote -1",
    "tab indent": "\t/vote -1",
    "indented after a paragraph break": "text\n\n    /vote -1",
    "code span": "`/vote -1`",
    "double-backtick span over lines": "``\n/vote -1\n``",
    "block quote": "> /vote -1",
    "quote of a quote": "> > /vote -1",
    "deeply nested quotes": "> " * 30 + "/vote -1",
    "lazy continuation of a quote": "> I said:\n/vote -1",
    "quote inside a list item": "- > /vote -1",
    "HTML comment": "<!-- /vote -1 -->",
    "HTML comment over lines": "<!--\n/vote -1\n-->",
    "unterminated HTML comment": "<!--\n\n/vote -1",
    "inline HTML comment over lines": "see below <!--\n/vote -1\n--> thanks",
    "HTML block": "<div>\n/vote -1\n</div>",
    "details block": "<details>\n<summary>old</summary>\n\n/vote -1\n\n</details>",
    "details left open": "<details open>\n\n/vote -1\n\n</details>",
    "details never closed": "<details>\n\n/vote -1",
    "details inline": "click <details>\n/vote -1\n</details>",
    "closing tag inside a comment": "<details>\n\n<!-- </details> -->\n\n/vote -1",
    "closing tag inside an attribute": '<details><summary title="</details>">x</summary>\n\n/vote -1',
    "malformed HTML before": '<details>\n<span title="x\n\n</details>\n\n/vote -1',
    "raw HTML code": "<pre>\n\n/vote -1\n\n</pre>",
    "raw HTML quote": "<blockquote>\n\n/vote -1\n\n</blockquote>",
    "struck through": "~~/vote -1~~",
    "struck over lines": "~~old\n/vote -1~~",
    "image alt text": "![/vote -1](https://example.org/x.png)",
    "image alt over lines": "![a\n/vote -1](https://example.org/x.png)",
    "link reference definition": '[x]: https://example.org\n"\n/vote -1\n"',
    "table cell": "| /vote -1 | why |\n|---|---|",
    "division slash U+2215": "\u2215vote -1",
    "fullwidth solidus U+FF0F": "\uff0fvote -1",
    "fraction slash U+2044": "\u2044vote -1",
    "right-to-left override": "/vote \u202e1+",
    "left-to-right isolate": "/vote \u20661-\u2069",
    "line separator is no line break": "thanks\u2028/vote -1",
    "character reference newline": "thanks&#10;/vote -1",
    "slash then a space": "/ vote -1",
    "comment-style double slash": "// vote -1",
    "a lone slash": "/",
}


@pytest.mark.parametrize("body", HIDDEN.values(), ids=HIDDEN.keys())
def test_a_command_hidden_from_readers_does_not_count(body: str) -> None:
    assert parse_command(body) is None


SHOWN = {
    "alone": ("/vote -1", VOTE),
    "after text": ("I read it.\n\n/vote -1", VOTE),
    "in a paragraph's second line": ("I read it.\n/vote -1", VOTE),
    "CRLF line ends": ("I read it.\r\n/vote -1\r\n", VOTE),
    "CR line ends": ("I read it.\r/vote -1\r", VOTE),
    "up to three spaces of indent": ("   /vote -1", VOTE),
    "in a bullet list item": ("- /vote -1", VOTE),
    "in a nested ordered list item": ("1. first\n   - /vote -1", VOTE),
    "an ATX heading": ("## /vote -1", VOTE),
    "a setext heading": ("/vote -1\n===", VOTE),
    "emphasised": ("*/vote -1*", VOTE),
    "link text (shown)": ("[/vote -1](https://example.org)", VOTE),
    "a backslash-escaped slash": ("\\/vote -1", VOTE),
    "a character reference slash": ("&#47;vote -1", VOTE),
    "upper case word": ("/VOTE -1", VOTE),
    "zero-width space before": ("\u200b/vote -1", VOTE),
    "zero-width joiner inside the word": ("/vo\u200dte -1", VOTE),
    "BOM and word joiner": ("\ufeff/vote\u2060 -1", VOTE),
    "no-break space between": ("/vote\u00a0-1", VOTE),
    "after a closed fence": ("```\n/vote +1\n```\n/vote -1", VOTE),
    "after a quote": ("> /vote +1\n\n/vote -1", VOTE),
    "after a closed details": ("<details>\n\n/vote +1\n\n</details>\n\n/vote -1", VOTE),
    "after a closing tag that closes details from a quote": (
        "<details>\n\n> </details>\n\n/vote -1",
        VOTE,
    ),
    "after an HTML comment": ("<!-- /vote +1 -->\n/vote -1", VOTE),
    "after struck text": ("~~/vote +1~~\n/vote -1", VOTE),
    "first of two wins": ("/vote -1\n/vote +1", VOTE),
    "args stop at a code span": ("/vote -1 `+1`", VOTE),
    "args stop at inline HTML": ("/vote -1 <!-- +1 -->", VOTE),
    "hidden argument is not read": ("/vote `-1`", ("vote", ())),
    "other words": (
        "/release 2021.01 --supersede 2018.11",
        ("release", ("2021.01", "--supersede", "2018.11")),
    ),
    "no args": ("/hold", ("hold", ())),
}


@pytest.mark.parametrize("body,expected", SHOWN.values(), ids=SHOWN.keys())
def test_a_command_in_plain_text_counts(body: str, expected: tuple[str, tuple[str, ...]]) -> None:
    assert parse_command(body) == expected


def test_the_adapters_entry_point_is_the_same_function() -> None:
    """github_events and gerrit_events call ``govbot.core.events.parse_command``."""
    assert events_parse_command is parse_command


GERRIT_SHOWN = {
    "HTML comment is shown as text": ("<!--\n/vote -1\n-->", VOTE),
    "details is shown as text": ("<details>\n\n/vote -1\n\n</details>", VOTE),
    "HTML block is shown as text": ("<div>\n/vote -1\n</div>", VOTE),
}
GERRIT_HIDDEN = {
    "fence": "```\n/vote -1\n```",
    "indented": "    /vote -1",
    "quote": "> /vote -1",
    "code span": "`/vote -1`",
    "one-line HTML comment (the line starts with <)": "<!-- /vote -1 -->",
}


@pytest.mark.parametrize("body,expected", GERRIT_SHOWN.values(), ids=GERRIT_SHOWN.keys())
def test_on_gerrit_raw_html_is_visible_text(
    body: str, expected: tuple[str, tuple[str, ...]]
) -> None:
    """Gerrit escapes every ``<`` before rendering Markdown (polygerrit-ui gr-formatted-text.ts,
    ``escapeAllButBlockQuotes``: "Escaping the message should be done first to make sure
    user's literal input does not get rendered"), so HTML hides nothing there."""
    assert parse_command(body) is None
    assert parse_command(body, html=False) == expected


@pytest.mark.parametrize("body", GERRIT_HIDDEN.values(), ids=GERRIT_HIDDEN.keys())
def test_on_gerrit_code_and_quotes_still_hide(body: str) -> None:
    """Gerrit renders code blocks, code spans and ``>`` quotes (it unescapes a leading ``>``)."""
    assert parse_command(body, html=False) is None


def test_ten_thousand_lines() -> None:
    plain = "ok\n" * 10_000 + "/vote -1"
    fenced = "```\n" + "/x -1\n" * 10_000 + "```\n"
    assert parse_command(plain) == VOTE
    assert parse_command(fenced) is None
    assert parse_command(fenced + "/vote -1") == VOTE


def test_a_comment_longer_than_any_forge_accepts_carries_no_command() -> None:
    """GitHub refuses a comment body over 65,536 characters ("Body is too long (maximum is
    65536 characters)"); Gerrit's ``change.commentSizeLimit`` defaults to 16 KiB. A longer
    body did not come from a person typing a command, and parsing it is not free."""
    one_megabyte = "/vote -1\n" + "x" * (1 << 20)
    assert len(one_megabyte) > MAX_CHARS
    assert parse_command(one_megabyte) is None
    at_limit = "/vote -1\n" + "x" * (MAX_CHARS - len("/vote -1\n"))
    assert len(at_limit) == MAX_CHARS and parse_command(at_limit) == VOTE


def test_a_body_with_nothing_that_renders_as_a_slash_is_not_parsed() -> None:
    assert parse_command("LGTM, thanks " * 5000) is None


def test_visible_lines_are_what_a_reader_sees() -> None:
    body = (
        "Thanks for this.\n\n> quoted /vote +1\n\n```\ncode\n```\n\n"
        "- first\n- `code` second\n\n<!-- hidden -->\n\n# Heading *em*\n"
    )
    assert list(visible_lines(body)) == ["Thanks for this.", "first", "Heading em"]
