"""Products and the certification policy as data, the registry, its pages, and impact."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from govbot import cli
from govbot.core import impact, registry, registry_site
from govbot.core.certification import CertificationPolicy, expiry_reminders
from govbot.core.findings import Severity
from govbot.core.submission import load_policy
from govbot.core.validate import validate_files
from govbot.repo import bundled
from govbot.repo.snapshots import read_directory
from govbot.web import pages as site_pages
from govbot.web.pages import STATIC_LINKS
from tests.certification_fixtures import OUT as FIXTURES
from tests.test_certify import product_yaml, write_repo

JULY_2020 = date(2020, 7, 1)


@pytest.fixture(scope="module")
def bundled_files() -> dict[str, bytes]:
    return read_directory(bundled.root())


def with_product(
    files: dict[str, bytes], path: str, yaml: bytes, results: dict[str, bytes]
) -> dict[str, bytes]:
    out = dict(files)
    out[path] = yaml
    out.update(results)
    return out


def acme(
    bundled_files: dict[str, bytes], fixture: str = "platform-2020.06-pass.subunit", **kw: str
) -> dict[str, bytes]:
    return with_product(
        bundled_files,
        "products/acme/cloud.yaml",
        product_yaml(**kw),
        {"products/acme/acme-cloud/platform.subunit": (FIXTURES / fixture).read_bytes()},
    )


# -- validation -----------------------------------------------------------------------


def test_bundled_products_and_policy_validate(bundled_files: dict[str, bytes]) -> None:
    findings = validate_files(bundled_files, bundled.schema_set())
    assert not [f for f in findings if f.file.startswith(("products/", "policies/certification"))]
    assert "products/example/example-cloud.yaml" in bundled_files
    assert "products/example/example-cloud/platform-2020.06.txt" in bundled_files


def test_product_defects_are_located(bundled_files: dict[str, bytes]) -> None:
    yaml = product_yaml(
        results="../other-vendor/results.subunit",
        extra_programs="  - program: platform\n    guideline: dns.2020.06\n    results: x/missing.subunit\n",
    ).replace(b"kind: public-cloud", b"kind: cloud")
    files = with_product(bundled_files, "products/acme/cloud.yaml", yaml, {})
    found = {
        (f.rule, f.line)
        for f in validate_files(files, bundled.schema_set())
        if f.file == "products/acme/cloud.yaml"
    }
    assert found == {
        ("schema.enum", 3),
        ("schema.pattern", 11),
        ("product.results-outside", 11),
        ("product.duplicate-program", 12),
        ("product.guideline-family", 13),
        ("product.missing-results", 14),
    }


def test_unknown_guideline_is_a_link_finding(bundled_files: dict[str, bytes]) -> None:
    files = acme(bundled_files, guideline="2042.01")
    found = [
        f
        for f in validate_files(files, bundled.schema_set())
        if f.file == "products/acme/cloud.yaml"
    ]
    assert [(f.rule, f.line) for f in found] == [("product.unknown-guideline", 10)]


def test_certification_policy_loads_and_checks(bundled_files: dict[str, bytes]) -> None:
    policy = load_policy(bundled_files)
    assert policy.review_within_days == 30 and policy.flag_ack_days == 30
    assert policy.valid_latest == 2 and policy.waivers_last_guideline == "2017.01"
    assert policy.approval.approvals == (("foundation", 1),)
    grace = policy.reviewers.member_for("github", "1000010", datetime(2024, 1, 1, tzinfo=UTC))
    assert grace is not None and grace.roles == ("foundation",)
    submitted = datetime(2024, 3, 1, 9, tzinfo=UTC)
    assert policy.review_due(submitted) == datetime(2024, 3, 31, 9, tzinfo=UTC)
    assert policy.flag_ack_due(submitted) == datetime(2024, 3, 31, 9, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        policy.review_due(datetime(2024, 3, 1))
    assert policy.waiver_allowed("2016.08") and not policy.waiver_allowed("2017.09")
    assert not CertificationPolicy(waivers_last_guideline=None).waiver_allowed("2016.08")


def test_certification_policy_defects(bundled_files: dict[str, bytes]) -> None:
    raw = bundled_files["policies/certification.yaml"]
    bad = raw.replace(b"approvals: {foundation: 1}", b"approvals: {foundation-staff: 1}").replace(
        b"  granted: []",
        b"  granted:\n    - product: acme/cloud\n      guideline: '2017.09'\n      tests: [t.A.test]\n"
        b"      reason: strict API response checking\n      granted: '2018-01-01'\n      expires: '2017-06-01'",
    )
    files = dict(bundled_files)
    files["policies/certification.yaml"] = bad
    found = {
        (f.rule, f.line)
        for f in validate_files(files, bundled.schema_set())
        if f.file == "policies/certification.yaml"
    }
    assert found == {
        ("policy.unknown-role", 39),
        ("certification.waiver-not-allowed", 58),
        ("certification.waiver-dates", 62),
    }
    assert all(
        f.severity is Severity.ERROR
        for f in validate_files(files, bundled.schema_set())
        if f.rule.startswith("certification.")
    )


def test_expiry_reminders() -> None:
    now = datetime(2021, 1, 1, tzinfo=UTC)
    due = expiry_reminders(date(2021, 1, 31), (30, 7), now, 60)
    assert due == [(datetime(2021, 1, 1, tzinfo=UTC), 30), (datetime(2021, 1, 24, tzinfo=UTC), 7)]
    assert expiry_reminders(date(2021, 1, 31), (30, 7), now, 10) == [
        (datetime(2021, 1, 1, tzinfo=UTC), 30)
    ]


# -- the registry ---------------------------------------------------------------------------


def test_registry_entries_current_and_past(bundled_files: dict[str, bytes]) -> None:
    files = acme(bundled_files)
    files["products/old/cloud.yaml"] = product_yaml("2018.11", "cloud/platform.txt", "queens")
    files["products/old/cloud/platform.txt"] = (FIXTURES / "platform-2018.11-pass.txt").read_bytes()
    reg = registry.build(files, JULY_2020, {"products/old/cloud.yaml": date(2019, 1, 15)})
    by_key = {e.product: e for e in reg.entries}
    assert set(by_key) == {"acme/cloud", "example/example-cloud", "old/cloud"}
    old = by_key["old/cloud"]
    assert old.status == registry.EXPIRED and old.qualified  # judged on its approval day
    assert old.expires == date(2019, 11, 1) and old.approved_on == date(2019, 1, 15)
    assert by_key["acme/cloud"].status == registry.CURRENT and by_key["acme/cloud"].expires is None
    assert [e.product for e in reg.current()] == ["acme/cloud", "example/example-cloud"]


def test_registry_lists_what_it_cannot_read(bundled_files: dict[str, bytes]) -> None:
    files = dict(bundled_files)
    files["products/bad/cloud.yaml"] = b"name: [unclosed\n"
    files["products/bad/other.yaml"] = product_yaml(results="other/missing.subunit")
    reg = registry.build(files, JULY_2020)
    paths = [p for p, _ in reg.unreadable]
    assert paths == ["products/bad/cloud.yaml", "products/bad/other.yaml"]
    assert "missing.subunit is not in the repository" in reg.unreadable[1][1]


def test_published_record_has_passes_only(bundled_files: dict[str, bytes]) -> None:
    files = acme(bundled_files, "platform-2020.06-failures.subunit")
    reg = registry.build(files, JULY_2020)
    pages = {**registry_site.records(reg), **site_pages.products(reg, STATIC_LINKS)}
    record = json.loads(pages["products/acme/cloud/platform.json"])
    assert record["description"].startswith("Acme's public regions")
    passed = set(record["passed_tests"])
    assert len(passed) == 271 + 0 and all("[id-" in t or "." in t for t in passed)
    assert not any("test_rebuild_server" in t for t in passed)  # a failure is never published
    assert not any(t.startswith("setUpClass") for t in passed)
    assert "compute-servers-rebuild" not in record["capabilities_passed"]
    index = json.loads(pages["products/index.json"])
    assert [p["product"] for p in index["products"]] == ["acme/cloud", "example/example-cloud"]
    page = pages["products/acme/cloud/index.html"].decode()
    assert "System and configuration" in page and "test_rebuild_server" not in page


def git(repo: Path, *args: str, when: str = "2020-07-15T10:00:00+00:00") -> None:
    env = {
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": when,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "PATH": "/usr/bin:/bin",
        "HOME": str(repo),
    }
    subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)


def test_products_cli_dates_from_history(
    tmp_path: Path, bundled_files: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    repo = write_repo(tmp_path, acme(bundled_files))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "approve acme", when="2020-07-15T23:30:00-05:00")
    assert (
        cli.main(["products", "--repo", str(repo), "--at", "2020-08-01", "--format", "json"]) == 0
    )
    doc = json.loads(capsys.readouterr().out)
    acme_entry = next(p for p in doc["products"] if p["product"] == "acme/cloud")
    assert acme_entry["approved_on"] == "2020-07-16"  # the merge, in UTC
    assert acme_entry["passed"] == 275 and "passed_tests" not in acme_entry
    assert cli.main(["products", "--repo", str(repo), "--at", "2020-08-01"]) == 0
    assert (
        "acme/cloud             platform  2020.06    ussuri   2020-07-16" in capsys.readouterr().out
    )
    assert cli.main(["products", "--repo", str(repo), "--at", "nope"]) == 2


# -- impact ------------------------------------------------------------------------------------


def require_upload(next_yaml: bytes) -> bytes:
    """next.yaml with volumes-v3-upload moved from advisory to required (os_powered_compute)."""
    text = next_yaml.decode()
    start = text.index("components:\n  os_powered_compute:")
    head, tail = text[:start], text[start:]
    tail = tail.replace("      advisory:\n      - volumes-v3-upload\n", "      advisory:\n", 1)
    tail = tail.replace("      required:\n", "      required:\n      - volumes-v3-upload\n", 1)
    return (head + tail).encode()


def without(results: bytes, needle: bytes) -> bytes:
    return b"".join(line for line in results.splitlines(keepends=True) if needle not in line)


def test_impact_names_products_that_would_stop_qualifying(bundled_files: dict[str, bytes]) -> None:
    listed = (FIXTURES / "platform-2020.06-failures.txt").read_bytes()
    base = with_product(
        bundled_files,
        "products/acme/cloud.yaml",
        product_yaml(results="acme-cloud/platform.txt"),
        {
            "products/acme/acme-cloud/platform.txt": (
                FIXTURES / "platform-2020.06-failures.txt"
            ).read_bytes()
        },
    )
    # acme passes nothing of volumes-v3-upload; example passes it
    base["products/acme/acme-cloud/platform.txt"] = without(listed, b"test_volume_upload")
    base["products/acme/cloud.yaml"] = product_yaml(results="acme-cloud/platform.txt")
    entries = registry.build(base, JULY_2020).entries
    head = dict(base)
    head["guidelines/next.yaml"] = require_upload(base["guidelines/next.yaml"])
    report = impact.impact(base, head, entries)
    assert report.guidelines == ["next"] and report.scored == 2
    # acme already fails next (it fails 2020.06's rebuild tests too): not "stop"
    assert [p.product for p in report.failing] == ["acme/cloud"]
    assert report.stop == []
    # a product that passes everything but the upload test would stop qualifying
    good = (FIXTURES / "platform-2020.06-pass.subunit").read_bytes()
    base2 = acme(bundled_files)
    from govbot.core.results import parse_results

    published = parse_results("p", good).results
    assert published is not None
    base2["products/acme/acme-cloud/platform.txt"] = "\n".join(
        t for t in published.published() if "test_volume_upload" not in t
    ).encode()
    base2["products/acme/cloud.yaml"] = product_yaml(results="acme-cloud/platform.txt")
    del base2["products/acme/acme-cloud/platform.subunit"]
    head2 = dict(base2)
    head2["guidelines/next.yaml"] = require_upload(base2["guidelines/next.yaml"])
    report = impact.impact(base2, head2, registry.build(base2, JULY_2020).entries)
    (stop,) = report.stop
    assert stop.product == "acme/cloud" and stop.lost[0][0] == "volumes-v3-upload"
    usage = {u.capability: (u.passing, u.of) for u in report.usage}
    assert "volumes-v3-upload" not in usage and usage["identity-v3-tokens-delete"] == (2, 2)
    md = impact.to_markdown(report)
    assert "would stop qualifying" in md and "`acme/cloud`" in md and "2017A.C5.1" in md


def test_impact_of_a_flag_on_an_approved_guideline(bundled_files: dict[str, bytes]) -> None:
    base = acme(bundled_files, "platform-2020.06-failures.subunit")
    entries = registry.build(base, JULY_2020).entries
    head = dict(base)
    g = base["guidelines/2020.06.yaml"].decode()
    test = "tempest.api.compute.volumes.test_attach_volume.AttachVolumeTestJSON.test_attach_detach_volume:\n"
    at = g.index(test)
    end = g.index("\n", g.index("idempotent_id", at)) + 1
    flag = "        flagged:\n          reason: vendors report it\n          action: fix the test\n"
    head["guidelines/2020.06.yaml"] = (g[:end] + flag + g[end:]).encode()
    report = impact.impact(base, head, entries)
    assert report.scored == 2 and report.stop == [] and report.start == []
    assert [p.product for p in report.failing] == ["acme/cloud"]  # rebuild still fails
    assert impact.impact(base, base, entries).guidelines == []


def test_impact_cli_on_git_revisions(
    tmp_path: Path, bundled_files: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    files = acme(bundled_files)
    from govbot.core.results import parse_results

    published = parse_results("p", files["products/acme/acme-cloud/platform.subunit"]).results
    assert published is not None
    files["products/acme/acme-cloud/platform.txt"] = "\n".join(
        t for t in published.published() if "test_volume_upload" not in t
    ).encode()
    del files["products/acme/acme-cloud/platform.subunit"]
    files["products/acme/cloud.yaml"] = product_yaml(results="acme-cloud/platform.txt")
    repo = write_repo(tmp_path, files)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    (repo / "guidelines/next.yaml").write_bytes(require_upload(files["guidelines/next.yaml"]))
    git(repo, "checkout", "-qb", "change")
    git(repo, "commit", "-qam", "volumes-v3-upload required")
    args = [
        "impact",
        "--repo",
        str(repo),
        "--base",
        "main",
        "--head",
        "change",
        "--at",
        "2020-08-01",
    ]
    assert cli.main(args) == 1
    assert "WOULD STOP QUALIFYING: acme/cloud" in capsys.readouterr().out
    same = ["impact", "--repo", str(repo), "--base", "main", "--head", "main"]
    assert cli.main(same) == 0
    assert "no guideline changed" in capsys.readouterr().out
    assert cli.main([*args, "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["would_stop_qualifying"][0]["newly_failing"][0]["capability"] == "volumes-v3-upload"
    assert cli.main(["impact", "--repo", str(repo), "--base", "nope", "--head", "main"]) == 2


def test_certify_bench_runs_small(capsys: pytest.CaptureFixture[str]) -> None:
    """The benchmark's own sanity: it runs and prints both figures beside their baselines."""
    from bench import certify as bench_certify

    assert bench_certify.main(["--repeat", "1", "--tests", "400", "--products", "12"]) == 0
    out = capsys.readouterr().out
    assert "bare parse (python-subunit" in out and "govbot verify" in out
    assert "over 12 certified products" in out and "12 scored" in out


def test_impact_fast_path_agrees_with_score(bundled_files: dict[str, bytes]) -> None:
    """impact.passes (booleans, early exit) decides each capability exactly as certify.score."""
    from govbot.core.certify import requirements, score
    from govbot.core.results import parse_results

    data = read_directory(bundled.root())
    from govbot.core.check import Side

    side = Side(data)
    for key, target in (("2020.06", "platform"), ("next", "compute"), ("2016.08", "platform")):
        g = side.data(key)
        assert g is not None
        req = requirements(key, g, target)
        for name in (
            "platform-2020.06-pass.subunit",
            "platform-2020.06-failures.txt",
            "platform-2018.11-pass.txt",
        ):
            results = parse_results(name, (FIXTURES / name).read_bytes()).results
            assert results is not None
            waived = frozenset({req.capabilities[0].tests[0].name})
            expected = {c.name: c.passed for c in score(req, results, waived)}
            assert impact.passes(req, results, waived) == expected
