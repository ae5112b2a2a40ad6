"""Declared names the repository provides itself are never requirement lines of `forkvet env`
(dependency confusion: an unpublished internal name is what an attacker registers): the
project's own name, modules its setup.py builds (named however the script spells them),
packages anywhere in the tree (src layout, sys.path folders, `-`/`_`/case spellings). And a
name only a constraints file gives is never a requirement (pip never installs it for that)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from forkvet import environments
from forkvet.cli import main
from forkvet.envgen.generate import generate
from forkvet.envgen.names import Need
from forkvet.snapshot import load
from forkvet.vet.metadata import extension_modules, parse_pyproject, parse_setup_py
from tests.conftest import MakeRepo
from tests.cputime import cpu_call, cpu_time


def _env(repo: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    main(["env", str(repo), "--offline", "--out", str(out), "--format", "json"])
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def _live(out: Path) -> list[str]:
    """The requirement lines uv would install (not comments)."""
    text = (out / "requirements.txt").read_text()
    return sorted(line.split()[0] for line in text.splitlines() if line.strip() and line[0] != "#")


def _comment(out: Path, name: str) -> str:
    """The comment line that names `name` (the reason follows it)."""
    text = (out / "requirements.txt").read_text()
    return next(line for line in text.splitlines() if line.startswith(f"# {name}  # "))


SETUP_VARIABLES = """from setuptools import setup
from Cython.Build import cythonize
from torch.utils.cpp_extension import CUDAExtension, BuildExtension
NAME = "fastops"
exts = [CUDAExtension(NAME, ["ops/f.cu"]), CUDAExtension(name=f"{NAME}_v2", sources=["ops/g.cu"])]
setup(name="selfproj-internal", ext_modules=exts + cythonize(["ops/cyops.pyx"]),
      cmdclass={"build_ext": BuildExtension})
"""

PYPROJECT_SELF = """[project]
name = "selfproj-internal"
version = "0.1"
dependencies = ["selfproj-internal[extra]", "srcpkg", "My_Dash", "vend", "fastops", "cyops",
                "numpy"]
[project.optional-dependencies]
extra = ["tqdm"]
viz = ["matplotlib", "vend"]
"""


def test_names_the_repository_provides_are_comments_with_the_reason(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "pyproject.toml": PYPROJECT_SELF,
            "setup.py": SETUP_VARIABLES,
            "src/srcpkg/__init__.py": "",
            "my_dash/__init__.py": "",
            "third_party/vend/__init__.py": "",
            "ops/cyops.pyx": "def f(): pass\n",
            "train.py": 'import sys; sys.path.insert(0, "third_party")\n'
            "import torch, numpy, srcpkg, my_dash, vend, fastops, fastops_v2, cyops\n",
        }
    )
    out = tmp_path / "out"
    data = _env(repo, out, capsys)
    # the extra the project requires of itself (`selfproj-internal[extra]`) is required
    assert _live(out) == ["cython", "numpy", "torch", "tqdm"]
    assert sorted(data["local"]) == [
        "cyops", "fastops", "my-dash", "selfproj-internal", "srcpkg", "vend",
    ]  # fmt: skip
    assert data["guessed"] == []  # fastops_v2 (an f-string name) is the repository's own
    assert "the repository's own project (named in pyproject.toml)" in _comment(
        out, "selfproj-internal"
    )
    assert "a module the repository builds or installs (setup.py)" in _comment(out, "fastops")
    assert "a module the repository builds or installs (setup.py)" in _comment(out, "cyops")
    assert "(src/srcpkg/)" in _comment(out, "srcpkg")
    assert "(my_dash/)" in _comment(out, "my-dash")
    assert "(third_party/vend/)" in _comment(out, "vend")
    # an optional extra that is local is no "uncomment to use" extra either
    text = (out / "requirements.txt").read_text()
    assert "# vend  # declared in pyproject.toml (extra" not in text
    assert any("provided by the repository itself" in p for p in data["problems"])


def test_requirements_and_setup_py_names_of_the_repository(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "requirements.txt": "toplocal\nsrclocal>=1.0\nDeep-Mod\nrequests\n",
            "setup.py": "from setuptools import setup, find_packages\n"
            "PKG = 'r9-internal'\n"
            "setup(name=f'{PKG}-tools', packages=find_packages('src'), "
            "package_dir={'': 'src'}, install_requires=['r9-internal-tools[gpu]'],\n"
            "      extras_require={'gpu': ['pynvml'], 'docs': ['sphinx']})\n",
            "src/srclocal/__init__.py": "",
            "toplocal/__init__.py": "",
            # a module inside a package (pkg.sub.deep_mod): the repository's own all the same
            "pkg/__init__.py": "",
            "pkg/sub/__init__.py": "",
            "pkg/sub/deep_mod.py": "",
            "train.py": "import toplocal, srclocal, requests\n",
        }
    )
    out = tmp_path / "out"
    data = _env(repo, out, capsys)
    assert _live(out) == ["pynvml", "requests"]
    assert sorted(data["local"]) == ["deep-mod", "r9-internal-tools", "srclocal", "toplocal"]
    assert "(named in setup.py)" in _comment(out, "r9-internal-tools")
    assert "(toplocal/)" in _comment(out, "toplocal")
    assert "(pkg/sub/deep_mod.py)" in _comment(out, "deep-mod")


def test_a_public_project_the_repository_also_has_a_module_of_stays_pinned(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The authors named a project forkvet's import table knows (no one else can register
    it); a repository file of that name (a `datasets.py` wrapper) does not make it theirs."""
    repo = make_repo(
        {
            "requirements.txt": "datasets==2.14.0\nwandb\nmylocal\n",
            "datasets.py": "import datasets\n",
            "tools/wandb.py": "",
            "mylocal.py": "",
            "train.py": "import wandb\n",
        }
    )
    out = tmp_path / "out"
    data = _env(repo, out, capsys)
    assert _live(out) == ["datasets==2.14.0", "wandb"]
    assert data["local"] == ["mylocal"]


def test_a_known_name_that_is_the_project_itself_is_local(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The project's own name is local whatever it is: the code is right here."""
    repo = make_repo(
        {
            "pyproject.toml": '[project]\nname = "Einops"\ndependencies = ["einops[x]", "numpy"]\n',
            "einops/__init__.py": "import numpy\n",
        }
    )
    out = tmp_path / "out"
    data = _env(repo, out, capsys)
    assert _live(out) == ["numpy"]
    assert data["local"] == ["einops"]


def test_a_declared_local_name_stays_a_comment_when_imported_or_declared_twice(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "requirements.txt": "kernels\n",
            "requirements-dev.txt": "kernels==0.1\n",
            "setup.py": "from setuptools import setup, Extension\n"
            "setup(name='x-proj', ext_modules=[Extension('%s' % 'kernels', ['k.c'])])\n",
            "k.c": "",
            "run.py": "import kernels\n",
        }
    )
    out = tmp_path / "out"
    data = _env(repo, out, capsys)
    assert _live(out) == []
    assert data["local"] == ["kernels"]
    assert "kernels" not in data["guessed"]


def test_a_name_only_a_constraints_file_gives_is_no_requirement(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "requirements.txt": "-c constraints.txt\n--constraint=more/pins.txt\nnumpy\n"
            "-r shared.txt\n",
            "constraints.txt": "constronly==1.0\nnumpy==1.26.4\n",
            "more/pins.txt": "otheronly==2.0\nrequests==2.31.0\n",
            # named by -r as well as by -c: pip installs what it names
            "shared.txt": "requests\n",
            "requirements-extra.txt": "-c shared.txt\n",
            # called a constraints file and named by no -r: pins only
            "requirements-constraints.txt": "namedonly==3.0\n",
            "train.py": "import numpy, requests\n",
        }
    )
    out = tmp_path / "out"
    data = _env(repo, out, capsys)
    assert _live(out) == ["numpy==1.26.4", "requests==2.31.0"]
    text = (out / "requirements.txt").read_text()
    assert "constronly" not in text and "otheronly" not in text and "namedonly" not in text
    assert "version from the constraints file constraints.txt:2" in text
    assert not any("constronly" in p for p in data["problems"])


def test_extension_names_are_read_however_the_script_spells_them() -> None:
    text = (
        "from setuptools import Extension, setup\n"
        "from Cython.Build import cythonize\n"
        "BASE = 'base'\nVER = '2'\n"
        "def exts():\n"
        "    name = BASE + '_ops'\n"
        "    return [Extension(name, []), Extension(f'{BASE}_v{VER}', []),\n"
        "            Extension('pkg.%s' % BASE, []), Extension('{}_fmt'.format(BASE), []),\n"
        "            Extension(name=unknown_call(), sources=[])]\n"
        "setup(ext_modules=exts() + cythonize('fast/a.pyx') + cythonize(['b/c.py', 'g/*.pyx'])"
        " + cythonize(module_list=[Extension('cy.mod', ['cy/mod.pyx'])]))\n"
    )
    assert extension_modules(text) == {
        "base_ops", "base_v2", "pkg.base", "base_fmt", "a", "c", "cy.mod",
    }  # fmt: skip


def test_a_name_assigned_several_values_may_be_any_and_cycles_end() -> None:
    text = "N = 'a'\nif x:\n    N = 'b'\nP = Q\nQ = P\nExtension(N, [])\nExtension(P, [])\n"
    assert extension_modules(text) == {"a", "b"}


def test_names_built_from_names_stay_bounded() -> None:
    """Each name doubles its values from the one before: 2 ** 60 strings if worked out."""
    lines = ["N0 = 'a'", "N0 = 'b'"]
    for i in range(1, 60):
        lines += [f"N{i} = N{i - 1} + N{i - 1}", f"N{i} = N{i - 1} + 'x'"]
    lines += [f"Extension(N{i} + N{i}, [])" for i in range(60)] * 20
    found, cpu = cpu_call(lambda: extension_modules("\n".join(lines) + "\n"))
    assert cpu < 5  # this process's CPU time: a loaded machine does not count
    assert {"aa", "bb", "ab", "ba"} <= found


def test_setup_and_pyproject_name_what_they_build_and_are() -> None:
    meta = parse_setup_py("setup.py", "N = 'core'\nsetup(name=N + '-lib')\n")
    assert meta is not None and meta.name == "core-lib"
    pyproject = (
        '[project]\nname = "p"\n[[tool.setuptools.ext-modules]]\nname = "p.fast"\n'
        'sources = ["f.c"]\n[[tool.setuptools.ext-modules]]\nname = "bad name"\n'
    )
    meta = parse_pyproject("pyproject.toml", pyproject)
    assert meta is not None and meta.extensions == ["p.fast"]
    text = (
        "setup(name='x', packages=['corelib', 'corelib.sub'], py_modules=['single'], "
        "package_dir={'': 'src', 'renamed': 'lib/other'})\n"
    )
    meta = parse_setup_py("setup.py", text)
    assert meta is not None
    assert meta.extensions == ["corelib", "corelib.sub", "single", "renamed"]
    pyproject = (
        '[project]\nname = "p"\n[tool.setuptools]\npackages = ["alpha"]\n'
        'py-modules = ["beta"]\npackage-dir = {gamma = "lib/g"}\n'
        '[tool.poetry]\npackages = [{include = "delta", from = "src"}, {include = "*.py"}]\n'
    )
    meta = parse_pyproject("pyproject.toml", pyproject)
    assert meta is not None and meta.extensions == ["alpha", "beta", "gamma", "delta"]


def test_a_package_kept_in_a_folder_of_another_name_is_local(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "setup.py": "from setuptools import setup\n"
            "setup(name='proj', package_dir={'corelib': 'lib'}, packages=['corelib'])\n",
            "lib/__init__.py": "",
            "requirements.txt": "corelib\nnumpy\n",
            "run.py": "import corelib, numpy\n",
        }
    )
    out = tmp_path / "out"
    data = _env(repo, out, capsys)
    assert _live(out) == ["numpy"]
    assert data["local"] == ["corelib"] and data["guessed"] == []


def test_what_verify_finds_missing_is_never_a_repository_module(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """--verify imports the code and adds what a ModuleNotFoundError names: an extension not
    built yet or a src-layout package is the repository's own, never installed for it."""
    repo = make_repo(
        {
            "setup.py": "from setuptools import setup, Extension\nN = 'fastops'\n"
            "setup(name='proj', ext_modules=[Extension(N, ['f.c'])])\n",
            "src/srcpkg/__init__.py": "",
            "run.py": "import srcpkg, fastops\n",
        }
    )
    found = [Need(n, "", "found by --verify: missing") for n in ("fastops", "srcpkg", "pkgb")]
    result, _ = generate(load(repo), out=tmp_path / "out", offline=True, extra=found)
    assert _live(tmp_path / "out") == ["pkgb"]
    assert sorted(result.local) == ["fastops", "srcpkg"]


def test_the_runtime_never_installs_the_repositorys_own_names_from_its_file(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """smoke/train-check install a repository's own requirements file (when env made none for
    this code): the same rule leaves out what the repository provides itself."""
    repo = make_repo(
        {
            "requirements.txt": "toplocal\nnumpy==1.26.4\n-c pins.txt\nr9-tools[gpu]\n",
            "pins.txt": "constronly==1.0\n",
            "setup.py": "from setuptools import setup\nsetup(name='r9-tools')\n",
            "toplocal/__init__.py": "",
            "m.py": "import toplocal, numpy\n",
        }
    )
    lines, source, _, _ = environments.requirements_and_config(
        load(repo), None, None, str(tmp_path / "envs")
    )
    assert lines == ["numpy==1.26.4"]
    assert source == (
        "requirements.txt (less toplocal, r9-tools: the repository's own, or only on an index "
        "of its own, never installed)"
    )


def test_deep_chains_of_names_and_sums_end_without_a_recursion_error() -> None:
    chain = "N0 = 'a'\n" + "".join(f"N{i} = N{i - 1} + 'a'\n" for i in range(1, 3000))
    long_sum = " + ".join(["'a'"] * 2000)  # as deep as ast.parse goes
    text = chain + f"Extension(N2999, [])\nExtension({long_sum}, [])\nExtension(N3, [])\n"
    assert extension_modules(text) == {"aaaa"}


def test_many_setup_calls_with_computed_names_stay_bounded() -> None:
    text = "N = 'x'\n" + "setup(name=f'{N}-a')\n" * 20000
    metas = []
    # This process's CPU time, not the wall clock: a loaded machine slows a run, it does not
    # make the parse quadratic.
    assert cpu_time(lambda: metas.append(parse_setup_py("setup.py", text)), runs=1) < 10
    meta = metas[0]
    assert meta is not None and meta.name == "x-a"
