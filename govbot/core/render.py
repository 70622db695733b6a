"""Human-readable guideline documents (Markdown, and HTML through ``markdown``)."""

from __future__ import annotations

from typing import Any


def to_markdown(g: dict[str, Any]) -> str:
    raise NotImplementedError


def to_html(g: dict[str, Any]) -> str:
    raise NotImplementedError
