"""Round 18 (tester 18a), the config rules on every text a loader reads: a Hydra `_target_`
inside a NeMo `.nemo` tar (F3) or any zip/tar member, and in a safetensors header's
`__metadata__` (F4), also as a config kept in a string value; symlinks leaving the tree under
any name a loader may open (F9); transformers' `auto_map` naming another repository (F5)."""

from __future__ import annotations

import gzip
import io
import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from forkvet.report import Report, Risk
from forkvet.snapshot import load
from forkvet.vet import vet
from tests.conftest import MakeRepo
from tests.hostile.payloads import tarred

README = {"README.md": "# Model\n"}
EVIL_CONFIG = "_target_: builtins.open\n_args_: [/tmp/x, w]\n"


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _safetensors(metadata: dict[str, str]) -> bytes:
    header = json.dumps(
        {"__metadata__": metadata, "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    ).encode()
    return struct.pack("<Q", len(header)) + header + b"\0\0\0\0"


def _code_in_data(report: Report) -> list[Risk]:
    return [r for r in report.risks if r.kind == "code-in-data" and r.severity == "error"]


# -- F3: members of archives ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "data", "member"),
    [
        # NeMo: restore_from untars, OmegaConf.load(model_config.yaml), instantiate
        ("model.nemo", tarred({"model_config.yaml": EVIL_CONFIG.encode()}), "model_config.yaml"),
        ("ckpt.tar.gz", gzip.compress(tarred({"cfg/a.yaml": EVIL_CONFIG.encode()})), "cfg/a.yaml"),
        ("bundle.zip", _zip({"conf.json": b'{"m": {"_target_": "os.system"}}'}), "conf.json"),
        ("tags.zip", _zip({"h.txt": b"x: !!python/object/apply:os.system [id]\n"}), "h.txt"),
        ("hyper.nemo", tarred({"hparams.yaml": b"m: !new:os.system\n  command: id\n"}), "hparams"),
        # a zip inside a tar: the member of the member
        ("deep.nemo", tarred({"in.zip": _zip({"c.yaml": EVIL_CONFIG.encode()})}), "in.zip/c.yaml"),
    ],
)
def test_a_config_inside_an_archive_member_is_code_in_data(
    vet_repo: Callable[..., Report], name: str, data: bytes, member: str
) -> None:
    found = _code_in_data(vet_repo({**README, name: data}))
    assert found and {r.path for r in found} == {name}, found
    assert any(member in r.message for r in found), found


def test_ordinary_configs_in_archives_pass(vet_repo: Callable[..., Report]) -> None:
    nemo = tarred(
        {
            # what NeMo writes: its own module and model classes, by name
            "model_config.yaml": b"target: nemo.collections.asr.models.EncDecCTCModelBPE\n"
            b"preprocessor:\n  _target_: nemo.collections.asr.modules."
            b"AudioToMelSpectrogramPreprocessor\n"
            b"encoder: {_target_: nemo.collections.asr.modules.ConformerEncoder}\n"
            b"spec: {_target_: nemo.collections.asr.modules.audio_preprocessing."
            b"SpectrogramAugmentation}\n"
            b"optim:\n  _target_: torch.optim.AdamW\n  lr: 0.1\n",
            "tokenizer.json": json.dumps({"vocab": {"\u0120the": 1, "a\\x": 2}}).encode(),
            "model_weights.ckpt": b"\x80\x02}q\x00.",
        }
    )
    report = vet_repo({**README, "model.nemo": nemo, "w.zip": _zip({"notes.md": b"# hi\n"})})
    assert not _code_in_data(report), report.risks


def test_a_member_too_large_to_read_whole_is_unverified_only_with_a_spelled_key(
    vet_repo: Callable[..., Report],
) -> None:
    big = b"# " + b"x" * (3 << 20) + b"\n"
    escapes = b'{"v": "' + b"\\u0120" * (600 << 10) + b'"}'  # a tokenizer's JSON
    report = vet_repo(
        {
            **README,
            "a.nemo": tarred({"model_config.yaml": big + EVIL_CONFIG.encode()}),
            "b.nemo": tarred({"tokenizer.json": escapes}),
        }
    )
    found = _code_in_data(report)
    assert [r.path for r in found] == ["a.nemo"], found
    assert "NOT verified" in found[0].message


# -- F4: safetensors metadata, and configs kept as string values ----------------------------------
def test_a_target_in_safetensors_metadata_is_code_in_data(vet_repo: Callable[..., Report]) -> None:
    evil = json.dumps({"_target_": "imp.load_source", "_args_": ["m", "notes.txt"]})
    report = vet_repo(
        {
            **README,
            "model.safetensors": _safetensors({"format": "pt", "config": evil}),
            "yaml.safetensors": _safetensors({"config": "enc:\n  _target_: os.system\n"}),
            "fine.safetensors": _safetensors(
                {"format": "pt", "config": json.dumps({"_target_": "torch.nn.Linear"})}
            ),
            "notes.txt": "import os\n",
        }
    )
    found = {r.path: r.message for r in _code_in_data(report)}
    assert sorted(found) == ["model.safetensors", "yaml.safetensors"], found
    assert "__metadata__/config" in found["model.safetensors"]
    assert "imp.load_source" in found["model.safetensors"]


def test_a_config_kept_as_a_string_value_is_read_as_a_config(
    vet_repo: Callable[..., Report],
) -> None:
    inner = {"_target_": "imp.load_source", "_args_": ["m", "notes.txt"]}
    report = vet_repo(
        {
            **README,
            "config.json": json.dumps({"model_cfg": json.dumps(inner)}),
            "lit.json": json.dumps({"enc": str(inner)}),  # a Python literal
            "hparams.yaml": 'encoder: "{_target_: imp.load_source, _args_: [m, notes.txt]}"\n',
            "ok.json": json.dumps({"opt": json.dumps({"_target_": "torch.optim.SGD"})}),
            "notes.txt": "import os\n",
        }
    )
    flagged = {r.path for r in _code_in_data(report)}
    assert flagged == {"config.json", "lit.json", "hparams.yaml"}, report.risks


# -- F9: links that leave the tree ----------------------------------------------------------------
def test_any_link_leaving_the_tree_is_unverified(make_repo: MakeRepo, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.write_bytes(b"x")
    root = make_repo(README, use_git=False)
    for name in ("model.skops", "model.safetensors", "model.onnx_data", "weights.data", "data"):
        (root / name).symlink_to(outside)
    (root / "docs.md").symlink_to(outside)
    report = vet(load(root))
    [risk] = [r for r in report.risks if r.kind == "link-outside"]
    assert risk.severity == "error" and "NOT verified" in risk.message
    for name in ("model.skops", "model.safetensors", "model.onnx_data", "docs.md"):
        assert name in risk.message  # docs.md too: round 19a F4
    assert "6 symlink" in risk.message and "and 1 more" in risk.message


def test_a_tree_of_links_alone_is_reported(make_repo: MakeRepo, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.skops"
    outside.write_bytes(b"x")
    root = tmp_path / "links"
    root.mkdir()
    (root / "model.skops").symlink_to(outside)
    report = vet(load(root))
    assert [r.path for r in report.risks if r.kind == "link-outside"] == ["model.skops"]


# -- F5: auto_map naming another repository -------------------------------------------------------
def _remote(report: Report) -> list[Risk]:
    return [r for r in report.risks if r.kind == "remote-code"]


def test_an_auto_map_naming_another_repository_is_named(vet_repo: Callable[..., Report]) -> None:
    config = {
        "auto_map": {
            "AutoConfig": "configuration_x.XConfig",  # this tree's own module: vetted as code
            "AutoModel": "attacker/payload--modeling_x.M",
        }
    }
    report = vet_repo(
        {
            **README,
            "config.json": json.dumps(config),
            "configuration_x.py": "class XConfig: pass\n",
            "tokenizer_config.json": '{"auto_map": {"AutoTokenizer": '
            '["o/\\u001b[2Jr--t.T", null]}}',
        }
    )
    found = {r.path: r for r in _remote(report)}
    assert sorted(found) == ["config.json", "tokenizer_config.json"], report.risks
    assert all(r.severity == "warning" for r in found.values())
    assert "'attacker/payload'" in found["config.json"].message
    assert "\x1b" not in found["tokenizer_config.json"].message  # escaped (repr)


def test_an_auto_map_of_another_repository_loaded_with_remote_code_is_an_error(
    vet_repo: Callable[..., Report],
) -> None:
    report = vet_repo(
        {
            **README,
            "config.json": json.dumps({"auto_map": {"AutoModel": "a/b--m.M"}}),
            "demo.py": "from transformers import AutoModel\n"
            "m = AutoModel.from_pretrained('.', trust_remote_code=True)\n",
        }
    )
    [risk] = _remote(report)
    assert risk.severity == "error" and "'a/b'" in risk.message


def test_an_auto_map_of_the_tree_itself_is_no_finding(vet_repo: Callable[..., Report]) -> None:
    report = vet_repo(
        {
            **README,
            "config.json": json.dumps({"auto_map": {"AutoModel": "modeling_x.M"}}),
            "modeling_x.py": "class M: pass\n",
        }
    )
    assert not _remote(report)


def test_a_config_in_an_archive_is_named_through_the_links_that_lead_to_it(
    make_repo: MakeRepo,
) -> None:
    nemo = tarred({"model_config.yaml": EVIL_CONFIG.encode()})
    root = make_repo({**README, "store/x.nemo": nemo})
    (root / "model.nemo").symlink_to("store/x.nemo")
    found = _code_in_data(vet(load(root)))
    assert [r.path for r in found] == ["store/x.nemo"], found
    assert "model.nemo" in found[0].message.split("Symlinks lead to it")[-1]
