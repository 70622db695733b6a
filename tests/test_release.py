"""``govbot release`` against the real interop commit "Approve 2020.06, supersede 2018.02".

../shared/interop is the repo *after* that commit. The state before it is
rebuilt in govbot's layout: 2020.06 (and its add-ons) absent, their content
as the drafts (id next, status draft), and 2018.02 approved. The 2018.02
add-ons are superseded after the commit while the 2018.11 ones are approved,
so they are taken as approved before it: superseding a platform guideline
retires the add-ons approved with it (see govbot.core.release).
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from govbot import cli
from govbot.core import mustpass
from govbot.core.check import check
from govbot.core.interop import to_govbot, to_interop
from govbot.core.release import (
    SCHEMA_REFS,
    ReleaseError,
    apply,
    assets,
    audit,
    guidelines,
    manifest,
    manifest_in,
    prepare,
    release_notes,
    tag_message,
    verify,
)
from govbot.core.rules import split_key
from govbot.core.yamlio import dump
from govbot.repo import bundled

DAY = date(2020, 6, 11)
RELEASE = "2020.06"
FAMILIES = ("", "dns.", "orchestration.")


def _path(key: str) -> str:
    family = (split_key(key) or ("", ""))[0]
    return f"guidelines/add-ons/{key}.yaml" if family else f"guidelines/{key}.yaml"


def _yaml(key: str, g: dict[str, Any]) -> bytes:
    return dump(g, schema_ref=SCHEMA_REFS["." in key]).encode()


def _real(interop: Path) -> dict[str, dict[str, Any]]:
    """Every real guideline after the commit, in govbot's form, by key."""
    files = sorted(interop.glob("*.json")) + sorted((interop / "add-ons").glob("*.json"))
    return {p.stem: to_govbot(json.loads(p.read_bytes())) for p in files}


@pytest.fixture(scope="module")
def after_real(interop: Path) -> dict[str, dict[str, Any]]:
    return _real(interop)


@pytest.fixture(scope="module")
def before(after_real: dict[str, dict[str, Any]]) -> dict[str, bytes]:
    files = {}
    for key, g in after_real.items():
        version = (split_key(key) or ("", ""))[1]
        if version in ("next", RELEASE):
            continue
        g = {**g, "status": "approved"} if version == "2018.02" else g
        files[_path(key)] = _yaml(key, g)
    for fam in FAMILIES:
        draft = {**after_real[f"{fam}{RELEASE}"], "id": f"{fam}next", "status": "draft"}
        files[_path(f"{fam}next")] = _yaml(f"{fam}next", draft)
    return files


@pytest.fixture(scope="module")
def prepared(before: dict[str, bytes]) -> Any:
    return prepare(before, RELEASE, ["2018.02"], DAY)


@pytest.fixture(scope="module")
def after(before: dict[str, bytes], prepared: Any) -> dict[str, bytes]:
    return apply(before, prepared.files)


def _data(files: dict[str, bytes]) -> dict[str, dict[str, Any]]:
    return {k: d.data for k, d in guidelines(files).items()}


# -- prepare -----------------------------------------------------------------------


def test_statuses_after_prepare_equal_the_real_commit(after, after_real) -> None:
    got = {k: g["status"] for k, g in _data(after).items() if not k.endswith("next")}
    want = {k: g["status"] for k, g in after_real.items() if not k.endswith("next")}
    assert got == want
    assert got[RELEASE] == "approved" and got["2018.02"] == "superseded"
    assert got["dns.2018.02"] == got["orchestration.2018.02"] == "superseded"


def test_status_transitions_are_those_of_the_commit(before, after) -> None:
    old, new = _data(before), _data(after)
    moved = {k: (old.get(k, {}).get("status"), g["status"]) for k, g in new.items()}
    moved = {k: v for k, v in moved.items() if v[0] != v[1]}
    assert moved == {
        "2018.02": ("approved", "superseded"),
        "dns.2018.02": ("approved", "superseded"),
        "orchestration.2018.02": ("approved", "superseded"),
        RELEASE: (None, "approved"),
        f"dns.{RELEASE}": (None, "approved"),
        f"orchestration.{RELEASE}": (None, "approved"),
    }


def test_release_is_the_real_file_plus_its_approval_date(after, after_real) -> None:
    new = _data(after)
    for fam in FAMILIES:
        g = dict(new[f"{fam}{RELEASE}"])
        assert g.pop("approved_on") == "2020-06-11"
        real = after_real[f"{fam}{RELEASE}"]
        if fam == "orchestration.":  # the real file says target_approval: orchestration.2020.06
            assert real["target_approval"] == "orchestration.2020.06"
            real = {**real, "target_approval": RELEASE}
        assert to_interop(g) == to_interop(real)
        assert g["replaces"] == f"{fam}2019.11"


def test_new_drafts_start_from_the_release(after) -> None:
    new = _data(after)
    for fam in FAMILIES:
        draft, rel = new[f"{fam}next"], new[f"{fam}{RELEASE}"]
        assert draft["status"] == "draft" and draft["replaces"] == f"{fam}{RELEASE}"
        assert "approved_on" not in draft
        same = {"id", "status", "replaces", "approved_on", "source"}
        assert {k: v for k, v in draft.items() if k not in same} == {
            k: v for k, v in rel.items() if k not in same
        }
    assert after["guidelines/next.yaml"].startswith(
        b"# yaml-language-server: $schema=../schemas/guideline.schema.json\n"
    )


def test_superseding_changes_one_line(before, prepared) -> None:
    for key in ("2018.02", "dns.2018.02", "orchestration.2018.02"):
        old = before[_path(key)].decode().splitlines()
        new = prepared.files[_path(key)].decode().splitlines()
        changed = [d for d in difflib.ndiff(old, new) if d[:1] in "+-"]
        assert changed == ["- status: approved", "+ status: superseded"]


def test_prepared_change_passes_govbot_check(before, after) -> None:
    result = check(before, after, bundled.schema_set(), None)
    assert result.errors == 0, [f.message for f in result.findings if f.severity == "error"]


def test_changes_name_every_file(prepared) -> None:
    assert {p for p, _ in prepared.changes} == set(prepared.files)
    assert all(b is not None for b in prepared.files.values())
    assert ("guidelines/2018.02.yaml", "2018.02: status approved -> superseded") in prepared.changes
    for fam in FAMILIES:
        assert f"# Release notes: {fam}{RELEASE}\n" in prepared.notes


def test_an_addon_id_supersedes_only_that_addon(before) -> None:
    result = _data(apply(before, prepare(before, RELEASE, ["dns.2018.02"], DAY).files))
    assert result["dns.2018.02"]["status"] == "superseded"
    assert result["2018.02"]["status"] == result["orchestration.2018.02"]["status"] == "approved"


@pytest.mark.parametrize(
    ("release_id", "supersede", "message"),
    [
        ("2020.6", [], "not YYYY.MM"),
        ("2020.13", [], "not YYYY.MM"),
        ("2020.06\n", [], "not YYYY.MM"),
        ("next", [], "not YYYY.MM"),
        ("../2020.06", [], "not YYYY.MM"),
        ("2019.11", [], "2019.11 exists already: guidelines/2019.11.yaml"),
        ("2019.08", [], "older than guideline 2019.11"),
        (RELEASE, ["2014.01"], "cannot supersede '2014.01': no such guideline"),
        (RELEASE, ["next"], "cannot supersede 'next': no such guideline"),
        (RELEASE, ["2017.09"], "cannot supersede 2017.09: it is superseded, not approved"),
    ],
)
def test_bad_input_is_refused(before, release_id, supersede, message) -> None:
    with pytest.raises(ReleaseError, match=re.escape(message)):
        prepare(before, release_id, supersede, DAY)


def test_no_draft_is_refused(before) -> None:
    files = {p: b for p, b in before.items() if p != "guidelines/next.yaml"}
    with pytest.raises(ReleaseError, match=r"guidelines/next\.yaml: no draft"):
        prepare(files, RELEASE, [], DAY)


def test_unreadable_guideline_is_refused(before) -> None:
    with pytest.raises(ReleaseError, match=r"guidelines/2019\.11\.yaml: cannot be read"):
        prepare({**before, "guidelines/2019.11.yaml": b"id: [\n"}, RELEASE, [], DAY)


# -- release notes -------------------------------------------------------------------


def test_notes_on_the_real_2019_11_to_2020_06(after_real) -> None:
    """No capability moved in 2020.06: the notes say so and show what did change."""
    notes = release_notes(after_real["2019.11"], after_real[RELEASE], "2019.11", RELEASE)
    assert notes == release_notes(after_real["2019.11"], after_real[RELEASE], "2019.11", RELEASE)
    assert notes.startswith("# Release notes: 2020.06\n\n2020.06 replaces 2019.11: 5 change(s).")
    assert "No capability was added, promoted, deprecated or removed." in notes
    assert "| Capabilities removed | 0 |" in notes
    assert "- ceilometer: informational -> none (no longer designated)" in notes
    assert "heat (informational): guidance Not a core capability, add-on program planned." in notes
    assert "- releases: rocky, stein, train, ussuri -> stein, train, ussuri, victoria" in notes
    assert "`9bd78bcd65c46623b6f04ebdc3efe18375fd296f` -> `d43223773d75" in notes


def test_notes_on_the_real_2019_06_to_2019_11(after_real) -> None:
    """2019.11 dropped the 14 volumes v2/v3-reserve capabilities that 2019.06 had removed."""
    notes = release_notes(after_real["2019.06"], after_real["2019.11"], "2019.06", "2019.11")
    assert "| Capabilities removed | 14 |" in notes
    assert "## Capabilities removed" in notes
    assert "- `volumes-v2-clone` in os_powered_compute (was removed; no longer listed)" in notes
    assert "- `volumes-v3-reserve` in os_powered_compute" in notes
    assert "no longer defined" not in notes  # the status change already says it


def test_notes_group_every_kind_of_change(after_real) -> None:
    prev = copy.deepcopy(after_real[RELEASE])
    comp = prev["components"]["os_powered_compute"]["capabilities"]
    comp["required"].remove("compute-servers-lock")
    comp["advisory"].append("compute-servers-lock")
    head = copy.deepcopy(prev)
    caps, comp = head["capabilities"], head["components"]["os_powered_compute"]["capabilities"]
    comp["advisory"].remove("compute-servers-lock")
    comp["required"].append("compute-servers-lock")
    comp["required"].remove("compute-quotas-get")
    comp["deprecated"].append("compute-quotas-get")
    caps["compute-new"] = {"description": "new", "tests": {"tempest.api.new.test_x": {}}}
    comp["advisory"].append("compute-new")
    tests = caps["compute-servers-list"]["tests"]
    flagged = next(t for t, d in tests.items() if d.get("flagged"))
    unflagged = next(t for t, d in tests.items() if not d.get("flagged"))
    del tests[flagged]["flagged"]
    tests[unflagged]["flagged"] = {"reason": "fails on <ironic>", "action": "x"}
    tests[unflagged]["idempotent_id"] = "id-00000000-0000-0000-0000-000000000000"
    head["scoring"]["cutoff_score"] = 75
    notes = release_notes(prev, head, "2020.06", "2021.01")
    sections = {s.split("\n", 1)[0]: s for s in notes.split("\n## ")[1:]}
    assert "`compute-new` in os_powered_compute, as advisory" in sections["Capabilities added"]
    assert (
        "`compute-servers-lock` in os_powered_compute (was advisory)"
        in sections["Capabilities promoted to required"]
    )
    assert "`compute-quotas-get`" in sections["Capabilities deprecated"]
    assert "`tempest.api.new.test_x` (compute-new)" in sections["Tests added"]
    assert (
        f"`{unflagged}` (compute-servers-list): fails on &lt;ironic>" in sections["Tests flagged"]
    )
    assert f"`{flagged}` (compute-servers-list)" in sections["Tests unflagged"]
    assert "`id-00000000-0000-0000-0000-000000000000`" in sections["Idempotent id changes"]
    assert "cut-off score: 74 -> 75" in sections["Scoring criteria and cut-off"]
    assert "| Capabilities added | 1 |" in notes and "| Tests flagged | 1 |" in notes


def test_notes_for_a_first_release(after_real) -> None:
    notes = release_notes(None, after_real["dns.2018.02"], None, "dns.2018.02")
    assert "dns.2018.02 is the first of its family" in notes


# -- assets and manifest ---------------------------------------------------------------


def test_assets_of_the_release(after, prepared) -> None:
    docs = guidelines(after)
    doc = docs[RELEASE]
    files = assets(doc.data, RELEASE, prepared.notes, source=doc.raw)
    assert set(files) == {f"{RELEASE}.{ext}" for ext in ("yaml", "json", "md", "html")} | {
        "RELEASE-NOTES.md",
        "tests-platform.txt",
        "tests-compute.txt",
        "tests-object.txt",
    }
    assert files[f"{RELEASE}.yaml"] == doc.raw
    assert json.loads(files[f"{RELEASE}.json"]) == to_interop(doc.data)
    for target in ("platform", "compute", "object"):
        want = mustpass.test_list(doc.data, target, ("required",))
        assert files[f"tests-{target}.txt"].decode().splitlines() == want
        assert not any("flagged" in t for t in want)
    dns = docs[f"dns.{RELEASE}"]
    dns_files = assets(dns.data, f"dns.{RELEASE}", "notes", source=dns.raw)
    assert [n for n in dns_files if n.startswith("tests-")] == ["tests-dns.txt"]
    assert dns_files["tests-dns.txt"].decode().splitlines() == mustpass.test_list(dns.data, "dns")


def test_flagged_tests_are_left_out_and_aliases_listed(after) -> None:
    g = guidelines(after)[RELEASE].data
    listed = assets(g, RELEASE, "")["tests-compute.txt"].decode()
    tests = g["capabilities"]["compute-servers-list"]["tests"]
    flagged = next(t for t, d in tests.items() if d.get("flagged"))
    alias = next(a for d in tests.values() if not d.get("flagged") for a in d.get("aliases", []))
    assert f"{flagged}[" not in listed and f"{alias}[" in listed


def test_a_superseded_guideline_publishes_as_approved(before, after) -> None:
    """Assets made on approval day still verify after the guideline is superseded."""
    old, new = guidelines(before)["2018.02"], guidelines(after)["2018.02"]
    assert new.data["status"] == "superseded"
    assert assets(old.data, "2018.02", "n", source=old.raw) == assets(
        new.data, "2018.02", "n", source=new.raw
    )


def test_drafts_are_not_published(after) -> None:
    with pytest.raises(ReleaseError, match="next is draft"):
        assets(guidelines(after)["next"].data, "next", "")


def test_manifest_verifies_and_names_an_altered_file(after) -> None:
    files = assets(guidelines(after)[RELEASE].data, RELEASE, "notes")
    signed = manifest(files)
    doc = json.loads(signed)
    assert doc["guideline"] == RELEASE and list(doc["files"]) == sorted(files)
    assert doc["files"]["tests-object.txt"]["bytes"] == len(files["tests-object.txt"])
    assert verify(files, signed) == [] and verify(files, signed, RELEASE) == []
    altered = {**files, "tests-compute.txt": files["tests-compute.txt"].replace(b"[id-", b"[xx-")}
    assert verify(altered, signed) == ["tests-compute.txt: sha256 differs from the manifest"]
    missing = {n: b for n, b in files.items() if n != "RELEASE-NOTES.md"}
    assert verify(missing, signed) == ["RELEASE-NOTES.md: missing"]
    assert verify({**files, "x.txt": b""}, signed) == ["x.txt: not in the manifest"]
    assert verify(files, signed, "2019.11") == ["manifest: describes '2020.06', not '2019.11'"]
    assert verify(files, b"[]")[0].startswith("manifest: not a govbot release manifest")


def test_the_tag_message_carries_the_manifest(after) -> None:
    files = assets(guidelines(after)[RELEASE].data, RELEASE, "notes")
    signed = manifest(files, RELEASE)
    message = tag_message(RELEASE, signed)
    assert message.startswith(f"Approve {RELEASE}\n\n")
    assert manifest_in(message) == signed
    # forges may trim the message's trailing newline
    assert json.loads(manifest_in(message.rstrip()) or b"") == json.loads(signed)
    assert manifest_in(f"Approve {RELEASE}") is None  # a tag somebody else wrote
    assert manifest_in(message.replace('"files"', '"files')) is None


def test_audit_checks_published_files_against_manifest_and_repo(after) -> None:
    files = assets(guidelines(after)[RELEASE].data, RELEASE, "notes")
    published = {**files, "manifest.json": manifest(files, RELEASE)}
    assert audit(files, published, RELEASE) == []
    # Gerrit keeps only the manifest (in the tag): the rebuilt files are checked against it
    assert audit(files, {"manifest.json": published["manifest.json"]}, RELEASE) == []
    rebuilt = {**files, "RELEASE-NOTES.md": b"other notes\n"}
    assert audit(rebuilt, {"manifest.json": published["manifest.json"]}, RELEASE) == [
        "RELEASE-NOTES.md: 12 bytes, the manifest says 5"
    ]
    # a published file that matches its manifest but not the repository at the tag
    assert audit(rebuilt, published, RELEASE) == [
        "RELEASE-NOTES.md: differs, compared with the repository at the tag"
    ]
    assert audit(files, files, RELEASE) == ["manifest.json: not published"]


# -- the command line, on scratch git repos -------------------------------------------------


@pytest.fixture
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither the host's git config nor a surrounding git environment may matter."""
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(Path(tmp_path_factory.getbasetemp()).parent))
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY"):
        monkeypatch.delenv(var, raising=False)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, check=True, text=True
    ).stdout.strip()


def _write(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


@pytest.fixture
def repo(tmp_path: Path, before: dict[str, bytes], isolated_git: None) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    _write(root, before)
    git(root, "init", "--quiet", "--initial-branch=main")
    for key, value in (("user.name", "Test"), ("user.email", "t@example.org")):
        git(root, "config", key, value)
    git(root, "config", "commit.gpgsign", "false")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "--message", "before")
    return root


def run(*argv: str) -> int:
    return cli.main(["release", *argv])


def test_cli_prepare_commits_on_a_release_branch(repo, after, prepared, capsys) -> None:
    args = ("prepare", RELEASE, "--supersede", "2018.02", "--date", "2020-06-11")
    assert run(*args, "--repo", str(repo)) == 0
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "release/2020.06"
    assert git(repo, "log", "-1", "--format=%s") == "Approve 2020.06, supersede 2018.02"
    assert git(repo, "rev-parse", "HEAD~1") == git(repo, "rev-parse", "main")
    assert git(repo, "status", "--porcelain") == ""
    touched = git(repo, "diff", "--name-only", "main", "HEAD").splitlines()
    assert sorted(touched) == sorted(prepared.files)
    for path in touched:
        assert (repo / path).read_bytes() == after[path]
    assert (
        "guidelines/2018.02.yaml: 2018.02: status approved -> superseded" in capsys.readouterr().out
    )


def test_cli_prepare_refuses_a_dirty_tree(repo, capsys) -> None:
    (repo / "guidelines" / "next.yaml").write_bytes(b"id: next\n")
    head = git(repo, "rev-parse", "HEAD")
    assert run("prepare", RELEASE, "--repo", str(repo)) == 2
    assert "working tree is dirty" in capsys.readouterr().err
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert (
        git(repo, "rev-parse", "HEAD") == head and git(repo, "branch", "--list", "release/*") == ""
    )


def test_cli_prepare_bad_input_changes_nothing(repo, capsys) -> None:
    assert run("prepare", RELEASE, "--supersede", "2014.01", "--repo", str(repo)) == 2
    assert "cannot supersede '2014.01'" in capsys.readouterr().err
    assert (
        git(repo, "status", "--porcelain") == ""
        and git(repo, "branch", "--list", "release/*") == ""
    )


def test_cli_prepare_without_git_writes_files(tmp_path, before, after, isolated_git) -> None:
    _write(tmp_path, before)
    assert (
        run(
            "prepare",
            RELEASE,
            "--supersede",
            "2018.02",
            "--date",
            "2020-06-11",
            "--repo",
            str(tmp_path),
        )
        == 0
    )
    assert (tmp_path / "guidelines/2020.06.yaml").read_bytes() == after["guidelines/2020.06.yaml"]
    assert run("prepare", "2021.01", "--branch", "x", "--repo", str(tmp_path)) == 2


def test_cli_notes_assets_and_verify(tmp_path, after, capsys) -> None:
    repo = tmp_path / "repo"
    _write(repo, after)
    assert run("notes", RELEASE, "--repo", str(repo)) == 0
    g = _data(after)
    assert capsys.readouterr().out == release_notes(g["2019.11"], g[RELEASE], "2019.11", RELEASE)
    out = tmp_path / "assets"
    assert run("assets", RELEASE, "--repo", str(repo), "-o", str(out)) == 0
    assert (out / "tests-compute.txt").is_file() and (out / "manifest.json").is_file()
    assert run("verify", RELEASE, "--assets", str(out), "--repo", str(repo)) == 0
    (out / "tests-object.txt").write_bytes(b"tempest.api.fake\n")
    capsys.readouterr()
    assert run("verify", RELEASE, "--assets", str(out), "--repo", str(repo)) == 1
    assert capsys.readouterr().out.startswith("tests-object.txt: ")
    assert run("notes", "../x", "--repo", str(repo)) == 2
    assert run("assets", "next", "--repo", str(repo), "-o", str(tmp_path / "n")) == 2


def test_cli_prepare_checks_first_and_names_the_branch(repo, capsys) -> None:
    """The release is judged as the bot will judge its pull request before anything is written;
    the branch it creates is named, with the way back."""
    args = ("prepare", RELEASE, "--supersede", "2018.02", "--date", "2020-06-11")
    assert run(*args, "--repo", str(repo)) == 0
    err = capsys.readouterr().err
    assert "govbot's check of the release: 0 error(s)" in err
    assert "created branch release/2020.06 from main and switched to it" in err
    assert "`git switch main` to go back" in err


def test_cli_prepare_refuses_a_release_the_check_rejects(repo, capsys) -> None:
    """Approval outside the window the timeline gives it (the bundled cycle forbids approval
    between S-3 and S+3, 2017A D) is an error of the release change: refused, nothing
    changed; --force prepares it anyway."""
    (repo / "policies").mkdir(exist_ok=True)
    (repo / "policies" / "timeline.yaml").write_bytes(
        (bundled.root() / "policies" / "timeline.yaml").read_bytes()
    )
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "-m", "the cycle's time line")
    head = git(repo, "rev-parse", "HEAD")
    args = ("prepare", RELEASE, "--supersede", "2018.02", "--date", "2027-02-01")
    assert run(*args, "--repo", str(repo)) == 2
    err = capsys.readouterr().err
    assert "error(s)" in err and "nothing was changed" in err and "--force" in err
    assert "govbot.window" in err
    assert (
        git(repo, "rev-parse", "HEAD") == head and git(repo, "branch", "--list", "release/*") == ""
    )
    assert run(*args, "--repo", str(repo), "--force") == 0
    assert "(prepared anyway: --force)" in capsys.readouterr().err
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "release/2020.06"


def test_notes_do_not_call_a_recorded_removal_an_addition(after_real) -> None:
    """The bundled next lists 14 volume capabilities as removed that 2020.06 no longer lists at
    all: a release cut from it neither adds nor removes them (the notes once said "added ...,
    as removed")."""
    draft = copy.deepcopy(after_real[RELEASE])
    comp = draft["components"]["os_powered_compute"]["capabilities"]
    comp["removed"] = [*comp.get("removed", []), "volumes-v2-clone"]
    notes = release_notes(after_real[RELEASE], draft, RELEASE, "2021.01")
    assert ", as removed" not in notes and "| Capabilities added | 0 |" in notes
    assert "| Capabilities removed | 0 |" in notes
    assert "## Listed as removed, absent from the predecessor" in notes
    assert "- `volumes-v2-clone` in os_powered_compute\n" in notes
