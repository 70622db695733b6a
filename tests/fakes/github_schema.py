"""Validate webhook payloads against GitHub's own webhook schema.

Tests build payloads by hand (or by editing GitHub's documented examples); a
payload that GitHub could never send proves nothing. ``validate_payload``
checks a payload against the JSON Schema that GitHub publishes for that event
and action, in ``../shared/github/webhooks-openapi.api.github.com.json``
(OpenAPI 3.1, so its schemas are JSON Schema 2020-12). Tests that use it
are skipped, with the reason, when the file is missing.

``minimal_payload`` builds the smallest payload that schema accepts, with the
fields a test cares about laid over it, so a test states only what matters to
it and still sends something GitHub could send.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMA_PATH = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "github"
    / "webhooks-openapi.api.github.com.json"
)
_URI = "urn:github:webhooks-openapi"


@cache
def _registry() -> tuple[Registry, dict[str, Any]]:
    if not SCHEMA_PATH.is_file():  # like every test that reads ../shared: skipped, and said why
        pytest.skip(f"GitHub's webhook schema is not at {SCHEMA_PATH} (../shared beside the repo)")
    document = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    return Registry().with_resource(_URI, resource), document


def webhook_key(event: str, action: str | None) -> str:
    """The OpenAPI ``webhooks`` key: ``pull_request`` + ``opened`` -> ``pull-request-opened``."""
    name = event.replace("_", "-")
    return f"{name}-{action.replace('_', '-')}" if action else name


@cache
def _validator(event: str, action: str | None) -> Draft202012Validator:
    registry, document = _registry()
    key = webhook_key(event, action)
    if key not in document["webhooks"]:
        raise KeyError(
            f"GitHub's webhook schema has no {key!r} (event {event!r}, action {action!r})"
        )
    pointer = f"/webhooks/{key}/post/requestBody/content/application~1json/schema"
    return Draft202012Validator({"$ref": f"{_URI}#{pointer}"}, registry=registry)


def validate_payload(event: str, action: str | None, payload: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless GitHub could send ``payload``.

    ``event`` is the X-GitHub-Event header (``pull_request``), ``action`` the
    payload's ``action`` (None for actionless events such as ``push``, ``ping``).
    The error names the best-matching failure and its path in the payload.
    """
    validator = _validator(event, action)
    errors = sorted(validator.iter_errors(payload), key=lambda e: e.path)
    if errors:
        from jsonschema.exceptions import best_match

        error = best_match(errors)
        assert error is not None
        error.message = f"{webhook_key(event, action)} at /{'/'.join(map(str, error.absolute_path))}: {error.message}"
        raise error


_FILLED = 3  # object levels whose nullable members are filled in rather than left null

_FORMATS = {
    "date-time": "2024-05-01T12:00:00Z",
    "uri": "https://example.invalid/",
    "uri-template": "https://example.invalid/{id}",
    "email": "someone@example.invalid",
}


def minimal_payload(
    event: str, action: str | None, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The smallest payload GitHub's schema accepts for ``event``/``action``, deep-merged with ``overrides``.

    Required properties get placeholder values (the first enum value, a
    plausible string for formats such as date-time; null where allowed, except
    in the top few levels, which are filled in so that overrides like
    ``{"pull_request": {"user": {"login": "alice"}}}`` merge); dicts in
    ``overrides`` merge into the skeleton, anything else replaces it. The result
    is validated, so a bad override fails here with the schema's own words.
    """
    _, document = _registry()
    schema = document["webhooks"][webhook_key(event, action)]["post"]["requestBody"]["content"]
    payload = _skeleton(document, schema["application/json"]["schema"], depth=0)
    if action is not None:
        payload["action"] = action
    _merge(payload, copy.deepcopy(overrides or {}))
    validate_payload(event, action, payload)
    return payload


def _skeleton(document: dict[str, Any], schema: Any, depth: int, nest: int = 0) -> Any:
    """A minimal instance; a nullable object is filled in down to ``_FILLED`` levels so overrides can merge into it."""
    if depth > 60 or not isinstance(schema, dict):
        return None
    schema = _flatten(document, schema)
    fill = nest <= _FILLED
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if _flatten(document, o).get("type") != "null"]
            if not options or (not fill and len(options) < len(schema[key])):
                return None
            return _skeleton(document, options[0], depth + 1, nest)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        values = [v for v in schema["enum"] if v is not None]
        return values[0] if values and (fill or None not in schema["enum"]) else None
    types = schema.get("type", "object")
    types = types if isinstance(types, list) else [types]
    if "null" in types and (not fill or types == ["null"]):
        return None
    kind = next(t for t in types if t != "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {
            name: _skeleton(document, props.get(name, {"type": "string"}), depth + 1, nest + 1)
            for name in schema.get("required", ())
        }
    if kind == "array":
        item = _skeleton(document, schema.get("items", {}), depth + 1, nest + 1)
        return [item] * schema.get("minItems", 0)
    if kind == "string":
        return _FORMATS.get(schema.get("format", ""), "x")
    return {"integer": 1, "number": 1.0, "boolean": False}.get(kind)


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def _flatten(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """One schema without a top-level $ref or allOf: properties merged, required united, types intersected."""
    while "$ref" in schema:
        target: Any = document
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        schema = target
    if "allOf" not in schema:
        return schema
    out = {k: v for k, v in schema.items() if k != "allOf"}
    for part in (_flatten(document, p) for p in schema["allOf"]):
        for key, value in part.items():
            if key == "properties":
                props = out.setdefault("properties", {})
                for name, sub in value.items():
                    props[name] = {"allOf": [props[name], sub]} if name in props else sub
            elif key == "required":
                out["required"] = sorted({*out.get("required", ()), *value})
            elif key == "type" and "type" in out:
                mine = set(out["type"] if isinstance(out["type"], list) else [out["type"]])
                theirs = set(value if isinstance(value, list) else [value])
                out["type"] = sorted(mine & theirs) or value
            else:
                out.setdefault(key, value)
    return out
