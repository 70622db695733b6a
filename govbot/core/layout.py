"""Where a governance repo keeps what govbot governs: the one definition.

Two layouts are read alike, because govbot must judge the history of repos
that predate it:

* govbot's own: ``guidelines/<id>.yaml``, ``guidelines/add-ons/<id>.yaml`` and
  ``policies/<name>.yaml``;
* openstack/interop's: ``<YYYY.MM|next>.json`` at the top level and
  ``add-ons/<name>.<YYYY.MM|next>.json``.

Everything that asks "is this file governed?", "is it a guideline, and of
which kind?", "where would guideline X be?" or "which schema does this policy
file follow?" asks this module, so a new layout or a new draft name is one
edit here. Pure: it names paths, it never touches a disk.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Mapping

# The one place a guideline's id, and so its file name, is spelled. A version is
# a Board-approved date (2020.06) or a draft: ``next`` since process 2015B
# (A1.2: "given the preliminary name of next.json"), ``<year>.next`` under
# 2015A (A1.2: "the target year and .next", e.g. 2015.next.json, 2016.next.json).
# Add-ons prefix their family (dns.2020.06, dns.next).
VERSION = r"\d{4}\.\d{2}|(?:\d{4}\.)?next"
FAMILY = r"[a-z][a-z0-9_-]*"
GUIDELINE_ID = re.compile(rf"(?:(?P<family>{FAMILY})\.)?(?P<version>{VERSION})")

GOVBOT_GUIDELINE = re.compile(r"guidelines/[^/]+\.yaml")
GOVBOT_ADDON = re.compile(r"guidelines/add-ons/[^/]+\.yaml")
INTEROP_GUIDELINE = re.compile(rf"(?:{VERSION})\.json")
INTEROP_ADDON = re.compile(rf"add-ons/{FAMILY}\.(?:{VERSION})\.json")
POLICY = re.compile(r"policies/[^/]+\.yaml")

# The trademark half: products/<vendor>/<product>.yaml, and the results files beside
# them anywhere under the vendor's directory (read recursively, unlike the rest).
PRODUCTS_DIR = "products"
SLUG = r"[a-z0-9][a-z0-9-]*"
PRODUCT_FILE = re.compile(rf"products/(?P<vendor>{SLUG})/(?P<product>{SLUG})\.yaml")
RESULTS_FILE = re.compile(rf"products/{SLUG}/(?:[^/]+/)*[^/]+\.(?:subunit|stream|json|txt|list)")

# The only directories a governed path can live in ("" is the top level).
GOVERNED_DIRS = ("", "add-ons", "guidelines", "guidelines/add-ons", "policies")

# Where guideline ``<id>`` is looked for, in this order; the first that exists wins.
GUIDELINE_CANDIDATES = (
    "guidelines/{}.yaml",
    "guidelines/add-ons/{}.yaml",
    "{}.json",
    "add-ons/{}.json",
)
# The same order as patterns, to rank files that define the same id.
_RANK = (GOVBOT_GUIDELINE, GOVBOT_ADDON, INTEROP_GUIDELINE, INTEROP_ADDON)

POLICY_SCHEMAS = {
    "policies/validation.yaml": "policy.schema.json",
    "policies/rules.yaml": "rules.schema.json",
    "policies/committee.yaml": "committee.schema.json",
    "policies/voting.yaml": "voting.schema.json",
    "policies/timeline.yaml": "timeline.schema.json",
    "policies/eras.yaml": "eras.schema.json",
    "policies/certification.yaml": "certification.schema.json",
}
VALIDATION = "policies/validation.yaml"
RULES = "policies/rules.yaml"
COMMITTEE = "policies/committee.yaml"
VOTING = "policies/voting.yaml"
TIMELINE = "policies/timeline.yaml"
ERAS = "policies/eras.yaml"
CERTIFICATION = "policies/certification.yaml"


def guideline_kind(path: str) -> str | None:
    """'guideline' or 'add-on' for a guideline file in either layout, else None."""
    if GOVBOT_ADDON.fullmatch(path) or INTEROP_ADDON.fullmatch(path):
        return "add-on"
    if GOVBOT_GUIDELINE.fullmatch(path) or INTEROP_GUIDELINE.fullmatch(path):
        return "guideline"
    return None


def is_draft_version(version: str) -> bool:
    """``next`` or a 2015A-style ``<year>.next``: a guideline not yet approved by its name."""
    return version == "next" or version.endswith(".next")


def is_policy(path: str) -> bool:
    return POLICY.fullmatch(path) is not None


def is_product(path: str) -> bool:
    return PRODUCT_FILE.fullmatch(path) is not None


def is_results(path: str) -> bool:
    return RESULTS_FILE.fullmatch(path) is not None and not is_product(path)


def is_governed(path: str) -> bool:
    """Whether a repo-relative POSIX path is one govbot reads (full match, exact depth)."""
    return (
        guideline_kind(path) is not None
        or is_policy(path)
        or PRODUCT_FILE.fullmatch(path) is not None
        or RESULTS_FILE.fullmatch(path) is not None
    )


def guideline_key(path: str) -> str:
    """The id a guideline file must carry: its file name without extension."""
    name = path.rsplit("/", 1)[-1]
    return name.removesuffix(".yaml").removesuffix(".json")


def guideline_candidates(guideline_id: str) -> list[str]:
    """The paths that could hold ``guideline_id``, in lookup order (none for a bad id)."""
    if not guideline_id or "/" in guideline_id or guideline_id.startswith("."):
        return []
    return [
        path
        for path in (c.format(guideline_id) for c in GUIDELINE_CANDIDATES)
        if guideline_kind(path) is not None
    ]


def lookup_rank(path: str) -> int:
    """Where a guideline file stands in lookup order: of two with one id, the lower wins."""
    return next((i for i, p in enumerate(_RANK) if p.fullmatch(path)), len(_RANK))


def is_addon_path(path: str) -> bool:
    return guideline_kind(path) == "add-on"


def content_key(files: Mapping[str, bytes]) -> str:
    """A digest of the governed files of a snapshot: equal exactly when their content is.

    A vote goes stale when what it approved changes, not when a commit id
    does (a rebase, an amended message): this is what "the same" means.
    """
    h = hashlib.sha256()
    for path in sorted(p for p in files if is_governed(p)):
        h.update(path.encode("utf-8", "surrogateescape") + b"\0")
        h.update(hashlib.sha256(files[path]).digest())
    return h.hexdigest()


def edits_key(base: Mapping[str, bytes], head: Mapping[str, bytes]) -> str:
    """A digest of what a change does to the governed files, wherever it lands: for each
    governed path it adds, changes or deletes, the lines it removes and adds with three
    lines of context, without line numbers (as ``git patch-id``).

    A patch set rebased onto a parent that changed other lines (or other files) has the
    key of the patch set it was rebased from, which is what Gerrit's TRIVIAL_REBASE
    claims; the same lines landing in another context (another list of a guideline)
    do not. A file that is not UTF-8 text is compared by its new content.
    """
    h = hashlib.sha256()
    for path in sorted(p for p in base.keys() | head.keys() if is_governed(p)):
        old, new = base.get(path), head.get(path)
        if old == new:
            continue
        h.update(path.encode("utf-8", "surrogateescape") + b"\0")
        if new is None:
            h.update(b"deleted\0")
            continue
        try:
            a = (old or b"").decode("utf-8").splitlines()
            b = new.decode("utf-8").splitlines()
        except UnicodeDecodeError:
            h.update(b"content\0" + hashlib.sha256(new).digest())
            continue
        h.update(b"added\0" if old is None else b"changed\0")
        for line in difflib.unified_diff(a, b, n=3, lineterm=""):
            if not line.startswith(("---", "+++", "@@")):
                h.update(line.encode("utf-8", "surrogateescape") + b"\n")
    return h.hexdigest()
