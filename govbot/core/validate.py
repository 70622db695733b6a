"""Validation of a governance repo: parse, schema, integrity, severity.

The unit of work is one file, and a file's findings depend only on its bytes,
its path, the schemas and the validation policy. That is what makes the
content-addressed cache (:func:`cache_key`) sound: a re-validation after one
file changed parses that file only.

Severity follows the process: a defect in a guideline whose status is frozen
(approved, superseded) is history and reported as a warning; the same defect
in ``next`` or another draft is an error to fix before approval.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import jsonschema_rs

from govbot.core import certification, integrity, layout, policy_links, products
from govbot.core.documents import parse_document
from govbot.core.eras import GOVBOT_SCHEMA, Eras, SchemaEra, merge_patch
from govbot.core.findings import Finding, Severity, sort_findings
from govbot.core.layout import guideline_key, guideline_kind
from govbot.core.yamlio import DEFAULT_MAX_BYTES, Parsed, parse_bytes

GUIDELINE_SCHEMA = "guideline.schema.json"
ADDON_SCHEMA = "add-on.schema.json"

DEFAULT_SEVERITY = {
    "integrity.orphan-capability": Severity.NOTICE,
    "integrity.test-id-empty": Severity.WARNING,
}
"""Rules that inform rather than block, unless a policy says otherwise."""

ENGINE_VERSION = "2"
"""Bump when a check changes, so cached findings of the old checks are not reused."""


@dataclass(frozen=True)
class ValidationPolicy:
    frozen_statuses: frozenset[str] = frozenset({"approved", "superseded"})
    max_file_bytes: int = DEFAULT_MAX_BYTES
    rules: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: Any) -> ValidationPolicy:
        section = data.get("validation") if isinstance(data, dict) else None
        if not isinstance(section, dict):
            return cls()
        default = cls()
        return cls(
            frozen_statuses=frozenset(section.get("frozen_statuses", default.frozen_statuses)),
            max_file_bytes=int(section.get("max_file_bytes", default.max_file_bytes)),
            rules={k: str(v.get("severity")) for k, v in (section.get("rules") or {}).items()},
        )

    def fingerprint(self) -> str:
        return json.dumps(
            [sorted(self.frozen_statuses), self.max_file_bytes, sorted(self.rules.items())]
        )

    def severity(self, rule: str, frozen: bool) -> Severity | None:
        """None means the rule is switched off."""
        chosen = self.rules.get(rule)
        if chosen == "off":
            return None
        severity = Severity(chosen) if chosen else DEFAULT_SEVERITY.get(rule, Severity.ERROR)
        if frozen and severity is Severity.ERROR:
            return Severity.WARNING
        return severity


class SchemaSet:
    """The bundled JSON Schemas, compiled once (jsonschema-rs, draft 2020-12).

    It also carries the default era table (``policies/eras.yaml`` of govbot's
    bundled data), because what a schema allows depends on the interop schema
    version a file declares: each version's merge patch is compiled into its
    own validators the first time a file of that version is seen.
    """

    def __init__(self, schemas: Mapping[str, dict[str, Any]], eras: Eras | None = None) -> None:
        self.sources = dict(schemas)
        self.eras = eras or Eras()
        self._validators = self._compile(self.sources)
        self._era_validators: dict[str, dict[str, Any]] = {}
        self._vocabulary = sorted(set(_property_names(list(schemas.values()))))
        self._suggestions: dict[str, str] = {}
        self.fingerprint = hashlib.sha256(
            json.dumps([self.sources, self.eras.fingerprint], sort_keys=True).encode()
        ).hexdigest()

    @staticmethod
    def _compile(sources: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
        registry = jsonschema_rs.Registry([(s["$id"], s) for s in sources.values()])
        return {
            name: jsonschema_rs.validator_for(s, registry=registry) for name, s in sources.items()
        }

    def _for_era(self, era: SchemaEra) -> dict[str, Any]:
        """Validators with the era's patch applied to the guideline schema (add-ons follow)."""
        if not era.schema_patch or GUIDELINE_SCHEMA not in self.sources:
            return self._validators
        if era.version not in self._era_validators:
            base = self.sources[GUIDELINE_SCHEMA]
            patched = merge_patch(base, era.schema_patch)
            patched["$id"] = base["$id"].replace(
                ".schema.json", f"-interop-{era.version}.schema.json"
            )
            sources = {GUIDELINE_SCHEMA: patched}
            if ADDON_SCHEMA in self.sources:
                addon = dict(self.sources[ADDON_SCHEMA])
                addon["$id"] = addon["$id"].replace(
                    ".schema.json", f"-interop-{era.version}.schema.json"
                )
                addon["$ref"] = patched["$id"]
                sources[ADDON_SCHEMA] = addon
            self._era_validators[era.version] = self._compile(sources)
        return self._era_validators[era.version]

    def issues(
        self, schema: str, data: Any, era: SchemaEra = GOVBOT_SCHEMA
    ) -> Iterator[integrity.Issue]:
        validators = self._for_era(era) if schema in (GUIDELINE_SCHEMA, ADDON_SCHEMA) else {}
        try:
            errors = list(validators.get(schema, self._validators[schema]).iter_errors(data))
        except ValueError:  # a mapping key that is not a string (e.g. unquoted 2020.06)
            yield from _non_string_keys(data, ())
            return
        for e in errors:
            path = tuple(e.instance_path)
            if e.kind.name == "additionalProperties":
                for key in getattr(e.kind, "unexpected", ()):
                    suggestion = self._suggest(key)
                    yield integrity.Issue(
                        (*path, key),
                        "schema.unknown-key",
                        f"unknown key {key!r}{suggestion} (the schema does not allow it here)",
                    )
            else:
                message = e.message if len(e.message) <= 200 else e.message[:200] + "…"
                yield integrity.Issue(path, f"schema.{e.kind.name}", message)

    def _suggest(self, key: str) -> str:
        # The same typo recurs across guidelines (they are copied forward), and
        # difflib is slow, so remember each answer.
        if key not in self._suggestions:
            hint = difflib.get_close_matches(key, self._vocabulary, n=1, cutoff=0.8)
            self._suggestions[key] = f"; did you mean {hint[0]!r}?" if hint else ""
        return self._suggestions[key]


def _property_names(nodes: list[Any]) -> Iterator[str]:
    for node in nodes:
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                yield from props
            yield from _property_names(list(node.values()))
        elif isinstance(node, list):
            yield from _property_names(node)


def _non_string_keys(data: Any, path: tuple[str | int, ...]) -> Iterator[integrity.Issue]:
    if isinstance(data, dict):
        for k, v in data.items():
            if not isinstance(k, str):
                yield integrity.Issue(
                    (*path, str(k)),
                    "schema.key-type",
                    f"key {k!r} is a {type(k).__name__}, not a string; quote it ('{k}')",
                )
            yield from _non_string_keys(v, (*path, str(k)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _non_string_keys(v, (*path, i))


def classify(path: str) -> str | None:
    """Which schema governs a repo-relative path (None: not a governed file).

    Guidelines count in both layouts: govbot's YAML and the interop JSON.
    """
    if path in layout.POLICY_SCHEMAS:
        return layout.POLICY_SCHEMAS[path]
    kind = guideline_kind(path)
    if kind == "add-on":
        return ADDON_SCHEMA
    if kind == "guideline":
        return GUIDELINE_SCHEMA
    if products.is_product(path):
        return products.SCHEMA
    return None


def blob_sha(raw: bytes) -> str:
    """Git's blob id of the content: free to look up when files come from Git."""
    h = hashlib.sha1(b"blob %d\0" % len(raw))
    h.update(raw)
    return h.hexdigest()


def cache_key(
    path: str, raw: bytes, schemas: SchemaSet, policy: ValidationPolicy, located: bool = True
) -> str:
    material = "\0".join(
        [ENGINE_VERSION, path, blob_sha(raw), schemas.fingerprint, policy.fingerprint()]
        + ([] if located else ["unlocated"])
    )
    return hashlib.sha256(material.encode()).hexdigest()


def schema_era(data: Any, schemas: SchemaSet) -> SchemaEra:
    """The vocabulary a guideline is judged by: that of the interop schema it declares."""
    declared = data.get("interop_schema") if isinstance(data, dict) else None
    return schemas.eras.schema(declared)


def file_issues(path: str, data: Any, schema: str, schemas: SchemaSet) -> Iterator[integrity.Issue]:
    guideline = schema in (GUIDELINE_SCHEMA, ADDON_SCHEMA)
    era = schema_era(data, schemas) if guideline else GOVBOT_SCHEMA
    yield from schemas.issues(schema, data, era)
    if guideline and isinstance(data, dict):
        ident = data.get("id")
        if isinstance(ident, str) and ident != guideline_key(path):
            yield integrity.Issue(
                ("id",),
                "integrity.id-mismatch",
                f"id {ident!r} does not match the file name (expected {guideline_key(path)!r}); "
                "a guideline's file is named after its id",
            )
        yield from integrity.check_guideline(data, era)
    elif schema == products.SCHEMA:
        yield from products.issues(path, data)
    elif schema == certification.SCHEMA:
        yield from certification.issues(data)


def validate_parsed(
    parsed: Parsed,
    schema: str,
    schemas: SchemaSet,
    policy: ValidationPolicy,
    *,
    locate: bool = True,
) -> list[Finding]:
    """The file's findings; ``locate=False`` leaves their line and column 0 for the caller
    to locate only those it reports (locating means walking the file once more)."""
    if parsed.data is None and parsed.findings:
        return list(parsed.findings)
    data = parsed.data
    status = (
        schema_era(data, schemas).status(data.get("status")) if isinstance(data, dict) else None
    )
    frozen = status in policy.frozen_statuses
    kept = []
    for f in parsed.findings:  # defects the parser found in readable data (duplicate keys)
        severity = policy.severity(f.rule, frozen)
        if severity is not None:
            kept.append(f.with_severity(severity))
    found = []
    for issue in file_issues(parsed.name, data, schema, schemas):
        severity = policy.severity(issue.rule, frozen)
        if severity is not None:
            found.append((issue, severity))
    marks = parsed.locate([issue.path for issue, _ in found]) if locate else [(0, 0)] * len(found)
    return kept + [
        Finding(parsed.name, issue.rule, issue.message, severity, line, column, issue.path)
        for (issue, severity), (line, column) in zip(found, marks, strict=True)
    ]


class FindingsCache(Protocol):
    def get(self, key: str) -> list[Finding] | None: ...
    def put(self, key: str, findings: list[Finding]) -> None: ...


def policy_from_files(files: Mapping[str, bytes]) -> tuple[ValidationPolicy, Parsed | None]:
    raw = files.get(layout.VALIDATION)
    if raw is None:
        return ValidationPolicy(), None
    parsed = parse_bytes(layout.VALIDATION, raw)
    return ValidationPolicy.from_data(parsed.data), parsed


def validate_files(
    files: Mapping[str, bytes],
    schemas: SchemaSet,
    policy: ValidationPolicy | None = None,
    cache: FindingsCache | None = None,
    parse: Callable[[str, bytes, int], Parsed] = parse_document,
    *,
    whole: bool = True,
    locate: bool = True,
) -> list[Finding]:
    """Validate every governed file of a repo snapshot (path -> bytes).

    The policy, unless given, is the snapshot's own ``policies/validation.yaml``
    (callers judging a proposed change pass the *base* policy instead).
    ``whole=False`` says ``files`` is a part of a snapshot: the checks across
    files are left to the caller, since a missing file means nothing there.
    ``locate=False``: see :func:`validate_parsed`.
    """
    if policy is None:
        policy, _ = policy_from_files(files)
    findings: list[Finding] = []
    for path, raw in sorted(files.items()):
        schema = classify(path)
        if schema is None:
            continue
        key = cache_key(path, raw, schemas, policy, locate) if cache is not None else ""
        cached = cache.get(key) if cache is not None else None
        if cached is None:
            cached = validate_parsed(
                parse(path, raw, policy.max_file_bytes), schema, schemas, policy, locate=locate
            )
            if cache is not None:
                cache.put(key, cached)
        findings.extend(cached)
    if whole:  # across files: what one policy names, another must define (cheap: not cached)
        findings.extend(policy_links.check(files, policy.severity(policy_links.RULE, False)))
        findings.extend(_product_links(files, policy))
    return sort_findings(findings)


def _product_links(files: Mapping[str, bytes], policy: ValidationPolicy) -> list[Finding]:
    """Each product's results file and guideline exist (only when the snapshot has products)."""
    if not any(products.is_product(p) for p in files):
        return []
    keys = {guideline_key(p) for p in files if guideline_kind(p)}
    out = []
    for f in products.links(files, keys):
        severity = policy.severity(f.rule, False)
        if severity is not None:
            out.append(f.with_severity(severity))
    return out


def governed(paths: Iterable[str]) -> list[str]:
    return sorted(p for p in paths if classify(p) is not None)
