"""Which GPU device nodes a sandbox gets: the GPUs the run was given, never the host's others.

Every `/dev/nvidia*`, `/dev/dri` and `/dev/kfd` node of the host was added to every sandbox,
also under `--device cpu` and under the operator's `CUDA_VISIBLE_DEVICES=1` (a variable the
command can unset): the command could take the memory and compute of every other tenant's
GPU, and the MIG capability nodes undid the slices (outside attack, round 22b F3). The nodes
are now an allow-list derived from what the operator gave the run, not from what `/dev`
holds:

- `--device cpu` (`use_device("cpu")`): no GPU node at all;
- the operator's `CUDA_VISIBLE_DEVICES` (else `NVIDIA_VISIBLE_DEVICES`), read from forkvet's
  own environment: the `/dev/nvidiaN` of exactly those GPUs (a UUID or a unique UUID prefix;
  an index counts in PCI bus order, nvidia-smi's), the minor read from the driver's
  `/proc/driver/nvidia/gpus/*/information`, plus `nvidiactl` and `nvidia-uvm`; inside, the
  variable names them by UUID. An entry forkvet cannot map (a MIG instance, an unknown UUID,
  an index past the GPUs listed, GPU nodes the driver does not list) refuses the run
  (`Unassignable`), never widens it; a host with no NVIDIA GPU has nothing to give;
- no assignment: every NVIDIA GPU of the host (a runner that owns the host), and the AMD and
  DRM nodes (`/dev/kfd`, `/dev/dri`) only then, since a render node reaches any GPU;
- MIG capability nodes (`/dev/nvidia-caps`) are never added: a MIG slice cannot be handed to
  one sandbox yet (a run on a MIG GPU finds no device).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from forkvet.errors import ForkvetError

GPU_INFO = "/proc/driver/nvidia/gpus"
_SHARED_NVIDIA = ("nvidiactl", "nvidia-uvm")
_OTHER_GPU = ("dri", "kfd")
# The operator's AMD assignment: with one set, forkvet cannot tell the nodes apart (none then).
_AMD_VARS = ("ROCR_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "GPU_DEVICE_ORDINAL")
_NONE = {"", "none", "void", "-1"}
_device = "auto"


class Unassignable(ForkvetError):
    """The operator's GPU assignment names a GPU forkvet cannot map to a device node."""


class Gpu(NamedTuple):
    bus: str  # the PCI address, the folder's name
    minor: int
    uuid: str


class Nodes(NamedTuple):
    paths: list[str]  # device nodes to bind into the sandbox
    visible: str | None  # CUDA_VISIBLE_DEVICES inside (UUIDs); None: leave it as it is
    said: str  # for the result's `limits`


def use_device(device: str) -> None:
    """The run's `--device` (auto, cpu, cuda): cpu gives the sandbox no GPU node."""
    global _device
    _device = device


def gpus(info: str = GPU_INFO) -> list[Gpu]:
    """The host's NVIDIA GPUs as the driver lists them, in PCI bus order."""
    found: list[Gpu] = []
    try:
        buses = sorted(os.listdir(info))
    except OSError:
        return []
    for bus in buses:
        try:
            text = Path(info, bus, "information").read_text(errors="replace")
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        minor, uuid = fields.get("Device Minor", "").strip(), fields.get("GPU UUID", "").strip()
        if minor.isdigit() and uuid:
            found.append(Gpu(bus, int(minor), uuid))
    return found


def _assignment(env: Mapping[str, str]) -> str | None:
    for name in ("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES"):
        if name in env:
            return env[name].strip()
    return None


def _pick(entry: str, known: list[Gpu]) -> Gpu:
    """The GPU one entry of the assignment names; Unassignable when none or several do."""
    if entry.isdigit():
        if int(entry) < len(known):
            return known[int(entry)]
    elif entry.startswith("GPU-"):
        hits = [g for g in known if g.uuid.startswith(entry)]
        if len(hits) == 1:
            return hits[0]
    raise Unassignable(
        f"the GPU assignment names {entry[:80]!r}, which forkvet cannot map to one GPU's device "
        "node (a MIG instance, an unknown UUID or an index past the GPUs the driver lists): "
        "give whole GPUs by index or UUID, or run with --device cpu"
    )


def assigned(value: str, known: list[Gpu]) -> list[Gpu]:
    """The GPUs an assignment (`CUDA_VISIBLE_DEVICES` syntax) gives; [] for none."""
    if value.lower() in _NONE:
        return []
    if value.lower() == "all":
        return list(known)
    picked: list[Gpu] = []
    for entry in (e.strip() for e in value.split(",")):
        gpu = _pick(entry, known)
        if gpu not in picked:
            picked.append(gpu)
    return picked


def nodes(
    environ: Mapping[str, str] | None = None, dev: str = "/dev", info: str = GPU_INFO
) -> Nodes:
    """The device nodes for this run's sandbox (see the module's text)."""
    env = os.environ if environ is None else environ
    try:
        names = set(os.listdir(dev))
    except OSError:
        names = set()
    if _device == "cpu":
        return Nodes([], "", "no GPU device node (--device cpu)")
    value = _assignment(env)
    if value is None and not any(env.get(v) for v in _AMD_VARS):
        every = [n for n in sorted(names) if n.startswith(("nvidia", *_OTHER_GPU))]
        every = [n for n in every if n != "nvidia-caps"]
        return Nodes([f"{dev}/{n}" for n in every], None, _said_all(every))
    known = gpus(info)
    if not known and not any(n.startswith("nvidia") and n[6:].isdigit() for n in names):
        return Nodes([], "", "no GPU device node (none on the host)")  # nothing to give
    picked = assigned(value, known) if value is not None else []
    chosen = [f"nvidia{g.minor}" for g in picked]
    chosen += [n for n in _SHARED_NVIDIA if chosen and n in names]
    missing = [n for n in chosen if n not in names]
    if missing:
        raise Unassignable(f"the GPU assignment's device node {dev}/{missing[0]} is missing")
    visible = ",".join(g.uuid for g in picked)
    said = f"GPU device nodes of the assigned GPUs only ({', '.join(chosen) or 'none'})"
    return Nodes([f"{dev}/{n}" for n in chosen], visible, said)


def _said_all(every: list[str]) -> str:
    if not every:
        return "no GPU device node (none on the host)"
    return "every GPU of the host (no CUDA_VISIBLE_DEVICES assignment): " + ", ".join(every)


def setenv(found: Nodes) -> list[str]:
    """bwrap's arguments naming the assigned GPUs inside (by UUID); none without assignment."""
    if found.visible is None:
        return []
    return ["--setenv", "CUDA_VISIBLE_DEVICES", found.visible]
