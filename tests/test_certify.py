"""Certification verdicts: the must-pass list scored per capability, each paragraph applied.

The fixtures are generated from the bundled guidelines by
tests/certification_fixtures.py; the first test proves they are current.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from govbot import cli
from govbot.core import mustpass
from govbot.core.certification import CertificationPolicy, Waiver
from govbot.core.certify import MISSING, PASSED, requirements, verify
from govbot.core.findings import Severity
from govbot.core.results import TestResults, parse_results
from govbot.core.submission import Guidelines, check_submission, verify_product
from govbot.repo import bundled
from govbot.repo.snapshots import read_directory
from tests import certification_fixtures

FIXTURES = certification_fixtures.OUT
JULY_2020 = date(2020, 7, 1)
PROJECTS = ("cinder", "glance", "keystone", "neutron", "nova", "swift")


def product_yaml(
    guideline: str = "2020.06",
    results: str = "acme-cloud/platform.subunit",
    release: str = "ussuri",
    attested: tuple[str, ...] = PROJECTS,
    extra_programs: str = "",
    contact: str = "ops@acme.example",
) -> bytes:
    sections = "\n".join(f"  {p}: {{attested: true}}" for p in attested) or "  {}"
    return f"""name: Acme Cloud
vendor: Acme
kind: public-cloud
release: {release}
regions: [RegionOne]
description: Acme's public regions, OpenStack {release} on KVM with OVS, Ceph volumes and Swift.
contact: {{name: Acme Ops, email: {contact}}}
programs:
  - program: platform
    guideline: '{guideline}'
    results: {results}
{extra_programs}designated_sections:
{sections}
""".encode()


@pytest.fixture(scope="module")
def bundled_files() -> dict[str, bytes]:
    return read_directory(bundled.root())


@pytest.fixture(scope="module")
def guidelines(bundled_files: dict[str, bytes]) -> Guidelines:
    return Guidelines(bundled_files)


def fixture(name: str) -> TestResults:
    read = parse_results(name, (FIXTURES / name).read_bytes())
    assert read.ok and read.results is not None
    return read.results


def test_fixtures_are_current() -> None:
    for name, data in certification_fixtures.files().items():
        assert (FIXTURES / name).read_bytes() == data, (
            f"run python -m tests.certification_fixtures ({name})"
        )


def test_required_tests_are_the_mustpass_list(guidelines: Guidelines) -> None:
    """The tests a verdict counts are exactly `govbot mustpass`: names, aliases, no flagged."""
    data = guidelines.side.data("2020.06")
    assert data is not None
    for target in ("platform", "compute", "object"):
        req = requirements("2020.06", data, target)
        counted = sorted(
            f"{name}[id-{t.ident}]"
            for c in req.capabilities
            if c.status == "required"
            for t in c.tests
            if not t.flagged
            for name in (t.name, *t.aliases)
        )
        assert counted == mustpass.test_list(data, target, ["required"])


def test_passing_stream_qualifies_by_alias_and_by_id(guidelines: Guidelines) -> None:
    req = guidelines.requirements("2020.06", "platform")
    assert not isinstance(req, str)
    v = verify(
        fixture("platform-2020.06-pass.subunit"),
        req,
        guidelines.validity,
        JULY_2020,
        release="ussuri",
    )
    assert v.qualifies and v.missing() == []
    outcomes = {o.test.name: o for c in v.capabilities for o in c.tests}
    alias = outcomes[certification_fixtures.ALIAS_ONLY]
    assert alias.state == PASSED and alias.via.endswith("ServersTestManualDisk.test_list_servers")
    assert outcomes[certification_fixtures.RENAMED].via == "id"
    assert [f.rule for f in v.findings] == ["2017A.C3.2", "2017A.D3"]  # notices only
    assert all(f.severity is Severity.NOTICE for f in v.findings)


@pytest.mark.parametrize(
    "name",
    [
        "platform-2020.06-failures.subunit",
        "platform-2020.06-failures.json",
        "platform-2020.06-failures.txt",
    ],
)
def test_failures_name_the_missing_tests_in_every_format(guidelines: Guidelines, name: str) -> None:
    req = guidelines.requirements("2020.06", "platform")
    assert not isinstance(req, str)
    v = verify(fixture(name), req, guidelines.validity, JULY_2020, release="ussuri")
    assert not v.qualifies
    data = guidelines.side.data("2020.06")
    assert data is not None
    rebuild = set(data["capabilities"][certification_fixtures.FAILING_CAPABILITY]["tests"])
    failing = {c.name: {o.test.name for o in c.of(MISSING)} for c in v.capabilities if not c.passed}
    assert failing[certification_fixtures.FAILING_CAPABILITY] == rebuild
    assert len(failing[certification_fixtures.SKIPPED_CAPABILITY]) == 1
    errors = [f for f in v.findings if f.severity is Severity.ERROR]
    assert [f.rule for f in errors] == ["2017A.C1.1", "2017A.C1.1"]
    assert "Vendors are responsible for executing tests" in errors[0].message


def test_two_latest_approved_guidelines(guidelines: Guidelines) -> None:
    req = guidelines.requirements("2018.11", "platform")
    assert not isinstance(req, str)
    old = fixture("platform-2018.11-pass.txt")
    then = verify(old, req, guidelines.validity, date(2019, 3, 1), release="queens")
    assert then.qualifies and then.valid == ("2018.11", "2018.02")
    now = verify(old, req, guidelines.validity, JULY_2020, release="queens")
    c6 = [f for f in now.findings if f.rule == "2017A.C6.1"]
    assert not now.qualifies and c6[0].severity is Severity.ERROR
    assert "usable: 2020.06, 2019.11" in c6[0].message
    assert guidelines.validity.expires("2018.11") == date(2019, 11, 1)
    assert guidelines.validity.expires("2020.06") is None


def test_release_must_be_named(guidelines: Guidelines) -> None:
    req = guidelines.requirements("2020.06", "platform")
    assert not isinstance(req, str)
    v = verify(
        fixture("platform-2020.06-pass.subunit"),
        req,
        guidelines.validity,
        JULY_2020,
        release="queens",
    )
    d14 = [f for f in v.findings if f.rule == "2017A.D1.4"]
    assert not v.qualifies and "does not name release 'queens'" in d14[0].message


def test_add_on_program(guidelines: Guidelines) -> None:
    req = guidelines.requirements("dns.2020.06", "dns")
    assert not isinstance(req, str)
    v = verify(
        fixture("dns-2020.06-pass.json"), req, guidelines.validity, JULY_2020, release="ussuri"
    )
    assert v.qualifies and v.valid == ("dns.2020.06", "dns.2019.11")
    assert v.program == "OpenStack with Dns"


def test_waivers_apply_only_while_active_and_allowed(guidelines: Guidelines) -> None:
    req = guidelines.requirements("2016.08", "platform")
    assert not isinstance(req, str)
    data = guidelines.side.data("2016.08")
    assert data is not None
    tests = mustpass.test_list(data, "platform", ["required"], aliases=False)
    waived = tests[0].split("[")[0]
    results = parse_results("r.txt", "\n".join(tests[1:]).encode()).results
    assert results is not None
    from govbot.core.products import from_parsed
    from govbot.core.yamlio import parse_bytes

    product = from_parsed(
        parse_bytes("products/acme/cloud.yaml", product_yaml("2016.08", release="mitaka"))
    )
    assert product is not None
    waiver = Waiver(
        "acme/cloud",
        "2016.08",
        frozenset({waived}),
        "strict API response checking",
        date(2017, 6, 1),
    )
    policy = CertificationPolicy(waivers=(waiver,))
    during = verify(
        results, req, guidelines.validity, date(2016, 10, 1), product=product, policy=policy
    )
    assert during.qualifies and during.waived == (waived,)
    assert any(
        f.rule == "govbot.waiver" and "until 2017-06-01" in f.message for f in during.findings
    )
    after = verify(
        results, req, guidelines.validity, date(2017, 6, 1), product=product, policy=policy
    )
    assert not after.qualifies and any("expired on 2017-06-01" in f.message for f in after.findings)
    late = replace(policy, waivers_last_guideline="2016.01")
    refused = verify(
        results, req, guidelines.validity, date(2016, 10, 1), product=product, policy=late
    )
    assert not refused.qualifies and any(
        "waivers end with the 2016.01" in f.message for f in refused.findings
    )


def test_verify_product_located_findings(bundled_files: dict[str, bytes]) -> None:
    files = dict(bundled_files)
    files["products/acme/cloud.yaml"] = product_yaml(attested=("nova", "keystone"))
    files["products/acme/acme-cloud/platform.subunit"] = (
        FIXTURES / "platform-2020.06-failures.subunit"
    ).read_bytes()
    checked = verify_product(files, "products/acme/cloud.yaml", JULY_2020)
    assert checked.product is not None and not checked.qualifies
    (v,) = checked.verdicts
    by_rule = {f.rule: f for f in v.findings if f.severity is Severity.ERROR}
    assert by_rule["2017A.C1.1"].file == "products/acme/cloud.yaml"
    assert by_rule["2017A.C1.1"].line == 11  # programs[0].results
    assert (
        by_rule["2017A.D3"].line == 12
        and "cinder, glance, neutron, swift" in by_rule["2017A.D3"].message
    )


def test_verify_product_missing_results_and_guideline(bundled_files: dict[str, bytes]) -> None:
    files = dict(bundled_files)
    files["products/acme/cloud.yaml"] = product_yaml(guideline="2099.01")
    checked = verify_product(files, "products/acme/cloud.yaml", JULY_2020)
    assert [f.rule for f in checked.findings] == ["product.unknown-guideline"]
    files["products/acme/cloud.yaml"] = product_yaml()
    checked = verify_product(files, "products/acme/cloud.yaml", JULY_2020)
    assert [f.rule for f in checked.findings] == ["product.missing-results"]
    assert checked.findings[0].line == 11


def test_check_submission_respects_past_validations(bundled_files: dict[str, bytes]) -> None:
    results = (FIXTURES / "platform-2018.11-pass.txt").read_bytes()
    base = dict(bundled_files)
    base["products/acme/cloud.yaml"] = product_yaml("2018.11", "acme-cloud/platform.txt", "queens")
    base["products/acme/acme-cloud/platform.txt"] = results
    head = dict(base)
    head["products/acme/cloud.yaml"] = product_yaml(
        "2018.11", "acme-cloud/platform.txt", "queens", contact="new@acme.example"
    )
    (edit,) = check_submission(base, head, JULY_2020)
    c6 = [f for f in edit.verdicts[0].findings if f.rule == "2017A.C6.1"]
    assert edit.qualifies and c6[0].severity is Severity.NOTICE and "C6.2" in c6[0].message
    fresh = dict(bundled_files)
    (new,) = check_submission(fresh, head, JULY_2020)
    assert not new.qualifies
    assert check_submission(head, head, JULY_2020) == []


def write_repo(tmp_path: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return tmp_path


def test_cli_exit_codes_and_formats(capsys: pytest.CaptureFixture[str]) -> None:
    ok = str(FIXTURES / "platform-2020.06-pass.subunit")
    bad = str(FIXTURES / "platform-2020.06-failures.json")
    base = ["certify", "--guideline", "2020.06", "--at", "2020-07-01", "--release", "ussuri"]
    assert cli.main([*base[:1], ok, *base[1:]]) == 0
    assert "QUALIFIES" in capsys.readouterr().out
    assert cli.main([base[0], bad, *base[1:], "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["qualifies"] is False and doc["label"].startswith("Unofficial Results")
    assert doc["verdicts"][0]["valid_guidelines"] == ["2020.06", "2019.11"]
    assert cli.main([base[0], bad, *base[1:], "--format", "markdown"]) == 1
    assert "| ❌ | required | `compute-servers-rebuild` | 0/3 |" in capsys.readouterr().out
    assert cli.main([base[0], ok, "--guideline", "2042.01"]) == 2
    assert "2042.01" in capsys.readouterr().err
    assert cli.main([base[0], ok, "--guideline", "2020.06", "--target", "nope"]) == 2
    assert cli.main([base[0], ok, "--guideline", "2020.06", "--at", "July"]) == 2


def test_cli_damaged_results_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    damaged = tmp_path / "run.subunit"
    damaged.write_bytes(b"test: foo\nsuccess: foo\n")
    assert cli.main(["certify", str(damaged), "--guideline", "2020.06"]) == 1
    assert "not a subunit v2 stream" in capsys.readouterr().out


def test_cli_product(
    tmp_path: Path, bundled_files: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    files = dict(bundled_files)
    files["products/acme/cloud.yaml"] = product_yaml()
    files["products/acme/acme-cloud/platform.subunit"] = (
        FIXTURES / "platform-2020.06-pass.subunit"
    ).read_bytes()
    repo = write_repo(tmp_path, files)
    args = [
        "certify",
        "--product",
        "products/acme/cloud.yaml",
        "--repo",
        str(repo),
        "--at",
        "2020-07-01",
    ]
    assert cli.main(args) == 0
    assert "acme/cloud: OpenStack Powered Platform" in capsys.readouterr().out
    (repo / "products/acme/cloud.yaml").write_bytes(
        product_yaml().replace(b"kind: public-cloud", b"kind: cloud")
    )
    assert cli.main(args) == 1
    out = capsys.readouterr().out
    assert "products/acme/cloud.yaml:3:1: error: [schema.enum]" in out
