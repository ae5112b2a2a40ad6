"""Code forkvet does not vet as source: committed package archives and `.pth` files (outside
attack, round 14a F14: a `torch-2.1.0-…whl` the README installs, carrying a `.pth`)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

from forkvet.report import Report

Vet = Callable[..., Report]


def _wheel(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buf.getvalue()


def test_a_committed_wheel_and_its_pth_lines_are_named(vet_repo: Vet) -> None:
    evil = _wheel({"torch_patch.pth": "import os; os.system('true')\n", "torch/__init__.py": ""})
    plain = _wheel({"tool/__init__.py": "", "tool-1.0.dist-info/METADATA": "Name: tool\n"})
    report = vet_repo(
        {
            "wheels/torch-2.1.0-cp311-cp311-linux_x86_64.whl": evil,
            "wheels/tool-1.0-py3-none-any.whl": plain,
            "site/extra.pth": "# paths\n../src\nimport sitecustom\n",
            "site/paths.pth": "../src\n../lib\n",
            "README.md": "pip install wheels/torch-2.1.0-cp311-cp311-linux_x86_64.whl\n",
        }
    )
    found = {(r.kind, r.path): r for r in report.risks}
    wheel = found[("package-archive", "wheels/torch-2.1.0-cp311-cp311-linux_x86_64.whl")]
    assert "torch_patch.pth runs at every interpreter start" in wheel.message
    assert (
        "runs at every"
        not in found[("package-archive", "wheels/tool-1.0-py3-none-any.whl")].message
    )
    assert found[("pth-import", "site/extra.pth")].line == 3
    assert ("pth-import", "site/paths.pth") not in found
