"""Accepted findings: the operator's policy (--config) turns a reviewed finding into a note
that says who accepted it and why; it is due again when the acceptance expires or the file
changes; a repository's own .github/forkvet.yml can accept nothing."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from forkvet.cli import main
from tests.test_risks import evil_pickle
from tests.test_sarif import sarif_schema, validate

__all__ = ["sarif_schema"]  # the fixture, shared

TRAIN = "import torch\n\nmodel = torch.load('ckpt.pth')\n"


def repo_with(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)
    return root


def vet(
    capsys: pytest.CaptureFixture[str], repo: Path, *args: str, fmt: str = "json"
) -> tuple[int, dict[str, Any]]:
    code = main(["vet", str(repo), "--format", fmt, *args])
    out = capsys.readouterr()
    return code, json.loads(out.out) if out.out.strip() else {"stderr": out.err}


def by_title(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["title"]: f for f in report["findings"]}


def policy(tmp_path: Path, text: str) -> str:
    path = tmp_path / "policy.yml"
    path.write_text(text)
    return str(path)


def future(days: int = 90) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def test_an_accepted_finding_is_a_note_that_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sarif_schema: dict[str, Any]
) -> None:
    repo = repo_with(tmp_path / "repo", {"train.py": TRAIN, "weights/model.pth": evil_pickle()})
    code, before = vet(capsys, repo)
    assert code == 1 and by_title(before)["Torch load"]["severity"] == "warning"
    sha = hashlib.sha256(evil_pickle()).hexdigest()
    cfg = policy(
        tmp_path,
        f"accept:\n"
        f"  - rule: risks/torch-load\n    path: train.py\n"
        f"    reason: loads only our own checkpoints\n    by: alice\n    until: {future()}\n"
        f"  - rule: risks/dangerous-pickle\n    path: weights/model.pth\n"
        f"    reason: a red-team sample, never loaded\n    sha256: {sha}\n",
    )
    code, after = vet(capsys, repo, "--config", cfg)
    assert code == 0  # the accepted error no longer counts toward the verdict
    found = by_title(after)
    torch = found["Accepted: Torch load"]
    assert torch["severity"] == "notice" and torch["path"] == "train.py"
    assert "accepted by alice until" in torch["message"]
    assert "loads only our own checkpoints" in torch["message"]
    assert torch["accepted"]["severity"] == "warning" and torch["accepted"]["by"] == "alice"
    assert found["Accepted: Dangerous pickle"]["accepted"]["severity"] == "error"
    # SARIF: a note with an accepted suppression; rule and fingerprint as before
    out = tmp_path / "a.sarif"
    main(["vet", str(repo), "--config", cfg, "--format", "sarif", "--output", str(out)])
    log = json.loads(out.read_text())
    validate(log, sarif_schema)
    out0 = tmp_path / "b.sarif"
    main(["vet", str(repo), "--format", "sarif", "--output", str(out0)])
    plain = {r["ruleId"]: r for r in json.loads(out0.read_text())["runs"][0]["results"]}
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    res = results["risks/torch-load"]
    assert res["level"] == "note"
    assert res["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "loads only our own checkpoints",
        }
    ]
    assert res["partialFingerprints"] == plain["risks/torch-load"]["partialFingerprints"]
    assert "suppressions" not in plain["risks/torch-load"]


def test_by_fingerprint_and_what_makes_it_due_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = repo_with(tmp_path / "repo", {"train.py": TRAIN})
    sarif = tmp_path / "v.sarif"
    main(["vet", str(repo), "--format", "sarif", "--output", str(sarif)])
    (result,) = [
        r
        for r in json.loads(sarif.read_text())["runs"][0]["results"]
        if r["ruleId"] == "risks/torch-load"
    ]
    fp = result["partialFingerprints"]["forkvet/v1"]
    cfg = policy(tmp_path, f"accept:\n  - fingerprint: {fp}\n    reason: reviewed\n")
    _, report = vet(capsys, repo, "--config", cfg)
    assert "Accepted: Torch load" in by_title(report)

    # expired: the finding is back as it was, and a warning says the acceptance expired
    past = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    cfg = policy(
        tmp_path,
        f"accept:\n  - rule: risks/torch-load\n    path: train.py\n    reason: reviewed\n"
        f"    until: {past}\n",
    )
    _, report = vet(capsys, repo, "--config", cfg)
    found = by_title(report)
    assert (
        found["Torch load"]["severity"] == "warning"
        and "accepted" not in found["Torch load"]["message"]
    )
    assert f"expired on {past}" in found["Acceptance no longer applies"]["message"]

    # accepted for this content of the file only: a change makes it due again
    digest = hashlib.sha256(TRAIN.encode()).hexdigest()
    cfg = policy(
        tmp_path,
        f"accept:\n  - rule: risks/torch-load\n    path: train.py\n    reason: reviewed\n"
        f"    sha256: {digest}\n",
    )
    _, report = vet(capsys, repo, "--config", cfg)
    assert "Accepted: Torch load" in by_title(report)
    (repo / "train.py").write_text(TRAIN + "other = torch.load('b.pth')\n")
    _, report = vet(capsys, repo, "--config", cfg)
    due = by_title(report)["Acceptance no longer applies"]
    assert "train.py changed since risks/torch-load was accepted" in due["message"]
    # an acceptance that matches nothing is named, so the policy does not rot
    (repo / "train.py").write_text("print('no risk')\n")
    _, report = vet(capsys, repo, "--config", cfg)
    assert "matches no finding" in by_title(report)["Acceptance matches no finding"]["message"]


def test_a_fork_cannot_accept_its_own_pickle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = repo_with(
        tmp_path / "repo",
        {
            "weights/model.pth": evil_pickle(),
            ".github/forkvet.yml": "accept:\n  - rule: risks/dangerous-pickle\n"
            "    path: weights/model.pth\n    reason: trust me\n",
        },
    )
    code, report = vet(capsys, repo)
    assert code == 1
    found = by_title(report)
    assert found["Dangerous pickle"]["severity"] == "error"
    assert (
        "acceptances come from your own policy"
        in found["Acceptances in the repository ignored"]["message"]
    )
    # with an operator policy too: still only the operator's acceptances count
    cfg = policy(tmp_path, "risks:\n  fail_on_dangerous_pickle: true\n")
    code, _ = vet(capsys, repo, "--config", cfg)
    assert code == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("accept:\n  - rule: risks/eval\n    path: a.py\n", "a reason is required"),
        ("accept:\n  - reason: x\n", "give rule and path, or fingerprint"),
        ("accept:\n  - {rule: r, path: p, reason: x, until: soon}\n", "must be a date"),
        ("accept:\n  - {rule: r, path: p, reason: x, who: me}\n", "unknown key 'who'"),
        ("accept: everything\n", "accept must be a list"),
    ],
)
def test_bad_acceptances_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    repo = repo_with(tmp_path / "repo", {"train.py": TRAIN})
    code = main(["vet", str(repo), "--config", policy(tmp_path, text)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_blob_is_gits_own_id_of_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import subprocess

    repo = repo_with(tmp_path / "repo", {"train.py": TRAIN})
    blob = subprocess.run(
        ["git", "hash-object", "train.py"], cwd=repo, capture_output=True, text=True, check=True
    ).stdout.strip()
    cfg = policy(
        tmp_path,
        f"accept:\n  - rule: risks/torch-load\n    path: train.py\n    reason: ok\n"
        f"    blob: {blob}\n",
    )
    _, report = vet(capsys, repo, "--config", cfg)
    assert "Accepted: Torch load" in by_title(report)
    (repo / "train.py").write_text(TRAIN + "\n")
    _, report = vet(capsys, repo, "--config", cfg)
    assert "Acceptance no longer applies" in by_title(report)
