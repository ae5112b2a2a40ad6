"""An outside reviewer's resource bombs (from the `attack` branch): one dense Python file,
many Python files for the worker pool, long requirements and environment files. Each runs
`forkvet vet` in a child process under a watchdog that sums the resident memory of its whole
process tree (the pool's workers included) and kills it at the bound, so a bomb that still
works costs a test at most that much. These are bounds on hostile cases with wide margins,
not timings of forkvet's speed.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.hostile.child import GIB, run_bounded


def _assert_bounded(rc: int | None, wall: float, peak: int, limit_s: float) -> None:
    assert rc is not None, f"killed after {wall:.0f} s at {peak / GIB:.2f} GiB: no report"
    assert rc in (0, 1), rc
    assert wall < limit_s, f"took {wall:.0f} s"
    assert peak < GIB, f"peak {peak / GIB:.2f} GiB"


def _said(out: str) -> str:
    report = json.loads(out)
    return " ".join(f"{f.get('path')}: {f['message']}" for f in report["findings"])


def test_one_dense_python_file_stays_under_1_gib(tmp_path: Path) -> None:
    """2 MB of a million names in a list (under the 2 MiB text limit): 1.43 GB and 39.5 s
    before; now read by the line scanner, with a notice, and its imports still found."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "data.py").write_text("import scipy\nx = [" + "a," * 1_000_000 + "]\n")
    rc, wall, peak, out = run_bounded("vet", str(repo), "--format", "json", seconds=20)
    assert peak < GIB, f"peak {peak / GIB:.2f} GiB after {wall:.0f} s (rc {rc})"
    assert rc in (0, 1), rc
    said = _said(out)  # not parsed whole: over the parse bound, or skimmed past the budget
    assert "data.py: not parsed (over" in said or "risky calls only, e.g. data.py" in said
    assert "scipy" in json.loads(out)["dependencies"]["imported"]


def test_one_dense_python_file_keeps_the_vetting_deadline(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "data.py").write_text("x = [" + "a," * 250_000 + "]\n")
    rc, wall, peak, _ = run_bounded(
        "vet", str(repo), "--format", "json", seconds=15, env={"FORKVET_VET_SECONDS": "3"}
    )
    _assert_bounded(rc, wall, peak, 12)


def test_many_python_files_keep_the_vetting_deadline(tmp_path: Path) -> None:
    """From 400 Python files on, parsing runs in a process pool: its chunks are collected
    against the deadline (45.9 s with a 3 s budget before). 600 distinct small files of 2,000
    names each; two workers, as on a 2-core machine, so the pool is used everywhere."""
    repo = tmp_path / "repo"
    repo.mkdir()
    body = "a," * 2000
    for i in range(600):
        (repo / f"m{i:03}.py").write_text(f"x{i} = [{body}]\n")
    rc, wall, peak, out = run_bounded(
        "vet",
        str(repo),
        "--format",
        "json",
        seconds=15,
        env={"FORKVET_VET_SECONDS": "3", "FORKVET_JOBS": "2"},
    )
    _assert_bounded(rc, wall, peak, 12)
    assert json.loads(out)["repo"], "no report"


def test_a_long_requirements_file_keeps_the_vetting_deadline(tmp_path: Path) -> None:
    """15,000 names (240 KB): quadratic in the dependencies check before the 2,000 cap."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "train.py").write_text("import torch\n")
    (repo / "requirements.txt").write_text("".join(f"pkg{i:05d}==1.0\n" for i in range(15_000)))
    rc, wall, peak, _ = run_bounded(
        "vet", str(repo), "--format", "json", seconds=19, env={"FORKVET_VET_SECONDS": "8"}
    )
    _assert_bounded(rc, wall, peak, 17)


def test_a_long_environment_yml_keeps_the_vetting_deadline(tmp_path: Path) -> None:
    """environment.yml: PyYAML's pure-Python parse and a quadratic line search took 33 s
    for one 2 MB file, and three such files ran past 300 s."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "train.py").write_text("import torch\n")
    pip = "".join(f"    - pkg{i:05d}==1.0\n" for i in range(12_000))
    for name in ("environment.yml", "environment-gpu.yml", "env.yaml"):
        (repo / name).write_text(f"name: x\ndependencies:\n  - pip\n  - pip:\n{pip}")
    rc, wall, peak, _ = run_bounded(
        "vet", str(repo), "--format", "json", seconds=15, env={"FORKVET_VET_SECONDS": "3"}
    )
    _assert_bounded(rc, wall, peak, 12)


def _license_bomb(root: Path, count: int) -> Path:
    """A LICENSE and `count` distinct GPL-3.0 variants under LICENSES/ (round 4: 1,000 of
    them cost 64 s of CPU, and every later check came back 'not run')."""
    from tests.conftest import license_text

    (root / "LICENSES").mkdir(parents=True)
    (root / "LICENSE").write_text(license_text("MIT.txt"))
    words = license_text("GPL-3.0-only.txt").split()
    for i in range(count):
        varied = [f"{w}{i}" if j % 97 == i % 97 else w for j, w in enumerate(words)]
        (root / "LICENSES" / f"LicenseRef-x{i}.txt").write_text(" ".join(varied))
    (root / "train.py").write_text("import torch\ntorch.load('m.pt')\n")
    return root


def test_a_license_bomb_matches_a_bounded_number_of_files(tmp_path: Path) -> None:
    from forkvet.snapshot import load
    from forkvet.vet import vet
    from forkvet.vet.license import MAX_LICENSE_FILES

    report = vet(load(_license_bomb(tmp_path / "repo", 40)))
    read = [m for m in report.license.all if m.path and m.path.startswith("LICENSES/")]
    matched = {m.path for m in read if not (m.spdx or "").startswith("LicenseRef-Unjudged")}
    assert len(matched) < MAX_LICENSE_FILES, len(matched)
    assert "MIT" in (report.license.spdx or "")  # the root LICENSE is always matched
    # the files past those matched are a gap (round 20c F7): no plain "yes" for what was unread
    assert report.license.commercial_use is not True
    notes = [f for f in report.findings if f.title == "License files not read"]
    assert len(notes) == 1 and f"{40 - MAX_LICENSE_FILES + 1} license file(s)" in notes[0].message
    assert not [f for f in report.findings if f.title == "Check not run: time limit"]
    assert any("torch.load" in r.kind + r.message for r in report.risks), (
        "the later checks still ran"
    )


def test_the_license_check_keeps_the_run_deadline(tmp_path: Path) -> None:
    import time

    from forkvet.snapshot import load
    from forkvet.vet import license
    from forkvet.vet.context import Context

    ctx = Context(load(_license_bomb(tmp_path / "repo", 3)), deadline=time.monotonic() - 1)
    info, findings = license.check(ctx)
    unread = [m for m in info.all if (m.spdx or "").startswith("LicenseRef-Unjudged")]
    assert not [m for m in info.all if m.path and m.path.startswith("LICENSE") and m not in unread]
    assert unread and info.commercial_use is not True  # past the deadline: a gap, never "yes"
    said = [f.message for f in findings if f.title == "License files not read"]
    assert said and "4 license file(s) not matched (the vetting time limit" in said[0], said


def test_a_huge_gitmodules_is_a_bounded_list_of_findings(tmp_path: Path) -> None:
    """Round 12: 2 MiB of .gitmodules gave 25,000 findings (each a line of the report and a
    SARIF result), found by a scan of every file per submodule."""
    repo = tmp_path / "repo"
    (repo / "sub0").mkdir(parents=True)
    (repo / "sub0" / "x.py").write_text("")
    (repo / "train.py").write_text("import torch\n")
    (repo / ".gitmodules").write_text(
        "".join(f'[submodule "s{i}"]\n\tpath = sub{i}\n\turl = ../s{i}\n' for i in range(30_000))
    )
    rc, wall, peak, out = run_bounded("vet", str(repo), "--format", "json", seconds=60)
    _assert_bounded(rc, wall, peak, 60)
    absent = [r for r in json.loads(out)["risks"] if r["kind"] == "submodule-absent"]
    assert len(absent) == 21  # sub0 is there; twenty named, then one count of the rest
    assert absent[0]["message"].startswith("Git submodule sub1 ") and absent[0]["line"] == 5
    assert "29,979 more git submodules" in absent[-1]["message"]
