"""A repository that says, anywhere and in any form, that its authors install from an index or
link source of their own gets no declared name pinned on the user's index unless forkvet's
import table knows it as a public project (outside attack, round 11b: F1, F2, F7, F13)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from forkvet.cli import main
from forkvet.snapshot import load
from forkvet.vet import ownindex
from tests.conftest import MakeRepo
from tests.cputime import cpu_call

URL = "https://pypi.corp.example/simple"
TORCH_WHEELS = "https://wheels.framework.example/whl/cu118"
CORP = "https://pkgs.corp.example/repo/"  # no index shape: only the statement around it says


def _places(make_repo: MakeRepo, files: dict[str, str]) -> list[str]:
    return ownindex.statements(load(make_repo(files, use_git=False))).places


def _notebook(*cells: str) -> str:
    return json.dumps(
        {
            "cells": [
                {"cell_type": "code", "metadata": {}, "outputs": [], "source": c.splitlines(True)}
                for c in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=1,
    )


WHEELS = "https://download.corp.example/wheels/"  # a links page: no index shape at all


def _output_notebook(source: str, output: str) -> str:
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": "code",
                    "metadata": {},
                    "source": source,
                    "outputs": [{"output_type": "stream", "name": "stdout", "text": output}],
                }
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


# Round 16c (outside attack): structured files in every spelling their format allows (E1, E2),
# values that cannot be read (E4), set-ups that imply an index (E5), pip's front-ends (E7).
ROUND_16C = [
    ("pyproject.toml", f'[tool.uv]\nindex = [{{ name = "c", url = "{CORP}" }}]\n', ":2: tool.uv"),
    ("uv.toml", f'index = [{{ name = "c", url = "{CORP}", format = "flat" }}]\n', "uv.toml:1"),
    ("pyproject.toml", f'tool.uv.index = [{{ name = "c", url = "{CORP}" }}]\n', ":1"),
    ("pyproject.toml", f'[tool]\nuv.extra-index-url = ["{CORP}"]\n', ":2: tool.uv.extra"),
    (
        "pyproject.toml",
        f'[tool.poetry]\nname = "x"\nsource = [{{ name = "c", url = "{CORP}", '
        'priority = "primary" }]\n',
        ":3: tool.poetry.source",
    ),
    ("pyproject.toml", f'[tool.pdm]\nsource = [{{ name = "c", url = "{CORP}" }}]\n', ":2"),
    ("pyproject.toml", f'[tool.rye]\nsources = [{{ name = "c", url = "{CORP}" }}]\n', ":2"),
    ("pyproject.toml", f'[tool.pixi.pypi-options]\nfind-links = [{{ url = "{WHEELS}" }}]\n', ":2"),
    ("pyproject.toml", '[tool.uv]\nindex-url = "${CORP_INDEX}"\n', "pyproject.toml:2"),
    ("pdm.toml", f'[pypi]\nurl = "{CORP}"\n', "pdm.toml:2: pypi.url"),
    ("pdm.toml", f'[pypi.corp]\nurl = "{CORP}"\n', "pdm.toml:2: pypi.corp.url"),
    (".pdm.toml", f'[pypi]\nurl = "{CORP}"\n', ".pdm.toml:2"),
    ("poetry.toml", f'[repositories.corp]\nurl = "{CORP}"\n', "poetry.toml:2"),
    ("pip.conf", f"[global]\n--extra-index-url = {WHEELS}\n", "pip.conf:2"),
    ("pip.conf", "[global]\ntrusted-host = pkgs.corp.example\n", "pip.conf:2"),
    ("setup.cfg", f"[options]\ndependency_links =\n    {WHEELS}\n", "setup.cfg:2"),
    (".pypirc", "[corp]\nrepository = https://pkgs.corp.example/upload/\n", ".pypirc:2"),
    ("Makefile", f"export PIP_EXTRA_INDEX_URL := {WHEELS}\ninstall:\n\tpip install x\n", ":1"),
    ("Makefile", f"PIP_EXTRA_INDEX_URL ?= {WHEELS}\n", "Makefile:1: PIP_EXTRA_INDEX_URL"),
    ("install.py", f'W = "{WHEELS}"\nos.environ["PIP_FIND_LINKS"] = W\n', "install.py:2"),
    (
        "install.py",
        f'W = "{WHEELS}"\nsubprocess.run(["pip", "install", "--find-links", W, "-r", "r.txt"])\n',
        "install.py:2: --find-links",
    ),
    (
        "noxfile.py",
        f'W = "{WHEELS}"\ndef tests(session):\n    session.install("-f", W, "-r", "r.txt")\n',
        "noxfile.py:3",
    ),
    ("install.py", 'os.system("pip install -f " + W + " -r r.txt")\n', "install.py:1: -f"),
    ("install.py", 'os.system(f"pip install --find-links {W} -r r.txt")\n', "install.py:1"),
    ("README.md", f"```\npip-sync -i {WHEELS} requirements.txt\n```\n", "README.md:2: -i"),
    ("README.md", f"```\npip-compile -f {WHEELS} requirements.in\n```\n", "README.md:2"),
    ("setup_env.py", f'pip.main(["install", "-i", "{WHEELS}", "-r", "r.txt"])\n', ":1: -i"),
    (
        "Dockerfile",
        "FROM python:3.11\nRUN --mount=type=secret,id=pipconf,target=/etc/pip.conf \\\n"
        "    pip install -r requirements.txt\n",
        "Dockerfile:2: a secret mounted",
    ),
    ("Dockerfile", "FROM python:3.11\nARG PIP_EXTRA_INDEX_URL\n", "Dockerfile:2"),
    (
        ".github/workflows/ci.yml",
        "    env:\n      PIP_CONFIG_FILE: /home/runner/.secrets/pip.conf\n",
        "ci.yml:2: PIP_CONFIG_FILE=/home/runner/.secrets/pip.conf (not in the tree)",
    ),
    ("README.md", "PIP_CONFIG_FILE=../outside/piprc pip install x\n", "README.md:1"),
    (
        ".github/workflows/ci.yml",
        "env:\n  UV_INDEX_ACME_PASSWORD: ${{ secrets.ACME }}\n",
        "ci.yml:2: UV_INDEX_ACME_PASSWORD",
    ),
    ("README.md", "```\njf pip-config --repo-resolve=pypi-virtual\n```\n", "README.md:2: jf"),
    (
        "README.md",
        "gcloud artifacts print-settings python --repository=py >> pip.conf\n",
        "README.md:1: gcloud",
    ),
    (
        "deploy/job.yaml",
        f"env:\n- name: PIP_EXTRA_INDEX_URL\n  value: {WHEELS}\n",
        "job.yaml:2",
    ),
    ("setup.bat", f"set pip_extra_index_url={WHEELS}\r\n", "setup.bat:1"),
    ("setup.ps1", f'$env:pip_find_links = "{WHEELS}"\r\n', "setup.ps1:1"),
    (
        "demo.ipynb",
        _output_notebook("!pip install -r requirements.txt", f"Looking in links: {WHEELS}\n"),
        "demo.ipynb:1: pip: Looking in links",
    ),
    (
        ".github/dependabot.yml",
        f"version: 2\nregistries:\n  corp:\n    type: python-index\n    url: {WHEELS}\n",
        "dependabot.yml:3: registries.corp",
    ),
    (
        "renovate.json",
        f'{{"packageRules": [{{"matchDatasources": ["pypi"], "registryUrls": ["{WHEELS}"]}}]}}',
        "renovate.json:1: registryUrls",
    ),
    (
        ".renovaterc.json5",
        '{"packageRules": [{"matchManagers": ["pip_requirements"], '
        f'"registryUrls": ["{WHEELS}"]}}]}}',
        ".renovaterc.json5:1: registryUrls",
    ),
    (
        "web/package.json",
        f'{{"name": "demo", "renovate": {{"pip_requirements": {{"registryUrls": ["{WHEELS}"]}}}}}}',
        "package.json:1: registryUrls",
    ),
]

# (file, text, where the statement is): each says the authors install from their own index.
SAYS = [
    ("README.md", f"```\nUV_INDEX_URL={URL} uv pip install corp-a\n```\n", "README.md:2"),
    ("README.md", f"UV_DEFAULT_INDEX={URL} uv pip install corp-a\n", "README.md:1"),
    ("README.md", f"pip config set global.index-url {URL}\npip install a\n", "README.md:1"),
    ("README.md", f"pip3 config --user set global.extra-index-url {URL}\n", "README.md:1"),
    ("demo.ipynb", _notebook("import os", f"os.environ['PIP_INDEX_URL'] = '{URL}'"), "demo.ipynb"),
    ("demo.ipynb", _notebook(f"%env PIP_INDEX_URL={URL}", "!pip install corp-b"), "demo.ipynb"),
    ("demo.ipynb", _notebook(f"!pip install corp-c \\\n   --index-url {URL}"), "demo.ipynb"),
    ("setup_env.py", f'os.environ.setdefault("PIP_EXTRA_INDEX_URL", "{URL}")\n', "setup_env.py:1"),
    ("uv.toml", f'[[index]]\nurl = "{URL}"\ndefault = true\n', "uv.toml:2"),
    ("uv.toml", f'index-url = "{URL}"\n', "uv.toml:1"),
    ("pyproject.toml", f'[project]\nname = "x"\n[tool.uv.pip]\nindex-url = "{URL}"\n', ":4"),
    ("pyproject.toml", f'[[tool.rye.sources]]\nname = "default"\nurl = "{URL}"\n', ":3"),
    ("pyproject.toml", f'[[tool.pdm.source]]\nname = "corp"\nurl = "{URL}"\n', ":3"),
    ("pyproject.toml", '[tool.uv]\nfind-links = ["./wheels"]\n', "pyproject.toml:2"),
    ("pip.conf", f"[global]\nindex-url = {URL}\n", "pip.conf:2"),
    ("pip.ini", f"[global]\nextra-index-url =\n    {URL}\n", "pip.ini:2"),
    ("setup.cfg", f"[easy_install]\nindex_url = {URL}\n", "setup.cfg:2"),
    ("Dockerfile", f"FROM python:3.11\nENV PIP_INDEX_URL={URL}\nRUN pip install -r r.txt\n", ":2"),
    ("Dockerfile", f"FROM python:3.11\nENV PIP_INDEX_URL {URL}\n", "Dockerfile:2"),
    ("install.sh", f"#!/bin/sh\npip install --index-url {URL} -r requirements.txt\n", ":2"),
    ("Makefile", f"install:\n\t$(PIP) install -i {URL} -r requirements.txt\n", "Makefile:2"),
    (
        ".github/workflows/ci.yml",
        "steps:\n - run: pip install -r requirements.txt "
        "--extra-index-url ${{ secrets.PRIVATE_INDEX }}\n",
        "ci.yml:2",
    ),
    (".github/workflows/ci.yml", "env:\n  UV_EXTRA_INDEX_URL: ${{ secrets.IDX }}\n", "ci.yml:2"),
    (".envrc", f"export PIP_INDEX_URL={URL}\n", ".envrc:1"),
    (".env", f"PIP_INDEX_URL={URL}\n", ".env:1"),
    ("environment.yml", f"name: x\nvariables:\n  PIP_INDEX_URL: {URL}\n", "environment.yml:3"),
    ("environment.yml", f"dependencies:\n  - pip:\n    - --extra-index-url {URL}\n", ":3"),
    ("docker-compose.yml", f"environment:\n  - UV_INDEX={URL}\n", "docker-compose.yml:2"),
    ("setup.ps1", f'$env:PIP_INDEX_URL = "{URL}"\n', "setup.ps1:1"),
    ("setup.bat", f"set PIP_INDEX_URL={URL}\n", "setup.bat:1"),
    (
        "run.py",
        'subprocess.check_call([sys.executable, "-m", "pip", "install", '
        f'"--index-url", "{URL}", "corp-sub"])\n',
        "run.py:1",
    ),
    ("README.md", f"pip install corp-x --ind {URL}\n", "README.md:1"),  # optparse prefix
    ("README.md", f"pip install -qi {URL} corp-x\n", "README.md:1"),  # a short cluster
    ("README.md", f"pip install -i{URL} corp-x\n", "README.md:1"),
    ("README.md", f"uv pip install corp-x --default-index {URL}\n", "README.md:1"),
    ("README.md", f"uv add corp-x --index corp={URL}\n", "README.md:1"),
    (
        "README.md",
        f"uv pip install corp-x --index-strategy unsafe-best-match --extra-index-url {URL}\n",
        "README.md:1",
    ),
    ("README.md", "pip install --no-index --find-links ./wheels corp-x\n", "README.md:1"),
    ("README.md", "PIP_NO_INDEX=1 PIP_FIND_LINKS=./wheels pip install corp-x\n", "README.md:1"),
    ("README.md", f"```\npip install torch corp-x \\\n    --index-url {URL}\n```\n", "README.md:3"),
    ("requirements-gpu.txt", f"-i {URL}\ncorp-x\n", "requirements-gpu.txt:1"),
    ("README.md", f"rm -rf build\npip install -i {URL} corp-x\n", "README.md:2"),
    ("install.sh", f"pip install corp-x \\\r\n  -qi {URL}\r\n", "install.sh:2"),  # CRLF
    ("setup.bat", f"pip install corp-x ^\n  -i {URL}\n", "setup.bat:2"),
    ("README.md", f"PDM_PYPI_URL={URL} pdm install\n", "README.md:1"),
    ("README.md", f"PIPENV_PYPI_MIRROR={URL} pipenv install\n", "README.md:1"),
    ("README.md", f"pdm config pypi.url {URL}\n", "README.md:1"),
    ("README.md", f"poetry source add --priority=primary corp {URL}\n", "README.md:1"),
    ("setup.py", f'setup(name="x", dependency_links=["{URL}/corp-x/"])\n', "setup.py:1"),
    ("environment.yml", f"dependencies:\n  - pip:\n    - -i {URL}\n    - corp-x\n", ":3"),
    ("tox.ini", f"[testenv]\nsetenv =\n    PIP_INDEX_URL = {URL}\n", "tox.ini:3"),
    (".github/workflows/ci.yml", f"    with:\n      extra-index-url: {URL}\n", "ci.yml:2"),
    ("deploy/notes.txt", "PIP_EXTRA_INDEX_URL=<your private index> pip install -r r.txt\n", ":1"),
    # tox 3's index servers: every `deps` install comes from `default`, `:NAME:pkg` from NAME
    ("tox.ini", f"[tox]\nindexserver = default = {CORP}\n", "tox.ini:2: tox indexserver"),
    ("tox.ini", f"[tox]\nindexserver =\n    default = {CORP}\n", "tox.ini:2: tox indexserver"),
    (
        "tox.ini",
        f"[tox]\nindexserver =\n    acme = {CORP}\n[testenv]\ndeps =\n    :acme:corp-x\n",
        "tox.ini:2: tox indexserver",
    ),
    ("tox.ini", "[tox]\nindexserver = default = {env:CORP_INDEX}\n", "tox.ini:2"),
    # devpi-client's current index (`devpi install`, and pip once devpi writes its config)
    ("README.md", "```\ndevpi use acme/prod\ndevpi install corp-x\n```\n", "README.md:2: devpi"),
    ("install.sh", f"devpi use --set-cfg {CORP}\npip install corp-x\n", "install.sh:1: devpi"),
    # an index named in words: a URL shaped like an index, anywhere
    (
        "README.md",
        "Configure Artifactory (https://acme.jfrog.io/artifactory/api/pypi/pypi/simple) as "
        "your pip index before installing.\n",
        "README.md:1: index URL",
    ),
    ("docs/install.rst", "Wheels: https://pkgs.acme.example/simple/ (VPN).\n", "install.rst:1"),
    ("README.md", "See https://git.acme.example/api/v4/projects/7/packages/pypi\n", "README.md:1"),
    ("README.md", "Point pip at https://pypi.acme.example first.\n", "README.md:1: index URL"),
    ("README.md", "Mirror: https://devpi.acme.example/acme/prod/+simple/\n", "README.md:1"),
    (
        "README.md",
        "Wheels: https://acme-123.d.codeartifact.us-east-1.amazonaws.com/pypi/ml/\n",
        "README.md:1",
    ),
    # a sentence calling packages, or a package source, not public
    (
        "README.md",
        "Our internal packages (acme-dataloaders, acme-metrics) live on Acme's package "
        "server; ask IT for access.\n",
        "README.md:1: internal packages",
    ),
    (
        "README.md",
        "The loaders are published to\nour company package registry, not to PyPI.\n",
        "README.md:2: our ... package registry",
    ),
    ("requirements.txt", "# proprietary wheels, from the infra team\ncorp-x==1.0\n", ":1"),
    (
        "README.md",
        "Set up devpi as the mirror before `pip install`.\n",
        "README.md:1: pip ... devpi",
    ),
    ("docs/setup.md", "Log in to the self-hosted PyPI server with your SSO.\n", "setup.md:1"),
    # pip's, uv's and Poetry's configuration written by a command: its text is the file's
    (
        "README.md",
        f"```\ncat > ~/.pip/pip.conf <<EOF\n[global]\nindex-url = {CORP}\nEOF\n"
        "pip install -r requirements.txt\n```\n",
        "README.md:2: pip.conf written: index-url",
    ),
    (
        "README.md",
        f'```\necho "[global]\\nextra-index-url = {CORP}" > ~/.config/pip/pip.conf\n```\n',
        "README.md:2: pip.conf written: extra-index-url",
    ),
    (
        "Dockerfile",
        f"FROM python:3.11\nRUN printf '[global]\\nfind-links = {CORP}\\n' \\\n"
        "    > /etc/pip.conf\n",
        "Dockerfile:3: pip.conf written: find-links",
    ),
    (
        "setup.sh",
        f'tee -a "$HOME/.config/uv/uv.toml" <<-\'TOML\'\n\t[[index]]\n\turl = "{CORP}"\n\tTOML\n',
        "setup.sh:1: uv.toml written: url",
    ),
    (
        "demo.ipynb",
        _notebook(f"!echo 'index-url={CORP}' >> /etc/pip.conf"),
        "pip.conf written: index-url",
    ),
    ("README.md", f"poetry config repositories.acme {CORP}\n", "poetry config repositories"),
    # wheels whose names are not written, fetched from the authors' bucket; a registry's
    # keyring plugin (round 15a F4, F9)
    (
        "README.md",
        "```\naws s3 sync s3://acme-wheels/ wheelhouse/\npip install wheelhouse/*.whl\n```\n",
        "README.md:3: install of wheelhouse/*.whl",
    ),
    ("Dockerfile", "RUN pip install /tmp/w/acme_*.tar.gz\n", "install of /tmp/w/acme_*.tar.gz"),
    (
        "README.md",
        "```\npip install keyrings.google-artifactregistry-auth\n```\n",
        "registry credentials",
    ),
    ("setup.sh", "pip install artifacts-keyring\n", "registry credentials artifacts-keyring"),
    # a folder beside the repository installed (round 15a F4)
    (
        "README.md",
        "```\ncd ../acme-featstore && python setup.py install\n```\n",
        "README.md:2: install in ../acme-featstore",
    ),
    ("setup.sh", "cd ../../libs/corp-x; pip install -e .\n", "install in ../../libs/corp-x"),
    ("README.md", "```\npip install -e ../featstore\n```\n", "install of ../featstore"),
    (
        "README.md",
        "```\npip install https://github.com/acme/fs/archive/refs/tags/v2.3.1.zip\n```\n",
        "install of an archive naming no project",
    ),
    (
        ".github/workflows/ci.yml",
        "steps:\n  - uses: actions/setup-python@v5\n  - uses: acme-corp/setup-private-pypi@v2\n"
        "    with:\n      token: ${{ secrets.ACME }}\n",
        "ci.yml:3: uses acme-corp/setup-private-pypi",
    ),
    # installs from a source named before (round 15a F9)
    (
        "README.md",
        "```\npoetry add --source acme corp-x\n```\n",
        "README.md:2: poetry add --source",
    ),
    ("setup.sh", "poetry add corp-x --source=acme\n", "setup.sh:1: poetry add --source"),
    ("README.md", "```\ndevpi login ml\ndevpi install -r requirements.txt\n```\n", "devpi install"),
    (
        "demo.ipynb",
        _notebook(f"%%bash\ncat > ~/.pip/pip.conf <<EOF\n[global]\nindex-url = {CORP}\nEOF\n"),
        "pip.conf written: index-url",
    ),
    *[(path, text, where) for path, text, where in ROUND_16C],
]


@pytest.mark.parametrize(("path", "text", "where"), SAYS)
def test_every_form_of_an_own_index_is_found_with_its_place(
    make_repo: MakeRepo, path: str, text: str, where: str
) -> None:
    places = _places(make_repo, {path: text, "train.py": "import torch\n"})
    assert places, f"{path}: {text!r}"
    assert where in places[0]


# Not an index of the authors' own: a framework's wheel index for known projects only, the
# user's own settings passed on, pip's default, prose, other tools' look-alike options.
SAYS_NOTHING = [
    ("README.md", f"pip install torch torchvision --index-url {TORCH_WHEELS}\n"),
    ("README.md", f"PIP_EXTRA_INDEX_URL={TORCH_WHEELS} pip install torch==2.0.1\n"),
    ("README.md", f"uv pip install torch --index-url {TORCH_WHEELS}\n"),
    ("README.md", 'pip install -U "jax[cuda12_pip]" -f https://releases.example/jax.html\n'),
    (
        "README.md",
        f"```\npip install torch \\\n  torchvision \\\n  --index-url {TORCH_WHEELS}\n```\n",
    ),
    ("install.sh", "pip install torch-scatter -f https://data.example/whl/torch-1.13.0.html\n"),
    ("demo.ipynb", _notebook(f"!pip install torch --extra-index-url {TORCH_WHEELS}")),
    (
        "pyproject.toml",
        f'[project]\nname = "x"\n[[tool.uv.index]]\nname = "pytorch"\nurl = "{TORCH_WHEELS}"\n'
        'explicit = true\n[tool.uv.sources]\ntorch = { index = "pytorch" }\n',
    ),
    ("README.md", "pip install -r requirements.txt -i https://pypi.org/simple\n"),
    ("README.md", "Set `PIP_INDEX_URL` to your mirror, or pass `--index-url` to pip.\n"),
    ("install.sh", 'export UV_DEFAULT_INDEX="$PIP_INDEX_URL"\n'),
    (
        "build.sh",
        "rm -rf build && gcc -fPIC -o x x.c && sed -i s/a/b/ f && git diff --no-index a b\n",
    ),
    ("train.py", "parser.add_argument('--index', type=int)\nx = data[-i]\nidx = index_url\n"),
    ("README.md", "Run `make`\n-f is the force flag of `rm`, see rm/docs\n"),
    ("build.sh", "make -f build/Makefile install\n"),
    ("configs/data.yaml", "dataset:\n  index_url: https://data.example/shards/index.html\n"),
    ("data/index.json", '{"index_url": "https://data.example/shards/index.html"}\n'),
    ("tox.ini", "[tox]\nindexserver = default = https://pypi.org/simple\n"),
    (
        "pyproject.toml",
        '[project]\nname = "x"\n[[tool.uv.index]]\nname = "nv"\n'
        'url = "https://pypi.gpu-vendor.example/simple"\nexplicit = true\n'
        '[tool.uv.sources]\ntorch = { index = "nv" }\n',
    ),
    # links to the public index and to other hosts, and prose about code, say nothing
    (
        "README.md",
        "[![PyPI](https://img.shields.io/pypi/v/x.svg)](https://pypi.org/project/x/)\n\n"
        "pip install x\n",
    ),
    ("README.md", "On https://pypi.org/simple/x/ and https://pypi.python.org/pypi/x too.\n"),
    ("README.md", "We publish our package on the Python Package Index.\n"),
    ("README.md", "See https://github.com/x/y/tree/main/examples/simple for a start.\n"),
    ("README.md", "pip install torch --index-url https://wheels.framework.example/simple\n"),
    ("README.md", "The original used Google's internal libraries, in C++.\n"),
    (
        ".pylintrc",
        "# Create a graph of internal dependencies in the given file\nint-import-graph=\n",
    ),
    ("README.md", "Private checkpoints on the Hub need a token; our index.html has links.\n"),
    ("train.py", "# the internal index of the private buffer\nidx = private_index[i]\n"),
    ("README.md", "This code was moved from a private repository of our company.\n"),
    # configuration written with no source of the authors': pip's defaults, other keys, an
    # upload URL on the public index, a key outside the heredoc that writes the file
    (
        "README.md",
        "```\ncat > ~/.pypirc <<EOF\n[pypi]\nrepository = https://upload.pypi.org/legacy/\nEOF\n```\n",
    ),
    (
        "README.md",
        "```\necho -e '[global]\\nindex-url = https://pypi.org/simple' > pip.conf\n```\n",
    ),
    (
        "install.sh",
        "cat > ~/.pip/pip.conf <<EOF\n[global]\ntimeout = 60\nEOF\nurl: https://x.example\n",
    ),
    ("README.md", "poetry config virtualenvs.in-project true\n"),
    # the repository's own build output; a wheel named in full; keyring itself
    ("README.md", "```\npython -m build\npip install dist/*.whl\n```\n"),
    ("README.md", "ls wheels/*.whl\nunzip data/*.zip\n"),
    ("README.md", "pip install keyring keyrings.alt\n"),
    # the repository's own folders installed, a `cd ..` back out
    ("README.md", "```\ncd apex && python setup.py install\ncd ..\n```\n"),
    ("install.sh", "cd ops/ && pip install -e . && cd ..\n"),
    ("examples/README.md", "pip install -e ../mypkg\ncd ../tools && python setup.py develop\n"),
    # an archive URL naming its project is that project's (declared's rule), a download no install
    ("README.md", "pip install https://dl.example.org/r/other_tool-1.0.tar.gz\n"),
    ("README.md", "wget https://github.com/acme/fs/archive/refs/tags/v2.3.1.zip\n"),
    ("README.md", "pip install -r ../requirements.txt -c ../constraints.txt\nSee ../docs/x.md\n"),
    (
        ".github/workflows/ci.yml",
        "steps:\n  - uses: actions/setup-python@v5\n  - uses: pypa/gh-action-pypi-publish@v1\n"
        "  - uses: pypa/gh-action-pip-audit@v1\n",
    ),
    ("README.md", "```\ncd ../ && python setup.py develop\n```\n"),
    # a named source for known projects only; other tools' --source
    ("README.md", "poetry add --source pytorch torch torchvision\n"),
    ("README.md", "devpi install torch\n"),
    ("README.md", "poetry add numpy\npython train.py --source photos/ --index 3\n"),
    # round 16c: project metadata, a package's own reference, other ecosystems' registries,
    # prose and code that names no value are no source
    (
        "pyproject.toml",
        '[project]\nname = "x"\n[project.urls]\nSource = "https://github.com/x/y"\n'
        '[tool.poetry]\nrepository = "https://github.com/x/y"\nhomepage = "https://x.example"\n'
        '[tool.poetry.dependencies]\nfs = { git = "https://github.com/acme/fs.git" }\n'
        '[tool.uv.sources]\nfs2 = { url = "https://dl.example/fs2-1.0.tar.gz" }\n',
    ),
    ("pdm.toml", '[pypi]\nurl = "https://pypi.org/simple"\nverify_ssl = true\n'),
    ("configs/model.toml", '[data]\nindex = "https://data.example/index.json"\n'),
    ("configs/shards.toml", 'index = "https://data.example/index.json"\n'),
    ("setup.cfg", "[metadata]\nurl = https://github.com/x/y\n[coverage:run]\nsource = x\n"),
    (
        ".github/dependabot.yml",
        "version: 2\nregistries:\n  hub:\n    type: docker-registry\n"
        "    url: https://registry.example\n",
    ),
    (
        "renovate.json",
        '{"packageRules": [{"matchDatasources": ["npm"], "registryUrls": ["https://npm.example"]}]}',
    ),
    ("README.md", "Pass `--find-links` to pip, or set PIP_CONFIG_FILE to your pip.conf.\n"),
    ("cli.py", "pip_index_url = None\nPIP_INDEX_URL = os.environ.get('PIP_INDEX_URL')\n"),
    # the user's setting read from the environment and passed on; argparse's `--index`
    (
        "launch.py",
        "index_url = os.environ.get('INDEX_URL', '')\n"
        "run(f'python -m pip install -r r.txt --index-url {index_url}')\n",
    ),
    ("apply.py", 'parser.add_argument("-i", "--index", type=int, default=0)\n'),
    ("run.py", 'subprocess.run(["mytool", "--index", idx])\n'),
    ("Makefile", "PIP_INDEX_URL ?= $(PIP_INDEX_URL)\nexport PIP_CONFIG_FILE=/dev/null\n"),
    (
        "demo.ipynb",
        _output_notebook("!pip install x", "Looking in indexes: https://pypi.org/simple\n"),
    ),
    # a notebook's heredoc ends at its delimiter's JSON line: the metadata's `url` is no key
    (
        "demo.ipynb",
        _notebook("%%bash\ncat > ~/.pip/pip.conf <<EOF\n[global]\ntimeout = 60\nEOF\n")[:-2]
        + ',\n "url": "https://corp.example/x"\n}\n',
    ),
]


@pytest.mark.parametrize(("path", "text"), SAYS_NOTHING)
def test_what_is_no_index_of_the_authors_own(make_repo: MakeRepo, path: str, text: str) -> None:
    assert _places(make_repo, {path: text, "train.py": "import torch\n"}) == []


def test_a_windows_script_saved_as_utf16_is_read(make_repo: MakeRepo) -> None:
    text = f'$env:UV_DEFAULT_INDEX = "{URL}"\r\n'.encode("utf-16")
    repo = make_repo({"setup.ps1": text, "train.py": "import torch\n"}, use_git=False)
    assert ownindex.statements(load(repo)).places == ["setup.ps1:1: UV_DEFAULT_INDEX"]


def _env(repo: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    main(["env", str(repo), "--offline", "--out", str(out), "--format", "json"])
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def _live(out: Path) -> list[str]:
    text = (out / "requirements.txt").read_text()
    return sorted(line.split()[0] for line in text.splitlines() if line.strip() and line[0] != "#")


def _comment(out: Path, name: str) -> str:
    text = (out / "requirements.txt").read_text()
    return next(line for line in text.splitlines() if line.startswith(f"# {name}"))


def test_unknown_declared_names_are_comments_known_ones_stay_pinned(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """F2's Dockerfile and README forms (F1): the private names are comments with the reason
    and the place, a public project the import table knows stays a requirement."""
    repo = make_repo(
        {
            "Dockerfile": f"FROM python:3.11\nCOPY . .\nENV PIP_INDEX_URL={URL}\n"
            "RUN pip install -r requirements.txt\n",
            "requirements.txt": "corp-docker==1.0\nnumpy==1.26.4\n",
            "README.md": f"```\nUV_INDEX_URL={URL} uv pip install corp-uvenv\n```\n",
            "pyproject.toml": '[project]\nname = "x"\nversion = "0.1"\n'
            'dependencies = ["corp-rye"]\n[project.optional-dependencies]\ndev = ["corp-dev"]\n',
            "train.py": "import torch, numpy, corp_docker\n",
        }
    )
    out = tmp_path / "out"
    data = _env(repo, out, capsys)
    assert _live(out) == ["numpy==1.26.4", "torch"]
    assert sorted(data["private"]) == ["corp-dev", "corp-docker", "corp-rye", "corp-uvenv"]
    line = _comment(out, "corp-docker")
    assert "the repository installs from an index of its own (Dockerfile:3: PIP_INDEX_URL)" in line
    assert "not resolved on your index" in line
    assert any("corp-docker" in p and "Dockerfile:3" in p for p in data["problems"])
    assert data["guessed"] == []  # the import of corp_docker stays the declared comment


def test_rye_default_source_f7(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "pyproject.toml": '[project]\nname = "e10"\nversion = "0.1"\n'
            f'dependencies = ["corp-rye"]\n[[tool.rye.sources]]\nname = "default"\nurl = "{URL}"\n',
            "train.py": "import torch\n",
        }
    )
    out = tmp_path / "out"
    data = _env(repo, out, capsys)
    assert data["private"] == ["corp-rye"]
    assert "pyproject.toml:7" in _comment(out, "corp-rye")


def test_no_statement_and_a_framework_wheel_index_change_nothing(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = make_repo(
        {
            "README.md": f"pip install torch torchvision --index-url {TORCH_WHEELS}\n",
            "requirements.txt": "some-unknown-lib==0.3\n",
            "train.py": "import torch\n",
        }
    )
    out = tmp_path / "out"
    data = _env(repo, out, capsys)
    assert data["private"] == []
    assert "some-unknown-lib==0.3" in _live(out)


# The same forms end to end (each costs an env run, so one of each kind, taken from SAYS).
_END_TO_END_PLACES = (
    "tox.ini:2: tox indexserver",
    "README.md:2: pip.conf written: extra-index-url",
    "poetry config repositories",
    "README.md:3: install of wheelhouse/*.whl",
    "install of /tmp/w/acme_*.tar.gz",
    "README.md:2: poetry add --source",
    "setup.sh:1: poetry add --source",
    "devpi install",
)
_END_TO_END = [case for case in SAYS if case[2] in _END_TO_END_PLACES] + [
    ("tox.ini", f"[tox]\nindexserver =\n    default = {URL}\n", "tox.ini:2: tox indexserver"),
    ("README.md", "```\ndevpi use https://devpi.acme.example/acme/prod\n```\n", "README.md:2"),
    (
        "README.md",
        "Configure Artifactory (https://acme.jfrog.io/artifactory/api/pypi/pypi/simple) as "
        "your pip index before installing.\n",
        "README.md:1: index URL https://acme.jfrog.io/",
    ),
    (
        "README.md",
        "# Acme\n\nOur internal packages (acme-dataloaders, acme-metrics) live on Acme's "
        "package server; ask IT for access.\n",
        "README.md:3: internal packages",
    ),
    (
        "README.md",
        f"```\ncat > ~/.pip/pip.conf <<EOF\n[global]\nindex-url = {CORP}\nEOF\n```\n",
        "README.md:2: pip.conf written: index-url",
    ),
]


@pytest.mark.parametrize(("path", "text", "place"), _END_TO_END)
def test_an_index_named_in_tox_devpi_or_words_makes_the_private_name_a_comment(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    path: str,
    text: str,
    place: str,
) -> None:
    """tox 3's `indexserver`, `devpi use`, an index URL or a sentence in a README (outside
    test): acme-dataloaders was pinned live on the user's index."""
    repo = make_repo(
        {
            path: text,
            "requirements.txt": "acme-dataloaders==2.1.0\nnumpy==1.26.4\n",
            "train.py": "import acme_dataloaders\nimport numpy\n",
        }
    )
    out = tmp_path / "out"
    data = _env(repo, out, capsys)
    assert _live(out) == ["numpy==1.26.4"]
    assert data["private"] == ["acme-dataloaders"]
    assert place in _comment(out, "acme-dataloaders")


def test_projects_anywhere_in_the_tree_are_the_repositorys_own_f13(
    make_repo: MakeRepo, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A nested setup.py, setup.cfg or pyproject (a uv workspace member) names a project the
    repository provides, whatever its folder is called; a vendored public project stays."""
    repo = make_repo(
        {
            "libs/ops_lib/setup.py": 'from setuptools import setup\nsetup(name="corp-nested")\n',
            "libs/ops_lib/src/k.cu": "int x;\n",
            "packages/member/pyproject.toml": '[project]\nname = "corp-member"\nversion = "1"\n',
            "a/b/c/setup.cfg": "[metadata]\nname = corp-cfgname\n",
            "third_party/np/numpy/setup.py": 'from setuptools import setup\nsetup(name="numpy")\n',
            "pyproject.toml": '[project]\nname = "m2"\nversion = "0.1"\n'
            'dependencies = ["corp-member", "corp-nested", "corp-cfgname", "numpy==1.26.4"]\n'
            '[tool.uv.workspace]\nmembers = ["packages/*"]\n',
            "train.py": "import torch\n",
        }
    )
    out = tmp_path / "out"
    data = _env(repo, out, capsys)
    assert sorted(data["local"]) == ["corp-cfgname", "corp-member", "corp-nested"]
    assert "named in libs/ops_lib/setup.py" in _comment(out, "corp-nested")
    assert "named in packages/member/pyproject.toml" in _comment(out, "corp-member")
    assert "numpy==1.26.4" in _live(out)


def test_the_scan_is_bounded(make_repo: MakeRepo) -> None:
    """A 50 MB data file is read up to its first MiB; a statement past it is not looked for,
    and the scan stays fast, also through files of near-statements. Files with more matches
    than are looked at are unread: the scan fails closed on them (round 16c E3)."""
    big = "x = 1\n" * (50 * 1024 * 1024 // 6) + f"PIP_INDEX_URL={URL}\n"
    decoys = {  # a megabyte of near-statements each: matches per file are capped
        "a.md": "PIP_INDEX_URL= " * 70_000,
        "b.toml": "index-url = x\n" * 75_000,
        "c.sh": "pip install -i x \\\n" * 58_000,
        "d.md": "the package server " * 55_000,  # a source word without a qualifier
        "e.md": "pip install torch -i https://w.example/simple\n" * 22_000,
    }
    repo = make_repo({"data.txt": big, "train.py": "import torch\n", **decoys}, use_git=False)
    snap = load(repo)
    found, cpu = cpu_call(lambda: ownindex.statements(snap))
    assert cpu < 5  # this process's CPU time: a loaded machine does not count
    assert found.places == []
    assert "matches of one kind" in found.cut and "data.txt" not in found.cut


PAD = "# " + "x" * 77 + "\n"  # 80 bytes a line


@pytest.mark.parametrize(
    "files",
    [
        # past the first MiB of a script, a Dockerfile, pip's configuration
        {"setup.sh": PAD * 14_000 + f"export PIP_EXTRA_INDEX_URL={WHEELS}\n"},
        {"Dockerfile": "FROM python:3.11\n" + PAD * 14_000 + f"ENV PIP_INDEX_URL={WHEELS}\n"},
        {"pip.conf": "[global]\n" + PAD * 14_000 + f"index-url = {WHEELS}\n"},
        # after more index options for known projects than are looked at
        {
            "setup.sh": f"pip install torch --index-url {TORCH_WHEELS}\n" * 2_100
            + f"pip install --extra-index-url {WHEELS} corp-x\n"
        },
        # a package manager's configuration that does not parse
        {"pyproject.toml": f'[tool.uv]\nindex = [{{ url = "{WHEELS}" }}\n'},
        {"pip.conf": f"index-url = {WHEELS}\n"},  # no section: pip reads nothing, nor can we
        # Renovate's JSON5 (comments, bare keys, trailing commas), at the root or in .github/
        {
            ".github/renovate.json5": "{\n  // corp index\n  packageRules: [\n"
            f"    {{matchDatasources: ['pypi'], registryUrls: ['{WHEELS}']}},\n  ],\n}}\n"
        },
    ],
)
def test_a_file_read_only_in_part_fails_closed_16c_e3(
    make_repo: MakeRepo, files: dict[str, str]
) -> None:
    repo = make_repo({**files, "train.py": "import torch\n"}, use_git=False)
    found = ownindex.statements(load(repo))
    assert found.places or found.cut, found


def test_a_notebooks_images_do_not_hide_its_cells_16c_e3(make_repo: MakeRepo) -> None:
    """A plot's 1.2 MB of base64 before `%env PIP_EXTRA_INDEX_URL=…`: the images are dropped
    before the notebook is read, so the statement is found, at its line."""
    notebook = json.loads(_notebook("plot()", f"%env PIP_EXTRA_INDEX_URL={WHEELS}"))
    notebook["cells"][0]["outputs"] = [
        {"output_type": "display_data", "metadata": {}, "data": {"image/png": "iVBOR" * 240_000}}
    ]
    found = ownindex.statements(
        load(make_repo({"demo.ipynb": json.dumps(notebook, indent=1)}, use_git=False))
    )
    assert found.places and "PIP_EXTRA_INDEX_URL" in found.places[0], found


def test_a_large_data_file_does_not_fail_closed(make_repo: MakeRepo) -> None:
    big = "a,b,c\n" * (2 << 20)
    repo = make_repo(
        {
            "data/train.csv": big,
            "vocab.txt": big,
            "filelists/train.txt.cleaned": big,
            "tokenizer.model": big,
            "train.py": "import torch\n",
        }
    )
    assert ownindex.statements(load(repo)) == ownindex.Found([], "")


def test_a_squatted_private_name_is_never_fetched_16c_e6(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Round 16c E6: the authors install corp-featstore from their own index, declared inline
    (`[tool.uv] index = [{…}]`); an outsider registered the name on the user's index. `forkvet
    env` against that index (a real one, with real uv) never asks it for the name: the line
    is a comment, and numpy is resolved."""
    pytest.importorskip("uv")
    from tests.pkgindex import Dist, PackageIndex

    dists = [
        Dist("numpy", "1.26.4", "2024-02-05T00:00:00Z", modules=["numpy"]),
        Dist("corp-featstore", "1.2.0", "2023-06-01T00:00:00Z", modules=["corp_featstore"]),
    ]
    repo = make_repo(
        {
            "pyproject.toml": '[project]\nname = "x"\nversion = "0.1"\n'
            f'[tool.uv]\nindex = [{{ name = "corp", url = "{CORP}" }}]\n',
            "requirements.txt": "numpy==1.26.4\ncorp-featstore==1.2.0\n",
            "train.py": "import numpy\nimport corp_featstore\n",
        },
        date="2024-03-01T00:00:00+00:00",
    )
    out = tmp_path / "out"
    with PackageIndex(dists) as idx:
        monkeypatch.setenv("UV_INDEX_URL", idx.url)
        monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
        monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
        main(["env", str(repo), "--out", str(out), "--format", "json", "--python", "3.11",
              "--no-audit", "--device", "cpu"])  # fmt: skip
        data = json.loads(capsys.readouterr().out)
        asked = list(idx.requests)
    assert not any("corp" in r for r in asked), asked
    assert any("numpy" in r for r in asked), asked
    assert data["private"] == ["corp-featstore"]
    assert _live(out) == ["numpy==1.26.4"]
    assert "tool.uv.index" in _comment(out, "corp-featstore")


def test_a_hundred_thousand_files_stay_fast(tmp_path: Path) -> None:
    """The file count and byte budget end the scan, named in `cut`; the settings files are
    read first, so a Dockerfile deep in the tree is still found."""
    root = tmp_path / "many"
    for i in range(100):
        folder = root / f"d{i:03}"
        folder.mkdir(parents=True)
        for j in range(1000):
            (folder / f"f{j:04}.txt").write_text("plain text, index 1\n")
    (root / "zz" / "docker").mkdir(parents=True)
    (root / "zz" / "docker" / "Dockerfile").write_text(f"ENV PIP_INDEX_URL={URL}\n")
    snap = load(root)
    start = time.monotonic()
    found = ownindex.statements(snap)
    took = time.monotonic() - start
    assert took < 15, took  # 3.2 s measured on a loaded 2-core machine
    assert found.places == ["zz/docker/Dockerfile:1: PIP_INDEX_URL"]
    assert found.cut == ""
    # without the Dockerfile, the cut is said
    (root / "zz" / "docker" / "Dockerfile").write_text("FROM python:3.11\n")
    assert "only the first" in ownindex.statements(load(root)).cut


def test_smoke_leaves_the_private_names_out_of_the_repositorys_file(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    """smoke/train-check install the repository's own requirements file by env's rule."""
    from forkvet import environments

    repo = make_repo(
        {
            ".envrc": f"export UV_DEFAULT_INDEX={URL}\n",
            "requirements.txt": "corp-envrc==2.0\nnumpy==1.26.4\n",
            "train.py": "import numpy\n",
        }
    )
    lines, source, _, _ = environments.requirements_and_config(
        load(repo), None, None, str(tmp_path / "envs")
    )
    assert lines == ["numpy==1.26.4"]
    assert "less corp-envrc" in source


def test_a_scan_cut_short_fails_closed(
    make_repo: MakeRepo,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Round 14a F10: padding files spent the scan's byte budget before the script that names
    the authors' index, and the private name was pinned live. What the scan did not read may
    name one: names the import table does not know are comments, and the reason says so."""
    monkeypatch.setattr(ownindex, "MAX_BYTES", 10_000)
    pads = {f"tools/pad{i:02}.sh": "# notes\n" * 2_000 for i in range(5)}
    repo = make_repo(
        {
            "requirements.txt": "numpy==1.24.0\ncorp-x==2.1.0\n",
            "train.py": "import numpy\nimport corp_x\n",
            **pads,
            "tools/zz_setup.sh": f"pip install --index-url {URL} corp-x==2.1.0\n",
        }
    )
    out = tmp_path / "out"
    data = _env(repo, out, capsys)
    assert _live(out) == ["numpy==1.24.0"]
    assert "may install from an index of its own" in _comment(out, "corp-x")
    assert any(
        "text files were read for index settings" in n
        for n in data["problems"] + data.get("notes", [])
    )


PIPRC = f"[global]\nindex-url = {CORP}\n"


@pytest.mark.parametrize(
    ("files", "where"),
    [
        (
            {"README.md": "```\nexport PIP_CONFIG_FILE=ci/piprc\n```\n", "ci/piprc": PIPRC},
            "README.md:2: PIP_CONFIG_FILE=ci/piprc: index-url",
        ),
        (
            {
                "README.md": "```\nUV_CONFIG_FILE=ci/uvsettings uv pip install -r r.txt\n```\n",
                "ci/uvsettings": f'index-url = "{CORP}"\n',
            },
            "README.md:2: UV_CONFIG_FILE=ci/uvsettings: index-url",
        ),
        (
            {"environment.yml": "variables:\n  PIP_CONFIG_FILE: ci/piprc\n", "ci/piprc": PIPRC},
            "environment.yml:2: PIP_CONFIG_FILE=ci/piprc",
        ),
        (
            {
                "docker/Dockerfile": "ENV PIP_CONFIG_FILE=$PWD/conf/pip-settings\n",
                "conf/pip-settings": PIPRC,
            },
            "PIP_CONFIG_FILE=conf/pip-settings",
        ),
        (
            {
                "scripts/setup.sh": 'export UV_CONFIG_FILE="$(pwd)/uvcfg"\n',
                "scripts/uvcfg": f'[[index]]\nname = "acme"\nurl = "{CORP}"\n',
            },
            "UV_CONFIG_FILE=scripts/uvcfg: [[index]]",
        ),
    ],
)
def test_a_configuration_file_a_variable_names_is_read_f3(
    make_repo: MakeRepo, files: dict[str, str], where: str
) -> None:
    """PIP_CONFIG_FILE/UV_CONFIG_FILE naming a committed file without a configuration
    extension: its index settings count (round 15a F3)."""
    places = _places(make_repo, files)
    assert places and where in places[0], places


@pytest.mark.parametrize(
    "files",
    [
        {"README.md": "```\nexport PIP_CONFIG_FILE=/dev/null\npip install x\n```\n"},
        # the named file sets no index of the authors' own, or is not in the tree
        {
            "README.md": "PIP_CONFIG_FILE=ci/piprc pip install x\n",
            "ci/piprc": "[global]\nindex-url = https://pypi.org/simple\ntimeout = 60\n",
        },
        {"README.md": "Set PIP_CONFIG_FILE to your own pip.conf if needed.\n"},
    ],
)
def test_a_configuration_file_without_an_own_index_says_nothing(
    make_repo: MakeRepo, files: dict[str, str]
) -> None:
    assert _places(make_repo, files) == []
