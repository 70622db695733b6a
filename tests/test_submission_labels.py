"""The labels govbot alone manages on a submission, from real verdicts on the bundled data."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from govbot.core import labels
from govbot.core.findings import Finding, Severity
from govbot.core.submission import check_submission
from govbot.repo import bundled
from govbot.repo.snapshots import read_directory
from tests.certification_fixtures import OUT as FIXTURES
from tests.test_certify import PROJECTS, product_yaml

PRODUCT = "products/acme/cloud.yaml"
MARCH_2026 = date(2026, 3, 2)


@pytest.fixture(scope="module")
def base() -> dict[str, bytes]:
    return read_directory(bundled.root())


def judged(
    base: dict[str, bytes], files: dict[str, str], at: date = MARCH_2026, **product: Any
) -> frozenset[str]:
    """The labels of a change adding acme's product with results ``files`` (name -> fixture)."""
    head = dict(base)
    head[PRODUCT] = product_yaml(**product)
    for name, fixture in files.items():
        head[f"products/acme/{name}"] = (FIXTURES / fixture).read_bytes()
    return labels.for_submission(check_submission(base, head, at))


def test_a_qualifying_program_is_verified_against_its_guideline(base: dict[str, bytes]) -> None:
    results = {"acme-cloud/platform.subunit": "platform-2020.06-pass.subunit"}
    assert judged(base, results) == {"tests-verified-2020.06"}


def test_missing_required_tests(base: dict[str, bytes]) -> None:
    results = {"acme-cloud/platform.subunit": "platform-2020.06-failures.subunit"}
    assert judged(base, results) == {"missing-tests"}


def test_a_guideline_vendors_may_no_longer_use_or_that_does_not_exist(
    base: dict[str, bytes],
) -> None:
    old = {"acme-cloud/platform.txt": "platform-2018.11-pass.txt"}
    kw = {"results": "acme-cloud/platform.txt", "guideline": "2018.11", "release": "rocky"}
    assert judged(base, old, **kw) == {"guideline-not-valid"}
    assert judged(base, old, date(2019, 8, 1), **kw) == {"tests-verified-2018.11"}  # then valid
    assert judged(base, old, **{**kw, "guideline": "2042.01"}) == {"guideline-not-valid"}


def test_each_program_is_labelled_for_its_own_guideline(base: dict[str, bytes]) -> None:
    dns = "  - program: dns\n    guideline: dns.2020.06\n    results: acme-cloud/dns.json\n"
    results = {
        "acme-cloud/platform.subunit": "platform-2020.06-failures.subunit",
        "acme-cloud/dns.json": "dns-2020.06-pass.json",
    }
    attested = (*PROJECTS, "designate")
    assert judged(base, results, extra_programs=dns, attested=attested) == {
        "missing-tests",
        "tests-verified-dns.2020.06",
    }
    # not attesting designate's designated sections (D3) verifies nothing for dns
    assert judged(base, results, extra_programs=dns) == {"missing-tests"}


def test_unreadable_submissions_are_invalid_and_verify_nothing(base: dict[str, bytes]) -> None:
    head = dict(base)
    head[PRODUCT] = product_yaml()
    head["products/acme/acme-cloud/platform.subunit"] = b"\xb3\x29\x01 not a stream"
    assert labels.for_submission(check_submission(base, head, MARCH_2026)) == {
        "submission-invalid"  # its "missing" tests say nothing about the cloud
    }
    head[PRODUCT] = b"programs: [oops"
    assert labels.for_submission(check_submission(base, head, MARCH_2026)) == {"submission-invalid"}
    # a schema error the checker found in the product file: verified results or not
    good = dict(base)
    good[PRODUCT] = product_yaml()
    good["products/acme/acme-cloud/platform.subunit"] = (
        FIXTURES / "platform-2020.06-pass.subunit"
    ).read_bytes()
    schema = Finding(PRODUCT, "schema.enum", "kind: 'cloud' is not one of …", Severity.ERROR, 3)
    elsewhere = Finding("guidelines/next.yaml", "schema.type", "…", Severity.ERROR, 9)
    verdicts = check_submission(base, good, MARCH_2026)
    assert labels.for_submission(verdicts, [elsewhere]) == {"tests-verified-2020.06"}
    assert labels.for_submission(verdicts, [schema]) == {"submission-invalid"}


def test_only_govbots_labels_are_corrected() -> None:
    assert labels.is_managed("tests-verified-2020.06") and labels.is_managed("missing-tests")
    assert not labels.is_managed("tests-verified-") and not labels.is_managed("bug")
    current = ["bug", "missing-tests", "tests-verified-2019.11"]
    assert labels.corrections(current, {"tests-verified-2020.06"}) == (
        ["tests-verified-2020.06"],
        ["missing-tests", "tests-verified-2019.11"],
    )
    assert labels.corrections(["tests-verified-2020.06", "bug"], {"tests-verified-2020.06"}) == (
        [],
        [],
    )
    assert labels.corrections(["bug"], {"bug"}) == ([], [])  # never a label of the project's own
