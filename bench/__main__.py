"""``python -m bench WHAT [options]``: the same as ``govbot bench WHAT``."""

from __future__ import annotations

import argparse

from govbot.cli.bench import add_arguments, cmd_bench

parser = argparse.ArgumentParser(prog="python -m bench")
add_arguments(parser)
raise SystemExit(cmd_bench(parser.parse_args()))
