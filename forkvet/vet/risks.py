"""Check 9: what could hurt you when you run this code — pickles that execute code, unsafe
loaders, remote code, piped shell downloads, hard-coded paths, GPU-only code, absent content."""

from __future__ import annotations

import ast
import io
import logging
import re
import zipfile

from forkvet.report import Finding, Risk
from forkvet.vet.context import Context
from forkvet.vet.pysource import PyFile

CHECK = "risks"
PICKLE_EXT = (
    ".pkl",
    ".pickle",
    ".pt",
    ".pth",
    ".ckpt",
    ".bin",
    ".joblib",
    ".npy",
    ".npz",
    ".dat",
    ".model",
    ".p",
    ".pk",
    ".sav",
    ".tar",
    ".data",
    ".mdl",
    ".weights",
)
MAX_PICKLE_BYTES = 1024 * 1024 * 1024
_LFS = b"version https://git-lfs.github.com/spec/v1"
_PIPE_SHELL = re.compile(r"(?:curl|wget)\s[^\n|]*\|\s*(?:sudo\s+)?(?:ba|z)?sh\b")
_ABS_PATH = re.compile(
    r"^(?:/home/|/data\d*/|/mnt/|/nfs/|/scratch/|/Users/|/media/|/share/|"
    r"/gpfs/|/raid/|/disk\d*/|/ssd/|/hdd/|/work/|[A-Za-z]:\\\\?)"
)
_CPU_PATH = re.compile(
    r"cuda\.is_available|torch\.device\(|['\"]cpu['\"]|map_location|"
    r"device\s*=|--cpu|no_cuda|use_cuda|--gpu",
    re.I,
)


def _looks_pickled(head: bytes) -> bool:
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _scan_pickle(path: str, data: io.BufferedReader, ext: str) -> tuple[str, list[str]]:
    """('dangerous'|'suspicious'|'innocuous'|'error', [globals]) without unpickling."""
    from picklescan.scanner import SafetyLevel, scan_bytes

    logging.getLogger("picklescan").setLevel(logging.CRITICAL)
    try:
        result = scan_bytes(data, path, ext or None)
    except Exception as exc:
        return "error", [f"{type(exc).__name__}"]
    dangerous = [
        f"{g.module}.{g.name}" for g in result.globals if g.safety == SafetyLevel.Dangerous
    ]
    suspicious = [
        f"{g.module}.{g.name}" for g in result.globals if g.safety == SafetyLevel.Suspicious
    ]
    if dangerous or result.infected_files:
        return "dangerous", dangerous or suspicious
    if suspicious:
        return "suspicious", suspicious
    if result.scan_err:
        return "error", []
    return "innocuous", []


def _pickle_risks(ctx: Context, risks: list[Risk]) -> None:
    plain: list[str] = []
    for f in ctx.snap.files:
        if f.size < 2:
            continue
        try:
            head = ctx.snap.read_bytes(f.path, 64)
        except OSError:
            continue
        if head.startswith(_LFS):
            risks.append(
                Risk(
                    "lfs-pointer",
                    "warning",
                    "Git LFS pointer: the file's content is not in the clone (run `git lfs pull`)",
                    f.path,
                )
            )
            continue
        is_zip = head.startswith(b"PK\x03\x04")
        candidate = _looks_pickled(head) or (
            f.suffix in PICKLE_EXT
            and (is_zip or head.startswith(b"\x93NUMPY") or head[:1] in (b"(", b"c", b"}", b"]"))
        )
        if is_zip and not candidate:
            continue
        if not candidate:
            continue
        if f.size > MAX_PICKLE_BYTES:
            risks.append(
                Risk(
                    "pickle-unscanned",
                    "warning",
                    f"Pickle file over {MAX_PICKLE_BYTES >> 30} GiB not scanned",
                    f.path,
                )
            )
            continue
        if is_zip:
            try:
                with zipfile.ZipFile(ctx.snap.root / f.path) as zf:
                    if not any(n.endswith(".pkl") for n in zf.namelist()):
                        continue
            except (zipfile.BadZipFile, OSError):
                continue
        with open(ctx.snap.root / f.path, "rb") as fh:
            verdict, names = _scan_pickle(f.path, fh, f.suffix)
        if verdict == "dangerous":
            risks.append(
                Risk(
                    "dangerous-pickle",
                    "error",
                    f"Pickle imports code that runs when loaded: {', '.join(names[:5])}."
                    f" Do not load it.",
                    f.path,
                )
            )
        elif verdict == "suspicious":
            risks.append(
                Risk(
                    "suspicious-pickle",
                    "warning",
                    f"Pickle imports unusual globals: {', '.join(names[:5])}",
                    f.path,
                )
            )
        elif verdict == "error":
            risks.append(
                Risk(
                    "pickle-unreadable",
                    "notice",
                    "Looks like a pickle but could not be scanned",
                    f.path,
                )
            )
        else:
            plain.append(f.path)
    if plain:
        risks.append(
            Risk(
                "pickle-checkpoint",
                "notice",
                f"{len(plain)} pickle-based checkpoint(s) with only known-safe globals; "
                f"still load them with torch.load(weights_only=True): "
                f"{', '.join(plain[:3])}",
                plain[0],
            )
        )


def _call_name(node: ast.Call) -> str:
    fn = node.func
    if isinstance(fn, ast.Attribute):
        base = fn.value.id if isinstance(fn.value, ast.Name) else ""
        return f"{base}.{fn.attr}" if base else f".{fn.attr}"
    return fn.id if isinstance(fn, ast.Name) else ""


_TORCH_LOAD = "torch.load without weights_only=True runs any pickled code in the checkpoint"
_PICKLE_LOADERS = ("pickle.load", "pickle.loads", "cPickle.load", "joblib.load", "dill.load")


def _call_risk(node: ast.Call) -> tuple[str, str, str] | None:
    """(kind, severity, message) of a risky call, or None."""
    name = _call_name(node)
    kws = {k.arg for k in node.keywords}
    if name == "torch.load" and "weights_only" not in kws:
        return "torch-load", "warning", _TORCH_LOAD
    if name in _PICKLE_LOADERS:
        return "pickle-load", "notice", f"{name} executes code in untrusted files"
    if name == "yaml.load" and "Loader" not in kws and len(node.args) < 2:
        return (
            "yaml-load",
            "warning",
            "yaml.load without a Loader can run code (old PyYAML) and fails on PyYAML 6",
        )
    if name in ("eval", "exec") and node.args and not isinstance(node.args[0], ast.Constant):
        return (
            "eval",
            "warning",
            f"{name}() on a computed string: check what reaches it "
            "(command-line arguments, config files)",
        )
    if name in ("np.load", "numpy.load") and any(
        k.arg == "allow_pickle" and isinstance(k.value, ast.Constant) and k.value.value is True
        for k in node.keywords
    ):
        return "pickle-load", "notice", "np.load(allow_pickle=True) unpickles data"
    for kw in node.keywords:
        if (
            kw.arg == "trust_remote_code"
            and isinstance(kw.value, ast.Constant)
            and kw.value.value is True
        ):
            return (
                "trust-remote-code",
                "warning",
                "trust_remote_code=True downloads and runs code from the model hub",
            )
    return None


def analyze_file(f: PyFile, tree: ast.Module, nodes: list[ast.AST]) -> None:
    """Per-file analyzer: risky calls, absolute paths and .cuda() calls, with line numbers."""
    calls: list[tuple[str, str, str, int]] = []
    abs_paths: list[tuple[int, str]] = []
    cuda: list[int] = []
    for node in nodes:
        if isinstance(node, ast.Call):
            risk = _call_risk(node)
            if risk:
                calls.append((*risk, node.lineno))
            if _call_name(node).endswith(".cuda"):
                cuda.append(node.lineno)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and len(node.value) < 300
            and _ABS_PATH.match(node.value)
        ):
            abs_paths.append((getattr(node, "lineno", 0), node.value))
    f.facts["risks"] = (calls, abs_paths, cuda)


def _code_risks(ctx: Context, risks: list[Risk]) -> None:
    abs_paths: list[tuple[str, int, str]] = []
    cuda_calls: list[tuple[str, int]] = []
    cpu_path = False
    counts: dict[str, int] = {}

    def add(kind: str, severity: str, msg: str, path: str, line: int) -> None:
        counts[kind] = counts.get(kind, 0) + 1
        if counts[kind] <= 10:
            risks.append(Risk(kind, severity, msg, path, line))  # type: ignore[arg-type]

    for f in ctx.py.files:
        if _CPU_PATH.search(f.text):
            cpu_path = True
        facts = f.facts.get("risks")
        if facts is None:  # not parsed (Python 2): fall back to text search
            if ".cuda()" in f.text:
                cuda_calls.append((f.path, f.text[: f.text.find(".cuda()")].count("\n") + 1))
            if "torch.load(" in f.text:
                line = f.text[: f.text.find("torch.load(")].count("\n") + 1
                add("torch-load", "warning", _TORCH_LOAD, f.path, line)
            continue
        calls, paths, cuda = facts
        for kind, severity, msg, line in calls:
            add(kind, severity, msg, f.path, line)
        abs_paths += [(f.path, ln, value) for ln, value in paths]
        cuda_calls += [(f.path, ln) for ln in cuda]
    if abs_paths:
        p, ln, value = abs_paths[0]
        risks.append(
            Risk(
                "absolute-path",
                "notice",
                f"{len(abs_paths)} hard-coded absolute path(s), e.g. {value!r}: the "
                f"authors' machine; pass your own paths",
                p,
                ln,
            )
        )
    if cuda_calls and not cpu_path:
        p, ln = cuda_calls[0]
        risks.append(
            Risk(
                "cuda-only",
                "warning",
                f"{len(cuda_calls)} .cuda() call(s) and no CPU fallback: needs an "
                f"NVIDIA GPU to run",
                p,
                ln,
            )
        )
    for kind, n in counts.items():
        if n > 10:
            risks.append(Risk(kind, "notice", f"... and {n - 10} more of these"))


def _shell_risks(ctx: Context, risks: list[Risk]) -> None:
    for f in ctx.snap.files:
        if f.suffix in (".sh", ".bash", ".md", ".rst") or f.name in ("Dockerfile", "Makefile"):
            text = ctx.snap.read_text(f.path) or ""
            m = _PIPE_SHELL.search(text)
            if m:
                risks.append(
                    Risk(
                        "curl-pipe-shell",
                        "warning",
                        f"Downloads a script and runs it unseen: `{m.group(0)[:80]}`",
                        f.path,
                        text.count("\n", 0, m.start()) + 1,
                    )
                )


def _submodule_risks(ctx: Context, risks: list[Risk]) -> None:
    gm = ctx.snap.get(".gitmodules")
    if gm is None:
        return
    text = ctx.snap.read_text(gm.path) or ""
    for m in re.finditer(r"^\s*path\s*=\s*(.+?)\s*$", text, re.M):
        path = m.group(1)
        if not any(f.path.startswith(path + "/") for f in ctx.snap.files):
            risks.append(
                Risk(
                    "submodule-absent",
                    "warning",
                    f"Git submodule {path} is not checked out (run `git submodule update --init`)",
                    ".gitmodules",
                    text.count("\n", 0, m.start()) + 1,
                )
            )


def check(ctx: Context) -> tuple[list[Risk], list[Finding]]:
    risks: list[Risk] = []
    _pickle_risks(ctx, risks)
    _code_risks(ctx, risks)
    _shell_risks(ctx, risks)
    _submodule_risks(ctx, risks)
    findings: list[Finding] = []
    for r in risks:
        severity = r.severity
        if r.kind == "dangerous-pickle" and not ctx.config.risks.fail_on_dangerous_pickle:
            severity = "warning"
        if severity in ("error", "warning"):
            findings.append(
                Finding(
                    CHECK,
                    severity,
                    r.kind.replace("-", " ").capitalize(),
                    r.message,
                    r.path,
                    r.line,
                )
            )
    return risks, findings
