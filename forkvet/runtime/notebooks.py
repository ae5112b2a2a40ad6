"""Starter notebooks from a repository's test and train scripts (the recipe's "testing
notebook" and "training notebook"), in jupytext percent format and as .ipynb."""

from __future__ import annotations

import ast
import json
import os
import warnings
from pathlib import Path

from forkvet import limits
from forkvet.escape import md_code, md_inline, visible
from forkvet.report import ScriptEntry
from forkvet.runtime.commands import tiny_flags, training_script
from forkvet.runtime.notebook_cells import (
    METRICS_CELL,
    METRICS_MARKDOWN,
    argv_with_input,
    demo_input,
    input_parameter,
    with_input,
)
from forkvet.safe_write import OutputDir, safe_name
from forkvet.snapshot import Snapshot
from forkvet.vet import vet
from forkvet.vet.pysource import estimated_nodes

PARAMETERS = """# %% tags=["parameters"]
# Parameters (papermill can override these): keep them tiny while you explore.
steps = 10
epochs = 1
batch_size = 2
device = "cpu"  # "cuda" on a GPU machine
seed = 0
"""
# Which parameter each kind of option takes: a step count never becomes an epoch count.
_STEP_OPTIONS = {"steps", "max_steps", "num_steps", "iters", "max_iter", "iterations", "n_iter"}
_EPOCH_OPTIONS = {"epochs", "num_epochs", "n_epochs", "epoch", "max_epochs"}
_BATCH_OPTIONS = {"batch_size", "batchsize", "bs", "batch"}
# Statements grouped into one cell until a definition, the main block, or this many lines.
MAX_CELL_LINES = 25


def _cells(source: str) -> list[str]:
    """Split a script into cells a person would make: the imports, each function or class,
    the main block, and the statements between them grouped (not one statement per cell)."""
    if estimated_nodes(source) > limits.MAX_PARSE_TOKENS:
        return [source]  # built to exhaust ast (over 1 GB for a million names): one cell
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except SyntaxError:
        return [source]
    lines = source.splitlines()
    body = tree.body
    if not body:
        return [source]
    starts = [max(0, n.lineno - 1 - len(getattr(n, "decorator_list", []))) for n in body]
    ends = [*starts[1:], len(lines)]
    imports: list[str] = []
    cells: list[str] = []
    group: list[str] = []

    def flush() -> None:
        if group:
            cells.append("\n".join(group).strip("\n"))
            group.clear()

    for node, a, b in zip(body, starts, ends, strict=True):
        chunk = "\n".join(lines[a:b]).strip("\n")
        if not chunk:
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            imports.append(chunk)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.If):
            flush()
            cells.append(chunk)
        else:
            if group and sum(c.count("\n") + 1 for c in group) >= MAX_CELL_LINES:
                flush()
            group.append(chunk)
    flush()
    return (["\n".join(imports)] if imports else []) + [c for c in cells if c.strip()]


# Names a `--key=value` configurator sets (nanoGPT's configurator.py overrides the script's
# globals): the parameter each takes.
_PARAM_OF = {
    **dict.fromkeys(_STEP_OPTIONS | {"max_iters", "eval_iters"}, "steps"),
    **dict.fromkeys(_EPOCH_OPTIONS, "epochs"),
    **dict.fromkeys(_BATCH_OPTIONS, "batch_size"),
    "device": "device",
}


def _argv(entry: ScriptEntry) -> tuple[str, list[str]]:
    """sys.argv for a script with argparse/click/absl options, and the parameters it takes."""
    flags = tiny_flags(entry, gpu=False) or []
    rendered = []
    used = []
    for i, f in enumerate(flags):
        option = flags[i - 1].lstrip("-").replace("-", "_").lower() if i else ""
        if option in _STEP_OPTIONS:
            rendered.append("str(steps)")
            used.append(f"steps → {flags[i - 1]}")
        elif option in _EPOCH_OPTIONS:
            rendered.append("str(epochs)")
            used.append(f"epochs → {flags[i - 1]}")
        elif option in _BATCH_OPTIONS:
            rendered.append("str(batch_size)")
            used.append(f"batch_size → {flags[i - 1]}")
        elif option == "device" and f == "cpu":
            rendered.append("device")
            used.append(f"device → {flags[i - 1]}")
        else:
            rendered.append(json.dumps(f))
    return f"sys.argv = [{json.dumps(entry.path)}, {', '.join(rendered)}]", used


def _style(tree: ast.Module | None, source: str) -> str:
    """How the script reads its parameters: "configurator" (`--key=value` overriding its
    globals, as nanoGPT's `exec(open('configurator.py').read())`), "fire", "argv" (reads
    sys.argv some other way) or "none"."""
    if tree is None:
        return "argv" if "sys.argv" in source else "none"
    for node in limits_walk(tree):
        if not isinstance(node, ast.Call):
            continue
        fn = node.func
        if isinstance(fn, ast.Name) and fn.id == "exec" and _opens(node):
            return "configurator"
        if isinstance(fn, ast.Attribute) and fn.attr == "Fire" and isinstance(fn.value, ast.Name):
            return "fire"
    return "argv" if "sys.argv" in source else "none"


def _opens(call: ast.Call) -> bool:
    return any(isinstance(n, ast.Name) and n.id == "open" for a in call.args for n in ast.walk(a))


def limits_walk(tree: ast.Module, cap: int = 200_000) -> list[ast.AST]:
    out: list[ast.AST] = []
    for node in ast.walk(tree):
        out.append(node)
        if len(out) >= cap:
            break
    return out


def _names(tree: ast.Module, style: str) -> list[str]:
    """Names a `--key=value` reaches: the script's top-level globals (configurator) or the
    parameters of the function fire.Fire runs."""
    if style == "configurator":
        return [
            t.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Name)
        ]
    fired = {
        a.id
        for node in limits_walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "Fire"
        for a in node.args[:1]
        if isinstance(a, ast.Name)
    }
    return [
        a.arg
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name in fired
        for a in [*node.args.args, *node.args.kwonlyargs]
    ]


def _key_value_argv(entry: ScriptEntry, names: list[str]) -> tuple[str, list[str]]:
    rendered, used = [], []
    for name in dict.fromkeys(names):
        param = _PARAM_OF.get(name.lower())
        if param:
            rendered.append(f'"--{name}=" + str({param})')
            used.append(f"{param} → --{name}")
        elif name == "compile":
            rendered.append('"--compile=False"')  # torch.compile needs a compiler toolchain
            used.append("--compile=False")
    return f"sys.argv = [{json.dumps(entry.path)}, {', '.join(rendered)}]", used


def parameters(entry: ScriptEntry, source: str) -> tuple[str, str]:
    """(the sys.argv line, a Markdown note saying which parameters reach the script). The
    parameters cell only matters if the script reads them: when it cannot, the note says so
    instead of pretending."""
    tree = _parse(source)
    if entry.options:
        argv, used = _argv(entry)
    else:
        style = _style(tree, source)
        if style in ("configurator", "fire") and tree is not None:
            argv, used = _key_value_argv(entry, _names(tree, style))
        else:
            argv, used = f"sys.argv = [{json.dumps(entry.path)}]", []
    if used:
        note = "Parameters passed to the script: " + ", ".join(md_code(u) for u in used) + "."
    else:
        note = (
            "**Warning: the parameters cell does not reach this script**: it reads no "
            "command-line option forkvet can set (steps, epochs, batch size, device). Edit "
            "the values in the code cells below to keep the run tiny."
        )
    return argv, note


def _parse(source: str) -> ast.Module | None:
    if estimated_nodes(source) > limits.MAX_PARSE_TOKENS:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _setup_cell(snap: Snapshot, entry: ScriptEntry, out: Path, argv: str) -> str:
    """Run from the repository's root wherever Jupyter starts (notebooks/ is one folder
    down), with the root and the script's own folder importable, as `python script.py` has."""
    script_dir = str(Path(entry.path).parent).replace("\\", "/")
    try:
        rel = os.path.relpath(snap.root, out.resolve())
    except ValueError:
        rel = str(snap.root)
    return (
        "# %%\nimport os\nimport random\nimport sys\nfrom pathlib import Path\n\n"
        "# The repository's root: found from here by its script, else where it was generated.\n"
        "_here = Path.cwd()\n"
        f"REPO = next((p for p in (_here, *_here.parents) if (p / {json.dumps(entry.path)})"
        f".is_file()), (_here / {json.dumps(rel)}).resolve())\n"
        "os.chdir(REPO)\n"
        f"for _p in (REPO / {json.dumps(script_dir)}, REPO):\n"
        "    if str(_p) not in sys.path:\n"
        "        sys.path.insert(0, str(_p))\n"
        "random.seed(seed)\n"
        "# The script reads its options from sys.argv; these make it run on tiny input.\n"
        f"{argv}\n"
    )


def percent_script(
    snap: Snapshot, entry: ScriptEntry, purpose: str, out: Path | None = None
) -> str:
    source = snap.read_text(entry.path) or ""
    demo = demo_input(snap, entry) if purpose == "Testing" else None
    argv, note = parameters(with_input(entry, demo) if demo else entry, source)
    notes = [note]
    if demo is not None:
        argv, notes = argv_with_input(argv, demo), [demo.note, "", note]
    path = md_code(entry.path, limit=None)
    parts = [
        markdown_cell(
            f"# {purpose} notebook: {path}",
            "",
            f"Generated by `forkvet notebooks` from {md_inline(snap.name)}'s {path}. Run it as "
            "is first, then adapt it to one item of your own data.",
            "",
            *notes,
        ),
        PARAMETERS + (input_parameter(demo) if demo else ""),
        _setup_cell(snap, entry, out if out is not None else snap.root / "notebooks", argv),
    ]
    for cell in _cells(source):
        if cell.lstrip().startswith("if __name__"):
            # Run the script's entry point in the notebook, not only define it.
            cell = cell.replace("__name__ == '__main__'", "True").replace(
                '__name__ == "__main__"', "True"
            )
        parts.append(f"# %%\n{cell}\n")
    return "\n".join([*parts, METRICS_MARKDOWN, METRICS_CELL])


def markdown_cell(*lines: str) -> str:
    """A py:percent Markdown cell: each line one `# ` comment line. Repository text reaches a
    line only through `md_code`/`md_inline` (one line, Markdown that does nothing), and every
    line break or other invisible character left in a line is shown as its escape (`\\n`),
    so no text starts a line of its own: a path holding `\\n# %%\\n` made the notebook's
    first code cell (outside attack, round 22b F6)."""
    shown = [visible(line) for line in lines]
    return "# %% [markdown]\n" + "".join(f"# {line}\n" if line else "#\n" for line in shown)


def _first_script(entries: list[ScriptEntry]) -> list[ScriptEntry]:
    """The first Python script of a list that may start with notebooks."""
    return [e for e in entries if e.path.endswith(".py")][:1]


def _demo_first(entries: list[ScriptEntry]) -> list[ScriptEntry]:
    """The testing notebook runs the demo on one input: a demo or inference script before
    unit tests and evaluations."""
    return sorted(entries, key=lambda e: e.kind not in ("demo", "inference"))


def write_notebooks(snap: Snapshot, out: Path) -> list[Path]:
    from forkvet.extras import require

    jupytext = require("jupytext")

    report = vet(snap)
    chosen = [(e, "Testing") for e in _first_script(_demo_first(report.entry_points.test))]
    train = _first_script(report.entry_points.train)
    if not train:
        found = training_script(snap)  # minGPT's projects/adder/adder.py: Trainer(...).run()
        train = [ScriptEntry(found, "train")] if found else []
    chosen += [(e, "Training") for e in train]
    written = []
    with OutputDir(out, repo=snap.root) as folder:
        for entry, purpose in chosen:
            text = percent_script(snap, entry, purpose, out)
            # The script's name comes from the repository: only safe characters reach a file name.
            stem = safe_name(f"{purpose.lower()}_{Path(entry.path).stem}")
            written.append(folder.write_text(f"{stem}.py", text))
            nb = jupytext.reads(text, fmt="py:percent")
            nb.metadata["kernelspec"] = {
                "name": "python3",
                "display_name": "Python 3",
                "language": "python",
            }
            written.append(folder.write_text(f"{stem}.ipynb", jupytext.writes(nb, fmt="ipynb")))
    return written
