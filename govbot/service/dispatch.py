"""Every handler module, registered: import this, then call :func:`handle`.

The modules register themselves on import (see :mod:`govbot.service.registry`);
listing them here, once, is what makes the worker and the clock see them all.
"""

from __future__ import annotations

from govbot.service import certification, certified, flag_requests, proposals, releasing, voting
from govbot.service.registry import handle

__all__ = [
    "certification",
    "certified",
    "flag_requests",
    "handle",
    "proposals",
    "releasing",
    "voting",
]
