"""Comment commands (``/vote -1``, ``/hold``, ``/release 2021.01``), read only where people see them.

A command counts only if every reader of the review can see it as a command:
a line of plain text in a paragraph or a heading (at any list depth), as the
forge renders the comment. The comment is parsed as CommonMark (markdown-it-py,
a compliant parser, with GitHub's tables and strikethrough) and these never
count, because on the page they are hidden, quoted or shown as something else:

* code: fenced (```` ``` ```` or ``~~~``), indented, and inline code spans;
* block quotes, at any depth (a quoted earlier comment, lazy continuation lines
  included), and table cells;
* raw HTML: HTML blocks, inline tags and comments (``<!-- /vote -1 -->``),
  and whatever follows an opening ``<details>`` (collapsed by default on GitHub,
  even with ``open``), ``<code>``, ``<pre>``, ``<blockquote>``, ``<q>``,
  ``<del>``, ``<s>`` … until its closing tag; raw HTML the browser could read
  differently from this parser (a tag that is not well formed) hides the rest;
* struck-through text (``~~/vote +1~~``), link destinations, titles and
  reference definitions, and images (their alt text is not shown).

List items and headings do count: their text is shown as plain text. A line
is read up to the first code span, inline HTML, image or struck text in it, so
an argument hidden in one is never read. Before the line is read, invisible
format characters (zero-width space and joiners, word joiner, BOM, soft
hyphen, variation selectors) are dropped, so what is read is exactly what is
shown; a line holding a bidirectional control (which can show characters in
another order than they are read) is not a command. Only the ASCII solidus
starts one: look-alikes (U+2215 ∕, U+FF0F ／, U+2044 ⁄) do not.

``html=False`` is for forges that show raw HTML as text (Gerrit): there an
HTML comment is visible, so it hides nothing. A comment longer than
:data:`MAX_CHARS` (more than either forge accepts by default: GitHub 65,536
characters, Gerrit's ``change.commentSizeLimit`` 16 KiB) carries no command,
which also bounds the parser's work on a hostile body.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token

MAX_CHARS = 65_536

_PARSERS = {
    html: MarkdownIt("commonmark", {"html": html}).enable(["table", "strikethrough"])
    for html in (True, False)
}
_READ_IN = frozenset({"paragraph_open", "heading_open"})
_CUTS_LINE = frozenset({"code_inline", "html_inline", "image", "s_open"})

# Raw HTML elements whose content a reader does not see as plain text.
_HIDING = frozenset(
    {"details", "code", "pre", "kbd", "samp", "tt", "var", "blockquote", "q", "del", "s", "strike"}
)
# An opening tag is believed on sight (even malformed, even inside a comment):
# hiding too much only ignores a command; a closing tag must be well formed and
# outside comments and attribute values to count, since believing a false one
# would show what the browser hides.
_OPEN = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)(?=[\s/>]|$)")
_HTML_ITEM = re.compile(
    r"""<!--(?:-?>|.*?-->|.*\Z)          # a comment, unterminated: to the end
      | <\?.*?(?:\?>|\Z) | <!\[CDATA\[.*?(?:\]\]>|\Z) | <![A-Za-z][^>]*(?:>|\Z)
      | </(?P<close>[A-Za-z][A-Za-z0-9-]*)\s*>
      | <[A-Za-z][A-Za-z0-9-]*
          (?:\s+[A-Za-z_:][A-Za-z0-9_.:-]*(?:\s*=\s*(?:[^\s"'=<>`]+|'[^']*'|"[^"]*"))?)*
          \s*/?>
      | (?P<malformed><[A-Za-z/])""",
    re.S | re.X,
)

_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_INVISIBLE_MARKS = frozenset("\u034f\u180b\u180c\u180d\u180f") | frozenset(
    map(chr, [*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)])
)
_LINE_BREAK = re.compile(r"[\r\n\v\f\x85\u2028\u2029]")


def parse_command(body: str, *, html: bool = True) -> tuple[str, tuple[str, ...]] | None:
    """The first visible ``/word args`` line of a comment, as (lower-cased word, args), or None."""
    if len(body) > MAX_CHARS or ("/" not in body and "&" not in body):
        return None  # every visible "/" is a "/" or a character reference in the source
    for line in visible_lines(body, html=html):
        command = _command(line)
        if command is not None:
            return command
    return None


def visible_lines(body: str, *, html: bool = True) -> Iterator[str]:
    """The lines of plain text of a comment's paragraphs and headings, in order (see above)."""
    hidden = _Hidden()
    quotes = 0
    tokens = _PARSERS[html].parse(body)
    for i, token in enumerate(tokens):
        if token.type == "blockquote_open":
            quotes += 1
        elif token.type == "blockquote_close":
            quotes -= 1
        elif token.type == "html_block":
            hidden.scan(token.content)
        elif token.type == "inline":
            readable = not quotes and i > 0 and tokens[i - 1].type in _READ_IN
            yield from _lines(token.children or [], hidden, readable)


def _lines(children: Sequence[Token], hidden: _Hidden, readable: bool) -> Iterator[str]:
    """The text lines of one paragraph; html_inline children update ``hidden`` either way."""
    parts: list[str] = []
    cut = struck = False
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            if readable and parts:
                yield "".join(parts)
            parts, cut = [], False
            continue
        if child.type == "html_inline":
            hidden.scan(child.content)
        elif child.type in ("s_open", "s_close"):
            struck = child.type == "s_open"
        if child.type in _CUTS_LINE:
            cut = True
        elif child.type == "text" and not (cut or struck or hidden.now):
            parts.append(_LINE_BREAK.sub(" ", child.content))  # a "&#10;" breaks no line
        elif child.type == "text":
            cut = True
    if readable and parts:
        yield "".join(parts)


class _Hidden:
    """Raw HTML seen so far: which hiding elements are open (GitHub renders raw HTML)."""

    def __init__(self) -> None:
        self.open: dict[str, int] = {}
        self.opaque = False  # raw HTML this parser cannot follow: hide everything after it

    @property
    def now(self) -> bool:
        return self.opaque or any(self.open.values())

    def scan(self, raw: str) -> None:
        for name in _OPEN.findall(raw):
            if name.lower() in _HIDING:
                self.open[name.lower()] = self.open.get(name.lower(), 0) + 1
        for item in _HTML_ITEM.finditer(raw):
            if item["malformed"]:
                self.opaque = True
            elif item["close"] and self.open.get(name := item["close"].lower(), 0) > 0:
                self.open[name] -= 1


def _command(line: str) -> tuple[str, tuple[str, ...]] | None:
    """``/word args`` from one visible line; None when the line is not a command."""
    if any(c in _BIDI for c in line):
        return None
    shown = "".join(c for c in line if not _invisible(c)).strip()
    if len(shown) < 2 or shown[0] != "/" or shown[1] == "/" or shown[1].isspace():
        return None
    word, *args = shown[1:].split()
    return word.lower(), tuple(args)


def _invisible(c: str) -> bool:
    return c in _INVISIBLE_MARKS or (c != "\t" and unicodedata.category(c) in ("Cf", "Cc"))
