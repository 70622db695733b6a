"""Where govbot's bundled data lives: the repo checkout, or the installed wheel.

In a checkout (and an editable install) the top-level ``schemas/``,
``guidelines/`` and ``policies/`` are used directly, so editing them takes
effect at once; a wheel carries copies under ``govbot/_bundled/``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path

from govbot.core.eras import ERAS_FILE, Eras
from govbot.core.settings import Settings
from govbot.core.validate import SchemaSet
from govbot.core.yamlio import parse_bytes

_PACKAGE = Path(__file__).resolve().parents[1]  # govbot/


def root() -> Path:
    checkout = _PACKAGE.parent
    if (checkout / "schemas" / "guideline.schema.json").is_file():
        return checkout
    return _PACKAGE / "_bundled"


def schemas_dir() -> Path:
    return root() / "schemas"


@cache
def eras() -> Eras:
    """The era table repos without their own ``policies/eras.yaml`` are judged by."""
    path = root() / ERAS_FILE
    return (
        Eras.from_data(parse_bytes(ERAS_FILE, path.read_bytes()).data) if path.is_file() else Eras()
    )


@cache
def schema_set() -> SchemaSet:
    return SchemaSet(
        {
            p.name: json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(schemas_dir().glob("*.json"))
        },
        eras(),
    )


def local_repo(environ: Mapping[str, str] = os.environ) -> Path:
    """The clone dry-run mode and the served site read: GOVBOT_REPO_PATH, else the bundled data's
    repo (this checkout, or the wheel's copy)."""
    return Settings.from_environ(environ).repo_path or root()
