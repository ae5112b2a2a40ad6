"""Which distributions the environment needs, and why: the authors' declarations first, then
imports they did not declare; optional, dev-only, build-only and non-installable kept apart."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from packaging.requirements import InvalidRequirement

from forkvet import rx, safeparse
from forkvet.escape import terminal  # line breaks shown as \n: one line per entry
from forkvet.report import Dependencies, Report
from forkvet.vet.declared import Declared, DeclaredSet
from forkvet.vet.importmap import (
    BUILD_ONLY,
    DEV_ONLY,
    canonical,
    known_distributions,
    normalize,
)

# Conda-world names that are not Python packages: never pip-installed.
SYSTEM = frozenset({"cudatoolkit", "cudnn", "nccl", "cuda-toolkit", "mkl", "python", "pip"})
_PIN = rx.compile(r"^==\s*([\w.*+!]+)$")


@dataclass
class Need:
    name: str  # PEP 503 normalised
    spec: str = ""  # as the authors wrote it ("" = unpinned)
    why: str = ""
    kind: str = "main"  # main | optional | dev | build | extra | guessed | local
    declared: bool = False
    # The authors' environment marker (`python_version < "3.11"`), kept on the line for uv
    # and pip to evaluate; "" for none (or one env found true: forkvet/envgen/markers.py).
    marker: str = ""

    def requirement(self) -> str:
        """The requirement line: name, specifier and marker."""
        return f"{self.name}{self.spec}" + (f" ; {self.marker}" if self.marker else "")


@dataclass
class NeedSet:
    needs: list[Need] = field(default_factory=list)
    not_installable: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    # Declarations left out or trimmed because they were not plain named requirements.
    notices: list[str] = field(default_factory=list)
    # `name @ git+https://…` the authors install from git: written as comments, never resolved.
    git: list[str] = field(default_factory=list)
    # Conda packages the authors install that are no PyPI project forkvet knows (ffmpeg,
    # make): written to environment.yml and as a comment, never resolved on the index.
    conda: list[str] = field(default_factory=list)

    def of_kind(self, *kinds: str) -> list[Need]:
        return [n for n in self.needs if n.kind in kinds]

    def get(self, name: str) -> Need | None:
        return next((n for n in self.needs if n.name == normalize(name)), None)


# Brought by any build of the package; Cython, pybind11 or cmake stay (`python setup.py
# build_ext --inplace`, the usual research-repo step, needs them in the environment).
_PACKAGING = frozenset({"setuptools", "wheel", "pip", "setuptools-scm"})


def _only_by_packaging(name: str, sites: list[str]) -> bool:
    """setuptools (or wheel) that only setup.py files import: installing the package gets it
    from the build backend; the code never needs it."""
    files = [site.rsplit(":", 1)[0] for site in sites]
    return (
        name in _PACKAGING
        and bool(files)
        and all(f.rsplit("/", 1)[-1] == "setup.py" for f in files)
    )


def _kind(name: str) -> str:
    return "dev" if name in DEV_ONLY else "build" if name in BUILD_ONLY else "main"


_NAME = rx.compile(r"[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?")


def _plain_spec(name: str, spec: str) -> str | None:
    """The specifier of a declaration as packaging parses it, or None if `name spec` is not a
    plain named requirement (an option, URL, path or newline smuggled into a spec)."""
    if "\n" in spec or "\r" in spec:
        return None
    try:
        req = safeparse.requirement(f"{name}{spec}")
    except InvalidRequirement:
        return None
    return None if req.url else str(req.specifier)


_GIT_URL = rx.compile(
    r"^(?:git\+)?(https://[A-Za-z0-9.-]+/[\w.-]+/[\w.-]+?)(?:\.git)?(@[\w./-]+)?$"
)


def _git_requirement(name: str, spec: str) -> str | None:
    """`name @ git+https://host/owner/repo[@ref]` for a git URL declaration; None otherwise.
    Only plain https URLs with no credentials or odd characters are kept."""
    url = spec.strip().removeprefix("@").strip().split("#", 1)[0]  # `#egg=name` is pip's
    if "git" not in url:
        return None
    m = _GIT_URL.match(url)
    if not m or not _NAME.fullmatch(name):
        return None
    return f"{name} @ git+{m.group(1)}{m.group(2) or ''}"


def readme_git_clones(text: str, own: str) -> list[str]:
    """`git+https://…` for the repositories a README tells the reader to `git clone` (other
    than this repository itself): the code imports them, no index has them."""
    out = []
    for m in rx.finditer(r"git clone\s+(?:--[\w-]+(?:[= ]\S+)?\s+)*(https://\S+)", text):
        url = m.group(1).rstrip(").,;'\"`")
        g = _GIT_URL.match(url)
        if not g:
            continue
        repo = g.group(1).rstrip("/").rsplit("/", 1)[-1]
        if normalize(repo) == normalize(own.rsplit("/", 1)[-1]):
            continue
        line = f"git+{g.group(1)}"
        if line not in out:
            out.append(line)
    return out


# Why a declared name is the repository's own (RepoNames.declared_local), or None.
LocalRule = Callable[[str], "str | None"]


def from_report(
    report: Report,
    declared: DeclaredSet,
    local: LocalRule | None = None,
    private: LocalRule | None = None,
) -> NeedSet:
    """What the environment needs. `local` says which declared names the repository provides
    itself: those become comments (kind "local"), never requirement lines. `private` says
    which other declared names may come from an index of the authors' own (private_rule):
    comments too (kind "private")."""
    out = NeedSet()
    seen: dict[str, Need] = {}
    # Distributions the authors install from git (`-e git+…/taming-transformers`): never an
    # index name, also when the code imports them (PyPI's taming-transformers is another).
    elsewhere = _from_elsewhere(out, declared.items)
    from_git = set(elsewhere)  # imports of these are never resolved on the index either
    by_url = _from_urls(declared.items)
    wanted = _own_extras(declared.items, local)
    for item in declared.items:
        if normalize(item.name) in elsewhere:
            continue  # named in _from_elsewhere, whichever file also declares it
        if "://" not in item.spec and normalize(item.name) in by_url:
            continue  # its git or URL line stands for it, whichever file comes first
        if item.extra and normalize(item.extra) in wanted:
            item = replace(item, extra="")  # `selfproj[gpu]` in its own requirements
        _add_declared(out, seen, from_git, item, local, private)
    deps = report.dependencies
    for name in deps.imported:
        _add_imported(out, seen, from_git, deps, name)
    _constrain(out, seen, declared.constraints)
    _local_notice(out)
    _private_notice(out)
    for finding in report.findings:
        if finding.title == "Dependencies not on the package index":
            out.not_installable = [x.strip() for x in finding.message.split(":")[0].split(",")]
    return out


def _from_elsewhere(out: NeedSet, items: list[Declared]) -> set[str]:
    """Names the authors install from a local path, a URL or another index: never resolved on
    the user's index, whichever file also names them (dependency confusion: anyone may
    register a private or local name there). A public project forkvet's import table knows,
    installed from another index (a mirror, a build index), stays, with a note."""
    public = known_distributions()
    out_names: set[str] = set()
    noted: set[str] = set()
    for item in items:
        if not item.source:
            continue
        where = terminal(f"{item.path}:{item.line}" if item.line else item.path)
        name = terminal(item.name)
        key = normalize(item.name)  # exact: `mxnet-corp` from elsewhere is not mxnet
        if item.other_index and key in public:
            if key in noted:
                continue
            noted.add(key)
            out.notices.append(
                f"{name} ({where}): installed by the authors from {item.source}; resolved on "
                f"your index as the public project of that name"
            )
            continue
        if item.conda and item.other_index:
            if key not in out_names:
                out.notices.append(
                    f"{name} ({where}): installed by the authors from {item.source}; left out "
                    f"of environment.yml (another package may have the name on your channels)"
                )
        elif item.conda:
            if key not in out_names:
                out.notices.append(
                    f"{name} ({where}): a conda package, not a PyPI project forkvet knows to be "
                    f"the same; written to environment.yml, never resolved on your index"
                )
                if _NAME.fullmatch(item.name):
                    out.conda.append(item.name)
        elif key not in out_names:
            out.notices.append(
                f"{name} ({where}): installed by the authors from {item.source}; never "
                f"resolved on your index (install it from there by hand if you trust it)"
            )
        out_names.add(key)
    return out_names


def _from_urls(items: list[Declared]) -> set[str]:
    """Names the authors install from git or a URL (`pip install git+https://…/x.git` in a
    README, `x @ git+…`, a Poetry or Pipfile git entry) that forkvet's import table does not
    know as a public project: their git or URL line (a comment) stands for every other
    declaration of the name, which is never resolved on the user's index. A known project
    (`transformers` from its own repository) keeps the pin another file gives it: its owners
    hold the name on the index."""
    public = known_distributions()
    return {
        normalize(i.name)
        for i in items
        if "://" in i.spec and not i.source and normalize(i.name) not in public
    }


def _add_declared(
    out: NeedSet,
    seen: dict[str, Need],
    from_git: set[str],
    item: Declared,
    local: LocalRule | None,
    private: LocalRule | None = None,
) -> None:
    where = terminal(f"{item.path}:{item.line}" if item.line else item.path)
    if item.name in SYSTEM:
        return
    if not _NAME.fullmatch(item.name):
        out.notices.append(f"{terminal(item.name)} ({where}): not a package name; left out")
        return
    if _git_or_url(out, from_git, item, where):
        return
    reason = local(item.name) if local else None
    if reason:
        _add_local(out, seen, item, where, reason)
        return
    reason = private(item.name) if private else None
    if reason:
        _add_local(out, seen, item, where, reason, kind="private")
        return
    spec = _plain_spec(item.name, item.spec)
    if spec is None:
        out.notices.append(
            f"{item.name} ({where}): its version specifier is not a plain PEP 440 "
            f"specifier; it was ignored"
        )
        spec = ""
    key = canonical(item.name)
    if key in seen:
        _merge_declared(out, seen[key], item, spec, where)
        return
    kind = "dev" if item.dev else "extra" if item.extra else _kind(item.name)
    why = f"declared in {where}" + (f" (extra {item.extra!r})" if item.extra else "")
    need = Need(item.name, spec, why, kind, declared=True, marker=item.marker)
    seen[key] = need
    out.needs.append(need)


_EXTRAS = rx.compile(r"^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*\[([^\]]*)\]")


def _own_extras(items: list[Declared], local: LocalRule | None) -> set[str]:
    """The extras a project requires of itself (`dependencies = ["selfproj[gpu]"]`): their
    packages are required, not optional (the self-reference itself is a comment)."""
    wanted: set[str] = set()
    for item in items:
        if item.extra or item.dev or local is None or not local(item.name):
            continue
        m = _EXTRAS.match(item.raw)
        if m:
            wanted |= {normalize(e.strip()) for e in m.group(1).split(",")[:32] if e.strip()}
    return wanted


def _add_local(
    out: NeedSet,
    seen: dict[str, Need],
    item: Declared,
    where: str,
    reason: str,
    kind: str = "local",
) -> None:
    """A declared name the repository provides itself (or, kind "private", one it may install
    from an index of its own): a comment saying so, whatever kind (main, extra, dev) it was
    declared as; never resolved, and never promoted later."""
    key = canonical(item.name)
    if key in seen:
        return  # its first declaration is the one named
    need = Need(item.name, "", f"declared in {where}: {terminal(reason)}", kind, declared=True)
    seen[key] = need
    out.needs.append(need)


def _local_notice(out: NeedSet) -> None:
    local = [n.name for n in out.of_kind("local")]
    if local:
        shown = ", ".join(local[:15]) + (" ..." if len(local) > 15 else "")
        out.notices.append(
            f"{shown}: declared, but provided by the repository itself (its own project, a "
            f"module or package in it, or an extension it builds); written to requirements.txt "
            f"as comments, never resolved on your index (anyone may register such a name there)"
        )


def private_rule(places: list[str], unread: str = "") -> LocalRule | None:
    """Once the repository says it installs from an index or link source of its own (places:
    `file:line (what)`, ownindex.statements), a declared name forkvet's import table does not
    know as a public project may be one only that index has: never resolved on the user's,
    where anyone may register it. The same when the scan could not read every file (unread:
    why): what it did not read may say so (fails closed). None when it says no such thing."""
    if not places and not unread:
        return None
    public = known_distributions()
    said = (
        f"the repository installs from an index of its own ({places[0]})"
        if places
        else f"the repository may install from an index of its own ({unread}, and the rest "
        "may name one)"
    )

    def rule(name: str) -> str | None:
        return None if normalize(name) in public else f"{said}; not resolved on your index"

    return rule


def _private_notice(out: NeedSet) -> None:
    private = [n.name for n in out.of_kind("private")]
    if private:
        shown = ", ".join(private[:15]) + (" ..." if len(private) > 15 else "")
        reason = out.of_kind("private")[0].why.split(": ", 1)[-1]
        out.notices.append(
            f"{shown}: declared, not a public project forkvet's import table knows, and "
            f"{reason}; written to requirements.txt as comments (anyone may register such a "
            f"name on your index: install it from the authors' index by hand if you trust it)"
        )


def _constrain(out: NeedSet, seen: dict[str, Need], constraints: list[Declared]) -> None:
    """A constraints file (`-c pins.txt`) only bounds names something else requires: its pin
    becomes the version of such a name when the authors gave none; a name only it gives
    is no requirement (pip never installs it for that)."""
    for item in constraints:
        need = seen.get(canonical(item.name))
        if need is None or need.kind in ("local", "private", "guessed"):
            continue
        spec = _plain_spec(item.name, item.spec) if _NAME.fullmatch(item.name) else None
        if not spec:
            continue
        where = terminal(f"{item.path}:{item.line}" if item.line else item.path)
        a, b = _PIN.match(need.spec), _PIN.match(spec)
        if not need.spec:
            need.spec = spec
            need.why += f"; version from the constraints file {where}"
        elif a and b and a.group(1) != b.group(1):
            out.conflicts.append(
                f"{need.name}: {need.spec} ({need.why}) vs {spec} (constraints file {where}); "
                f"kept {need.spec}"
            )


def _git_or_url(out: NeedSet, from_git: set[str], item: Declared, where: str) -> bool:
    """A git install (kept as a comment) or any other URL (never resolved): True if so."""
    git = _git_requirement(item.name, item.spec)
    if git:  # a spec that merely holds a URL (a smuggled --index-url) is no git install
        from_git.add(canonical(item.name))
        if git not in out.git:
            out.git.append(git)
            out.notices.append(
                f"{item.name} ({where}): installed from git by the authors; written to "
                f"requirements.txt as a comment, never resolved (review it before use)"
            )
        return True
    if "://" in item.spec:
        from_git.add(canonical(item.name))  # nor is an import of it resolved on the index
        out.notices.append(
            f"{item.name} ({where}): a URL or VCS requirement is never passed to the "
            f"resolver (install it by hand if you trust it)"
        )
        return True
    return False


def _merge_declared(out: NeedSet, prior: Need, item: Declared, spec: str, where: str) -> None:
    prior.marker = _either(prior.marker, item.marker)
    a, b = _PIN.match(prior.spec), _PIN.match(spec)
    if a and b and a.group(1) != b.group(1):
        # Conflicting pins: the first file (requirements before setup.py) wins.
        out.conflicts.append(
            f"{item.name}: {prior.spec} ({prior.why}) vs {spec} ({where}); kept {prior.spec}"
        )
    elif not prior.spec and spec:
        prior.spec = spec
    if item.dev:
        return
    if prior.kind == "dev" or (prior.kind == "extra" and not item.extra):
        prior.kind = _kind(item.name)


def _either(a: str, b: str) -> str:
    """The marker of a name declared twice: needed where either declaration is; "" (always)
    when one has none."""
    if not a or not b or a == b:
        return a if a == b else ""
    return str(safeparse.marker(f"({a}) or ({b})"))  # both read by packaging already


def _add_imported(
    out: NeedSet, seen: dict[str, Need], from_git: set[str], deps: Dependencies, name: str
) -> None:
    key = canonical(name)
    if (key in from_git or normalize(name) in from_git) and key not in seen:
        return
    where = ", ".join(deps.imported_at.get(name, [])[:2])
    if key in seen and seen[key].kind in ("local", "private"):
        return  # the repository's own, or its index's: stays a comment whoever imports it
    if key in seen:
        need = seen[key]
        if where and "imported" not in need.why:
            need.why += f"; imported at {where}"
        if need.kind == "dev" and name not in DEV_ONLY:
            need.kind = "main"
        # An optional extra the code imports unconditionally is required after all.
        if need.kind == "extra" and name not in deps.optional:
            need.kind = _kind(name)
        return
    if not _NAME.fullmatch(name):
        # e.g. `import café`: a Python identifier, but no distribution can be named so
        out.notices.append(f"{terminal(name)} (imported): not a package name; left out")
        return
    if _only_by_packaging(name, deps.imported_at.get(name, [])):
        out.notices.append(
            f"{name}: imported only by setup.py (packaging, which brings its own build tools); "
            f"not a requirement of the code"
        )
        return
    kind = "optional" if name in deps.optional else _kind(name)
    why = f"imported at {where}" if where else "imported"
    if kind == "main" and name in deps.unmapped:
        # Neither the authors' word nor forkvet's import table: a local module missing from
        # the tree (a submodule, a file never committed) as often as a package, and a generic
        # name (utils, models) anyone may register on the index. Never installed unasked.
        kind = "guessed"
        why = (
            f"guessed from an import at {where or 'the code'}, not declared and not a known "
            f"import name: check before installing"
        )
    need = Need(name, "", why, kind)
    seen[key] = need
    out.needs.append(need)


def guessed_notice(needs: NeedSet, submodules: list[str]) -> None:
    """Say which imports were guessed and left out; name the submodules not checked out,
    whose modules look exactly like them."""
    guessed = [n.name for n in needs.of_kind("guessed")]
    if not guessed:
        return
    shown = ", ".join(guessed[:15]) + (" ..." if len(guessed) > 15 else "")
    where = (
        f" (the git submodule(s) {', '.join(terminal(s) for s in submodules[:5])} are not "
        f"checked out: their modules look the same)"
        if submodules
        else ""
    )
    needs.notices.append(
        f"{shown}: imported but not declared by the authors, and not import names forkvet "
        f"knows{where}; written to requirements.txt as comments, not installed (anyone may "
        f"register such a name on the index: check each before installing it)"
    )
