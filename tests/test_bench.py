"""``govbot bench``: the report's shape and the synthetic repo's soundness.

Timings are never asserted: they depend on the machine and its load. What is
checked is that every figure is reported and that the synthetic repo is a
faithful scale-up (the same findings per copy), which the ratios rely on.
"""

from __future__ import annotations

from collections import Counter

from bench.validate import governed_files, replica_id, replicate, synthetic
from govbot import cli
from govbot.core.validate import classify, validate_files
from govbot.repo import bundled


def test_bench_validate_reports_every_figure(capsys):
    assert cli.main(["bench", "validate", "--scale", "2", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    for name in (
        "baseline: PyYAML C + jsonschema",
        "govbot cold",
        "govbot warm cache",
        "govbot one file changed",
        "parse that one file alone",
        "synthetic x2: baseline",
        "synthetic x2: govbot cold",
        "machine:",
    ):
        assert name in out
    assert "speedup baseline / govbot cold:" in out
    assert "synthetic / corpus, govbot cold:" in out


def test_replica_ids_keep_the_date():
    assert replica_id("2020.06", 3) == "r3.2020.06"
    assert replica_id("next", 3) == "r3.next"
    assert replica_id("dns.2020.06", 3) == "dns-r3.2020.06"
    assert replica_id("orchestration.next", 3) == "orchestration-r3.next"


def test_replica_files_classify_and_keep_their_ids_consistent():
    files = governed_files(bundled.root())
    copy = replicate(files, 2)
    guidelines = [p for p in files if p.startswith("guidelines/")]
    assert len(copy) == len(guidelines)
    for path in guidelines:
        folder, _, name = path.rpartition("/")
        new = f"{folder}/{replica_id(name.removesuffix('.yaml'), 2)}.yaml"
        assert classify(new) == classify(path)
        assert copy[new].count(b"\n") == files[path].count(b"\n")  # only the id line changed
        assert copy[new] != files[path]

    schemas = bundled.schema_set()

    def mismatched(tree):
        return {f.file for f in validate_files(tree, schemas) if f.rule == "integrity.id-mismatch"}

    # The corpus's one real defect (id 'orchestration.next' in the 2018.02 file)
    # is carried over as is; renaming introduced no other.
    assert mismatched(files) == {"guidelines/add-ons/orchestration.2018.02.yaml"}
    assert mismatched(copy) == {"guidelines/add-ons/orchestration-r2.2018.02.yaml"}


def test_synthetic_repo_has_the_same_findings_per_copy():
    files = governed_files(bundled.root())
    schemas = bundled.schema_set()
    corpus = validate_files(files, schemas)
    per_copy = Counter(f.rule for f in corpus if f.file.startswith("guidelines/"))
    once = Counter(f.rule for f in corpus if not f.file.startswith("guidelines/"))
    big = Counter(f.rule for f in validate_files(synthetic(files, 3), schemas))
    assert big == Counter({rule: 3 * n for rule, n in per_copy.items()}) + once


def test_bench_check_reports_every_figure(capsys):
    assert cli.main(["bench", "check", "--scale", "2", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    for label in ("corpus", "synthetic x2"):
        for figure in ("full cold validation", "check, no cache", "check, warm cache", "alone"):
            assert f"{label}: " in out and figure in out
        assert f"{label}: full validation / check (warm):" in out
    assert "synthetic / corpus, check (warm):" in out
    # the benchmark's change is a real one: the check sees it
    assert "1 change(s)" in out


def test_bench_tally_reports_read_and_tally(capsys):
    assert cli.main(["bench", "tally", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "SQLite" in out and "tally/read:" in out


def test_bench_reconcile_reports_govbot_and_the_naive_sweep(capsys):
    assert cli.main(["bench", "reconcile", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "govbot sweep" in out and "naive sweep" in out
    assert "counted against the rate limit" in out
