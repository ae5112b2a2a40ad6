"""dependencies.check's steps, alone: git requirements, declared specs, imports, guessed names."""

from __future__ import annotations

from forkvet.report import Dependencies
from forkvet.vet import dependencies as dep
from forkvet.vet.declared import DeclaredSet


def test_git_requirements_leave_the_imports() -> None:
    imports: dep.Uses = {
        "git+https://github.com/o/clip": [("a.py", 1, False, "clip.model")],
        "numpy": [("a.py", 2, False, "numpy")],
    }
    deps = Dependencies()
    dep._git_requirements(imports, deps)
    assert deps.git_requirements == {"clip": "git+https://github.com/o/clip"}
    assert list(imports) == ["numpy"]


def test_imports_say_where_optional_and_not_installable() -> None:
    imports: dep.Uses = {
        "<cv2x>": [("a.py", 1, False, "cv2x")],
        "numpy": [("a.py", 2, True, "numpy"), ("b.py", 3, True, "numpy")],
    }
    deps = Dependencies()
    assert dep._imported(imports, deps) == ["cv2x"]
    assert deps.imported == ["numpy"] and deps.optional == ["numpy"]
    assert deps.imported_at == {"numpy": ["a.py:2", "b.py:3"]}


def test_a_declared_name_that_extends_a_guess_replaces_it() -> None:
    deps = Dependencies(imported=["bert"], unmapped=["bert"], optional=["bert"])
    deps.imported_at = {"bert": ["a.py:1"]}
    dep._prefer_declared_names(deps, {"bert-tensorflow": ""})
    assert deps.imported == ["bert-tensorflow"] and deps.optional == ["bert-tensorflow"]
    assert deps.unmapped == [] and deps.imported_at == {"bert-tensorflow": ["a.py:1"]}


def test_missing_names_the_first_place_it_is_imported() -> None:
    deps = Dependencies(files=["requirements.txt"], imported=["scipy"], missing=["scipy"])
    deps.imported_at = {"scipy": ["train.py:7"]}
    declared = DeclaredSet(files=["requirements.txt"])
    (finding,) = dep._missing_findings(deps, declared)
    assert (finding.title, finding.path, finding.line) == ("Undeclared dependencies", "train.py", 7)
