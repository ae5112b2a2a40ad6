"""Explain a failed run in words a person can act on."""

from __future__ import annotations

from forkvet import rx
from forkvet.vet.importmap import dist_for_module

_MISSING = rx.compile(r"(?:ModuleNotFoundError|ImportError): No module named '?([\w.]+)'?")
_CUDA = rx.compile(
    r"Torch not compiled with CUDA|no CUDA GPUs are available|Found no NVIDIA "
    r"driver|CUDA driver version is insufficient|cudaGetDeviceCount|"
    r"CUDA unavailable|libcuda\.so|could not find any GPU|No CUDA runtime is found|"
    r"Attempting to deserialize object on a CUDA device"
)
_OOM = rx.compile(r"CUDA out of memory|OutOfMemoryError|Killed\s*$|MemoryError", rx.M)
_NOFILE = rx.compile(
    r"(?:FileNotFoundError|IOError|OSError): \[Errno 2\] No such file or "
    r"directory: '([^'\n]{1,500})'"
)
_SYNTAX = rx.compile(r"SyntaxError: (.+)")
# Downloads at run time (pretrained weights, datasets) on a machine without the network.
_NETWORK = rx.compile(
    r"couldn't connect to '?(https?://[^\s']+)|Failed to establish a new connection|"
    r"Name or service not known|Temporary failure in name resolution|"
    r"urlopen error|ConnectionError: .*?(https?://[^\s'\"]+)",
)
_WEIGHT_EXT = (
    ".pth",
    ".pt",
    ".ckpt",
    ".h5",
    ".pb",
    ".caffemodel",
    ".npz",
    ".pkl",
    ".bin",
    ".onnx",
    ".safetensors",
    ".t7",
    ".weights",
)


# A file under one of these folders is a dataset (nanoGPT's data/shakespeare_char/train.bin),
# whatever its extension says.
_DATA_DIRS = {"data", "dataset", "datasets", "corpus", "corpora"}


def _missing_file(path: str) -> str:
    folders = {part.lower() for part in path.replace("\\", "/").split("/")[:-1]}
    if folders & _DATA_DIRS:
        return (
            f"wanted a data file that is not there: {path} (run the README's data preparation "
            f"step first: vet lists its scripts under Prepare)"
        )
    kind = "a weight file" if path.endswith(_WEIGHT_EXT) else "a data or config file"
    return (
        f"wanted {kind} that is not there: {path} (see the report's weights section, or the "
        f"README's download step)"
    )


def explain(
    output: str,
    returncode: int | None,
    timed_out: bool,
    timeout: float,
    own: frozenset[str] | set[str] = frozenset(),
) -> list[str]:
    """own: the repository's own top-level modules (never "a guessed name" to install)."""
    reasons: list[str] = []
    if timed_out:
        reasons.append(f"timed out after {timeout:g} s; every process it started was killed")
    for name in dict.fromkeys(_MISSING.findall(output)):
        if name.split(".")[0] in own:
            reasons.append(
                f"missing module {name!r}: it is this repository's own code, not importable "
                f"from where the command runs (install it with pip install -e ., or run it "
                f"from the repository root)"
            )
            continue
        dist, certain = dist_for_module(name)
        hint = f"pip install {dist}" if dist else "not on the package index: build it from source"
        reasons.append(f"missing module {name!r} ({hint}{'' if certain else ', a guessed name'})")
    if _CUDA.search(output):
        reasons.append(
            "CUDA is unavailable here (no NVIDIA GPU visible) and the command needs it: run "
            "it on a GPU runner, or use the README's CPU variant or a CPU option (e.g. "
            "--device=cpu, map_location='cpu')"
        )
    if _OOM.search(output):
        reasons.append("ran out of memory: lower the batch size or the input size")
    for path in dict.fromkeys(_NOFILE.findall(output)):
        reasons.append(_missing_file(path))
    net = _NETWORK.search(output)
    if net:
        where = next((g for g in net.groups() if g), None)
        reasons.append(
            "needs the network to download something at run time"
            + (f" ({where})" if where else "")
            + ": download the weights or data beforehand, or run where it can connect"
        )
    m = _SYNTAX.search(output)
    if m:
        reasons.append(f"syntax error: {m.group(1)} (Python 2 code on Python 3?)")
    if not reasons and returncode not in (0, None):
        last = [ln for ln in output.splitlines() if ln.strip()][-1:] or ["(no output)"]
        reasons.append(f"exited with code {returncode}: {last[0][:200]}")
    return reasons
