"""frameworks.check's steps, alone: the evidence record, the spec decision and the order."""

from __future__ import annotations

from forkvet.report import Framework
from forkvet.vet import frameworks as fwc


def test_evidence_keeps_lines_in_order_and_files_by_strength() -> None:
    ev = fwc._Evidence()
    ev.add("caffe", "a.prototxt: Caffe model definition", "a.prototxt", strong=False)
    ev.add("caffe", "run.m:3: Caffe from MATLAB", "run.m")
    ev.add("caffe", "requirements.txt: declared caffe")
    assert ev.lines["caffe"][0].startswith("a.prototxt")
    assert ev.strong == {"caffe": {"run.m"}} and ev.weak == {"caffe": {"a.prototxt"}}


def test_spec_merges_declared_pins_with_api_hints() -> None:
    assert fwc._spec("pytorch", [], [">=1.7"], [">=1.9"]) == (">=1.9", [])


def test_tf_compat_v1_code_drops_the_below_2_hint() -> None:
    spec, findings = fwc._spec("tensorflow", ["a.py:1: import tensorflow"], [], [">=1.13", "<2"])
    assert spec == ">=1.13" and findings == []


def test_a_url_requirement_is_no_version_spec() -> None:
    assert fwc._spec("pytorch", [], ["@ https://x.example/torch.whl"], []) == (None, [])


def test_sort_puts_primary_first_then_the_most_evidence() -> None:
    fws = [
        Framework("onnx", None, ["a"], role="optional"),
        Framework("tensorflow", None, ["a"]),
        Framework("pytorch", None, ["a", "b"]),
    ]
    fwc._sort(fws)
    assert [f.name for f in fws] == ["pytorch", "tensorflow", "onnx"]


def test_each_file_suffix_has_its_sign() -> None:
    assert set(fwc._FILE_SIGNS) == {".lua", ".prototxt", ".caffemodel", ".m", ".t7"}


def test_the_evidence_tables_come_from_the_data_file() -> None:
    names = [fw.name for fw in fwc.FRAMEWORKS]
    assert names[:2] == ["pytorch", "tensorflow"] and len(set(names)) == len(names)
    assert all(fw.modules for fw in fwc.FRAMEWORKS)
    assert set(fwc.PYTHON_MAX) <= set(names)
    assert fwc.python_max("pytorch", "==1.4.0") == "3.8"
