"""CPU or CUDA environments, and the CUDA/cuDNN each old framework release was built against.

TensorFlow 1.x (up to 2.0) shipped its GPU build as a separate distribution, `tensorflow-gpu`,
which needs the CUDA toolkit and cuDNN its release was compiled for; conda provides those as
`cudatoolkit`/`cudnn`. PyTorch wheels from the index bundle their CUDA runtime (PyTorch >= 1.x)
but conda installs of old releases need the matching `cudatoolkit`. Modern TensorFlow (>= 2.12)
and PyTorch (>= 2.0) find or bundle CUDA themselves; no conda CUDA is written for them.

The table is data, forkvet/data/cuda_builds.json, with its sources named there: TensorFlow's
"tested build configurations" and PyTorch's "previous versions" install commands (the
cudatoolkit each release's conda package was built with). `env --container` reads the same rows
for its nvidia/cuda base image.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources

from packaging.version import InvalidVersion

from forkvet import hostpaths, rx, safeparse


@dataclass(frozen=True)
class CudaBuild:
    """One row of forkvet/data/cuda_builds.json: a framework release line's CUDA build."""

    framework: str
    below: str | None  # the first release NOT covered; None: every later release
    cuda: str
    cudnn: str  # "" where the framework's packages bring their own
    conda: bool  # whether a conda environment installs this cudatoolkit/cudnn
    image: str  # the nvidia/cuda runtime tag of this CUDA
    note: str = ""  # why the image's CUDA differs from the build's, where it does


@functools.cache
def cuda_builds() -> tuple[CudaBuild, ...]:
    """The table, ascending per framework (its sources are named in the file)."""
    raw = resources.files("forkvet.data").joinpath("cuda_builds.json").read_text("utf-8")
    return tuple(CudaBuild(**row) for row in json.loads(raw)["builds"])


def cuda_build(dist: str, version: str) -> CudaBuild | None:
    """The CUDA build of this framework release; None for an unknown framework or version."""
    base = "tensorflow" if dist.startswith("tensorflow") else dist
    try:
        v = safeparse.version(version)
    except InvalidVersion:
        return None
    for row in cuda_builds():
        if row.framework == base and (row.below is None or v < safeparse.version(row.below)):
            return row
    return None


DEVICES = ("cpu", "cuda")


def detect() -> str:
    """What this machine has: "cuda" when an NVIDIA driver is installed (nvidia-smi)."""
    return "cuda" if hostpaths.find("nvidia-smi") else "cpu"


def cuda_for(dist: str, version: str) -> tuple[str, str] | None:
    """(CUDA toolkit, cuDNN or "") the release was built for; None when it needs no conda CUDA."""
    row = cuda_build(dist, version)
    return (row.cuda, row.cudnn) if row is not None and row.conda else None


def conda_packages(dist: str, version: str) -> list[str]:
    found = cuda_for(dist, version)
    if not found:
        return []
    cuda, cudnn = found
    return [f"cudatoolkit={cuda}", *([f"cudnn={cudnn}"] if cudnn else [])]


def tf_gpu_dist(version: str) -> bool:
    """Whether TensorFlow's GPU build of this release is the `tensorflow-gpu` distribution."""
    try:
        return safeparse.version(version) < safeparse.version("2.1")
    except InvalidVersion:
        return False


# GPU builds published as distributions of their own, and the CPU build of each.
_CPU_TWINS = {
    "tensorflow-gpu": "tensorflow",
    "tf-nightly-gpu": "tf-nightly",
    "paddlepaddle-gpu": "paddlepaddle",
    "onnxruntime-gpu": "onnxruntime",
    "faiss-gpu": "faiss-cpu",
    "mxnet-mkl": "mxnet",
    "jaxlib-cuda": "jaxlib",
}
_MXNET_CUDA = rx.compile(r"^mxnet-cu\d+(?:mkl)?$")


def cpu_twin(name: str) -> str | None:
    """The CPU build's distribution of a GPU-only distribution (tensorflow-gpu → tensorflow,
    mxnet-cu90 → mxnet); None when name is not one."""
    if name in _CPU_TWINS:
        return _CPU_TWINS[name]
    if _MXNET_CUDA.match(name):
        return "mxnet"
    return None


# The newest GPU architecture (compute capability) each release line ships kernels for:
# (framework, first version NOT covered, newest capability), ascending per framework.
# PyTorch 1.7 was the first built with CUDA 11 (Ampere, 8.0/8.6); Hopper (9.0) needs a
# CUDA 11.8 build (PyTorch 2.0); TensorFlow 2.4 brought CUDA 11, 2.12+ Hopper.
KERNEL_TABLE: tuple[tuple[str, str, float], ...] = (
    ("torch", "1.7", 7.5),
    ("torch", "2.0", 8.6),
    ("tensorflow", "2.4", 7.5),
    ("tensorflow", "2.12", 8.6),
)


def newest_capability(dist: str, version: str) -> float | None:
    """The newest compute capability this release has kernels for; None when current."""
    base = "tensorflow" if dist.startswith("tensorflow") else dist
    try:
        v = safeparse.version(version)
    except InvalidVersion:
        return None
    for name, below, cap in KERNEL_TABLE:
        if name == base and v < safeparse.version(below):
            return cap
    return None


def gpu_capability() -> float | None:
    """This machine's GPU compute capability (the first GPU's), when nvidia-smi tells."""
    import subprocess

    smi = hostpaths.find("nvidia-smi")
    if not smi:
        return None
    try:
        out = subprocess.run(
            [smi, "--query-gpu=compute_cap", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.split()
        return float(out[0]) if out else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


def torch_backend_for(version: str) -> str | None:
    """uv's --torch-backend for the CUDA build matching the conda file's cudatoolkit."""
    found = cuda_for("torch", version)
    return "cu" + found[0].replace(".", "") if found else None


def gpu_warning(dist: str, version: str, capability: float | None) -> str | None:
    newest = newest_capability(dist, version)
    if newest is None:
        return None
    if capability is None:
        return (
            f"{dist} {version} has GPU kernels up to compute capability {newest:g}: it does "
            f"not run on newer GPUs (Ampere 8.0 and later need PyTorch >= 1.7 / TensorFlow "
            f">= 2.4; Hopper 9.0 PyTorch >= 2.0 / TensorFlow >= 2.12)"
        )
    if capability > newest:
        return (
            f"{dist} {version} has GPU kernels up to compute capability {newest:g}; this "
            f"machine's GPU is {capability:g}: CUDA calls will fail with 'no kernel image'"
        )
    return None
