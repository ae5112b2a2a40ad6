"""Every child process that could run the repository's code starts through the one sandbox
entry point, `forkvet.runtime.sandbox.sandboxed()`.

The test reads the source (ast) of the runtime, the shared environments and `env --verify`,
finds every call that starts a process, and accepts one only when:
- the program it starts is the argv bound by `with ... sandboxed(...) as (argv, ...)` around
  the call, in the same function; or
- it is a parameter of a small helper every caller of which passes such an argv; or
- the function is in ALLOWED, with the reason it never sees the repository's code.
A new call site that is none of these fails here, before it can run a repository's module
outside the sandbox (as `_no_ipykernel` once did).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = [
    *sorted((ROOT / "forkvet/runtime").glob("*.py")),
    ROOT / "forkvet/environments.py",
    ROOT / "forkvet/envgen/verify.py",
]
_STARTERS = {
    ("subprocess", "run"),
    ("subprocess", "Popen"),
    ("subprocess", "call"),
    ("subprocess", "check_call"),
    ("subprocess", "check_output"),
    ("subprocess", "getoutput"),
    ("subprocess", "getstatusoutput"),
    ("os", "system"),
    ("os", "popen"),
    ("pty", "spawn"),
    ("asyncio", "create_subprocess_exec"),
    ("asyncio", "create_subprocess_shell"),
}
# (file, function): why the program it starts never sees the repository's code.
ALLOWED = {
    ("forkvet/runtime/sandbox.py", "probe"): "bwrap itself, running /bin/sh with a fixed "
    "script in an empty folder",
    ("forkvet/runtime/ownns.py", "available"): "forkvet's own interpreter (-I -S) with a fixed "
    "script in /, trying a user namespace once: no repository file, no site",
    ("forkvet/runtime/gpu.py", "query"): "the host's nvidia-smi, resolved by forkvet.hostpaths, "
    "in forkvet's folder, with fixed arguments",
    ("forkvet/environments.py", "_uv_cache"): "`uv cache dir` in a private folder: reads no "
    "repository file and starts no interpreter",
    ("forkvet/environments.py", "_uv_venv"): "`uv venv` only (checked there), in a private "
    "folder: a new folder from a host interpreter, no repository file, no package code",
}


def _starter(call: ast.Call) -> bool:
    f = call.func
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
        name = (f.value.id, f.attr)
        return name in _STARTERS or (f.value.id == "os" and f.attr.startswith(("exec", "spawn")))
    return False


def _sandboxed_names(func: ast.AST, call: ast.Call) -> set[str]:
    """Names bound as the argv of a `with sandboxed(...) as (argv, ...)` that holds `call`."""
    names: set[str] = set()
    for node in ast.walk(func):
        if not isinstance(node, ast.With):
            continue
        if not any(call is inner for stmt in node.body for inner in ast.walk(stmt)):
            continue
        for item in node.items:
            ctx = item.context_expr
            target = item.optional_vars
            if (
                isinstance(ctx, ast.Call)
                and isinstance(ctx.func, ast.Attribute | ast.Name)
                and (ctx.func.attr if isinstance(ctx.func, ast.Attribute) else ctx.func.id)
                == "sandboxed"
                and isinstance(target, ast.Tuple)
                and isinstance(target.elts[0], ast.Name)
            ):
                names.add(target.elts[0].id)
    return names


def _functions(tree: ast.AST) -> list[ast.FunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]


def _program(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    for kw in call.keywords:
        if kw.arg in ("args", "cmd", "argv"):
            return kw.value
    return None


def _sites() -> list[tuple[str, ast.FunctionDef, ast.Call]]:
    out = []
    for path in FILES:
        rel = path.relative_to(ROOT).as_posix()
        for func in _functions(ast.parse(path.read_text(), rel)):
            for node in ast.walk(func):
                if isinstance(node, ast.Call) and _starter(node):
                    out.append((rel, func, node))
    return out


def _callers_pass_sandboxed(helper: ast.FunctionDef, position: int) -> list[str]:
    """For each call of `helper` in FILES: '' when it passes a sandboxed argv there."""
    verdicts = []
    for path in FILES:
        for func in _functions(ast.parse(path.read_text())):
            for node in ast.walk(func):
                if not (
                    isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute)
                ):
                    continue
                name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
                if name != helper.name or func is helper:
                    continue
                arg = node.args[position] if position < len(node.args) else None
                ok = isinstance(arg, ast.Name) and arg.id in _sandboxed_names(func, node)
                verdicts.append("" if ok else f"{path.name}:{node.lineno} ({func.name})")
    return verdicts


def _verdict(rel: str, func: ast.FunctionDef, call: ast.Call) -> str:
    """'' when the call site is routed through sandboxed(), else why not."""
    if (rel, func.name) in ALLOWED:
        return ""
    program = _program(call)
    if isinstance(program, ast.Name):
        if program.id in _sandboxed_names(func, call):
            return ""
        params = [a.arg for a in func.args.args]
        if program.id in params:
            callers = _callers_pass_sandboxed(func, params.index(program.id))
            bad = [c for c in callers if c]
            if callers and not bad:
                return ""
            where = f"{rel}:{call.lineno} ({func.name})"
            return f"{where} is given an argv not from sandboxed(): {bad or 'no caller'}"
    return f"{rel}:{call.lineno} ({func.name}) starts a program not from sandboxed()"


def test_every_child_goes_through_the_sandbox() -> None:
    sites = _sites()
    assert len(sites) >= 6, "the scan found too few call sites: it no longer reads the code"
    problems = [v for v in (_verdict(*site) for site in sites) if v]
    assert not problems, "\n".join(problems)


def test_the_allow_list_names_only_real_call_sites() -> None:
    """A reason left behind for a call that moved would allow the next one silently."""
    found = {(rel, func.name) for rel, func, _ in _sites()}
    assert set(ALLOWED) <= found, set(ALLOWED) - found


def test_the_scan_catches_an_unsandboxed_probe(tmp_path: Path) -> None:
    """The check itself can fail: the old `_no_ipykernel` shape is refused."""
    code = (
        "import subprocess\n"
        "def _no_ipykernel(python, env):\n"
        "    return subprocess.run([python, '-c', 'import ipykernel_launcher'], env=env)\n"
        "def good(python, cwd):\n"
        "    with sandbox.sandboxed([python], cwd) as (argv, _):\n"
        "        return subprocess.run(argv)\n"
    )
    funcs = {f.name: f for f in _functions(ast.parse(code))}
    calls = {
        name: next(n for n in ast.walk(f) if isinstance(n, ast.Call) and _starter(n))
        for name, f in funcs.items()
    }
    assert _verdict("x.py", funcs["_no_ipykernel"], calls["_no_ipykernel"])
    assert _verdict("x.py", funcs["good"], calls["good"]) == ""
