"""Whose rules judge a review: the governed branch, at the commit pinned when the vote opened.

Policy never comes from the branch a change targets or from the change
itself: a pull request aimed at a branch whose ``committee.yaml`` an attacker
controls would otherwise be judged by the attacker's committee. There is one
governed branch per repository (``GOVBOT_GOVERNED_BRANCH``, else the
repository's default branch), and a review's policies are read at the commit
that branch pointed to when the review was first seen, so a roster or a
threshold merged mid-vote never changes a vote already under way.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

from govbot.core.policies import Policies, PolicyUnusable
from govbot.core.settings import Settings
from govbot.service.context import Context

_CACHE_SIZE = 256
_cache: OrderedDict[tuple[str, str, str], Policies | PolicyUnusable] = OrderedDict()
_cache_lock = threading.Lock()


def governed_branch(ctx: Context, repo: str, hint: str | None = None) -> str:
    """The branch whose policies govern ``repo``.

    ``hint`` is the default branch a signed payload names (GitHub's
    ``repository.default_branch``); without one the forge is asked.
    """
    configured = Settings.from_environ(os.environ).governed_branch
    if configured:
        return configured
    return (hint or ctx.forge.default_branch(repo)).removeprefix("refs/heads/")


def pinned_policies(ctx: Context, repo: str, sha: str) -> Policies:
    """The policies of ``repo`` at commit ``sha``; PolicyUnusable when they cannot judge.

    A commit never changes, so the answer (either one) is kept for the process.
    """
    key = (ctx.forge.name, repo, sha)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            found = _cache[key]
            if isinstance(found, PolicyUnusable):
                raise found
            return found
    result: Policies | PolicyUnusable
    try:
        result = Policies.load(ctx.forge.read_files(repo, sha), ctx.schemas)
    except PolicyUnusable as e:
        result = e
    with _cache_lock:
        _cache[key] = result
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    if isinstance(result, PolicyUnusable):
        raise result
    return result
