"""Check 6: training and test/eval/demo entry points, their command-line options (argparse,
click, absl flags, read from the AST), and the commands the README documents."""

from __future__ import annotations

import ast
import re
from typing import Any

from forkvet.report import Command, EntryPoints, Finding, ScriptEntry
from forkvet.vet.context import Context
from forkvet.vet.pysource import PyFile

CHECK = "entry_points"
_TRAIN = re.compile(r"train|finetune|fine_tune|pretrain|fit\b", re.I)
_TEST = re.compile(
    r"test|eval|infer|predict|demo|sample|generate|valid|benchmark|inference|"
    r"detect|translate|synthesi[sz]e|run_model|apply",
    re.I,
)
_NOT_ENTRY = re.compile(r"(?i)^(prepare|download|setup|install|build|get|fetch|lint|format)")
_UNIT_TEST_DIR = re.compile(r"(?:^|/)(?:tests?|unittests?|testing)/")
_ENV_PREFIX = r"(?:[A-Z_][A-Z0-9_]*=\S*\s+)*"
_COMMAND = re.compile(
    rf"^\s*(?:\$\s*|>\s*|!)?({_ENV_PREFIX}(?:python[\d.]*|python3?\s+-m\s+\S+|torchrun|"
    rf"accelerate\s+launch|deepspeed|bash|sh|th|luajit|matlab|julia|\./\S+\.sh|"
    rf"horovodrun|mpirun|srun)\b[^\n]*)$",
    re.M,
)
_FENCE = re.compile(r"```[^\n]*\n(.*?)```|~~~[^\n]*\n(.*?)~~~", re.S)
_INSTALL = re.compile(
    r"\bpip3?\s+install|conda\s+(?:install|create|env)|setup\.py\s+"
    r"(?:install|develop|build)|git\s+clone|\bmake\b"
)
MAX_COMMANDS = 40


def _const(node: ast.expr | None) -> Any:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return ast.unparse(node)[:60]


def script_options(tree: ast.Module) -> list[dict[str, Any]]:
    """Command-line options a script defines, without running it."""
    out: list[dict[str, Any]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            name = (
                fn.attr
                if isinstance(fn, ast.Attribute)
                else fn.id
                if isinstance(fn, ast.Name)
                else ""
            )
            if name == "add_argument":
                flags = [
                    a.value
                    for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                ]
                if not flags:
                    continue
                opt: dict[str, Any] = {"name": max(flags, key=len), "flags": flags}
                for kw in node.keywords:
                    if kw.arg in ("default", "type", "required", "help", "choices", "action"):
                        value = _const(kw.value)
                        if kw.arg == "type" and isinstance(kw.value, ast.Name):
                            value = kw.value.id
                        opt[kw.arg] = (
                            value
                            if isinstance(value, str | int | float | bool | list | None)
                            else str(value)
                        )
                out.append(opt)
            elif name.startswith("DEFINE_") and node.args:
                flag = _const(node.args[0])
                if isinstance(flag, str):
                    opt = {
                        "name": f"--{flag}",
                        "flags": [f"--{flag}"],
                        "type": name[len("DEFINE_") :],
                    }
                    if len(node.args) > 1:
                        opt["default"] = _const(node.args[1])
                    if len(node.args) > 2:
                        opt["help"] = _const(node.args[2])
                    out.append(opt)
            elif (
                name in ("option", "argument")
                and isinstance(fn, ast.Attribute)
                and isinstance(fn.value, ast.Name)
                and fn.value.id == "click"
            ):
                flags = [
                    a.value
                    for a in node.args
                    if isinstance(a, ast.Constant) and isinstance(a.value, str)
                ]
                if flags:
                    opt = {"name": max(flags, key=len), "flags": flags}
                    for kw in node.keywords:
                        if kw.arg in ("default", "type", "required", "help"):
                            opt[kw.arg] = _const(kw.value)
                    out.append(opt)
        if len(out) >= 200:
            break
    for opt in out:
        for key, value in list(opt.items()):
            if not isinstance(value, str | int | float | bool | list | type(None)):
                opt[key] = str(value)
    return out


def _is_script(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.If) and "__main__" in ast.unparse(node.test):
            return True
    return any(isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) for n in tree.body)


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def analyze_file(f: PyFile, tree: ast.Module, nodes: list[ast.AST]) -> None:
    """Per-file analyzer: for files named like entry points, whether they run and their options."""
    stem = _stem(f.path)
    if _kind(stem) is None and stem not in _GENERIC:
        return
    f.facts["entry"] = (_is_script(tree), script_options(tree))


def _entry_facts(f: PyFile) -> tuple[bool, list[dict[str, Any]]]:
    if "entry" in f.facts:
        return f.facts["entry"]  # type: ignore[no-any-return]
    # Not parsed (Python 2): a text heuristic, and no options.
    return ("__main__" in f.text or "argparse" in f.text), []


_GENERIC = ("main", "run", "app", "cli")


def _kind(stem: str) -> str | None:
    if _TRAIN.search(stem):
        return "train"
    m = _TEST.search(stem)
    if m:
        word = m.group(0).lower()
        for kind in ("eval", "demo", "infer", "predict"):
            if word.startswith(kind):
                return "inference" if kind in ("infer", "predict") else kind
        return "test"
    return None


def readme_commands(text: str, source: str) -> list[Command]:
    blocks = [m.group(1) or m.group(2) or "" for m in _FENCE.finditer(text)]
    # Indented code blocks of reStructuredText and old Markdown.
    blocks += re.findall(r"(?:^(?: {4}|\t)[^\n]+\n?)+", text, re.M)
    out: list[Command] = []
    seen: set[str] = set()
    for block in blocks:
        # Join shell continuation lines before matching.
        block = re.sub(r"\\\n\s*", " ", block)
        for m in _COMMAND.finditer(block):
            cmd = " ".join(m.group(1).split())
            if cmd in seen or len(cmd) > 400:
                continue
            seen.add(cmd)
            low = cmd.lower()
            kind = (
                "install"
                if _INSTALL.search(low)
                else "train"
                if _TRAIN.search(low)
                else "test"
                if _TEST.search(low)
                else "other"
            )
            out.append(Command(cmd, source, kind))
            if len(out) >= MAX_COMMANDS:
                return out
    return out


def check(ctx: Context) -> tuple[EntryPoints, list[Finding]]:
    ep = EntryPoints()
    for f in ctx.py.files:
        fentry = ctx.snap.get(f.path)
        if _UNIT_TEST_DIR.search(f.path) or (fentry is not None and fentry.vendored):
            continue
        stem = _stem(f.path)
        if (stem.startswith("test_") or stem.endswith("_test")) and not f.is_notebook:
            continue  # unit tests, counted by the health check
        kind = _kind(stem)
        if kind is None and stem in _GENERIC and f.path.count("/") <= 1:
            options = _entry_facts(f)[1]
            names = " ".join(str(o.get("name")) + str(o.get("choices", "")) for o in options)
            if "train" in names:
                ep.train.append(ScriptEntry(f.path, "train", options))
            if re.search(r"test|eval|infer|predict", names):
                ep.test.append(ScriptEntry(f.path, "test", options))
            continue
        if kind is None:
            continue
        if f.is_notebook:
            entry = ScriptEntry(f.path, "notebook")
        else:
            runs, options = _entry_facts(f)
            if not runs:
                continue
            entry = ScriptEntry(f.path, kind, options)
        (ep.train if kind == "train" else ep.test).append(entry)
    for fe in ctx.snap.files:
        if fe.suffix in (".sh", ".lua") and fe.path.count("/") <= 2 and not fe.vendored:
            stem = fe.name.rsplit(".", 1)[0]
            # CI scripts and data preparation are not how the model is run.
            if fe.path.startswith((".github/", ".circleci/", "dev/")) or _NOT_ENTRY.match(stem):
                continue
            kind = _kind(stem)
            if kind:
                (ep.train if kind == "train" else ep.test).append(ScriptEntry(fe.path, kind))
    for lst in (ep.train, ep.test):
        lst.sort(key=lambda e: (e.path.count("/"), e.kind == "notebook", e.path))
    if ctx.snap.readme:
        ep.commands = readme_commands(ctx.readme, ctx.snap.readme.path)
    findings: list[Finding] = []
    if not ep.train:
        findings.append(
            Finding(
                CHECK,
                "notice",
                "No training script",
                "No training entry point found; the training check needs a "
                "command in .github/forkvet.yml (train.command).",
            )
        )
    if not ep.test:
        findings.append(
            Finding(
                CHECK,
                "notice",
                "No test or demo script",
                "No test, eval or demo entry point found; set smoke.command in "
                ".github/forkvet.yml for the smoke test.",
            )
        )
    return ep, findings
