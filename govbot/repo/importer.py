"""``govbot import interop``: take over an interop-style JSON repo, all or nothing.

Every source file is parsed and converted in memory first, and each
conversion is proven lossless (the YAML written reads back to the same data,
and for schema 2.0 the exported JSON equals the source) before anything
touches the disk. The result is built in a temporary directory and renamed
into place, so an interrupted or failed import leaves no partial repo.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import ryaml

from govbot.core.documents import load_json
from govbot.core.findings import Finding, Severity
from govbot.core.interop import interop_schema_of, to_govbot, to_interop
from govbot.core.yamlio import DEFAULT_MAX_BYTES, decode, dump
from govbot.repo import bundled
from govbot.repo.files import NOT_FOLLOWED, RepoError, link_in, read_regular, real_dir

GUIDELINE_NAME = re.compile(r"^(\d{4}\.\d{2}|next)\.json$")
ADDON_NAME = re.compile(r"^[a-z][a-z0-9_-]*\.(\d{4}\.\d{2}|next)\.json$")


class ImportError_(Exception):
    """The import cannot proceed; nothing was written."""


@dataclass(frozen=True)
class Converted:
    source: str
    target: str
    text: str


def source_files(src: Path) -> list[str]:
    """The interop guidelines of ``src`` (``2020.06.json``, ``add-ons/dns.2020.06.json``).

    An import reads only files of the source itself: a guideline that is a
    symlink, or a symlinked ``add-ons``, refuses the whole import (all or
    nothing) rather than follow it or leave a guideline out.
    """
    found: list[str] = []
    links: list[str] = []
    for rel_dir, name in (("", GUIDELINE_NAME), ("add-ons", ADDON_NAME)):
        if rel_dir and not real_dir(src, rel_dir):
            links += [rel_dir] if link_in(src, rel_dir) else []
            continue
        for entry in sorted(os.scandir(src / rel_dir), key=lambda e: e.name):
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if not name.match(entry.name):
                continue
            if entry.is_symlink():
                links.append(rel)
            elif entry.is_file(follow_symlinks=False):
                found.append(rel)
    if links:
        raise ImportError_(
            f"{src}: {', '.join(links)}: a symbolic link: {NOT_FOLLOWED}; nothing was written"
        )
    return found


def convert(name: str, raw: bytes) -> tuple[Converted | None, list[Finding]]:
    text, problems = decode(name, raw, DEFAULT_MAX_BYTES)
    if text is None:
        return None, problems
    doc, findings = load_json(name, text)
    if not findings and not isinstance(doc, dict):
        findings.append(
            Finding(name, "json.not-an-object", "a guideline is a JSON object", Severity.ERROR)
        )
    if findings:
        return None, findings
    g = to_govbot(doc)
    target = "guidelines/" + name.removesuffix(".json") + ".yaml"
    schema = "add-on.schema.json" if name.startswith("add-ons/") else "guideline.schema.json"
    prefix = "../../schemas/" if name.startswith("add-ons/") else "../schemas/"
    out = dump(g, schema_ref=prefix + schema)
    lossless = ryaml.loads(out) == g and (
        not isinstance(doc.get("metadata"), dict) or to_interop(g) == doc
    )
    if not lossless:
        return None, [
            Finding(
                name,
                "import.lossy",
                f"converting this interop schema {interop_schema_of(doc)} file would change its data; "
                "nothing was written",
                Severity.ERROR,
            )
        ]
    return Converted(name, target, out), []


def convert_tree(src: Path) -> tuple[list[Converted], list[Finding]]:
    if not src.is_dir():
        raise ImportError_(f"{src}: not a directory")
    files = source_files(src)
    if not files:
        raise ImportError_(
            f"{src}: no interop guidelines (YYYY.MM.json, next.json, add-ons/*.json) found"
        )
    converted: list[Converted] = []
    findings: list[Finding] = []
    for name in files:
        try:
            raw = read_regular(src, name)
        except RepoError as e:
            raise ImportError_(f"{src}: {e}; nothing was written") from e
        result, problems = convert(name, raw)
        findings.extend(problems)
        if result is not None:
            converted.append(result)
    return converted, findings


def write_repo(dest: Path, converted: Iterable[Converted]) -> None:
    """Materialise a repo at ``dest`` atomically; ``dest`` must be absent or empty."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ImportError_(f"{dest}: exists and is not an empty directory; nothing was written")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.import-", dir=dest.parent))
    try:
        for c in converted:
            target = staging / c.target
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(c.text, encoding="utf-8")
        shutil.copytree(bundled.schemas_dir(), staging / "schemas")
        policy = bundled.root() / "policies" / "validation.yaml"
        (staging / "policies").mkdir()
        shutil.copy2(policy, staging / "policies" / "validation.yaml")
        if dest.exists():
            dest.rmdir()
        staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
