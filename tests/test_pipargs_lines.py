"""An install line is read as the shell, pip and uv read it: a `\\` continuation is joined
before the line is read (README code blocks, notebook cells), uv's own options are known, and
an option forkvet does not know never lets a name of that line through as an index name (pip
and uv apply an index option to every package of the command, wherever it stands)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from forkvet.cli import main
from forkvet.uvbin import uv_binary
from forkvet.vet import pipargs
from forkvet.vet.declared import DeclaredSet, install_commands, shell_joined
from forkvet.vet.pysource import notebook_source
from tests.conftest import MakeRepo
from tests.cputime import cpu_call

CORP = "https://pypi.corp.example/simple"


def _uv_help_options() -> dict[str, bool]:
    """option -> takes a value, from the installed uv's `uv pip install --help`."""
    text = subprocess.run(
        [uv_binary(), "pip", "install", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    out: dict[str, bool] = {}
    for line in text.splitlines():
        if not line.lstrip().startswith("-") or len(line) - len(line.lstrip()) > 8:
            continue
        head = line.strip().split("  ")[0].removesuffix("...")
        for name in head.split(" <")[0].split(", "):
            out[name.strip()] = "<" in head
    return out


def test_the_option_table_has_uvs_own() -> None:
    """Every option the installed uv's `pip install --help` shows is in forkvet's table, as
    an option with or without an argument, as uv has it."""
    options = _uv_help_options()
    assert len(options) > 60 and options["--default-index"] and not options["--no-deps"]
    for name, takes in options.items():
        if name.startswith("--"):
            table = pipargs.VALUE_LONG if takes else pipargs.FLAG_LONG
        else:
            table = pipargs.VALUE_SHORT if takes else pipargs.FLAG_SHORT
            name = name[1:]
        assert name in table, f"uv's {name} (takes a value: {takes}) is not in the table"


@pytest.mark.parametrize(
    ("words", "packages", "sources", "unknown"),
    [
        (f"a --default-index {CORP}", ["a"], [f"--default-index {CORP}"], ""),
        (f"a --index corp={CORP}", ["a"], [f"--index corp={CORP}"], ""),
        (
            f"a --index-strategy unsafe-best-match --extra-index-url {CORP}",
            ["a"],
            [f"--extra-index-url {CORP}"],
            "",
        ),
        ("a --torch-backend cu121 --prerelease allow --resolution lowest b", ["a", "b"], [], ""),
        ("-p 3.11 --no-build-isolation-package x -P y -n a", ["a"], [], ""),
        # pip's abbreviation of --extra-index-url, uv's extra: told apart by the argument
        (f"a --extra {CORP}", ["a"], [f"--extra {CORP}"], ""),
        ("-r pyproject.toml --extra gpu", [], [], ""),
        # an unknown option: read on to the end, index options after it still count
        (f"a --no-build-isolation-x --index-url {CORP}", ["a"], [f"--index-url {CORP}"], "x"),
        ("--weird a b", ["a", "b"], [], "--weird"),
        ("-X a", ["a"], [], "-X"),
    ],
)
def test_uv_options_and_unknown_ones(
    words: str, packages: list[str], sources: list[str], unknown: str
) -> None:
    line = pipargs.parse(words.split())
    assert line.packages == packages and line.sources == sources
    assert line.unknown == ("--no-build-isolation-x" if unknown == "x" else unknown)


def test_shell_joined_only_in_code_blocks_and_keeps_line_numbers() -> None:
    text = (
        "pip install prose \\\n"  # 1: prose, a Markdown line break
        "then run it\n"  # 2
        "```\n"  # 3
        "pip install a \\\r\n"  # 4: CRLF
        "  --index-url URL \\\n"  # 5
        "  b\n"  # 6
        "echo x # a comment \\\n"  # 7: a comment's backslash continues nothing
        "echo y \\\\\n"  # 8: an escaped backslash
        "pip install c\n"  # 9
        "```\n"  # 10
        "last \\"  # 11: continued at the end of the text
    )
    joined = shell_joined(text).split("\n")
    assert len(joined) == len(text.split("\n"))
    assert joined[0] == "pip install prose \\"
    assert joined[3] == "pip install a   --index-url URL   b"
    assert joined[4:6] == ["", ""]
    assert joined[6] == "echo x # a comment \\"
    assert joined[7] == "echo y \\\\"
    assert joined[8] == "pip install c"
    assert joined[10] == "last \\"


def _declared(text: str) -> DeclaredSet:
    out = DeclaredSet()
    install_commands(text, "README.md", out)
    return out


def test_a_continued_readme_line_is_read_whole() -> None:
    out = _declared(
        "# x\n```\npip install corp-a \\\n    --index-url https://pypi.corp.example/simple\n"
        "pip install numpy \\\n  scipy\n```\n"
    )
    by_name = {d.name: d for d in out.items}
    assert by_name["corp-a"].other_index and by_name["corp-a"].line == 3
    assert "--index-url https://pypi.corp.example/simple" in by_name["corp-a"].source
    # a continuation that only names more packages: both plain index names, its own lines
    assert by_name["numpy"].source == "" and by_name["scipy"].source == ""
    assert by_name["scipy"].line == 5


def test_a_fence_inside_a_list_item_joins_too() -> None:
    out = _declared("1. Install:\n\n    ```\n    pip install corp-list \\\n      -i URL\n    ```\n")
    (item,) = out.items
    assert item.other_index and "-i URL" in item.source


def test_a_continued_line_outside_a_code_block_is_not_read() -> None:
    out = _declared("Run pip install corp-prose \\\nthen train.\n")
    (item,) = out.items
    assert item.name == "corp-prose" and item.other_index
    assert "continues past" in item.source
    assert any("README.md:1" in n and "not read" in n for n in out.notes)


def test_a_continuation_that_is_no_install_changes_nothing() -> None:
    out = _declared("```\npython train.py \\\n  --lr 0.1\npip install numpy\n```\n")
    (item,) = out.items
    assert (item.name, item.line, item.source) == ("numpy", 4, "")


def test_an_unknown_option_before_or_after_the_names_marks_them_all() -> None:
    out = _declared(
        "```\npip install --weird-opt corp-before\n"
        "pip install corp-after --no-build-isolation-x --index-url https://c.example/simple\n"
        "pip install -r requirements.txt --weird2 v\n```\n"
    )
    by_name = {d.name: d for d in out.items}
    assert by_name["corp-before"].other_index and "--weird-opt" in by_name["corp-before"].source
    after = by_name["corp-after"]
    assert after.other_index and "--no-build-isolation-x" in after.source
    assert "--index-url https://c.example/simple" in after.source
    assert len([n for n in out.notes if "not read" in n]) == 3


def test_notebook_continuation_joins_the_next_line() -> None:
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "source": [
                    "!pip install corp-nb \\\n",
                    "   --index-url https://pypi.corp.example/simple\n",
                    "x = 1\n",
                    "if x:\n",
                    "    !echo a \\\n",
                    "        b\n",
                ],
            }
        ],
        "nbformat": 4,
    }
    found = notebook_source(json.dumps(nb))
    assert found is not None
    source, shell = found
    assert shell == [
        "pip install corp-nb     --index-url https://pypi.corp.example/simple",
        "echo a          b",
    ]
    compile(source, "nb", "exec")  # the joined lines stay valid Python (comments)
    assert len(source.splitlines()) == 6


def _env(repo: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    main(["env", str(repo), "--offline", "--out", str(out), "--format", "json"])
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def _nb(*cells: list[str]) -> str:
    return json.dumps(
        {
            "cells": [{"cell_type": "code", "source": c, "metadata": {}} for c in cells],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 2,
        }
    )


README = """# x
```
pip install corp-cont1 \\
    --index-url https://pypi.corp.example/simple
uv pip install corp-uvdefidx --default-index https://pypi.corp.example/simple
uv pip install corp-uvstrat2 --index-strategy unsafe-best-match --extra-index-url https://pypi.corp.example/simple
pip install corp-unk --no-build-isolation-x --index-url https://pypi.corp.example/simple
pip install --weird-thing corp-before
uv pip install einops --torch-backend cpu
```
"""


def test_env_never_pins_what_such_lines_install_from_elsewhere(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The attack's README and notebook: every corp name is dropped and named; a plain uv
    line with known options keeps its package."""
    repo = make_repo(
        {
            "README.md": README.replace("\n", "\r\n"),
            "demo.ipynb": _nb(["!pip install corp-nbcont \\\n", f"   --index-url {CORP}\n"]),
            "train.py": "import torch\n",
        }
    )
    data = _env(repo, tmp_path / "out", capsys)
    reqs = (tmp_path / "out" / "requirements.txt").read_text()
    pinned = {line.split()[0] for line in reqs.splitlines() if line and line[0] != "#"}
    assert pinned == {"einops", "torch"}
    problems = "\n".join(str(p) for p in data["problems"])
    for name in ("corp-cont1", "corp-uvdefidx", "corp-uvstrat2", "corp-unk", "corp-before"):
        assert f"{name} (README.md:" in problems and "never resolved on your index" in problems
    assert "corp-nbcont (demo.ipynb:1)" in problems


@pytest.mark.parametrize(
    ("link", "names"),
    [
        ("https://corp.example/corp-pydl/tarball/master#egg=corp-pydl", ["corp-pydl"]),
        ("https://corp.example/corp-pydl/tarball/master#egg=corp-pydl-1.0", ["corp-pydl"]),
        ("git+https://corp.example/corp-pydl.git#egg=corp-pydl-1.0", ["corp-pydl"]),
        ("https://corp.example/x#subdirectory=sub&egg=corp-sub", ["corp-sub"]),
        ("https://corp.example/x#egg=corp-v2-1.0.dev1", ["corp-v2"]),
        ("https://corp.example/x#egg=corp-2", ["corp", "corp-2"]),  # both readings
        ("https://corp.example/corp_pydl-1.0.tar.gz", ["corp_pydl"]),
        ("https://corp.example/torch-2.0.0-cp311-none-linux_x86_64.whl", ["torch"]),
    ],
)
def test_egg_names_are_read_as_setuptools_reads_them(link: str, names: list[str]) -> None:
    from forkvet.vet.metadata import link_names

    assert link_names(link) == names


SETUP_LINKS = """from setuptools import setup
setup(name="x", install_requires=["corp-pydl", "corp-pydl2"],
      dependency_links=["https://corp.example/corp-pydl/tarball/master#egg=corp-pydl",
                        "git+https://corp.example/corp-pydl2.git#egg=corp-pydl2-1.0"])
"""
SETUP_CFG_LINKS = """[metadata]
name = y
[options]
install_requires =
    corp-cfgdl
    corp-cfgdl2
    numpy
dependency_links =
    https://corp.example/corp-cfgdl/tarball/master#egg=corp-cfgdl-1.0
    https://corp.example/a.tar.gz#egg=corp-cfgdl2, https://corp.example/b.tar.gz
"""


@pytest.mark.parametrize("files", [{"setup.py": SETUP_LINKS}, {"setup.cfg": SETUP_CFG_LINKS}])
def test_dependency_links_of_setup_py_and_setup_cfg_are_never_pinned(
    files: dict[str, str], make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo({**files, "train.py": "import torch\n"})
    data = _env(repo, tmp_path / "out", capsys)
    reqs = (tmp_path / "out" / "requirements.txt").read_text()
    pinned = {line.split()[0] for line in reqs.splitlines() if line and line[0] != "#"}
    assert not any(p.startswith("corp") for p in pinned), reqs
    problems = "\n".join(str(p) for p in data["problems"])
    corp = [p for p in problems.splitlines() if p.startswith("corp")]
    assert len(corp) == 2 and all("dependency_links" in p for p in corp), corp


def test_a_word_the_shell_expands_marks_the_line_unread() -> None:
    out = _declared('```\npip install corp-var $PIP_ARGS\npip install corp-sub "${X}"\n```\n')
    assert {d.name for d in out.items} == {"corp-var", "corp-sub"}
    assert all(d.other_index and "expanded by the shell" in d.source for d in out.items)
    assert len([n for n in out.notes if "expanded by the shell" in n]) == 2


def test_an_unknown_option_in_a_requirements_file_marks_the_file(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "requirements.txt": "corp-reqfile\n--weird-index https://pypi.corp.example/simple\n"
            "numpy==1.0 \\\n    --hash=sha256:abc\n",
            "train.py": "import torch\n",
        }
    )
    data = _env(repo, tmp_path / "out", capsys)
    reqs = (tmp_path / "out" / "requirements.txt").read_text()
    pinned = {line.split()[0] for line in reqs.splitlines() if line and line[0] != "#"}
    assert "corp-reqfile" not in pinned and "numpy==1.0" in pinned, reqs  # its pin kept
    problems = "\n".join(str(p) for p in data["problems"])
    assert "corp-reqfile (requirements.txt:1)" in problems and "--weird-index" in problems


def test_unclosed_quoting_marks_the_line_and_a_comment_backslash_does_not() -> None:
    """The line regex stops at `;`: a quoted marker leaves a quote open, and the rest of the
    requirement (its marker) unread; a comment's trailing backslash continues nothing."""
    out = _declared(
        "```\npip install \"corp-win; sys_platform == 'win32'\"\n"
        "pip install numpy  # see the docs \\\n```\n"
    )
    by_name = {d.name: d for d in out.items}
    assert by_name["corp-win"].other_index and "quoting" in by_name["corp-win"].source
    assert by_name["numpy"].source == ""


def test_a_bash_cell_is_read_as_a_shell_script() -> None:
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "source": "%%bash\npip install corp-bash \\\n  --index-url https://c.example/s\n",
            }
        ],
        "nbformat": 4,
    }
    found = notebook_source(json.dumps(nb))
    assert found is not None
    source, shell = found
    assert shell == ["pip install corp-bash   --index-url https://c.example/s"]
    compile(source, "nb", "exec")


def test_joined_lines_stay_bounded() -> None:
    """200,000 continued lines joined into one 3 MB line: not handed to shlex (seconds per
    megabyte), a note instead; 100,000 install lines with no name stop at the cap."""

    for text in ("```\n" + "pip install a \\\n" * 200_000 + "```\n", "pip install -q\n" * 100_000):
        out, cpu = cpu_call(lambda: _declared(text))  # noqa: B023 (called at once)
        assert cpu < 15  # this process's CPU time: a loaded machine does not count
        assert out.items == [] and any("past forkvet's limits" in n for n in out.notes)


def test_editable_arguments_are_kept_and_clones_read_within_bounds() -> None:
    """`-e PATH`/`--editable=URL` are the line's installs (not swallowed as an option's
    argument); `git clone` folders and `cd` into them are read in linear time."""

    from forkvet.vet.declared import git_clones

    line = pipargs.parse(["-qe", "./a", "--editable=git+https://h/o/b.git", "-e", "c", "d"])
    assert line.editables == ["./a", "git+https://h/o/b.git", "c"]
    assert line.packages == ["d"]
    assert git_clones(
        "git clone -b v1 --depth=1 https://h/o/x.git && git clone git@h:o/y.git z\n"
        "git clone https://h/o/self.git\n",
        frozenset({"self"}),
    ) == {"x": "https://h/o/x.git", "z": "git@h:o/y.git"}
    text = "```\n" + "git clone https://h/o/x.git\ncd x\npip install -e .\n" * 20_000 + "```\n"
    out, cpu = cpu_call(lambda: _declared(text))
    assert cpu < 15  # this process's CPU time: a loaded machine does not count
    assert {i.name for i in out.items} == {"x"} and all(i.source for i in out.items)
