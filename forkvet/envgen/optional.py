"""Optional integrations are not required: a distribution the code imports only behind
try/except ImportError, only under a boolean flag (`if opt.tf_log: import tensorflow`), or only
in an optional export/integration file (an ONNX or TensorRT export script the README does not
ask for) is listed as optional. It is not resolved, does not make the result partial, and adds
no pin released after the code's date; the result says which ones were left optional and why."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from forkvet import rx
from forkvet.envgen.names import NeedSet
from forkvet.escape import terminal
from forkvet.vet.importmap import canonical
from forkvet.vet.pysource import all_nodes, parse_python

# A file whose own name or folder says it exports or converts the model for another runtime.
_INTEGRATION_PATH = rx.compile(
    r"(?i)(?:^|/)(?:\w*(?:export|convert|onnx|tensorrt|trt|tflite|coreml|openvino|quantiz|"
    r"deploy)\w*)(?:/|\.py$|\.ipynb$)|(?:^|/)\w*(?:_to_|2onnx|2trt|2tf|2caffe)\w*\.py$"
)


def _is_flag_test(test: ast.expr) -> bool:
    """`opt.tf_log`, `args.use_tb and rank == 0`, `not self.no_vis`: a switch, not a choice
    between code paths (`args.dataset == "coco"` keeps the import required)."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _is_flag_test(test.operand)
    if isinstance(test, ast.BoolOp):
        return any(_is_flag_test(v) for v in test.values)
    return isinstance(test, ast.Attribute | ast.Name) and not (
        isinstance(test, ast.Name) and test.id in ("True", "__debug__")
    )


def _flag_gated_lines(text: str, path: str) -> set[int]:
    """Lines of imports that run only when a flag is on."""
    parsed = parse_python(path, text)
    if parsed.tree is None:
        return set()
    gated: set[int] = set()
    for node in all_nodes(parsed.tree):
        if isinstance(node, ast.If) and _is_flag_test(node.test):
            for inner in node.body:
                for sub in ast.walk(inner):
                    if isinstance(sub, ast.Import | ast.ImportFrom):
                        gated.add(sub.lineno)
    return gated


def _named_in_readme(readme: str, dist: str, modules: set[str]) -> bool:
    words = {dist, *modules}
    low = readme.lower()
    return any(rx.search(rf"(?:^|[^\w-]){rx.escape(w.lower())}(?:[^\w-]|$)", low) for w in words)


def mark(
    needs: NeedSet,
    uses: dict[str, list[tuple[str, int, bool, str]]],
    texts: dict[str, str],
    readme: str,
    keep: Iterable[str],
) -> list[str]:
    """Turn required, undeclared needs used only optionally into optional ones; returns the
    notes that say which and why. `uses`: dist -> [(path, line, optional, module)] (vet's
    third_party_imports); `keep`: distributions never made optional (the framework)."""
    kept = {canonical(k) for k in keep}
    gated_cache: dict[str, set[int]] = {}
    notes: list[str] = []
    for need in needs.of_kind("main", "guessed"):  # a guess used only optionally is optional
        found = uses.get(need.name) or uses.get(canonical(need.name)) or []
        if need.declared or not found or canonical(need.name) in kept:
            continue
        reasons: list[str] = []
        for p, ln, opt, _ in found:  # stops at the first use that is required
            reason = _why_optional(p, ln, opt, texts, gated_cache)
            if reason is None:
                break
            reasons.append(reason)
        else:
            modules = {m.split(".")[0] for _, _, _, m in found}
            if "integration" in reasons and _named_in_readme(readme, need.name, modules):
                continue  # the README asks for it: an integration the authors want installed
            need.kind = "optional"
            where = ", ".join(terminal(f"{p}:{ln}") for p, ln, _, _ in found[:2])
            how = " or ".join(_WORDS[r] for r in sorted(set(reasons)))
            notes.append(
                f"{need.name}: imported only {how} ({where}); left optional, not pinned "
                f"(install it yourself to use that part)"
            )
    return notes


_WORDS = {
    "flag": "behind a flag",
    "integration": "in optional export/integration code",
    "guarded": "behind try/except ImportError",
}


def _why_optional(
    path: str, line: int, optional: bool, texts: dict[str, str], cache: dict[str, set[int]]
) -> str | None:
    if optional:
        return "guarded"
    if _INTEGRATION_PATH.search(path):
        return "integration"
    text = texts.get(path, "")
    lines = text.splitlines()
    if not (0 < line <= len(lines) and lines[line - 1][:1] in (" ", "\t")):
        return None  # a top-level import runs whenever the file is loaded
    if path not in cache:
        cache[path] = _flag_gated_lines(text, path)
    return "flag" if line in cache[path] else None
