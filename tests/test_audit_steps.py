"""The steps of audit.run.audit_pins, each on its own (issue 23)."""

from __future__ import annotations

from packaging.version import Version

from forkvet.audit.pins import Pins
from forkvet.audit.run import _versions


def test_pins_that_are_no_pep_440_version_are_noted_and_left_out() -> None:
    notes: list[str] = []
    pins = Pins(packages={"torch": "2.1.0", "odd": "1.0-custom-build!"})
    assert _versions(pins, notes) == {"torch": Version("2.1.0")}
    assert notes == ["odd==1.0-custom-build!: not a PEP 440 version, not audited"]
