"""The audit step of `forkvet env`: known vulnerabilities of the pins it just wrote, and with
`--safe` the nearest safe release of each vulnerable pin written instead."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from forkvet.audit.pins import Pins
from forkvet.audit.run import audit_pins, safe_requirements
from forkvet.envgen.index import WORKERS
from forkvet.errors import ForkvetError
from forkvet.safe_write import OutputDir


def audit_env(
    requirements: list[dict[str, Any]],
    python: str | None,
    out: Path | None,
    vuln_db: str | None = None,
    safe: bool = False,
) -> dict[str, Any]:
    """A summary for env's result; never raises for a service that cannot be reached (the
    environment is still written, the audit says why it is missing)."""
    from forkvet.audit.cli import source_for

    pins = Pins(python=python)
    for req in requirements:
        if req.get("version"):
            pins.packages[canonicalize_name(str(req["name"]))] = str(req["version"])
    try:
        # One service round trip per pin (and per advisory): side by side, as the index.
        result = audit_pins(pins, source_for(vuln_db), workers=WORKERS)
    except ForkvetError as exc:
        return {"error": str(exc), "summary": f"not audited: {exc}"}
    data: dict[str, Any] = {
        "summary": result.summary(),
        "counts": result.counts,
        "source": result.source,
        "vulnerabilities": [
            {k: getattr(v, k) for k in ("package", "version", "id", "severity", "nearest_safe")}
            for v in result.vulnerabilities
        ],
        "safe_pins": result.safe_pins,
        "changed": [],
    }
    if safe and result.safe_pins:
        changed: list[str] = []
        for req in requirements:
            new = result.safe_pins.get(canonicalize_name(str(req["name"])))
            if new and new != req.get("version"):
                changed.append(f"{req['name']} {req['version']} -> {new}")
                req["version"] = new
        data["changed"] = changed
        if out is not None and (out / "requirements.txt").is_file():
            text, _ = safe_requirements(
                (out / "requirements.txt").read_text(encoding="utf-8"), result.safe_pins
            )
            note = (
                "# forkvet env --safe: vulnerable pins raised to their nearest safe release: "
                + "; ".join(changed)
                + "\n"
            )
            with OutputDir(out, create=False) as folder:  # no write through a link
                folder.write_text("requirements.txt", note + text)
    return data
