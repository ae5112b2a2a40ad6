"""CPU or CUDA environments, and the CUDA/cuDNN each old framework release was built against.

TensorFlow 1.x (up to 2.0) shipped its GPU build as a separate distribution, `tensorflow-gpu`,
which needs the CUDA toolkit and cuDNN its release was compiled for; conda provides those as
`cudatoolkit`/`cudnn`. PyTorch wheels from the index bundle their CUDA runtime (PyTorch >= 1.x)
but conda installs of old releases need the matching `cudatoolkit`. Modern TensorFlow (>= 2.12)
and PyTorch (>= 2.0) find or bundle CUDA themselves; no conda CUDA is written for them.

Sources: TensorFlow's "tested build configurations" table and PyTorch's "previous versions"
install commands (the cudatoolkit each release's conda package was built with).
"""

from __future__ import annotations

import re
import shutil

from packaging.version import InvalidVersion, Version

# (framework, first version NOT covered, CUDA toolkit, cuDNN or ""), ascending per framework.
CUDA_TABLE: tuple[tuple[str, str, str, str], ...] = (
    ("tensorflow", "1.3", "8.0", "5.1"),  # 0.12 - 1.2
    ("tensorflow", "1.5", "8.0", "6.0"),  # 1.3 - 1.4
    ("tensorflow", "1.13", "9.0", "7.1"),  # 1.5 - 1.12
    ("tensorflow", "2.1", "10.0", "7.4"),  # 1.13 - 2.0
    ("tensorflow", "2.4", "10.1", "7.6"),  # 2.1 - 2.3
    ("tensorflow", "2.5", "11.0", "8.0"),  # 2.4
    ("tensorflow", "2.12", "11.2", "8.1"),  # 2.5 - 2.11
    ("torch", "1.0", "9.0", ""),  # 0.4
    ("torch", "1.3", "10.0", ""),  # 1.0 - 1.2
    ("torch", "1.5", "10.1", ""),  # 1.3 - 1.4
    ("torch", "1.7", "10.2", ""),  # 1.5 - 1.6
    ("torch", "1.8", "11.0", ""),  # 1.7
    ("torch", "1.10", "11.1", ""),  # 1.8 - 1.9
    ("torch", "1.12", "11.3", ""),  # 1.10 - 1.11
    ("torch", "1.13", "11.6", ""),  # 1.12
    ("torch", "2.0", "11.7", ""),  # 1.13
)
DEVICES = ("cpu", "cuda")


def detect() -> str:
    """What this machine has: "cuda" when an NVIDIA driver is installed (nvidia-smi)."""
    return "cuda" if shutil.which("nvidia-smi") else "cpu"


def cuda_for(dist: str, version: str) -> tuple[str, str] | None:
    """(CUDA toolkit, cuDNN or "") the release was built for; None when it needs no conda CUDA."""
    base = "tensorflow" if dist.startswith("tensorflow") else dist
    try:
        v = Version(version)
    except InvalidVersion:
        return None
    for name, below, cuda, cudnn in CUDA_TABLE:
        if name == base and v < Version(below):
            return cuda, cudnn
    return None


def conda_packages(dist: str, version: str) -> list[str]:
    found = cuda_for(dist, version)
    if not found:
        return []
    cuda, cudnn = found
    return [f"cudatoolkit={cuda}", *([f"cudnn={cudnn}"] if cudnn else [])]


def tf_gpu_dist(version: str) -> bool:
    """Whether TensorFlow's GPU build of this release is the `tensorflow-gpu` distribution."""
    try:
        return Version(version) < Version("2.1")
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
_MXNET_CUDA = re.compile(r"^mxnet-cu\d+(?:mkl)?$")


def cpu_twin(name: str) -> str | None:
    """The CPU build's distribution of a GPU-only distribution (tensorflow-gpu → tensorflow,
    mxnet-cu90 → mxnet); None when name is not one."""
    if name in _CPU_TWINS:
        return _CPU_TWINS[name]
    if _MXNET_CUDA.match(name):
        return "mxnet"
    return None
