"""Round 19b's runtime findings (outside attack): the wheels-only install compiles no byte code
(F1), the sandbox has a session keyring of its own (F4), no lock forkvet waits on is reachable
from it and its waits end by the step's budget (F6), and the repair leaves no folder or file
writable by others (F8)."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from forkvet.cli import main
from tests.conftest import MakeRepo

SECRET = "S3CRET19B"

# A `.pth` runs whenever `site` starts the environment's interpreter: it records what it saw
# when the index password was in its environment (only forkvet's credentialed install has it).
_HOOK = (
    "import os, sys; 'UV_INDEX_CORP_PASSWORD' in os.environ and "
    "[open(os.path.join(d, 'PTH_RAN'), 'w').write(os.environ['UV_INDEX_CORP_PASSWORD']) "
    "for d in (sys.prefix, os.environ.get('UV_CACHE_DIR', sys.prefix))]\n"
)


def _pth_wheel(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "pthpkg/__init__.py": b"",
        "pthpkg_hook.pth": _HOOK.encode(),
        "pthpkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: pthpkg\nVersion: 1.0\n",
        "pthpkg-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = [
        f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()}"
        f",{len(d)}"
        for n, d in files.items()
    ]
    path = folder / "pthpkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        record.append("pthpkg-1.0.dist-info/RECORD,,")
        zf.writestr("pthpkg-1.0.dist-info/RECORD", "\n".join(record))
    return path


@pytest.mark.parametrize("how", ["variable", "config"])
def test_a_wheels_pth_never_runs_in_the_credentialed_install(
    make_repo: MakeRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    how: str,
) -> None:
    """F1: with the operator's byte-code setting, uv started the new environment's interpreter
    inside the wheels-only install, and a listed wheel's `.pth` read the index password and
    wrote uv's shared cache."""
    pytest.importorskip("uv")
    cache = tmp_path / "uv-cache"
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    monkeypatch.setenv("UV_CACHE_DIR", str(cache))
    monkeypatch.setenv("FORKVET_TORCH_BACKEND", "none")
    monkeypatch.setenv("UV_FIND_LINKS", str(_pth_wheel(tmp_path / "wheels").parent))
    monkeypatch.setenv("UV_NO_INDEX", "1")
    monkeypatch.setenv("UV_INDEX_CORP_PASSWORD", SECRET)
    if how == "variable":
        monkeypatch.setenv("UV_COMPILE_BYTECODE", "1")
    else:
        # the operator's user configuration (the sandboxed install sees it read-only)
        (tmp_path / "xdg" / "uv").mkdir(parents=True)
        (tmp_path / "xdg" / "uv" / "uv.toml").write_text("compile-bytecode = true\n")
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    repo = make_repo({"requirements.txt": "pthpkg==1.0\n", "m.py": "import pthpkg\n"})
    out = tmp_path / "smoke.json"
    where = ["--env-dir", str(tmp_path / "envs"), "--out", str(tmp_path / "out")]
    report = ["--format", "json", "-o", str(out)]
    code = main(["smoke", str(repo), "--cmd", "true", "--no-import-check", *where, *report])
    err = capsys.readouterr().err
    assert code == 0, err
    assert json.loads(out.read_text())["environment"]["reused"] is False
    ran = sorted(str(p) for p in tmp_path.rglob("PTH_RAN"))
    assert ran == [], ran


def test_the_repair_leaves_nothing_others_may_write(tmp_path: Path) -> None:
    """F8: the repair gave the owner its bits back and stripped setuid from files only: the
    command's 0777 checkout, 1777 and 2777 folders and 0666 files stayed on the host."""
    from forkvet.runtime.sandbox import repair_modes

    top = tmp_path / "checkout"
    (top / "ww" / "sub").mkdir(parents=True)
    (top / "f").write_text("x")
    (top / "ww" / "sub").chmod(0o2777)
    (top / "ww").chmod(0o1777)
    (top / "f").chmod(0o6766)
    top.chmod(0o777)
    repair_modes([top])
    modes = {p.name: p.stat().st_mode & 0o7777 for p in (top, top / "ww", top / "ww" / "sub")}
    assert modes == {"checkout": 0o755, "ww": 0o755, "sub": 0o755}
    assert (top / "f").stat().st_mode & 0o7777 == 0o744
