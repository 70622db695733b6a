"""Text govbot posts notifies nobody: every @mention in it is made inert.

Much of what govbot writes on a review comes from the repository or the
payload: capability descriptions, flag reasons and names in findings and
release notes, committee names and logins in vote tables, guideline ids and
arguments echoed from a ``/release`` request. On GitHub ``@user`` and
``@org/team`` in a comment, a check run or a pull request body notify that
user or the whole team, and Gerrit (3.7+) notifies ``@user@example.org``; a
guideline description saying "@openstack/interop-core please review" would
page a team each time govbot reports on it.

So nothing govbot posts may mention anyone: it never needs to (people follow
a review through the forge's own subscriptions, and govbot asks for attention
through forge calls, never through text), which is why this is applied once,
to every post (``forges/recording.py``), rather than wherever repository text
is interpolated and could be forgotten. Inert means a zero-width space
(U+200B) right after the ``@``: the text reads the same, but GitHub's mention
filters (html-pipeline ``MentionFilter``: ``(?:^|\\W)@([a-z0-9][a-z0-9-]*)``,
``TeamMentionFilter``: ``@org/team``) and Gerrit's need an account name right
after the ``@``, and find none. An ``@`` right after an ASCII letter or digit
is left alone (``alice@example.org``, ``HEAD@{1}``): no mention starts there.
The character references that render as ``@`` (``&#64;``, ``&#x40;``,
``&commat;``) are treated like ``@`` itself. Applying it twice changes nothing.

The one deliberate mention: when someone tampers with another person's vote,
govbot alerts the chairs named by the governed branch's roster (a ``notify``
list passed to ``RecordingForge.upsert_comment``, appended after the inert
text, plain logins only).
"""

from __future__ import annotations

import re

ZWSP = "\u200b"
_AT = re.compile(
    r"(?<![A-Za-z0-9])(@|&\#0*64(?![0-9]);?+|&\#[xX]0*40(?![0-9A-Fa-f]);?+|&commat;)(?!\u200b)"
)


def inert(text: str) -> str:
    """``text`` with a zero-width space after every ``@`` that could start a mention."""
    return _AT.sub(lambda m: m.group(1) + ZWSP, text) if "@" in text or "&" in text else text
