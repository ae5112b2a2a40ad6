"""Check 5: declared and imported dependencies, mapped to PyPI names; missing and unused."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import cached_property

from forkvet import rx
from forkvet.escape import terminal
from forkvet.report import Dependencies, Finding
from forkvet.vet.context import Context
from forkvet.vet.declared import DeclaredSet, collect
from forkvet.vet.importmap import (
    GIT_ONLY,
    MODULE_TO_DIST,
    TOOLING,
    canonical,
    dist_for_module,
    known_distributions,
    normalize,
)
from forkvet.vet.metadata import (
    extension_modules,
    parse_pyproject,
    parse_setup_cfg,
    parse_setup_py,
)
from forkvet.vet.pyhistory import PY2_ONLY_MODULES, STDLIB3
from forkvet.vet.pysource import local_module_names

CHECK = "dependencies"
# Python 2 stdlib names, plus modules every Python has under another spelling.
# Every environment pip made has these; never report them missing.
_ALWAYS_PRESENT = frozenset({"setuptools", "pip", "wheel"})
_STDLIB = STDLIB3 | PY2_ONLY_MODULES | {"__future__", "__main__", "builtins"}


_GIT_SOURCE = rx.compile(
    r"(?:git\s+clone\s+(?:-{1,2}[\w-]+(?:[= ]\S+)?\s+)*|git\+)"
    r"(?:https?://|git@|ssh://git@)(?:www\.)?(github\.com|gitlab\.com|bitbucket\.org)[:/]"
    r"([\w.-]+)/([\w.-]+?)(?:\.git)?(?:[\s@#/\"'`)]|$)"
)
# Prefixes and suffixes research repositories add to the package they hold.
_AFFIX = rx.compile(
    r"^(?:py|pytorch|torch|tf|tensorflow|keras)[_-]|[_-](?:pytorch|torch|tf|"
    r"tensorflow|keras|pt|jax|official|release|code|master|main)$"
)
# Frameworks: a folder named like one never hides it.
_FRAMEWORK_MODULES = frozenset(
    {
        "torch",
        "tensorflow",
        "keras",
        "jax",
        "flax",
        "mxnet",
        "theano",
        "caffe",
        "chainer",
        "paddle",
        "transformers",
        "numpy",
        "scipy",
        "sklearn",
    }
)


def module_names(repo_name: str) -> set[str]:
    """Import names a repository called repo_name may provide (CLIP → clip, pytorch-foo → foo)."""
    base = repo_name.lower().removesuffix(".git")
    names = {base, base.replace("-", "_").replace(".", "_")}
    stripped = _AFFIX.sub("", base)
    names |= {stripped, stripped.replace("-", "_").replace(".", "_")}
    return {n for n in names if n.isidentifier()}


def own_names(ctx: Context) -> set[str]:
    """Import names that are the repository itself (import DiT in facebookresearch/DiT)."""
    names = module_names(ctx.snap.name.split("+")[-1].split("/")[-1])
    remote = ctx.snap.git.remote or ""
    m = rx.search(r"[/:]([\w.-]+?)(?:\.git)?/?$", remote)
    if m:
        names |= module_names(m.group(1))
    return names


def git_sources(ctx: Context) -> dict[str, str]:
    """import name -> git+https requirement, from `git clone` and `pip install git+` lines in
    the README and notebooks' shell cells (a cloned CLIP gives `import clip`)."""
    texts = [ctx.readme] + ["\n".join(lines) for lines in ctx.py.notebook_shell.values()]
    out: dict[str, str] = {}
    own = own_names(ctx)
    for text in texts:
        for m in _GIT_SOURCE.finditer(text):
            host, owner, name = m.groups()
            names = module_names(name)
            if names & own:
                continue  # cloning the repository itself
            for module in names:
                out.setdefault(module, f"git+https://{host}/{owner}/{name}.git")
    return out


def submodule_paths(ctx: Context) -> list[str]:
    """The folders .gitmodules names whose content the snapshot lacks (forkvet never checks
    submodules out)."""
    text = ctx.snap.read_text(".gitmodules") or ""
    found = rx.finditer(r"(?m)^\s*path\s*=\s*(\S+)", text[:65536])
    paths = [m.group(1).rstrip("/") for m in found][:20]
    filled = {p for p in paths for f in ctx.snap.files if f.path.startswith(f"{p}/")}
    return [terminal(p) for p in paths if p not in filled]


def submodule_names(ctx: Context) -> set[str]:
    """Import names the git submodules provide: each submodule folder's name and the names
    its repository may go by (`common/inception` → inception)."""
    text = ctx.snap.read_text(".gitmodules") or ""
    names: set[str] = set()
    for m in rx.finditer(r"(?m)^\s*(path|url)\s*=\s*(\S+)", text[:65536]):
        last = m.group(2).rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        names |= module_names(last)
        if m.group(1) == "path":
            names.add(last)
    return names


# setup.py files read for the extension modules they build (monorepos have a few; a tree of
# thousands would be a hostile one).
_MAX_SETUP_FILES = 50


def built_extensions(ctx: Context) -> dict[str, str]:
    """Top-level names of the modules the repository's own setup.py files build
    (`CUDAExtension('deform_conv_cuda', …)`, `Extension('deep.pkg.kern', …)` → deep,
    `CUDAExtension(NAME, …)`, `cythonize("ops/cyops.pyx")` → cyops), with the setup.py
    that builds each, and those the package metadata installs (`packages`, `py_modules`,
    `package_dir`): the repository's own code, never an index package."""
    names: dict[str, str] = {}
    setups = [f for f in ctx.snap.files if f.name == "setup.py"]
    for f in setups[:_MAX_SETUP_FILES]:
        text = ctx.snap.read_text(f.path)
        if text:
            for n in sorted(extension_modules(text)):
                names.setdefault(n.split(".")[0], f.path)
    for meta in ctx.packages:
        for n in meta.extensions:
            names.setdefault(n.split(".")[0], meta.path)
    return names


def project_names(ctx: Context) -> dict[str, str]:
    """PEP 503 names the repository's own package metadata gives its projects (pyproject
    `[project] name`, Poetry's name, setup.py/setup.cfg `name`), with the file saying so:
    those at the top and one folder down, then those deeper in the tree (nested libraries,
    workspace members: `libs/ops/setup.py`) unless forkvet's import table knows the name as a
    public project (a vendored copy of it is still that project)."""
    out: dict[str, str] = {}
    for meta in ctx.packages:
        if isinstance(meta.name, str) and meta.name.strip():
            out.setdefault(normalize(meta.name.strip()), meta.path)
    public = known_distributions()
    for name, path in nested_project_names(ctx).items():
        if name not in public:
            out.setdefault(name, path)
    return out


# Package metadata files read below the first folder level (a monorepo has tens; a tree of
# thousands would be a hostile one), and the time one setup.py may take.
_MAX_NESTED = 200
_NESTED_SETUP_SECONDS = 0.5
_PACKAGE_FILES = ("setup.py", "setup.cfg", "pyproject.toml")


def nested_project_names(ctx: Context) -> dict[str, str]:
    """PEP 503 project name -> the metadata file deeper than one folder down that names it:
    read statically like the top ones (`ast` for setup.py, within a time limit)."""
    out: dict[str, str] = {}
    nested = [f for f in ctx.snap.files if f.name in _PACKAGE_FILES and len(f.parts) > 2]
    nested.sort(key=lambda f: (len(f.parts), f.path))
    for f in nested[:_MAX_NESTED]:
        if time.monotonic() > ctx.deadline:
            break
        text = ctx.snap.read_text(f.path)
        if not text:
            continue
        if f.name == "setup.py":
            meta = parse_setup_py(f.path, text, time.monotonic() + _NESTED_SETUP_SECONDS)
        else:
            meta = (parse_setup_cfg if f.name == "setup.cfg" else parse_pyproject)(f.path, text)
        if meta and isinstance(meta.name, str) and meta.name.strip():
            out.setdefault(normalize(meta.name.strip()), f.path)
    return out


@dataclass(frozen=True)
class RepoNames:
    """What the repository provides itself, found statically (its files are never imported
    or run): the one answer to "is this name the repository's own?", for imports and for
    declared names alike."""

    loose: frozenset[str]  # every module stem and folder holding Python, at any depth
    strict: frozenset[str]  # real modules and packages (X.py, X/__init__.py, extensions)
    top_dirs: frozenset[str]  # top-level folders of Python, and git submodules' names
    built: dict[str, str]  # module -> the setup script (or pyproject) that builds/installs it
    projects: dict[str, str]  # PEP 503 project name -> the metadata file naming it
    own: frozenset[str]  # names the repository itself goes by (its folder, its remote)
    python_files: tuple[str, ...] = ()  # paths of its Python files, to say where a name is

    def import_is_local(self, top: str) -> bool:
        """A well-known third-party name is local only if the repo has a real package of it
        (or a top-level folder of Python used as one); an unknown name, any file or folder."""
        local = (
            (top in self.strict or (top in self.top_dirs and top not in _FRAMEWORK_MODULES))
            if top in MODULE_TO_DIST
            else (top in self.loose or top in self.top_dirs)
        )
        return (
            local
            or top.lower() in self.own
            or (top in self.built and top not in _FRAMEWORK_MODULES)
            or normalize(top) in self.projects
        )

    def declared_local(self, name: str) -> str | None:
        """Why a declared distribution name is the repository's own (so never an index
        name), or None. The project's own name always is. Otherwise a public project
        forkvet's import table knows stays that project (the authors named it, and no one
        else can register it); any other name is the repository's own when a module,
        package, folder of Python, built extension or submodule of the repository has it,
        compared PEP 503-normalised (`my-dash` is the folder `my_dash/`)."""
        key = normalize(name)
        if key in self.projects:
            return f"the repository's own project (named in {self.projects[key]})"
        if key in known_distributions():
            return None
        built = {normalize(n): where for n, where in self.built.items()}
        if key in built:
            return f"a module the repository builds or installs ({built[key]})"
        if key in self._modules:
            return f"a module or package in the repository ({self._where(key)})"
        return None

    def _where(self, key: str) -> str:
        """The first file or folder of the repository that gives the name `key`."""
        return self._located.get(key, "a git submodule")

    @cached_property
    def _located(self) -> dict[str, str]:
        """PEP 503 name -> the first file or folder giving it: one pass over the files, made
        only when a declared name is local (a scan per name was quadratic)."""
        out: dict[str, str] = {}
        for path in self.python_files:
            parts = path.split("/")
            for i, part in enumerate(parts[:-1]):
                out.setdefault(normalize(part), "/".join(parts[: i + 1]) + "/")
            out.setdefault(normalize(parts[-1].split(".", 1)[0]), path)
        return out

    @cached_property
    def _modules(self) -> frozenset[str]:
        return frozenset(normalize(n) for n in self.loose | self.strict | self.top_dirs)


_PYTHON_SUFFIXES = (".py", ".pyx", ".so", ".pyd")


def repo_names(ctx: Context) -> RepoNames:
    """The names the repository provides itself (see RepoNames)."""
    top_dirs = {
        f.path.split("/", 1)[0]
        for f in ctx.snap.files
        if f.path.count("/") >= 1 and f.suffix in (".py", ".pyx", ".so")
    }
    # A submodule's folder is empty in a snapshot, yet its modules are the repository's own.
    top_dirs |= submodule_names(ctx)
    # From the file list alone (the Python index is not needed: the runtime asks too).
    loose, strict = local_module_names(ctx.snap)
    return RepoNames(
        loose=frozenset(loose),
        strict=frozenset(strict),
        top_dirs=frozenset(top_dirs),
        built=built_extensions(ctx),
        projects=project_names(ctx),
        own=frozenset(own_names(ctx)),
        python_files=tuple(f.path for f in ctx.snap.files if f.suffix in _PYTHON_SUFFIXES),
    )


def third_party_imports(
    ctx: Context, git: dict[str, str] | None = None, names: RepoNames | None = None
) -> dict[str, list[tuple[str, int, bool, str]]]:
    """dist -> [(path, line, optional, module)] for every third-party import; imports of a
    repository cloned from git are keyed by their git+https requirement."""
    out: dict[str, list[tuple[str, int, bool, str]]] = {}
    names = names or repo_names(ctx)
    git = git or {}
    for ref in ctx.py.imports:
        top = ref.top
        if top in _STDLIB or names.import_is_local(top):
            continue
        gkey = git.get(top) or git.get(top.lower()) or GIT_ONLY.get(top)
        if gkey:
            out.setdefault(gkey, []).append((ref.path, ref.line, ref.optional, ref.module))
            continue
        dist, _ = dist_for_module(ref.module)
        # Not installable: name the module as imported (google.colab, not google).
        shown = ".".join(ref.module.split(".")[:2]) if top in ("google", "azure") else top
        key = dist if dist is not None else f"<{shown}>"
        out.setdefault(key, []).append((ref.path, ref.line, ref.optional, ref.module))
    return out


def check(ctx: Context, declared: DeclaredSet | None = None) -> tuple[Dependencies, list[Finding]]:
    """Declared (requirements, setup, environment files) against imported (mapped to
    distributions) → missing and unused → notices."""
    declared = declared if declared is not None else collect(ctx)
    imports = third_party_imports(ctx, git_sources(ctx))
    deps = Dependencies(files=declared.files)
    _git_requirements(imports, deps)
    specs = _declared_specs(declared, deps)
    not_installable = _imported(imports, deps)
    _prefer_declared_names(deps, specs)
    declared_canonical = {canonical(n) for n in specs}
    # Missing: imported for real (not only optionally), and not declared under any alias.
    deps.missing = [
        n
        for n in deps.imported
        if n not in deps.optional
        and n not in _ALWAYS_PRESENT
        and canonical(n) not in declared_canonical
    ]
    deps.unused = _unused(deps, declared)
    findings = _missing_findings(deps, declared)
    findings += _unused_notice(deps)
    findings += _not_installable_notice(not_installable)
    findings += _git_notice(deps)
    findings += _guessed_notice(deps)
    for note in declared.notes:
        findings.append(Finding(CHECK, "notice", "Unreadable dependency file", note))
    return deps, findings


Uses = dict[str, list[tuple[str, int, bool, str]]]


def _git_requirements(imports: Uses, deps: Dependencies) -> None:
    """Imports installed from a git repository: taken out of the imports, by module."""
    for key in sorted(imports):
        if key.startswith("git+"):
            uses = imports.pop(key)
            deps.git_requirements[uses[0][3].split(".")[0]] = key


def _declared_specs(declared: DeclaredSet, deps: Dependencies) -> dict[str, str]:
    """Each declared distribution once, with its first non-empty spec."""
    specs: dict[str, str] = {}
    for d in declared.items:
        if d.name not in specs or (d.spec and not specs[d.name]):
            specs[d.name] = d.spec
    deps.declared = sorted(specs)
    deps.declared_specs = dict(sorted(specs.items()))
    return specs


def _imported(imports: Uses, deps: Dependencies) -> list[str]:
    """The imported distributions with where, whether only optional, and whether the name is
    a guess; returns the imports no package index has (<name>)."""
    not_installable: list[str] = []
    imported: list[str] = []
    for key, uses in sorted(imports.items()):
        if key.startswith("<"):
            not_installable.append(key.strip("<>"))
            continue
        imported.append(key)
        deps.imported_at[key] = [f"{p}:{ln}" for p, ln, _, _ in uses[:3]]
        if all(opt for _, _, opt, _ in uses):
            deps.optional.append(key)
        # The full module: google.protobuf is certain even though "google" alone is not.
        mods = {m for _, _, _, m in uses}
        if any(not dist_for_module(m)[1] for m in mods):
            deps.unmapped.append(key)
    deps.imported = imported
    return not_installable


def _prefer_declared_names(deps: Dependencies, specs: dict[str, str]) -> None:
    """A guessed name is covered by a declared distribution that extends it (bert →
    bert-tensorflow): the authors' word beats our guess."""
    imported = deps.imported
    for guess in list(deps.unmapped):
        for name in specs:
            if name.startswith(f"{guess}-") or name.endswith(f"-{guess}"):
                imported[imported.index(guess)] = name
                deps.imported_at[name] = deps.imported_at.pop(guess)
                deps.unmapped.remove(guess)
                if guess in deps.optional:
                    deps.optional[deps.optional.index(guess)] = name
                break


def _unused(deps: Dependencies, declared: DeclaredSet) -> list[str]:
    """Declared, never imported: not a tool, a plugin of an import, or a dev dependency."""
    imported_canonical = {canonical(n) for n in deps.imported}
    return [
        n
        for n in deps.declared
        if canonical(n) not in imported_canonical
        and n not in TOOLING
        and not _is_plugin(n, imported_canonical)
        and not any(d.dev for d in declared.items if d.name == n)
    ]


def _missing_findings(deps: Dependencies, declared: DeclaredSet) -> list[Finding]:
    if not declared.files and deps.imported:
        named = " (install commands in the README or notebooks name some)" if declared.items else ""
        return [
            Finding(
                CHECK,
                "warning",
                "No dependency file",
                f"The code imports {len(deps.imported)} third-party package(s) but no "
                f"requirements, setup or environment file declares them{named}: run "
                f"`forkvet env` to generate a pinned requirements.txt.",
            )
        ]
    if not deps.missing:
        return []
    first = deps.missing[0]
    where = deps.imported_at[first][0] if deps.imported_at.get(first) else None
    return [
        Finding(
            CHECK,
            "warning",
            "Undeclared dependencies",
            f"Imported but not declared: {', '.join(deps.missing[:15])}"
            + (" ..." if len(deps.missing) > 15 else ""),
            path=where.rsplit(":", 1)[0] if where else None,
            line=int(where.rsplit(":", 1)[1]) if where else None,
        )
    ]


def _unused_notice(deps: Dependencies) -> list[Finding]:
    if not deps.unused:
        return []
    return [
        Finding(
            CHECK,
            "notice",
            "Declared but not imported",
            f"{', '.join(deps.unused[:15])}: declared but never imported (maybe used as a "
            f"command-line tool, or left over).",
        )
    ]


def _not_installable_notice(not_installable: list[str]) -> list[Finding]:
    if not not_installable:
        return []
    return [
        Finding(
            CHECK,
            "notice",
            "Dependencies not on the package index",
            f"{', '.join(sorted(set(not_installable)))}: not installable with pip (build from "
            f"source, conda, or a platform such as Colab).",
        )
    ]


def _git_notice(deps: Dependencies) -> list[Finding]:
    if not deps.git_requirements:
        return []
    return [
        Finding(
            CHECK,
            "notice",
            "Dependencies from git",
            ", ".join(f"{m} ({url})" for m, url in sorted(deps.git_requirements.items()))
            + ": installed from their repositories, not from the package index.",
        )
    ]


def _guessed_notice(deps: Dependencies) -> list[Finding]:
    if not deps.unmapped:
        return []
    return [
        Finding(
            CHECK,
            "notice",
            "Guessed package names",
            f"{', '.join(deps.unmapped[:15])}: not in forkvet's import table; the import name "
            f"was used as the package name. Check before installing (typo-squatting exists); "
            f"`forkvet env` pins one only when the authors declare it, else writes it as a "
            f"comment.",
        )
    ]


def _is_plugin(name: str, imported: set[str]) -> bool:
    # e.g. torch-scatter used through torch_geometric, tensorflow-gpu through tensorflow.
    return any(name.startswith(f"{i}-") for i in imported)
