"""Licenses of the resolved dependencies — of the pinned release, read from its metadata on
the index — checked against the repository's own license and the team's policy.

Why not licensecheck: it reports the latest release's license rather than the pinned one's,
flags the NVIDIA CUDA runtime wheels torch pulls in, and crashes on some `WITH` expressions.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from forkvet import rx
from forkvet.config import LicensePolicy
from forkvet.envgen.index import WORKERS, release_metadata
from forkvet.vet.license import spdx_from_name
from forkvet.vet.licensedb import is_osi
from forkvet.vet.licenseterms import RESTRICTIVENESS, spdx_terms

_NVIDIA_RUNTIME = rx.compile(r"^nvidia-[a-z0-9-]+-cu\d+$|^nvidia-[a-z-]+$")


@dataclass
class DepLicense:
    name: str
    version: str
    license: str  # SPDX id/expression, or the metadata's words
    category: str
    verdict: str  # ok | notice | warning | error
    note: str = ""


def _license_of(
    meta_license: str | None, expression: str | None, classifiers: list[str]
) -> tuple[str, str]:
    """(license, category) from core metadata; category 'unknown' when unreadable."""
    text = expression or meta_license or ""
    if text:
        # "Apache-2.0 WITH LLVM-exception": the exception only adds permissions.
        main = rx.split(r"\s+WITH\s+", text.strip(), maxsplit=1)[0]
        parts = rx.split(r"\s+OR\s+|\s+AND\s+", main.strip("()"))
        ids = [spdx_from_name(p.strip("() ")) for p in parts if p.strip()]
        known = [i for i in ids if i]
        if known:
            cats = [spdx_terms(i, is_osi(i)).category for i in known]
            pick = min if " OR " in main else max
            return text, pick(cats, key=lambda c: RESTRICTIVENESS[c])
    for c in classifiers:
        if c.startswith("License ::"):
            spdx = spdx_from_name(c.split("::")[-1].strip())
            if spdx:
                return spdx, spdx_terms(spdx, is_osi(spdx)).category
    return (text or "unknown"), "unknown"


def check(
    pins: dict[str, str], repo_category: str, policy: LicensePolicy, python: str | None = None
) -> list[DepLicense]:
    # One index round trip or more per package: fetch them side by side.
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(
            pool.map(
                lambda item: _check_one(item[0], item[1], repo_category, policy, python),
                sorted(pins.items()),
            )
        )


def _check_one(
    name: str, version: str, repo_category: str, policy: LicensePolicy, python: str | None
) -> DepLicense:
    if _NVIDIA_RUNTIME.match(name):
        # The CUDA runtime wheels are NVIDIA's redistributable runtime: no alarm.
        return DepLicense(
            name,
            version,
            "NVIDIA proprietary (redistributable runtime)",
            "permissive",
            "ok",
            "CUDA runtime library",
        )
    # PEP 658 metadata when the index has it, else the wheel's METADATA by range requests
    # (the same release's metadata the build-tool limits read: remembered, not fetched twice).
    meta = release_metadata(name, version, python)
    if meta is None:
        return DepLicense(
            name,
            version,
            "unknown",
            "unknown",
            "notice",
            "no metadata on the index for this release",
        )
    lic, category = _license_of(
        meta.get("License"), meta.get("License-Expression"), meta.get_all("Classifier") or []
    )
    verdict, note = "ok", ""
    ids = {i.lower() for i in rx.split(r"\s+(?:OR|AND|WITH)\s+", lic)}
    if category == "unknown":
        verdict, note = "notice", "license not stated in a form forkvet reads"
    elif category in ("non-commercial", "custom-restricted"):
        verdict, note = "warning", f"{category} license"
        if policy.require_commercial_use:
            verdict = "error"
    elif (
        category in ("strong-copyleft", "network-copyleft")
        and RESTRICTIVENESS.get(repo_category, 0) < RESTRICTIVENESS[category]
    ):
        verdict, note = (
            "warning",
            (
                f"{category} dependency in a {repo_category} project: "
                f"distributing them together brings its obligations"
            ),
        )
    denied = {d.lower() for d in policy.deny}
    if denied & (ids | {category}):
        verdict, note = "error", "denied by the license policy"
    return DepLicense(name, version, lic[:120], category, verdict, note)
