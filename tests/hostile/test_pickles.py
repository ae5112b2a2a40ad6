"""Every malicious pickle is an error (exit 1), whatever wraps it or however it is named, and
none is unpickled: found by content, in every container a loader reads."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.cli import main
from forkvet.report import Report
from forkvet.snapshot import load
from forkvet.vet import vet
from tests.hostile import payloads as P

Vet = Callable[..., Report]


def _marker(tmp_path: Path) -> Path:
    return tmp_path / "PWNED"


def _cases(cmd: str) -> dict[str, bytes]:
    return P.hostile_set(cmd)


def test_every_malicious_pickle_is_an_error_and_none_runs(
    tmp_path: Path, vet_repo: Vet, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = _marker(tmp_path)
    cases = _cases(f"touch {marker}")
    files: dict[str, str | bytes] = {**cases, "train.py": "import torch\n"}
    files["stats.pkl"] = P.safe_state_dict()
    files["README.md"] = "# model\n"
    report = vet_repo(files)
    flagged = {r.path for r in report.risks if r.severity == "error"}
    assert sorted(set(cases) - flagged) == []
    assert "stats.pkl" not in flagged
    assert report.has_errors
    assert not marker.exists()
    # and the CLI exits 1
    repo = tmp_path / "model-repo"
    assert main(["vet", str(repo), "--format", "json"]) == 1
    capsys.readouterr()
    assert not marker.exists()


@pytest.mark.parametrize(
    ("name", "loader"),
    [
        ("proto0.pkl", "import pickle; pickle.loads(DATA)"),
        ("harmless_first.pkl", "import pickle; pickle.loads(DATA)"),
        ("no_proto.dat", "import pickle; pickle.loads(DATA)"),
        ("proto5.pkl", "import pickle; pickle.loads(DATA)"),
        ("model.joblib", "import gzip, pickle; pickle.loads(gzip.decompress(DATA))"),
        ("old_joblib.pkl", "import zlib, pickle; pickle.loads(zlib.decompress(DATA[21:]))"),
        (
            "arrays.npz",
            "import io, numpy as np; np.load(io.BytesIO(DATA), allow_pickle=True)['meta']",
        ),
        # the legacy tar reader needs a real file (payload.bin in the child's folder)
        ("legacy.pth", "import torch; torch.load('payload.bin', weights_only=False)"),
        ("legacy_views.pth", "import torch; torch.load('payload.bin', weights_only=False)"),
    ],
)
def test_the_fixtures_really_run_code(tmp_path: Path, name: str, loader: str) -> None:
    """Guard for the test above: the ordinary loader of each format runs the payload (in a
    throwaway child process), so a pass above is a real catch."""
    if "torch" in loader:
        pytest.importorskip("torch")
    marker = _marker(tmp_path)
    data = _cases(f"touch {marker}")[name]
    assert P.really_runs(loader, data, tmp_path, marker), name


def test_forkvet_catches_whatever_plain_picklescan_catches(tmp_path: Path) -> None:
    """No pre-filter of forkvet's own drops a file picklescan would flag."""
    from picklescan.scanner import scan_file_path

    marker = _marker(tmp_path)
    repo = tmp_path / "repo"
    repo.mkdir()
    for name, data in _cases(f"touch {marker}").items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    report = vet(load(repo))
    flagged = {r.path for r in report.risks if r.severity == "error"}
    by_picklescan = {
        p.relative_to(repo).as_posix()
        for p in repo.rglob("*")
        if p.is_file() and scan_file_path(str(p)).infected_files
    }
    assert by_picklescan  # picklescan does catch some of them
    assert by_picklescan <= flagged
    assert not marker.exists()


def test_imports_off_the_safe_list_are_errors_safe_checkpoints_are_not(vet_repo: Vet) -> None:
    import collections
    import pickle

    torch = pytest.importorskip("torch")
    import io

    buf = io.BytesIO()
    torch.save({"w": torch.zeros(2), "epoch": 3}, buf)
    model = io.BytesIO()
    torch.save(torch.nn.Sequential(torch.nn.Linear(2, 2)), model)
    report = vet_repo(
        {
            "state.pt": buf.getvalue(),
            "layers.pt": model.getvalue(),  # torch.nn classes only rebuild layers
            "od.pkl": pickle.dumps(collections.OrderedDict(a=1), protocol=2),
            # a class of some library: loading imports and calls it
            "estimator.pkl": b"\x80\x02csklearn.linear_model\nLogisticRegression\n)\x81.",
        }
    )
    errors = {r.path: r for r in report.risks if r.severity == "error"}
    assert set(errors) == {"estimator.pkl"}
    assert errors["estimator.pkl"].kind == "unsafe-pickle"
    assert "sklearn.linear_model.LogisticRegression" in errors["estimator.pkl"].message
    safe = [r for r in report.risks if r.kind == "pickle-checkpoint"]
    assert safe and "3 pickle-based" in safe[0].message


def test_tensor_bytes_that_start_like_an_extension_opcode_are_data(
    vet_repo: Vet, tmp_path: Path
) -> None:
    """A torch zip's storage member of raw bytes starting 0x82 (EXT1) was read as a pickle
    importing from copyreg's extension registry: a false error on random weights, about one
    checkpoint in a dozen. pickle.load stops at an unregistered code before calling anything,
    so nothing after it runs either."""
    import pickle

    torch = pytest.importorskip("torch")
    import io

    buf = io.BytesIO()
    torch.save({"w": torch.tensor([0x82, 0x0F, 0x83, 0x01, 0x00], dtype=torch.uint8)}, buf)
    after = b"\x80\x02\x82\x0f" + P.os_system(f"touch {tmp_path / 'ran'}", 0)
    with pytest.raises(ValueError, match="unregistered extension code"):
        pickle.loads(after)
    assert not (tmp_path / "ran").exists()
    report = vet_repo({"model.pt": buf.getvalue(), "after.pkl": after})
    assert not [r for r in report.risks if r.severity == "error"], report.risks


def test_a_pickle_that_cannot_be_fully_scanned_is_unverified_not_passed(
    vet_repo: Vet, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forkvet.vet import pickles

    monkeypatch.setattr(pickles, "MAX_OPS", 1000)
    tail = P.os_system("true", 0)
    flood = P.opcode_flood(50_000)[:-1] + b"0" + tail  # the import comes after the limit
    report = vet_repo({"big.pkl": flood, "flood.pkl.gz": P.gz(flood)})
    unverified = [r for r in report.risks if r.kind == "pickle-unverified"]
    assert {r.path for r in unverified} == {"big.pkl", "flood.pkl.gz"}
    assert all("NOT verified" in r.message for r in unverified)
    # what was not looked at may import anything: an error, like a dangerous pickle
    assert all(r.severity == "error" for r in unverified)
    assert report.has_errors


def test_hard_links_to_one_pickle_are_all_reported(tmp_path: Path) -> None:
    marker = _marker(tmp_path)
    repo = tmp_path / "links"
    repo.mkdir()
    (repo / "a.pkl").write_bytes(P.os_system(f"touch {marker}", 2))
    for i in range(5):
        os.link(repo / "a.pkl", repo / f"copy{i}.bin")
    shutil.copy(repo / "a.pkl", repo / "b.dat")
    report = vet(load(repo))
    assert {r.path for r in report.risks if r.kind == "dangerous-pickle"} == {
        "a.pkl",
        "b.dat",
        *(f"copy{i}.bin" for i in range(5)),
    }
