"""declared.collect's steps, alone: one package's metadata into the declared set."""

from __future__ import annotations

from pathlib import Path

from forkvet.snapshot import load
from forkvet.vet.context import Context
from forkvet.vet.declared import DeclaredSet, _package_metadata
from forkvet.vet.metadata import PackageMeta


def test_metadata_gives_requirements_dev_extras_and_python(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text("from setuptools import setup\n")
    meta = PackageMeta(
        "setup.py",
        requires=["torch>=1.7"],
        extras={"dev": ["pytest"], "viz": ["matplotlib"]},
        python_requires=">=3.8",
        notes=["setup.py: too many requirements"],
    )
    out = DeclaredSet()
    _package_metadata(Context(load(tmp_path)), meta, out)
    assert [(d.name, d.spec, d.dev, d.extra) for d in out.items] == [
        ("torch", ">=1.7", False, ""),
        ("pytest", "", True, "dev"),
        ("matplotlib", "", False, "viz"),
    ]
    assert out.files == ["setup.py"] and out.python == [(">=3.8", "setup.py")]
    assert out.notes == ["setup.py: too many requirements"]


def test_requirement_files_a_setup_reads_are_read_beside_it(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "setup.py").write_text("")
    (tmp_path / "pkg" / "requirements.txt").write_text("numpy==1.24\n")
    meta = PackageMeta("pkg/setup.py", requirement_files=["requirements.txt", "missing.txt"])
    out = DeclaredSet()
    _package_metadata(Context(load(tmp_path)), meta, out)
    assert [(d.name, d.spec, d.path) for d in out.items] == [
        ("numpy", "==1.24", "pkg/requirements.txt")
    ]
