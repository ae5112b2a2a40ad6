"""A CycloneDX SBOM of the pinned environment (`forkvet env --sbom` writes sbom.cdx.json).

Built with cyclonedx-python-lib (the CycloneDX project's own library), CycloneDX 1.6:
- the repository is the root component (metadata.component), with its SPDX license;
- every pinned package is a component with its version, purl (`pkg:pypi/name@version`), the
  license the dependency-license check read from that release's metadata, and the sha256
  the index gives for its files (the component's own hash when one file fits the
  environment's Python, every fitting file as a `distribution` reference);
- with `--device cuda`, the framework's CUDA build: the CUDA toolkit and cuDNN conda packages
  the environment installs, and the framework marked `forkvet:device=cuda`.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.license import DisjunctiveLicense, License
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from forkvet import __version__

if TYPE_CHECKING:
    from forkvet.envgen.generate import EnvResult
    from forkvet.report import Report

SBOM_NAME = "sbom.cdx.json"
MAX_DISTRIBUTIONS = 40  # per release: platform wheels are many, the SBOM stays readable
Distribution = tuple[str, str, str]  # filename, url, sha256


def _files_for(name: str, version: str, python: str) -> list[Distribution]:
    """The release's files that fit this Python, with the index's sha256; [] when the index
    gives no hashes or cannot be asked (the SBOM is still written, without them)."""
    from forkvet.audit.run import _python_ok
    from forkvet.envgen.index import project_files

    try:
        files = project_files(name)
    except Exception:  # the index is optional here: an SBOM without hashes
        return []
    out = []
    for f in files:
        if f.version != version or f.yanked or not f.sha256:
            continue
        if _python_ok(f.requires_python, f.filename, python if python != "2.7" else None):
            # Never the index's own address: a hosted index may carry its token in the path
            # (pypi.fury.io/<token>/…), which no filter can tell from a folder name. The file
            # is named by its purl and file name; the hash identifies it.
            ref = PackageURL(
                type="pypi",
                name=name.lower(),
                version=version,
                qualifiers={"file_name": f.filename},
            )
            out.append((f.filename, str(ref), f.sha256))
    return out[:MAX_DISTRIBUTIONS]


def _license(text: str | None) -> list[License]:
    if not text or text == "unknown":
        return []
    try:
        return [LicenseFactory().make_from_string(text)]
    except Exception:  # words the factory cannot place are kept as a license name
        return [DisjunctiveLicense(name=text[:200])]


def sbom_json(
    result: EnvResult,
    report: Report,
    hashes: bool = True,
    workers: int = 8,
    reproducible: bool = False,
) -> str:
    """The SBOM text (CycloneDX 1.6 JSON). reproducible: no timestamp and no serial number
    (as cyclonedx-py's --output-reproducible), so the same environment gives the same bytes
    (the App's setup pull request changes only when the environment does)."""
    bom = Bom()
    bom.metadata.tools.components.add(
        Component(type=ComponentType.APPLICATION, name="forkvet", version=__version__)
    )
    root = _root(report)
    bom.metadata.component = root
    for key, value in (
        ("python", result.python),
        ("as-of", result.as_of),
        ("device", result.device),
    ):
        bom.metadata.properties.add(Property(name=f"forkvet:{key}", value=value))
    licenses = {(d["name"], d["version"]): d for d in result.licenses}
    pinned = [r for r in result.requirements if r.get("version")]
    found: dict[str, list[Distribution]] = {}
    if hashes and not result.offline:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            lists = pool.map(lambda r: _files_for(r["name"], r["version"], result.python), pinned)
            found = dict(zip([r["name"] for r in pinned], lists, strict=True))
    framework = (result.framework or {}).get("dist")
    components = [
        _package(req, licenses.get((req["name"], req["version"]), {}), found, framework, result)
        for req in pinned
    ]
    if result.offline or not result.complete:  # names without a version are all it has
        components += [_unpinned(name) for name in result.unresolved]
    components += _cuda(result)
    for c in components:
        bom.components.add(c)
    bom.register_dependency(root, components)
    text = str(JsonV1Dot6(bom).output_as_string(indent=2))
    if reproducible:  # the library always sets both; the schema requires neither
        data = json.loads(text)
        data.pop("serialNumber", None)
        data.get("metadata", {}).pop("timestamp", None)
        text = json.dumps(data, indent=2)
    return text + "\n"


def write_sbom(result: EnvResult, report: Report, out: Path) -> str:
    """Write sbom.cdx.json into env's output folder (no write through a link)."""
    from forkvet.safe_write import OutputDir

    with OutputDir(out, create=False) as folder:
        return str(folder.write_text(SBOM_NAME, sbom_json(result, report)))


def _package(
    req: dict[str, str],
    dep: dict[str, str],
    found: dict[str, list[Distribution]],
    framework: str | None,
    result: EnvResult,
) -> Component:
    name, version = str(req["name"]), str(req["version"])
    purl = PackageURL(type="pypi", name=name.lower(), version=version)
    files = found.get(name, [])
    props = [Property(name="forkvet:kind", value=str(req.get("kind", "")))]
    if dep.get("category"):
        props.append(Property(name="forkvet:license-category", value=dep["category"]))
    if name == framework:
        props.append(Property(name="forkvet:role", value="framework"))
        props.append(Property(name="forkvet:device", value=result.device))
    return Component(
        type=ComponentType.LIBRARY,
        name=name,
        version=version,
        purl=purl,
        bom_ref=str(purl),
        licenses=_license(dep.get("license")),
        # the component's own hash only when one file fits: otherwise it would be ambiguous
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=files[0][2])]
        if len(files) == 1
        else [],
        external_references=[
            ExternalReference(
                type=ExternalReferenceType.DISTRIBUTION,
                url=XsUri(url),
                comment=filename,
                hashes=[HashType(alg=HashAlgorithm.SHA_256, content=sha)],
            )
            for filename, url, sha in files
        ],
        properties=props,
    )


def _unpinned(name: str) -> Component:
    """A name the environment could not pin (offline, or a partial resolution): listed, so
    that the SBOM is complete, without a version (an audit reports it as not audited)."""
    purl = PackageURL(type="pypi", name=name.lower())
    return Component(
        type=ComponentType.LIBRARY,
        name=name,
        purl=purl,
        bom_ref=str(purl),
        properties=[Property(name="forkvet:pinned", value="false")],
    )


def _root(report: Report) -> Component:
    repo = report.repo
    purl = None
    remote = repo.remote or ""
    if remote.startswith("https://github.com/"):
        parts = remote.removeprefix("https://github.com/").removesuffix(".git").split("/")
        if len(parts) == 2 and all(parts):
            purl = PackageURL(type="github", namespace=parts[0], name=parts[1], version=repo.commit)
    commercial = {True: "yes", False: "no", None: "unclear"}[report.license.commercial_use]
    return Component(
        type=ComponentType.APPLICATION,
        name=repo.name,
        version=repo.commit or repo.code_date or "unversioned",
        purl=purl,
        bom_ref=f"repository:{repo.name}",
        licenses=_license(report.license.spdx),
        properties=[
            Property(name="forkvet:license-category", value=report.license.category),
            Property(name="forkvet:commercial-use", value=commercial),
        ],
    )


def _cuda(result: EnvResult) -> list[Component]:
    """The CUDA toolkit and cuDNN the framework's CUDA build runs on (installed from conda by
    environment.yml); the CUDA wheels a newer torch pins are components already."""
    from forkvet.envgen.device import cuda_for

    fw = result.framework
    if result.device != "cuda" or not fw:
        return []
    found = cuda_for(str(fw["dist"]), str(fw["version"]))
    if not found:
        return []
    out = []
    for name, version in zip(("cudatoolkit", "cudnn"), found, strict=True):
        if not version:
            continue
        purl = PackageURL(type="conda", name=name, version=version)
        out.append(
            Component(
                type=ComponentType.LIBRARY,
                name=name,
                version=version,
                purl=purl,
                bom_ref=str(purl),
                properties=[
                    Property(name="forkvet:role", value="cuda-build"),
                    Property(name="forkvet:for", value=f"{fw['dist']}=={fw['version']}"),
                ],
            )
        )
    return out
