"""What changed between two guidelines, as the site's diff page shows it to a vendor."""

from __future__ import annotations

import copy
from typing import Any

from govbot.core.guideline_diff import compare


def guideline(gid: str) -> dict[str, Any]:
    return {
        "id": gid,
        "components": {
            "os_powered_compute": {
                "capabilities": {
                    "required": ["a", "b"],
                    "advisory": ["c"],
                    "deprecated": ["d"],
                    "removed": [],
                }
            }
        },
        "capabilities": {
            "a": {"tests": {"t.a1": {"idempotent_id": "id-1"}}},
            "b": {"tests": {"t.b1": {"idempotent_id": "id-2"}, "t.b2": {}}},
            "c": {"tests": {"t.c1": {"idempotent_id": "id-3"}}},
            "d": {"tests": {"t.d1": {"idempotent_id": "id-4"}}},
        },
    }


def test_status_moves_additions_and_removals() -> None:
    old, new = guideline("2020.06"), guideline("2021.01")
    caps = new["components"]["os_powered_compute"]["capabilities"]
    caps["required"] = ["a", "c"]  # c promoted
    caps["advisory"] = ["b", "e"]  # b demoted, e added
    caps["deprecated"] = []
    caps["removed"] = ["d", "z"]  # d removed; z only recorded as removed: no change
    new["capabilities"]["e"] = {"tests": {"t.e1": {"idempotent_id": "id-5"}}}
    d = compare(old, new).to_dict()
    assert (d["from"], d["to"]) == ("2020.06", "2021.01")
    caps_d = d["capabilities"]
    assert caps_d["added"] == [{"capability": "e", "status": "advisory"}]
    assert caps_d["removed"] == [{"capability": "d", "status": "was deprecated"}]
    assert caps_d["promoted"] == [{"capability": "c", "from": "advisory", "to": "required"}]
    assert caps_d["demoted"] == [{"capability": "b", "from": "required", "to": "advisory"}]
    assert d["tests"]["added"] == [{"capability": "e", "test": "t.e1"}]


def test_tests_are_followed_by_identity() -> None:
    old = guideline("2020.06")
    new = copy.deepcopy(old)
    new["id"] = "2021.01"
    tests = new["capabilities"]["a"]["tests"]
    tests["t.a1.renamed"] = tests.pop("t.a1")  # same idempotent id: the same test
    new["capabilities"]["b"]["tests"]["t.b1"]["flagged"] = {"reason": "bug"}
    del new["capabilities"]["b"]["tests"]["t.b2"]  # no id: followed by name, so removed
    result = compare(old, new)
    assert [t.test for t in result.tests_added] == []
    assert [(t.capability, t.test) for t in result.tests_removed] == [("b", "t.b2")]
    assert [t.test for t in result.flagged] == ["t.b1"]
    assert compare(old, copy.deepcopy(old)).empty
