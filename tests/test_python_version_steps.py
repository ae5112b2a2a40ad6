"""python_version.check's steps, alone: majors, the removal bound, the caps, the recommendation."""

from __future__ import annotations

import ast

from forkvet.report import Framework
from forkvet.vet import python_version as pv
from forkvet.vet.pyhistory import OLDEST_RECOMMENDED
from forkvet.vet.pysource import PyFile


def _file(path: str, notebook: bool = False) -> PyFile:
    return PyFile(path, "", None, is_notebook=notebook)


def test_the_majority_of_files_decides_a_mixed_repository() -> None:
    sig = pv._Signals(py2_files={"a.py", "b.py"}, py3_files={"c.py"})
    majors, findings = pv._majors(sig, [_file("a.py")])
    assert majors == [2]
    assert [f.title for f in findings] == ["Mixed Python 2 and 3 code"]


def test_declared_versions_decide_when_the_code_says_nothing() -> None:
    both = pv._Signals(declared=[("2.7", "tox.ini"), ("3.6", "tox.ini")])
    assert pv._majors(both, [])[0] == [2, 3]
    assert pv._majors(pv._Signals(declared=[("2", "setup.py")]), [])[0] == [2]
    assert pv._majors(pv._Signals(), []) == ([3], [])


def test_a_python3_notebook_beside_neutral_code_does_not_narrow_it() -> None:
    sig = pv._Signals(compat=["a.py:1: import six"], py3_files={"demo.ipynb"})
    assert pv._file_weights(sig, [_file("a.py"), _file("demo.ipynb", True)]) == (0, 0)


def test_the_oldest_removal_bounds_the_range() -> None:
    sig = pv._Signals(removed=[((3, 12), "a.py:1: imp"), ((3, 10), "b.py:2: x")])
    evidence: list[str] = []
    assert pv._removal_bound(sig, evidence) == (3, 9)
    assert evidence == ["b.py:2: x"]


def test_a_framework_without_newer_wheels_caps_the_recommendation() -> None:
    evidence: list[str] = []
    fw = Framework("torch", "==1.4", python_max="3.8")
    assert pv._framework_cap((3, 11), [fw], evidence) == (3, 8)
    assert evidence == ["torch ==1.4: wheels up to Python 3.8"]


def test_the_authors_declared_version_wins_unless_below_the_minimum() -> None:
    sig = pv._Signals(declared=[("3.7", "setup.py:3"), ("3.9", "README.md:5")])
    assert pv._declared_cap((3, 11), sig, (3, 6), []) == (3, 9)
    assert pv._declared_cap((3, 11), sig, (3, 10), []) == (3, 11)


def test_recommendation_stays_within_the_range_and_installable() -> None:
    assert pv._recommend((3, 11), (3, 6), (3, 9), []) == (3, 9)
    evidence: list[str] = []
    assert pv._recommend((3, 3), (3, 0), None, evidence) == OLDEST_RECOMMENDED
    assert "no longer installable" in evidence[0]


def test_no_fit_when_the_minimum_passes_the_maximum() -> None:
    assert [f.title for f in pv._no_fit(pv._Range((3, 10), (3, 8), (3, 8)))] == [
        "No Python version fits"
    ]
    assert pv._no_fit(pv._Range((3, 6), (3, 8), (3, 8))) == []


def test_scanner_handlers_see_python2_and_python3_signs() -> None:
    text = "import string\nprint >>f, x\ny = a @ b\nz = unicode(y)\nstring.letters\n"
    f = PyFile("m.py", text, None)
    sig = pv._Signals()
    pv._Py3Scanner(f, list(ast.walk(ast.parse(text))), sig).run()
    assert any("print statement" in s for s in sig.py2_runtime)
    assert any("unicode (Python 2 builtin)" in s for s in sig.py2_runtime)
    assert any("@ operator" in s for s in sig.py3_only)
    assert sig.min3 == (3, 5)
