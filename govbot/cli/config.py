"""``govbot config``: every setting, its value in force (secrets masked) and the data directory."""

from __future__ import annotations

import argparse
import json
import os
from typing import Any

from govbot.cli.common import EXIT_OK, add_format, settings
from govbot.core.settings import shown


def add_commands(sub: Any) -> None:
    p = sub.add_parser(
        "config", help="the settings in force (from the environment), secrets masked"
    )
    add_format(p)
    p.set_defaults(func=cmd_config)


def cmd_config(args: argparse.Namespace) -> int:
    settings()  # a bad value is refused here, naming its variable
    rows = shown(os.environ)
    if args.format == "json":
        print(json.dumps({"settings": [{"name": n, "value": v} for n, v, _ in rows]}))
        return EXIT_OK
    width = max(len(n) for n, _, _ in rows)
    for name, value, _ in rows:
        print(f"{name.ljust(width)}  {value}")
    return EXIT_OK
