"""What a guideline requires, independent of how its schema spelled it.

The process rules compare guidelines written years and schema versions apart:
2015.05 (schema 1.2: tests are bare names, components named ``compute``)
against 2015.07 (1.3: tests keyed by name with idempotent ids), 2017.09 (1.6)
against 2018.02 (2.0: components renamed ``os_powered_compute``). So the rules
compare these views, not the files:

* a **test's identity** is its idempotent id when it has one, else its name
  (A2.4: "unique identifiers that are durable across releases and changes in
  grouping"); its other names are its aliases. Tempest subclasses inherit
  their parent's test methods with the same id (``ServersTestManualDisk``
  re-runs ``ServersTestJSON.test_list_servers``), so two names sharing an id
  and a method name are one test under two names, not a reused id;
* a **capability's status** is its status in whichever component lists it;
* a **designated section** is (project, section), designated when the
  project's ``required`` block marks it so.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from govbot.core.mustpass import is_flagged

STRENGTH = {"required": 4, "advisory": 3, "deprecated": 2, "removed": 1}


def d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def method_of(test: str) -> str:
    """``tempest.api.compute.servers.test_x.ServersTestJSON.test_list`` -> ``test_list``."""
    return test.rstrip().rsplit(".", 1)[-1]


def test_id(details: Any) -> str | None:
    ident = d(details).get("idempotent_id")
    return ident.strip() if isinstance(ident, str) and ident.strip() else None


def aliases_of(details: Any) -> list[str]:
    aliases = d(details).get("aliases")
    return [a for a in aliases if isinstance(a, str)] if isinstance(aliases, list) else []


def capability_tests(g: Mapping[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(capability, test name, details) for every test of every capability."""
    for cap, body in d(g.get("capabilities")).items():
        for test, details in d(d(body).get("tests")).items():
            yield cap, test, d(details)


@dataclass(frozen=True)
class TestIndex:
    """Every test of a guideline by identity: which names it goes by, where it is listed."""

    names: Mapping[str, str]  # any name or alias -> identity
    capabilities: Mapping[str, frozenset[str]]  # identity -> capabilities listing it
    flagged: frozenset[str]  # identities flagged in at least one capability

    @classmethod
    def of(cls, g: Mapping[str, Any]) -> TestIndex:
        """The index of ``g``, built once while ``g`` is among the last few indexed
        (rules compare the same guidelines again and again)."""
        hit = _INDEXES.get(id(g))
        if hit is not None and hit[0] is g:
            _INDEXES.move_to_end(id(g))
            return hit[1]
        index = cls._build(g)
        _INDEXES[id(g)] = (g, index)  # holding g keeps its id from being reused
        if len(_INDEXES) > 32:
            _INDEXES.popitem(last=False)
        return index

    @classmethod
    def _build(cls, g: Mapping[str, Any]) -> TestIndex:
        names: dict[str, str] = {}
        caps: dict[str, set[str]] = {}
        flagged: set[str] = set()
        for cap, test, details in capability_tests(g):
            ident = test_id(details)
            if ident is not None:
                identity = f"id:{ident}"
            else:
                identity = names.get(test.strip(), f"name:{test.strip()}")
            for name in (test, *aliases_of(details)):
                names.setdefault(name.strip(), identity)
            caps.setdefault(identity, set()).add(cap)
            if is_flagged(details):
                flagged.add(identity)
        return cls(names, {k: frozenset(v) for k, v in caps.items()}, frozenset(flagged))

    def identity(self, test: str, details: Any = None) -> str:
        """The identity of a test as another guideline lists it: by id, else by name or alias."""
        ident = test_id(details)
        if ident is not None and f"id:{ident}" in self.capabilities:
            return f"id:{ident}"
        for name in (test, *aliases_of(details)):
            if name.strip() in self.names:
                return self.names[name.strip()]
        return f"id:{ident}" if ident is not None else f"name:{test.strip()}"

    def knows(self, test: str, details: Any = None) -> bool:
        return self.identity(test, details) in self.capabilities


_INDEXES: OrderedDict[int, tuple[Mapping[str, Any], TestIndex]] = OrderedDict()


def capability_statuses(g: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """capability -> (status, component): its strongest listing across components."""
    out: dict[str, tuple[str, str]] = {}
    for comp, body in d(g.get("components")).items():
        for status, names in d(d(body).get("capabilities")).items():
            for name in names if isinstance(names, list) else []:
                if not isinstance(name, str):
                    continue
                seen = out.get(name)
                if seen is None or STRENGTH.get(status, 0) > STRENGTH.get(seen[0], 0):
                    out[name] = (status, comp)
    return out


def tests_with_status(
    g: Mapping[str, Any], statuses: tuple[str, ...], index: TestIndex | None = None
) -> set[str]:
    """Identities of the tests of every capability listed with one of ``statuses``
    (as ``index`` knows them: pass another guideline's index to compare the two)."""
    index = index or TestIndex.of(g)
    listed = {cap for cap, (status, _) in capability_statuses(g).items() if status in statuses}
    return {
        index.identity(test, details) for cap, test, details in capability_tests(g) if cap in listed
    }


def designated_sections(g: Mapping[str, Any]) -> dict[tuple[str, str | None], dict[str, bool]]:
    """(project, section) -> {status of each block listing it: designated there?}.

    ``(project, None)`` stands for the project's block itself: its guidance
    ("by default, designated except ...") designates the project's code, and
    each named section then says whether it is designated. ``informational``
    blocks designate nothing and are left out.
    """
    out: dict[tuple[str, str | None], dict[str, bool]] = {}
    for project, blocks in d(g.get("designated_sections")).items():
        for status, block in d(blocks).items():
            if status not in STRENGTH:
                continue
            out.setdefault((project, None), {})[status] = True
            for section, body in d(d(block).get("sections")).items():
                out.setdefault((project, section), {})[status] = d(body).get("designated") is True
    return out


def scoring_weights(g: Mapping[str, Any]) -> dict[str, Any]:
    """criterion -> weight, with the 1.x ``"74"``-style strings read as numbers."""
    out = {}
    for name, body in d(d(g.get("scoring")).get("criteria")).items():
        weight = d(body).get("weight")
        out[name] = int(weight) if isinstance(weight, str) and weight.isdigit() else weight
    return out


def cutoff_of(g: Mapping[str, Any]) -> Any:
    value = d(g.get("scoring")).get("cutoff_score")
    return int(value) if isinstance(value, str) and value.isdigit() else value
