"""Round 22a F11: configparser's option pattern backtracks quadratically over a long run of
spaces with no delimiter; a 400 KB INI or setup.cfg held `vet` and `env` past 300 s inside
C `re`. forkvet's INI reading runs configparser on RE2 patterns (safeparse.ini_parser)."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

from forkvet import safeparse
from tests.cputime import cpu_time

ROOT = Path(__file__).resolve().parents[2]
NORMAL = """[DEFAULT]
base = /data
[model]
_target_ = torch.nn.Linear
in_features: 4
path = %(base)s/x
multi =
    numpy
    torch>=2
[empty]
"""


def _hostile(lines: int, spaces: int) -> str:
    return "[model]\n_target_ = torch.nn.Linear\n" + "".join(
        f"a{i}{' ' * spaces}b\n" for i in range(lines)
    )


def _read(parser: configparser.ConfigParser, text: str) -> object:
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        return type(exc).__name__
    return {s: dict(parser.items(s, raw=True)) for s in parser.sections()}


def test_the_linear_parser_reads_what_configparser_reads() -> None:
    for interpolation in (False, True):
        for strict in (False, True):
            plain = (
                configparser.ConfigParser(strict=strict)
                if interpolation
                else configparser.ConfigParser(interpolation=None, strict=strict)
            )
            ours = safeparse.ini_parser(interpolation=interpolation, strict=strict)
            assert _read(ours, NORMAL) == _read(plain, NORMAL)
    bare = "[s]\nflag\nkey = v\n"
    raw = configparser.RawConfigParser(strict=False, allow_no_value=True)
    assert _read(safeparse.ini_parser(allow_no_value=True), bare) == _read(raw, bare)
    assert _read(safeparse.ini_parser(), "a = 1\n") == "MissingSectionHeaderError"


def test_a_long_run_of_spaces_costs_linear_time() -> None:
    small, large = _hostile(4, 2_000), _hostile(4, 40_000)
    t_small = cpu_time(lambda: _read(safeparse.ini_parser(), small))
    t_large = cpu_time(lambda: _read(safeparse.ini_parser(), large))
    # 20x the text: linear is ~20x; configparser's own pattern is ~400x (0.3 s -> 125 s a line)
    assert t_large < 60 * max(t_small, 1e-3), (t_small, t_large)


def test_no_configparser_is_built_outside_safeparse() -> None:
    found = []
    for path in (ROOT / "forkvet").rglob("*.py"):
        if path.name == "safeparse.py":
            continue
        text = path.read_text(encoding="utf-8")
        for name in ("ConfigParser(", "RawConfigParser(", "SafeConfigParser("):
            if name in text:
                found.append(f"{path.relative_to(ROOT)}: {name}")
    assert not found, found


def test_vet_reads_a_hostile_ini_in_seconds(tmp_path: Path) -> None:
    (tmp_path / "train.ini").write_text(_hostile(4, 100_000))
    (tmp_path / "setup.cfg").write_text(
        "[metadata]\nname = x\n[options]\ninstall_requires =\n    numpy\n" + _hostile(4, 100_000)
    )
    proc = subprocess.run(
        [sys.executable, "-m", "forkvet", "vet", str(tmp_path), "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode in (0, 1), proc.stderr[-2000:]


def test_a_long_dotted_toml_key_is_refused_before_tomllib() -> None:
    """Round 22a F25: tomllib keeps every prefix of a dotted key (memory quadratic in its
    parts: a 120 KB pyproject.toml took `env` to 4 GiB)."""
    import tomllib

    import pytest

    for sep in (".", " . ", '."q".'):
        text = "[tool.x]\n" + sep.join(["a"] * 30_000) + " = 1\n"
        with pytest.raises(tomllib.TOMLDecodeError):
            safeparse.toml_loads(text)
    header = "[" + ".".join(["b"] * 30_000) + "]\n"
    with pytest.raises(tomllib.TOMLDecodeError):
        safeparse.toml_loads(header)
    ok = '[tool.poetry.dependencies]\npython = "^3.11"\na.b.c.d = "1.2.3.4"\n'
    assert safeparse.toml_loads(ok)["tool"]["poetry"]["dependencies"]["a"]["b"]["c"]["d"]
