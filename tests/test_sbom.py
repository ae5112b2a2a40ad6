"""`forkvet env --sbom`: a CycloneDX SBOM of the pinned environment, built against a real local
index (real uv), validated with cyclonedx-python-lib's own JSON schema validator; `forkvet
audit` reads it and finds what it finds in requirements.txt."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from forkvet.cli import main
from tests.conftest import MakeRepo
from tests.pkgindex import PackageIndex
from tests.test_audit import record
from tests.test_env import DISTS, TF1, run_env

pytest.importorskip("uv")


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[PackageIndex]:
    from forkvet.envgen.index import forget

    forget()  # the index's answers are remembered per process: this test's index is new
    with PackageIndex(DISTS) as idx:
        monkeypatch.setenv("UV_INDEX_URL", idx.url)
        monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
        monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
        yield idx
    forget()


def components(sbom: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in sbom["components"]}


def test_sbom_of_a_cuda_environment_validates_and_names_everything(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(TF1, date="2019-12-01T10:00:00+00:00")
    out = tmp_path / "out"
    code, data = run_env(repo, out, capsys, "--device", "cuda", "--sbom", "--no-audit")
    assert code == 0, data
    path = out / "sbom.cdx.json"
    assert str(path) in data["files"]  # type: ignore[operator]
    text = path.read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    sbom = json.loads(text)
    assert sbom["bomFormat"] == "CycloneDX" and sbom["specVersion"] == "1.6"
    comps = components(sbom)
    pins = {r["name"]: r["version"] for r in data["requirements"]}  # type: ignore[attr-defined]
    for name, version in pins.items():
        assert comps[name]["version"] == version
        assert comps[name]["purl"] == f"pkg:pypi/{name}@{version}"
    # the dependency-license check's answer for the pinned release
    assert comps["numpy"]["licenses"] == [{"license": {"id": "BSD-3-Clause"}}]
    assert comps["opencv-python"]["licenses"] == [{"license": {"id": "MIT"}}]
    # the index's sha256 of the one file that fits Python 3.7: the bytes it serves
    wheel = next(n for n in index.wheels if n.startswith("tensorflow_gpu-1.15.0"))
    (digest,) = comps["tensorflow-gpu"]["hashes"]
    assert digest == {"alg": "SHA-256", "content": hashlib.sha256(index.wheels[wheel]).hexdigest()}
    (ref,) = comps["tensorflow-gpu"]["externalReferences"]
    assert ref["type"] == "distribution" and ref["comment"] == wheel
    # named by purl, never by the index's address (a token may sit in its path)
    assert ref["url"] == f"pkg:pypi/tensorflow-gpu@1.15.0?file_name={wheel}"
    props = {p["name"]: p["value"] for p in comps["tensorflow-gpu"]["properties"]}
    assert props["forkvet:role"] == "framework" and props["forkvet:device"] == "cuda"
    # the CUDA build TensorFlow 1.15 runs on (environment.yml installs it from conda)
    assert comps["cudatoolkit"]["purl"] == "pkg:conda/cudatoolkit@10.0"
    assert comps["cudnn"]["version"] == "7.4"
    # the repository itself is the root, with its SPDX license
    root = sbom["metadata"]["component"]
    assert root["name"] == "model-repo" and root["type"] == "application"
    assert root["licenses"] == [{"license": {"id": "MIT"}}]
    meta = {p["name"]: p["value"] for p in sbom["metadata"]["properties"]}
    assert meta["forkvet:python"] == "3.7"
    (deps,) = [d for d in sbom["dependencies"] if d["ref"] == root["bom-ref"]]
    assert len(deps["dependsOn"]) == len(pins) + 2
    # reproducible (the App's setup PR): the same bytes twice, still valid
    from forkvet.envgen.generate import EnvResult
    from forkvet.envgen.sbom import sbom_json
    from forkvet.report import RepoInfo, Report

    result = EnvResult(**{k: v for k, v in data.items() if k not in ("audit", "out")})  # type: ignore[arg-type]
    twice = [sbom_json(result, Report(RepoInfo("model-repo")), reproducible=True) for _ in "ab"]
    assert twice[0] == twice[1] and "serialNumber" not in twice[0]
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(twice[0]) is None
    # on a CPU: no CUDA components
    code, _ = run_env(repo, tmp_path / "cpu", capsys, "--device", "cpu", "--sbom", "--no-audit")
    cpu = json.loads((tmp_path / "cpu" / "sbom.cdx.json").read_text())
    assert code == 0 and "cudatoolkit" not in components(cpu)
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(cpu)) is None


def test_audit_of_the_sbom_equals_audit_of_requirements(
    index: PackageIndex, make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(TF1, date="2019-12-01T10:00:00+00:00")
    out = tmp_path / "out"
    code, _ = run_env(repo, out, capsys, "--device", "cpu", "--sbom", "--no-audit")
    assert code == 0
    db = tmp_path / "osv"
    db.mkdir()
    for rec in (
        record(
            "PYSEC-NUMPY-1", "numpy", [{"introduced": "0"}, {"fixed": "1.18.0"}], severity="HIGH"
        ),
        record("GHSA-cv-1", "opencv-python", [{"introduced": "3.0"}, {"fixed": "4.0"}]),
    ):
        (db / f"{rec['id']}.json").write_text(json.dumps(rec))

    def audit(target: Path) -> dict[str, Any]:
        main(["audit", str(target), "--vuln-db", str(db), "--no-index", "--format", "json"])
        result: dict[str, Any] = json.loads(capsys.readouterr().out)
        return result

    from_sbom = audit(out / "sbom.cdx.json")
    from_reqs = audit(out / "requirements.txt")
    assert from_sbom["vulnerabilities"] == from_reqs["vulnerabilities"]
    assert {v["id"] for v in from_sbom["vulnerabilities"]} == {"PYSEC-NUMPY-1", "GHSA-cv-1"}
    assert from_sbom["packages"] == from_reqs["packages"] and from_sbom["python"] == "3.7"


def test_audit_refuses_json_that_is_not_an_sbom(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "report.json"
    bad.write_text('{"schema_version": "1.0"}')
    db = tmp_path / "osv"
    db.mkdir()
    (db / "a.json").write_text(json.dumps(record("X-1", "numpy", [{"introduced": "0"}])))
    code = main(["audit", str(bad), "--vuln-db", str(db), "--no-index"])
    err = capsys.readouterr().err
    assert code == 2 and "not a CycloneDX SBOM" in err and "Traceback" not in err
