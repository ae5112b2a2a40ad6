"""Tiny hostile repositories cannot stall vetting: every resource bomb finishes within 30 s
(of CPU: the test machines are shared) and 1 GiB of memory, in a child process, with a
complete report that says what limit was reached.

These are bounds on hostile cases with wide margins (the cases took minutes, gigabytes or an
OOM kill before), not timings of forkvet's speed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.hostile import payloads as P

SECONDS = 30.0
MIB = 1024.0


def _repo(tmp_path: Path, files: dict[str, str | bytes], name: str = "repo") -> Path:
    root = tmp_path / name
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


def _bounded(repo: Path) -> dict[str, object]:
    seconds, peak_mib, rc, report = P.vet_bounded(repo, SECONDS)
    assert rc in (0, 1), f"exit {rc}"
    assert report, "no report written"
    assert seconds < SECONDS, f"{seconds:.1f} s of CPU"
    assert peak_mib < MIB, f"{peak_mib:.0f} MiB"
    return report


def _risks(report: dict[str, object], kind: str) -> list[dict[str, object]]:
    return [r for r in report["risks"] if r["kind"] == kind]  # type: ignore[attr-defined, index]


def _notices(report: dict[str, object]) -> list[dict[str, object]]:
    return list(report["findings"])  # type: ignore[call-overload]


def test_pickle_opcode_bombs(tmp_path: Path) -> None:
    flood = P.opcode_flood(20_000_000)  # 40 MB of opcodes; gzip makes it 40 KB
    repo = _repo(
        tmp_path,
        {
            "bomb.pkl": P.declared_length_bomb(),  # 2.5 KiB declaring a 6 GiB argument
            "flood.pkl.gz": P.gz(flood + P.os_system("true", 0)),
            "memo.pkl": b"\x80\x02N" + b"q\x00" * 2_000_000 + b".",  # memo writes, no objects
            "train.py": "import torch\n",
        },
    )
    assert len(P.declared_length_bomb()) < 3 * 1024
    report = _bounded(repo)
    unverified = {r["path"] for r in _risks(report, "pickle-unverified")}
    assert "flood.pkl.gz" in unverified  # over the opcode/time bound: said, never passed
    # the truncated declared-length bomb was walked to its end without reading 6 GiB
    assert "bomb.pkl" not in unverified


def test_zip_and_gzip_bombs(tmp_path: Path) -> None:
    zeros = b"\x00" * (200 << 20)
    inner = P.zipped({f"z{i}": zeros for i in range(3)})  # 600 MiB behind ~600 KB
    repo = _repo(
        tmp_path,
        {
            "data.zip": P.zipped({f"inner{i}.zip": inner for i in range(4)}),
            "blob.gz": P.gz(zeros),
            "nest.zip": P.zipped({"a.zip": P.zipped({"b.zip": P.zipped({"c.zip": inner})})}),
            "evil.zip": P.zipped({"a.zip": P.zipped({"x.pkl": P.os_system("true", 2)})}),
        },
    )
    report = _bounded(repo)
    assert {r["path"] for r in _risks(report, "dangerous-pickle")} == {"evil.zip"}


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("environment.yml", "name: bomb\n" + P.yaml_bomb("dependencies")),
        ("CITATION.cff", P.citation_bomb()),
        (".github/forkvet.yml", P.yaml_bomb("runner")),
    ],
)
def test_yaml_anchor_bombs(tmp_path: Path, path: str, text: str) -> None:
    assert len(text.encode()) < 1200
    report = _bounded(_repo(tmp_path, {path: text, "train.py": "import numpy\n"}))
    said = " ".join(str(f["message"]) for f in _notices(report))
    assert path in said or any(f.get("path") == path for f in _notices(report))
    assert "limit" in said


@pytest.mark.parametrize(
    "readme",
    [
        "\r\n" * 100_000,
        "|" + " " * 200_000 + "\n",
        "| acc" + " " * 200_000 + "|\n",
        "~~~" * 70_000,
        "```" + "\n" * 200_000,
        "python" + "\n" * 200_000 + "3",
        "torch" + "\n" * 200_000 + "1.0",
        "#" + " " * 200_000 + "license\n",
        "\t" * 200_000 + "x",
        "pip install " + "a " * 100_000,
        "license\n" * 25_000,
        "torch 1.0 " * 20_000,
        "\n" * 200_000 + "Copyright (c) 2020 x",
        "Example scripts are in " + "a/" * 100_000,
        "from_pretrained(x)\n" * 20_000 + "x = 'gpt2'\n",
        "--init_from" + " " * 200_000 + "x",
        "The dataset" + " " * 200_000 + "is for research only",
        "fine-tuned from LLaMA " * 20_000,
    ],
    ids=lambda s: repr(s[:12]),
)
def test_readmes_that_made_regexes_quadratic(tmp_path: Path, readme: str) -> None:
    _bounded(_repo(tmp_path, {"README.md": readme, "train.py": "import torch\n"}))


def test_fifty_names_for_one_big_python_file(tmp_path: Path) -> None:
    body = "".join(
        f"def f{i}(x):\n    return numpy.sum(x) + {i}  # {'pad ' * 8}\n" for i in range(25_000)
    )
    big = "import numpy\nimport torch\n" + body
    assert 1_900_000 < len(big) < 2 * 1024 * 1024  # just under the size forkvet reads
    repo = _repo(tmp_path, {"big.py": big, "README.md": "# x\n"})
    for i in range(40):
        os.link(repo / "big.py", repo / f"link{i}.py")
    for i in range(10):
        (repo / f"copy{i}.py").write_text(big, encoding="utf-8")
    report = _bounded(repo)
    assert "numpy" in report["dependencies"]["imported"]  # type: ignore[index]


def test_requirement_files_that_include_themselves(tmp_path: Path) -> None:
    """5,000 `-r requirements.txt` lines in requirements.txt: each include was read again, to
    depth 3 (5,000 ** 3 reads; no report after 120 s). Each file is read once."""
    loop = "".join("-r requirements.txt\n-r extra.txt\n" for _ in range(2500))
    repo = _repo(
        tmp_path,
        {
            "requirements.txt": loop + "numpy==1.26\n",
            "extra.txt": "-r requirements.txt\nscipy\n",
            "train.py": "import numpy\nimport scipy\n",
        },
    )
    report = _bounded(repo)
    declared = report["dependencies"]["declared"]  # type: ignore[index]
    assert "numpy" in declared and "scipy" in declared


def test_environments_inline_each_included_file_once(tmp_path: Path) -> None:
    """`forkvet env`/smoke inline `-r` includes for the installer: the same loop, bounded."""
    from forkvet.environments import sanitize_requirements

    repo = _repo(
        tmp_path,
        {
            "requirements.txt": "-r requirements.txt\n" * 5000 + "-r b.txt\nnumpy\n",
            "b.txt": "-r requirements.txt\nscipy\n",
        },
    )
    assert sanitize_requirements(repo / "requirements.txt", repo) == ["scipy", "numpy"]


def test_dense_setup_py_and_environment_yml(tmp_path: Path) -> None:
    """A setup.py of a million names (ast: over 1 GiB, read for package metadata as well as
    for the code checks) and a 2 MB environment.yml of 500,000 entries (over the node bound)."""
    repo = _repo(
        tmp_path,
        {
            "setup.py": "import yaml\nx = [" + "a," * 1_000_000 + "]\n",
            "environment.yml": "dependencies:\n" + "- a\n" * 500_000,
            "train.py": "import numpy\n",
        },
    )
    report = _bounded(repo)
    said = " ".join(f"{f.get('path')}: {f['message']}" for f in _notices(report))
    # Not parsed whole: either over the parse bound, or skimmed past the full-analysis budget.
    assert "setup.py: not parsed (over" in said or "risky calls only, e.g. setup.py" in said
    assert "environment.yml: YAML over forkvet's limits" in said
    assert "pyyaml" in report["dependencies"]["imported"]  # type: ignore[index]
