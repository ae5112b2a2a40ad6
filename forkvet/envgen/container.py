"""`forkvet env --container`: a Dockerfile and a devcontainer for the pinned environment.

The image holds what env wrote and nothing else: its base is the nvidia/cuda runtime of the CUDA
the pinned framework build was made for (forkvet/data/cuda_builds.json, the table env's conda
file and uv `--torch-backend` read) or `python:X-slim` on CPU; it copies only requirements.txt
(and uv.toml) and installs them with env's own uv command, as a non-root user. The Python is
uv's own build (`uv python install`), so the OS need not ship it; uv has none before 3.8, so
3.6/3.7 (and 2.7 on CUDA) come from conda-forge. Every value written into the Dockerfile is
checked against a strict pattern first, so nothing the repository says can add an instruction.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from forkvet import rx
from forkvet.envgen import device as devices
from forkvet.errors import ForkvetError, InputError
from forkvet.safe_write import OutputDir

USER = "forkvet"
# 1000 is taken in newer Ubuntu images (user ubuntu); a devcontainer maps it to yours anyway.
UID = 1001
HOME = f"/home/{USER}"
ENV_DIR = "/opt/forkvet-env"
WORKSPACE = "/workspace"
UV_IMAGE = "ghcr.io/astral-sh/uv"
MICROMAMBA = "mambaorg/micromamba:1.5.8"  # a static binary at /bin/micromamba
MARK = "# Written by forkvet env --container"
DEVCONTAINER_MARK = " (forkvet env)"  # the end of the devcontainer's name
# Pythons uv downloads start at 3.8; older ones come from conda-forge.
UV_PYTHONS_FROM = (3, 8)

# ASCII only (rx's \d would match any script's digits).
_PYTHON = rx.compile(r"(?:2\.7|3\.[0-9]{1,2})")
_NAME = rx.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,98}[A-Za-z0-9])?")
_VERSION = rx.compile(r"[0-9][A-Za-z0-9.+!_-]{0,63}")
_TAG = rx.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_UV_VERSION = rx.compile(r"[0-9]+\.[0-9]+\.[0-9]+")
# The command env prints (outputs.commands), and nothing else.
_UV_COMMAND = rx.compile(
    r"uv venv --python (?:3\.[0-9]{1,2}) && \. \.venv/bin/activate && uv pip install"
    r"(?: --torch-backend (?:cpu|cu[0-9]{2,3}))? -r requirements\.txt"
)


@dataclass
class Plan:
    """What the image is built from, as the env result reports it (`container` in the JSON)."""

    base: str
    python: str
    python_from: str  # "uv", "conda-forge" or "image"
    gpu: bool
    install: str  # the shell command that installs the pins
    cuda: str = ""
    cudnn: str = ""
    uv: str = ""  # the uv version copied in ("" for Python 2.7)
    files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    uv_toml: bool = False  # env wrote a uv.toml (metadata of old releases) beside the pins
    build_packages: list[str] = field(default_factory=list)  # apt: compiler and headers


def plan(result: dict[str, Any], capability: float | None = None) -> Plan:
    """The image for an env result (EnvResult.to_dict()); ForkvetError for a value that does
    not fit its pattern."""
    if result["offline"]:
        raise InputError("--container installs pinned versions: run env without --offline")
    python = _checked(_PYTHON, result["python"], "Python version")
    pins = _checked_pins(result["requirements"])
    gpu = result["device"] == "cuda"
    build = _framework_build(result) if gpu else None
    if build is not None:
        base = f"nvidia/cuda:{_checked(_TAG, build.image, 'image tag')}"
    else:
        base = f"python:{python}-slim"
    uv = "" if python == "2.7" else _uv_version()
    p = Plan(base, python, _python_from(python, base), gpu, _install(result, python), uv=uv)
    p.uv_toml = any(Path(f).name == "uv.toml" for f in result.get("files") or [])
    if build is not None:
        p.cuda, p.cudnn = build.cuda, build.cudnn
    p.build_packages = _build_packages(result)
    p.notes = _notes(result, pins, build, capability) + _build_notes(result, p)
    return p


# What a source build needs beyond a C/C++ compiler (each setup.py looks for these headers and
# tools); the base images are Debian (python:X-slim) or Ubuntu (nvidia/cuda), with no compiler.
_TOOLCHAIN = ("build-essential", "pkg-config")
_BUILD_HEADERS = {
    "matplotlib": ("libfreetype6-dev", "libpng-dev"),
    "pillow": ("libjpeg-dev", "zlib1g-dev", "libfreetype6-dev"),
    "tables": ("libhdf5-dev",),
    "h5py": ("libhdf5-dev",),
    "netcdf4": ("libhdf5-dev", "libnetcdf-dev"),
    "scipy": ("gfortran", "libopenblas-dev", "liblapack-dev"),
    "lxml": ("libxml2-dev", "libxslt1-dev"),
    "cffi": ("libffi-dev",),
    "cryptography": ("libssl-dev", "libffi-dev"),
    "psycopg2": ("libpq-dev",),
    "pycairo": ("libcairo2-dev",),
    "mysqlclient": ("default-libmysqlclient-dev",),
    "pyaudio": ("portaudio19-dev",),
}


def _from_source(result: dict[str, Any]) -> list[str]:
    """The checked names of the pins env says build from source when installed."""
    names = [str(spec).split("==")[0] for spec in result.get("builds_from_source") or []]
    return [_checked(_NAME, name, "package name") for name in names]


def _build_packages(result: dict[str, Any]) -> list[str]:
    """The apt packages for env's source builds: forkvet's own constants only, never a name
    the repository gives."""
    names = [n.lower().replace("_", "-") for n in _from_source(result)]
    if not names:
        return []
    extra = {pkg for n in names for pkg in _BUILD_HEADERS.get(n, ())}
    return [*_TOOLCHAIN, *sorted(extra)]


def _build_notes(result: dict[str, Any], p: Plan) -> list[str]:
    if not p.build_packages:
        return []
    notes = [
        f"{', '.join(_from_source(result))} build from source: the image installs a compiler "
        f"and headers first ({' '.join(p.build_packages)}); a build that needs other headers "
        f"fails at the install step and names them"
    ]
    if p.base == "python:2.7-slim":
        notes.append(
            "python:2.7-slim is Debian 10, past its end of life: if its apt-get update fails, "
            "point the image's apt sources at Debian's archive, or the compiler cannot be "
            "installed and the source builds fail"
        )
    return notes


def _checked(pattern: rx.Pattern[str], value: object, what: str) -> str:
    text = str(value)
    if not pattern.fullmatch(text):
        raise ForkvetError(f"--container: refusing {what} {text!r} (not a plain value)")
    return text


def _checked_pins(requirements: list[dict[str, str]]) -> dict[str, str]:
    pins = {}
    for r in requirements:
        pins[_checked(_NAME, r["name"], "package name")] = _checked(
            _VERSION, r["version"], "version"
        )
    return pins


def _framework_build(result: dict[str, Any]) -> devices.CudaBuild | None:
    fw = result.get("framework")
    if not fw:
        return None
    dist = _checked(_NAME, fw["dist"], "framework")
    return devices.cuda_build(dist, _checked(_VERSION, fw["version"], "framework version"))


def _python_from(python: str, base: str) -> str:
    if base.startswith("python:"):
        return "image"
    major, minor = (int(x) for x in python.split("."))
    return "uv" if (major, minor) >= UV_PYTHONS_FROM else "conda-forge"


def _install(result: dict[str, Any], python: str) -> str:
    if python == "2.7":
        # env's Python 2 environment is conda's; pip installs the same pins into it.
        return "python -m pip install --no-cache-dir -r requirements.txt"
    return _checked(_UV_COMMAND, result["commands"].get("uv", ""), "uv command")


def _uv_version() -> str:
    """The uv env resolved with: the image gets the same release."""
    from forkvet.envgen.uv import uv_binary

    try:
        out = subprocess.run(
            [uv_binary(), "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout.split()
        version = out[1] if len(out) > 1 else metadata.version("uv")
    except (OSError, subprocess.TimeoutExpired, metadata.PackageNotFoundError):
        version = ""
    return _checked(_UV_VERSION, version, "uv version")


def _notes(
    result: dict[str, Any],
    pins: dict[str, str],
    build: devices.CudaBuild | None,
    capability: float | None,
) -> list[str]:
    notes = []
    fw = result.get("framework") or {}
    if build is not None and build.conda and build.framework == "tensorflow":
        # Old TensorFlow links against the system's CUDA and cuDNN of its build, which a
        # current host OS no longer packages; PyTorch's wheels bring their own.
        notes.append(
            f"{fw['dist']} {fw['version']} loads CUDA {build.cuda} and cuDNN {build.cudnn} "
            f"from the system, which a current host no longer has: the container is the way to "
            f"run it there (it needs the NVIDIA driver and Container Toolkit on the host)"
        )
    if build is not None and build.note:
        notes.append(f"base image nvidia/cuda:{build.image}: {build.note}")
    if build is None and result["device"] == "cuda":
        notes.append(
            "no CUDA build is known for this environment's framework: the image has no CUDA "
            "libraries of its own; the GPU is passed through for packages that bring theirs"
        )
    if fw and result["device"] == "cuda":
        warning = devices.gpu_warning(str(fw["dist"]), str(fw["version"]), capability)
        if warning:
            notes.append(
                f"the container brings the CUDA libraries, not GPU kernels: {warning}; "
                f"run it on an older GPU or with --device cpu"
            )
    if not result["complete"]:
        notes.append("the environment is partial: the image installs what requirements.txt has")
    return notes


def dockerfile(p: Plan, repo: str) -> str:
    """The Dockerfile: only checked values in it; repo is reduced to a plain name."""
    name = safe_name(repo)
    lines = [
        "# syntax=docker/dockerfile:1",
        f"{MARK} for {name}: the pinned environment, and nothing of the repository.",
        f"# Build: docker build -t {name.lower()}-env .   (in this folder; see docs/env.md)",
        f"FROM {p.base}",
        "",
        *_index_comment(p),
    ]
    if p.uv:
        lines.append(f"COPY --from={UV_IMAGE}:{p.uv} /uv /uvx /usr/local/bin/")
    if p.python_from == "conda-forge":
        lines.append(f"COPY --from={MICROMAMBA} /bin/micromamba /usr/local/bin/micromamba")
    lines += _toolchain_lines(p)
    lines += [
        "# A user of its own owns the environment; nothing after this runs as root.",
        f"RUN groupadd --gid {UID} {USER} \\",
        f" && useradd --no-log-init --create-home --uid {UID} --gid {UID} {USER} \\",
        f" && mkdir -p {ENV_DIR} {WORKSPACE} && chown {USER}:{USER} {ENV_DIR} {WORKSPACE}",
        f"USER {UID}:{UID}",
        f"WORKDIR {ENV_DIR}",
        *_python_lines(p),
        "# Only env's own files: the build context is this folder, and .dockerignore keeps",
        "# everything else out.",
        f"COPY --chown={UID}:{UID} {' '.join(_copied(p))} ./",
        *_install_lines(p),
        f"WORKDIR {WORKSPACE}",
        'CMD ["bash"]',
    ]
    return "\n".join(lines) + "\n"


def _toolchain_lines(p: Plan) -> list[str]:
    if not p.build_packages:
        return []
    # Old nvidia/cuda images list NVIDIA's apt repository with a signing key it has since
    # replaced, so apt-get update fails on it; the OS's own packages are all that is needed.
    drop_cuda = (
        ["rm -f /etc/apt/sources.list.d/cuda*.list /etc/apt/sources.list.d/nvidia-ml*.list"]
        if p.base.startswith("nvidia/")
        else []
    )
    steps = [
        *drop_cuda,
        "apt-get update",
        f"apt-get install -y --no-install-recommends {' '.join(p.build_packages)}",
        "rm -rf /var/lib/apt/lists/*",
    ]
    return [
        "# Some pins build from source when installed: a compiler and the headers they need.",
        "# (Unpinned on purpose: the base image's release fixes their versions.)",
        "# hadolint ignore=DL3008",
        "RUN " + " \\\n && ".join(steps),
    ]


def _index_comment(p: Plan) -> list[str]:
    if p.python == "2.7":
        secret, var = "id=pip,src=$HOME/.config/pip/pip.conf", "PIP_INDEX_URL"
    else:
        secret, var = "id=uv,src=$HOME/.config/uv/uv.toml", "UV_DEFAULT_INDEX"
    lines = [
        "# The package index is yours: give your configuration as build secrets (never in a",
        f"# layer): docker build --secret {secret} --secret id={var},env={var} .",
        "ENV PYTHONUNBUFFERED=1",
    ]
    if p.uv:
        lines.append(f"ENV UV_NO_CACHE=1 UV_PYTHON_INSTALL_DIR={ENV_DIR}/python")
    return lines


def _python_lines(p: Plan) -> list[str]:
    if p.python_from == "uv":
        return [f"RUN uv python install {p.python}"]
    if p.python_from == "conda-forge":
        return [
            f"# uv has no Python {p.python} to download: conda-forge's.",
            f"RUN micromamba create --yes --root-prefix {ENV_DIR}/mamba --prefix {ENV_DIR}/python"
            f" --channel conda-forge --override-channels python={p.python}"
            + (" pip" if p.python == "2.7" else "")
            + " \\",
            f" && micromamba clean --all --yes --root-prefix {ENV_DIR}/mamba",
            f"ENV PATH={ENV_DIR}/python/bin:$PATH",
        ]
    return []


def _copied(p: Plan) -> list[str]:
    names = ["requirements.txt"]
    if p.uv_toml:
        names.append("uv.toml")  # in the install's folder: uv finds it there
    return names


def _install_lines(p: Plan) -> list[str]:
    if p.python == "2.7":
        secret = _secrets("pip", f"{HOME}/.config/pip/pip.conf", PIP_VARIABLES)
        user = " --user" if p.python_from == "image" else ""
        return [
            f"RUN {secret} \\",
            f"    {p.install.replace(' -r ', user + ' -r ', 1)}",
            f"ENV PATH={HOME}/.local/bin:$PATH",
        ]
    secret = _secrets("uv", f"{HOME}/.config/uv/uv.toml", UV_VARIABLES)
    return [
        "# env's own uv command, as env printed it",
        f"RUN {secret} \\",
        f"    {p.install}",
        f"ENV VIRTUAL_ENV={ENV_DIR}/.venv PATH={ENV_DIR}/.venv/bin:$PATH",
    ]


# The index settings a build may take from the host as secrets (never build arguments, which
# stay in the image's history). The file is merged with env's uv.toml in the install folder.
UV_VARIABLES = ("UV_DEFAULT_INDEX", "UV_INDEX", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL")
PIP_VARIABLES = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL")


def _secrets(file_id: str, target: str, variables: tuple[str, ...]) -> str:
    mounts = [f"--mount=type=secret,id={file_id},target={target},uid={UID}"]
    mounts += [f"--mount=type=secret,id={v},env={v}" for v in variables]
    return " \\\n    ".join(mounts)


DOCKERIGNORE = """# Written by forkvet env --container: the build context holds env's files only.
*
!requirements.txt
!uv.toml
# never in the context, whatever the rules above let in
.git
.env
*.pem
*.key
id_*
.netrc
.pypirc
"""


def devcontainer(p: Plan, repo: str) -> str:
    """devcontainer.json: this folder's image, the repository opened at /workspace."""
    config: dict[str, Any] = {
        "name": f"{safe_name(repo)}{DEVCONTAINER_MARK}",
        "build": {"dockerfile": "../Dockerfile", "context": ".."},
        "workspaceMount": f"source=${{localWorkspaceFolder}},target={WORKSPACE},type=bind",
        "workspaceFolder": WORKSPACE,
        "remoteUser": USER,
        "containerUser": USER,
        "customizations": {
            "vscode": {"settings": {"python.defaultInterpreterPath": _interpreter(p)}}
        },
    }
    if p.gpu:
        config["runArgs"] = ["--gpus", "all"]
    return json.dumps(config, indent=2) + "\n"


def _interpreter(p: Plan) -> str:
    if p.python != "2.7":
        return f"{ENV_DIR}/.venv/bin/python"
    return f"{ENV_DIR}/python/bin/python" if p.python_from != "image" else "/usr/local/bin/python"


def safe_name(repo: str) -> str:
    return rx.sub(r"[^A-Za-z0-9._-]+", "-", repo).strip("-.")[:60] or "repository"


# The files write() makes (checked by the CLI before env writes anything).
FILES = ("Dockerfile", ".dockerignore", ".devcontainer/devcontainer.json")


def write(out: Path, p: Plan, repo_name: str, repo: Path | None = None) -> list[str]:
    """Write Dockerfile, .dockerignore and .devcontainer/devcontainer.json into out (no write
    through a link; never over a Dockerfile forkvet did not write)."""
    refuse_foreign(out)
    with OutputDir(out, repo=repo) as folder:
        written = [
            str(folder.write_text("Dockerfile", dockerfile(p, repo_name))),
            str(folder.write_text(".dockerignore", DOCKERIGNORE)),
        ]
    with OutputDir(out / ".devcontainer", repo=repo) as folder:
        written.append(str(folder.write_text("devcontainer.json", devcontainer(p, repo_name))))
    p.files = written
    return written


def refuse_foreign(out: Path) -> None:
    """Never overwrite the repository's own container files (`--out` at its root)."""
    owned = {
        "Dockerfile": MARK,
        ".dockerignore": MARK,
        ".devcontainer/devcontainer.json": DEVCONTAINER_MARK,
    }
    for name, mark in owned.items():
        path = out / name
        # a link or a FIFO (which would block the read) is refused unread
        if path.is_symlink() or (path.exists() and not (path.is_file() and _ours(path, mark))):
            raise InputError(f"--out {out} has a {name} forkvet did not write: give another --out")


def _ours(path: Path, mark: str) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            return mark in f.read(4096)
    except OSError:
        return False
