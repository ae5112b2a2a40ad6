"""The words of a `pip install` command line, split the way pip's own option parser splits
them: an option's argument (`--trusted-host HOST`, `-i URL`, `--timeout 100`, `-t dir`) is never
a package. A README's mirror line would otherwise declare `pypi-tuna-tsinghua-edu-cn`, a name
anyone may register on the index (dependency confusion).

The tables are pip's `install` options (and pip's general options, which `install` accepts)
and `uv pip install`'s, checked against the installed pip's and uv's `--help` by the tests.
An option forkvet does not know (a newer pip's or uv's) may take an argument and may name
another index, which pip and uv apply to every package of the command, wherever it stands:
the line is still read to its end (for index options and `-r` files), but `unknown` is set
and the caller treats every name of the line as not read safely.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from forkvet import rx

# Long options that take an argument (pip 23 to 25, with the hidden aliases).
VALUE_LONG = frozenset(
    {
        "--abi",
        "--all-releases",
        # uv pip install's own (uv 0.13, with its hidden aliases)
        "--allow-insecure-host",
        "--build-constraints",
        "--color",
        "--config-file",
        "--config-setting",
        "--config-settings-package",
        "--constraints",
        "--default-index",
        "--directory",
        "--exclude-newer",
        "--exclude-newer-package",
        "--excludes",
        "--exclude",
        "--extra",
        "--fork-strategy",
        "--index",
        "--index-strategy",
        "--link-mode",
        "--no-binary-package",
        "--no-build-isolation-package",
        "--no-build-package",
        "--no-editable-package",
        "--no-sources-package",
        "--only-binary-package",
        "--output-format",
        "--override",
        "--overrides",
        "--prerelease",
        "--prerelease-package",
        "--project",
        "--python-platform",
        "--refresh-package",
        "--reinstall-package",
        "--requirements",
        "--resolution",
        "--torch-backend",
        "--upgrade-group",
        "--upgrade-package",
        # pip's
        "--build-constraint",
        "--cache-dir",
        "--cert",
        "--client-cert",
        "--config-settings",
        "--constraint",
        "--default-timeout",
        "--editable",
        "--exists-action",
        "--extra-index-url",
        "--find-links",
        "--global-option",
        "--group",
        "--hash",  # a requirements file's per-requirement option
        "--implementation",
        "--index-url",
        "--install-option",
        "--keyring-provider",
        "--local-log",
        "--log",
        "--log-file",
        "--no-binary",
        "--only-binary",
        "--only-final",
        "--platform",
        "--prefix",
        "--progress-bar",
        "--proxy",
        "--pypi-url",
        "--python",
        "--python-version",
        "--report",
        "--requirement",
        "--resume-retries",
        "--retries",
        "--root",
        "--root-user-action",
        "--source",
        "--source-dir",
        "--source-directory",
        "--src",
        "--target",
        "--timeout",
        "--trusted-host",
        "--upgrade-strategy",
        "--uploaded-prior-to",
        "--use-deprecated",
        "--use-feature",
    }
)
FLAG_LONG = frozenset(
    {
        # uv pip install's own (uv 0.13, with its hidden aliases)
        "--all-extras",
        "--check",
        "--compile-bytecode",
        "--exact",
        "--managed-python",
        "--native-tls",
        "--no-break-system-packages",
        "--no-build",
        "--no-cache",
        "--no-compile-bytecode",
        "--no-config",
        "--no-editable",
        "--no-managed-python",
        "--no-native-tls",
        "--no-preview",
        "--no-progress",
        "--no-python-downloads",
        "--no-reinstall",
        "--no-require-hashes",
        "--no-sources",
        "--no-strict",
        "--no-system",
        "--no-upgrade",
        "--no-verify-hashes",
        "--offline",
        "--preview",
        "--refresh",
        "--reinstall",
        "--require-build-hashes",
        "--show-settings",
        "--strict",
        "--system",
        "--system-certs",
        "--verify-hashes",
        # pip's
        "--break-system-packages",
        "--check-build-dependencies",
        "--compile",
        "--debug",
        "--disable-pip-version-check",
        "--dry-run",
        "--force-reinstall",
        "--help",
        "--ignore-installed",
        "--ignore-requires-python",
        "--isolated",
        "--no-build-isolation",
        "--no-cache-dir",
        "--no-clean",
        "--no-color",
        "--no-compile",
        "--no-dependencies",
        "--no-deps",
        "--no-index",
        "--no-input",
        "--no-python-version-warning",
        "--no-use-pep517",
        "--no-user",
        "--no-warn-conflicts",
        "--no-warn-script-location",
        "--pre",
        "--prefer-binary",
        "--quiet",
        "--require-hashes",
        "--require-venv",
        "--require-virtualenv",
        "--upgrade",
        "--use-pep517",
        "--user",
        "--verbose",
        "--version",
    }
)
# pip's and uv's (`-b` build constraints, `-p` the interpreter, `-P` a package to upgrade;
# `-n` no cache): no letter is a flag in one and takes a value in the other.
VALUE_SHORT = frozenset("CPbcefiprt")
FLAG_SHORT = frozenset("IUVhnqv")
# Options that make pip or uv take packages from somewhere other than the user's index
# (uv's `--index` and `--default-index` are its spellings of `--extra-index-url` and
# `--index-url`).
SOURCE_OPTIONS = frozenset(
    {
        "-i",
        "--index-url",
        "--pypi-url",
        "--extra-index-url",
        "--index",
        "--default-index",
        "-f",
        "--find-links",
        "--no-index",
    }
)
# An extra's name (PEP 685); any other argument of `--extra` is pip's abbreviation of
# `--extra-index-url` (uv's `--extra gpu` is an extra of the project).
_EXTRA_NAME = rx.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_REQUIREMENTS = frozenset({"--requirement", "--requirements"})
_CONSTRAINTS = frozenset({"--constraint", "--constraints"})
_SHORT_LONG = {"i": "--index-url", "f": "--find-links"}


@dataclass
class PipLine:
    """What one `pip install` line asks for."""

    packages: list[str] = field(default_factory=list)  # the positional words, as written
    # The options that point pip at another index or a folder, with their argument.
    sources: list[str] = field(default_factory=list)
    # The first option neither table has: it may take the next word as its argument and may
    # name another index, so no name of the line is read safely.
    unknown: str = ""
    requirements: list[str] = field(default_factory=list)  # the files `-r FILE` names
    constraints: list[str] = field(default_factory=list)  # the files `-c FILE` names
    editables: list[str] = field(default_factory=list)  # `-e PATH|VCS-URL` arguments


def _long(word: str) -> tuple[str, str | None] | None:
    """(the long option meant, its attached `=value`), or None when pip has no such option.
    optparse takes any unambiguous prefix (`--trusted` is `--trusted-host`)."""
    name, eq, value = word.partition("=")
    if name in VALUE_LONG or name in FLAG_LONG:
        return name, value if eq else None
    matches = [o for o in (*VALUE_LONG, *FLAG_LONG) if o.startswith(name)]
    return (matches[0], value if eq else None) if len(matches) == 1 else None


def parse(words: list[str]) -> PipLine:
    """Split the words after `pip install` into packages and options with their arguments.
    An unknown option is read as a flag and the reading goes on (an index option after it
    still counts for the whole line); `unknown` says the split is not safe."""
    out = PipLine()
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "--":
            out.packages += words[i:]
            break
        if not word.startswith("-") or word == "-":
            out.packages.append(word)
            continue
        taken = _option(word, words[i] if i < len(words) else "", out)
        if taken < 0:
            out.unknown = out.unknown or word
            taken = 0
        i += taken
    return out


def _option(word: str, following: str, out: PipLine) -> int:
    """Record one option word; how many of the following words it takes as its argument (0
    or 1), or -1 for an option pip does not have."""
    if word.startswith("--"):
        found = _long(word)
        if found is None:
            return -1
        name, attached = found
        if name not in VALUE_LONG:
            if name in SOURCE_OPTIONS:
                out.sources.append(name)
            return 0
        value = attached if attached is not None else following
        if name in _REQUIREMENTS:
            out.requirements.append(value)
        elif name == "--editable":
            out.editables.append(value)
        elif name in _CONSTRAINTS:
            out.constraints.append(value)
        if name in SOURCE_OPTIONS or (name == "--extra" and not _EXTRA_NAME.fullmatch(value)):
            out.sources.append(f"{name} {value}")
        return 0 if attached is not None else 1
    # Short options cluster (`-qU`); one that takes a value ends the cluster, and its value is
    # the rest of the word (`-iURL`) or the next word.
    for pos, char in enumerate(word[1:], 1):
        if char in FLAG_SHORT:
            continue
        if char not in VALUE_SHORT:
            return -1
        rest = word[pos + 1 :]
        if char == "r":
            out.requirements.append(rest or following)
        elif char == "c":
            out.constraints.append(rest or following)
        elif char == "e":
            out.editables.append(rest or following)
        if char in _SHORT_LONG:
            out.sources.append(f"-{char} {rest or following}")
        return 0 if rest else 1
    return 0
