"""Realistic vendor results, generated from the bundled must-pass lists.

Run ``python -m tests.certification_fixtures`` from the repo root to rewrite
``tests/fixtures/certification/``; ``test_certify.py`` checks that the
committed files are exactly what this writes, so they never drift from the
guidelines. Every choice is deterministic (fixed names, fixed timestamps).

What the files hold (2020.06, OpenStack Powered Platform unless named):

* ``platform-2020.06-pass.subunit``: a stestr-like subunit v2 stream of the
  required tests plus unrelated passes: ``inprogress`` then ``success``
  packets with worker tags, timestamps and a log attachment; one test passes
  under an alias only, one under a new name with its idempotent id, and the
  flagged tests are skipped, as Tempest skips them. It qualifies.
* ``platform-2020.06-failures.subunit``: the same run where every test of
  ``compute-servers-rebuild`` fails, one ``compute-volume-attach`` test is
  skipped and a class fixture (``setUpClass``) fails. Missing tests.
* ``platform-2020.06-failures.json`` and ``.txt``: that run's passes as
  refstack-client wrote them (RefStack upload JSON) and as a plain list.
* ``platform-2018.11-pass.txt``: every required test of 2018.11, a guideline
  no longer among the two latest approved (C6.1) at any date after 2019.11.
* ``dns-2020.06-pass.json``: the DNS add-on's required tests, all passed.
"""

from __future__ import annotations

import io
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import subunit

from govbot.core import mustpass
from govbot.core.results import split_test_id
from govbot.core.yamlio import parse_bytes
from govbot.repo import bundled

OUT = Path(__file__).resolve().parent / "fixtures" / "certification"
START = datetime(2020, 7, 1, 12, 0, tzinfo=UTC)
FAILING_CAPABILITY = "compute-servers-rebuild"
SKIPPED_CAPABILITY = "compute-volume-attach"
ALIAS_ONLY = "tempest.api.compute.servers.test_create_server.ServersTestJSON.test_list_servers"
RENAMED = "tempest.api.identity.v3.test_tokens.TokensV3Test.test_create_token"
EXTRA = (
    "tempest.api.compute.admin.test_hypervisor.HypervisorAdminTestJSON.test_get_hypervisor_list",
    "tempest.api.network.admin.test_agent_management.AgentManagementTestJSON.test_list_agent",
    "tempest.api.object_storage.test_account_quotas.AccountQuotasTest.test_upload_valid_object",
)


def guideline(key: str) -> dict[str, Any]:
    rel = f"guidelines/{key}.yaml" if key[0].isdigit() else f"guidelines/add-ons/{key}.yaml"
    data = parse_bytes(rel, (bundled.root() / rel).read_bytes()).data
    assert isinstance(data, dict)
    return data


def _tests_of(data: dict[str, Any], capability: str) -> set[str]:
    return set(data["capabilities"][capability].get("tests") or {})


def _aliases(data: dict[str, Any]) -> dict[str, list[str]]:
    return {
        t: list(d.get("aliases") or [])
        for cap in data["capabilities"].values()
        for t, d in (cap.get("tests") or {}).items()
        if isinstance(d, dict)
    }


def run_2020_06(failures: bool) -> list[tuple[str, str]]:
    """(subunit test id, final status) in run order: what a Tempest run of the list reports."""
    data = guideline("2020.06")
    required = mustpass.test_list(data, "platform", ["required"], aliases=False)
    flagged = sorted(
        set(mustpass.test_list(data, "platform", ["required"], aliases=False, include_flagged=True))
        - set(required)
    )
    aliases = _aliases(data)
    failing = _tests_of(data, FAILING_CAPABILITY) if failures else set()
    skipped = sorted(_tests_of(data, SKIPPED_CAPABILITY))[:1] if failures else []
    run: list[tuple[str, str]] = []
    for entry in required:
        split = split_test_id(entry)
        assert split is not None
        name, ident = split
        attrs = f"[id-{ident}]" if ident else ""
        if name == ALIAS_ONLY:
            run.append((f"{aliases[name][0]}{attrs}", "success"))
            continue
        if name == RENAMED:
            run.append((f"{name}_v2{attrs}", "success"))
            continue
        status = "fail" if name in failing else "skip" if name in skipped else "success"
        run.append((f"{name}{attrs}", status))
    for entry in flagged:
        run.append((entry, "skip"))
    for name in EXTRA:
        run.append((name, "success"))
    if failures:
        run.append(
            (
                "setUpClass (tempest.api.compute.servers.test_server_actions.ServerActionsTestJSON)",
                "fail",
            )
        )
    return run


def subunit_stream(run: list[tuple[str, str]]) -> bytes:
    """A stestr-like stream: inprogress then the final status, tagged with a worker."""
    buf = io.BytesIO()
    out = subunit.StreamResultToBytes(buf)
    at = START
    for i, (test_id, status) in enumerate(run):
        tags = {f"worker-{i % 2}"}
        out.status(test_id=test_id, test_status="inprogress", test_tags=tags, timestamp=at)
        at += timedelta(milliseconds=250 + (i * 37) % 900)
        if status == "fail":
            out.status(
                test_id=test_id,
                file_name="traceback",
                file_bytes=b"Traceback (most recent call last):\n  ...\nAssertionError: 409 != 202\n",
                mime_type="text/x-traceback; charset=utf8",
                eof=True,
                test_tags=tags,
                timestamp=at,
            )
        out.status(
            test_id=test_id,
            test_status=status,
            test_tags=tags,
            file_name="pythonlogging:''",
            file_bytes=f"{test_id}: {status}\n".encode(),
            mime_type="text/plain; charset=utf8",
            eof=True,
            timestamp=at,
        )
    return buf.getvalue()


def refstack_json(run: list[tuple[str, str]]) -> bytes:
    """What refstack-client saved: passes only, ``[...]`` stripped, the id as ``uuid``."""
    results = []
    for test_id, status in run:
        split = split_test_id(test_id)
        if status != "success" or split is None:
            continue
        entry = {"name": split[0]}
        if split[1]:
            entry["uuid"] = split[1]
        results.append(entry)
    doc = {"cpid": "8e9b5f4a3c2d4b1e9f0a7c6d5e4f3a2b", "duration_seconds": 2417, "results": results}
    return (json.dumps(doc, indent=4, separators=(",", ": ")) + "\n").encode()


def plain_list(run: list[tuple[str, str]]) -> bytes:
    passed = sorted(t for t, s in run if s == "success")
    return (
        "# passed tests, one per line (RefStack's list format)\n" + "\n".join(passed) + "\n"
    ).encode()


def files() -> dict[str, bytes]:
    passing, failing = run_2020_06(False), run_2020_06(True)
    old = mustpass.test_list(guideline("2018.11"), "platform", ["required"])
    dns = [
        (t, "success") for t in mustpass.test_list(guideline("dns.2020.06"), "dns", ["required"])
    ]
    return {
        "platform-2020.06-pass.subunit": subunit_stream(passing),
        "platform-2020.06-failures.subunit": subunit_stream(failing),
        "platform-2020.06-failures.json": refstack_json(failing),
        "platform-2020.06-failures.txt": plain_list(failing),
        "platform-2018.11-pass.txt": ("\n".join(old) + "\n").encode(),
        "dns-2020.06-pass.json": refstack_json(dns),
    }


def main(out: Path = OUT) -> int:
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files().items():
        (out / name).write_bytes(data)
        print(f"wrote {out / name} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
