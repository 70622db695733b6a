"""``govbot rules``: the process rules govbot applies, with paragraph, eras and severity.

The same table the README's check section holds (a test keeps them equal).
"""

from __future__ import annotations

import argparse
import json

from govbot import bundled
from govbot.core.ruledoc import rule_rows, rules_markdown


def cmd_rules(args: argparse.Namespace) -> int:
    eras = bundled.eras()
    if args.format == "json":
        print(json.dumps([r.__dict__ for r in rule_rows(eras)], indent=2))
    else:
        print(rules_markdown(eras), end="")
    return 0


def add_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    r = sub.add_parser("rules", help="the process rules a check applies: paragraph, eras, severity")
    r.add_argument("--format", choices=["markdown", "json"], default="markdown")
    r.set_defaults(func=cmd_rules)
