#!/usr/bin/env python3
"""The newcomer test: the README's commands, in order, from a fresh clone, none failing.

Clones this repository into a scratch directory (with ../shared beside it when
there is one, as the README expects), then runs every ```sh block of the clone's
README.md in order, each as one bash script with `set -e` (so a block may keep a
scratch directory in a variable), with .venv/bin on PATH and none of the caller's
GOVBOT_* settings. `make run` is started in the background and waited for until
/readyz answers; after `govbot simulate` the inbox is waited on until the worker
has processed what was sent (a newcomer would look a moment later). A block the
README marks `<!-- newcomer: skipped: why -->` is skipped, and why is printed; one
marked `<!-- newcomer: expect N: why -->` must exit N (the README says so beside it);
so is `make test` (it is CI's own first step), and so is a block that reads ../shared
when there is none (a clone on its own). Exit 0 when every command ran.

Usage: python3 .ci/newcomer.py [--port 8000] [--keep]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"(?:<!--\s*newcomer:(?P<note>.*?)-->\s*\n)?```sh\n(?P<body>.*?)```", re.S)


def blocks(readme: str) -> list[tuple[int, str, str]]:
    """(line number, marker note, body) of every ```sh block."""
    return [
        (
            readme[: m.start("body")].count("\n") + 1,
            (m.group("note") or "").strip(),
            m.group("body"),
        )
        for m in BLOCK.finditer(readme)
    ]


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(
                f"newcomer: `make run` stopped (exit {proc.returncode}):\n{log.read_text()[-4000:]}"
            )
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    sys.exit(
        f"newcomer: {url}/readyz did not answer within {limit:.0f} s:\n{log.read_text()[-4000:]}"
    )


WAIT_FOR_WORKER = """for _ in $(seq 120); do
  govbot deliveries --format json | grep -Eq '"(queued|processing)":' || break
  sleep 1
done"""
"""A newcomer looks a moment later: wait until the worker has taken what was sent."""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=int(os.environ.get("NEWCOMER_PORT", "8000")))
    p.add_argument("--keep", action="store_true", help="keep the scratch clone")
    args = p.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="govbot-newcomer-"))
    clone = scratch / "govbot"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    shared = ROOT.parent / "shared"
    if shared.is_dir():
        (scratch / "shared").symlink_to(shared)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("GOVBOT_") and k != "DATABASE_URL"
    }
    env["PATH"] = f"{clone / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PORT"] = str(args.port)
    url = f"http://127.0.0.1:{args.port}"
    server: subprocess.Popen[bytes] | None = None
    log = scratch / "make-run.log"
    ran = skipped = 0
    started = time.monotonic()
    try:
        for line, note, body in blocks((clone / "README.md").read_text()):
            if note.startswith("skipped:"):
                print(f"README.md:{line}: skipped: {note.removeprefix('skipped:').strip()}")
                skipped += 1
                continue
            if "../shared" in body and not (scratch / "shared").is_dir():
                print(f"README.md:{line}: skipped: it reads ../shared, which is not beside {ROOT}")
                skipped += 1
                continue
            script = []
            for command in body.splitlines():
                bare = command.split("#", 1)[0].strip()
                if bare == "make run":
                    print(
                        f"README.md:{line}: make run (in the background, until {url}/readyz answers)"
                    )
                    server = subprocess.Popen(
                        ["make", "run"], cwd=clone, env=env, stdout=log.open("wb"),
                        stderr=subprocess.STDOUT, start_new_session=True,
                    )  # fmt: skip
                    wait_ready(url, server, log, limit=900)
                    ran += 1
                    continue
                if bare == "make test":
                    print(f"README.md:{line}: make test skipped: CI runs it as its own first step")
                    skipped += 1
                    continue
                script.append(command)
            if not any(c.split("#", 1)[0].strip() for c in script):
                continue
            t0 = time.monotonic()
            for command in script:
                bare = command.split("#", 1)[0].strip()
                if not bare:
                    continue
                ran += 1
            # one script per block: `set -e` stops at the first failing command
            lines = ["set -euo pipefail"]
            for c in script:
                bare = c.split("#", 1)[0].strip()
                if bare:
                    lines.append(f"echo '$ '{_quote(bare)}")
                lines.append(c)
                if "govbot simulate" in bare:
                    lines.append(WAIT_FOR_WORKER)
            text = "\n".join(lines)
            expected = int(note.split(":", 1)[0].split()[1]) if note.startswith("expect ") else 0
            proc = subprocess.run(
                ["bash", "-c", text],
                cwd=clone,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            took = time.monotonic() - t0
            if proc.returncode != expected:
                print(proc.stdout[-6000:])
                print(proc.stderr[-4000:], file=sys.stderr)
                print(
                    f"newcomer: README.md:{line}: a command failed (exit {proc.returncode})",
                    file=sys.stderr,
                )
                return 1
            print(
                f"README.md:{line}: {sum(1 for c in script if c.split('#', 1)[0].strip())} command(s) ok in {took:.1f} s"
            )
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    print(f"the README's commands from a fresh clone, in {time.monotonic() - started:.0f} s:")
    print(f"newcomer: {ran} passed, 0 failed, {skipped} skipped")
    return 0


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


if __name__ == "__main__":
    sys.exit(main())
