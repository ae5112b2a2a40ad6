"""`.github/forkvet.yml`: the repository's (or the team's) forkvet settings, validated.

Every key is optional; the defaults below are what an unconfigured fork gets. A bad file is an
InputError naming the key, never a traceback.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from forkvet import CONFIG_PATH as CONFIG_PATH  # re-exported: callers import it from here
from forkvet import safeyaml
from forkvet.accept import Acceptance
from forkvet.accept import parse as parse_accept
from forkvet.errors import InputError
from forkvet.report import Finding

MAX_CONFIG_BYTES = 256 * 1024
CATEGORIES = (
    "permissive",
    "weak-copyleft",
    "strong-copyleft",
    "network-copyleft",
    "non-commercial",
    "custom-restricted",
    "no-permission",
    "none",
)


@dataclass
class LicensePolicy:
    # Categories or SPDX ids; empty means "anything not denied".
    allow: list[str] = field(default_factory=list)
    deny: list[str] = field(default_factory=list)
    require_commercial_use: bool = False


@dataclass
class RiskPolicy:
    # A dangerous pickle is an error (exit 1) unless this is false.
    fail_on_dangerous_pickle: bool = True


@dataclass
class SmokeConfig:
    command: str | None = None
    timeout: int = 600


@dataclass
class TrainConfig:
    command: str | None = None
    timeout: int = 900
    max_steps: int = 50
    pattern: str | None = None
    num_classes: int | None = None
    # Compared with a baseline (train-check --baseline, the App's trend): a regression fails
    # the check only when asked; a slowdown beyond this share (percent) is a regression.
    fail_on_regression: bool = False
    max_slowdown: int = 20


@dataclass
class RuntimeConfig:
    # Secret-looking variables the repository's code gets on purpose (e.g. HF_TOKEN for gated
    # weights). Honoured only from the operator's --config file, never from the repository's
    # own .github/forkvet.yml: a fork must not be able to ask for the runner's secrets.
    pass_env: list[str] = field(default_factory=list)
    # Run the repository's code only in the sandbox (forkvet.runtime.sandbox); false lets it
    # run without one where none is available. Also honoured only from the operator's file.
    require_sandbox: bool = True
    # "shared": the repository's code shares the host's network (downloads work; so do
    # abstract UNIX sockets). "none": its own network namespace with only loopback, no
    # download, no host TCP/UDP service, no abstract socket (docs/runtime.md). The operator's
    # "none" is a floor: a repository's file can ask for "none", never undo it.
    network: str = "shared"


@dataclass
class RunnerConfig:
    labels: list[str] = field(default_factory=lambda: ["self-hosted", "linux", "x64", "gpu"])


@dataclass
class UpstreamConfig:
    # Anything written upstream is opt-in: drafts by default.
    open_pull_requests: bool = False
    thank_you: bool = False
    max_prs_per_hour: int = 2
    max_open_prs: int = 3


@dataclass
class AuditConfig:
    # Research forks pin old releases on purpose: report by default, fail only when asked.
    fail_on: str = "never"  # high | any | never


@dataclass
class Config:
    license: LicensePolicy = field(default_factory=LicensePolicy)
    risks: RiskPolicy = field(default_factory=RiskPolicy)
    smoke: SmokeConfig = field(default_factory=SmokeConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    runner: RunnerConfig = field(default_factory=RunnerConfig)
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)
    upstream: UpstreamConfig = field(default_factory=UpstreamConfig)
    audit: AuditConfig = field(default_factory=AuditConfig)
    # Accepted findings (forkvet.accept): honoured from the operator's config only.
    accept: list[Acceptance] = field(default_factory=list)
    source: str | None = None  # where it was read from
    # "section.key" names the file set itself (tighten: a default is no restriction asked for)
    explicit: set[str] = field(default_factory=set)


NETWORK_MODES = ("shared", "none")
_SECTIONS: dict[str, type] = {
    "license": LicensePolicy,
    "risks": RiskPolicy,
    "smoke": SmokeConfig,
    "train": TrainConfig,
    "runner": RunnerConfig,
    "runtime": RuntimeConfig,
    "upstream": UpstreamConfig,
    "audit": AuditConfig,
}


def _check_type(where: str, value: Any, default: Any, annotation: str) -> Any:
    if "list[str]" in annotation:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError(f"{where} must be a list of strings")
        return value
    if "bool" in annotation:
        if not isinstance(value, bool):
            raise InputError(f"{where} must be true or false")
        return value
    if "int" in annotation:
        if value is None and "None" in annotation:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InputError(f"{where} must be a non-negative whole number")
        return value
    if "str" in annotation:
        if value is None and "None" in annotation:
            return None
        if not isinstance(value, str | int | float):
            raise InputError(f"{where} must be a string")
        return str(value)
    return value


def parse_config(data: Any, source: str) -> Config:
    if data is None:
        return Config(source=source)
    if not isinstance(data, dict):
        raise InputError(f"{source}: the top level must be a mapping of sections")
    cfg = Config(source=source)
    for key, value in data.items():
        if key == "accept":
            cfg.accept = parse_accept(value, source)
            continue
        cls = _SECTIONS.get(str(key))
        if cls is None:
            names = ", ".join([*_SECTIONS, "accept"])
            raise InputError(f"{source}: unknown section {key!r} (known: {names})")
        if value is None:
            continue
        if not isinstance(value, dict):
            raise InputError(f"{source}: {key} must be a mapping")
        section = getattr(cfg, str(key))
        known = {f.name: f for f in fields(section)}
        for sub, subval in value.items():
            fdef = known.get(str(sub).replace("-", "_"))
            if fdef is None:
                raise InputError(f"{source}: unknown key {key}.{sub} (known: {', '.join(known)})")
            checked = _check_type(
                f"{source}: {key}.{sub}", subval, getattr(section, fdef.name), str(fdef.type)
            )
            setattr(section, fdef.name, checked)
            cfg.explicit.add(f"{key}.{fdef.name}")
    _check_policy_entries(cfg.license, source)
    if cfg.runtime.network not in NETWORK_MODES:
        raise InputError(f"{source}: runtime.network must be shared or none")
    if cfg.audit.fail_on not in ("high", "any", "never"):
        raise InputError(f"{source}: audit.fail_on must be high, any or never")
    return cfg


def _check_policy_entries(policy: LicensePolicy, source: str) -> None:
    # Imported here: the license table is only needed when a policy names licenses.
    from forkvet.vet.licensedb import known_ids
    from forkvet.vet.licenseterms import KNOWN

    names = [*known_ids(), *(k.key for k in KNOWN), *CATEGORIES]
    names += [k.spdx for k in KNOWN if k.spdx]
    spelled = {n.lower(): n for n in names}  # lower case -> as SPDX spells it
    for item in policy.allow + policy.deny:
        if item.lower() not in spelled:
            # Catch typos ("permisive") rather than silently allowing nothing.
            raise InputError(
                f"{source}: license policy entry {item!r} is neither a category "
                f"({', '.join(CATEGORIES)}) nor a known license id{_suggest(item, spelled)}"
            )


def _suggest(item: str, spelled: dict[str, str]) -> str:
    """ "GPL-3.0" -> "; did you mean GPL-3.0-only or GPL-3.0-or-later?" (SPDX retired the
    bare GPL ids); else the closest spellings."""
    import difflib

    low = item.lower()
    found = sorted(spelled[k] for k in spelled if k.startswith(low + "-"))[:3]
    if not found:
        found = [spelled[k] for k in difflib.get_close_matches(low, list(spelled), n=2)]
    return f"; did you mean {' or '.join(found)}?" if found else ""


def read_repo_config(root: Path) -> str | None:
    """The text of root's .github/forkvet.yml, or None if there is none. Read without
    following links (a repository's `.github/forkvet.yml -> /etc/...` is refused, never read)
    and bounded in size; InputError if it cannot be used."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for part in CONFIG_PATH.split("/"):
            flags = os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
            last = part == CONFIG_PATH.rsplit("/", 1)[1]
            try:
                child = os.open(part, flags | (os.O_RDONLY if last else os.O_DIRECTORY), dir_fd=fd)
            except FileNotFoundError:
                return None
            except OSError as exc:
                if stat.S_ISLNK(os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode):
                    raise InputError(
                        f"{CONFIG_PATH}: {part} is a symbolic link; forkvet does not follow "
                        f"links in a repository"
                    ) from exc
                raise InputError(f"cannot read {CONFIG_PATH}: {exc.strerror}") from exc
            os.close(fd)
            fd = child
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{CONFIG_PATH} is not a regular file")
        if info.st_size > MAX_CONFIG_BYTES:
            raise InputError(f"{CONFIG_PATH} is over {MAX_CONFIG_BYTES // 1024} KiB")
        data = os.read(fd, MAX_CONFIG_BYTES + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_CONFIG_BYTES:  # grown since its size was asked
        raise InputError(f"{CONFIG_PATH} is over {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{CONFIG_PATH} is not UTF-8 text") from exc


MAX_OPERATOR_CONFIG = 8 << 20  # read at most this much; the YAML limits apply after


def load_config(path: Path, text: str | None = None, root: Path | None = None) -> Config:
    """The config in path (or in text, read from path already); a path inside the repository
    `root` is read without following its links (forkvet.userfile)."""
    if text is None:
        from forkvet.userfile import read_regular

        try:
            raw = read_regular(str(path), MAX_OPERATOR_CONFIG, "config file", repo=root)
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"cannot read config file {path}: not UTF-8") from exc
    try:
        data = safeyaml.load(text)
    except safeyaml.YamlLimitError as exc:
        raise InputError(f"{path}: YAML over forkvet's limits ({exc})") from exc
    except safeyaml.YamlValueError as exc:
        raise InputError(f"{path}: not valid YAML ({exc})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InputError(f"{path}: not valid YAML{where}") from exc
    return parse_config(data, str(path))


_STRICT = ("any", "high", "never")  # audit.fail_on, strictest first


def _stricter_network(floor: Config, repo: Config) -> str:
    return "none" if "none" in (floor.runtime.network, repo.runtime.network) else "shared"


def opted_out(floor: Config) -> Config:
    """The floor for a repository whose own file could not be read: the floor in force, but
    none of the grants that need the repository's own opt-in as well as the floor's (upstream
    pull requests and thank-you issues, with the operator's credentials): a broken file
    says nothing, so it opts in to nothing."""
    return replace(floor, upstream=tighten(floor, Config()).upstream)


def tighten(floor: Config, repo: Config) -> Config:
    """The policy when an operator's config (`floor`: the App's FORKVET_POLICY, the CLI's
    --config) meets a repository's own .github/forkvet.yml: the repository can add
    restrictions, never remove one. Run settings (commands, runner labels) are the
    repository's, within the caps of the floor; its timeouts and train.max_steps can only
    lower the floor's (min), never raise them. What uses the operator's credentials is the
    floor's to allow: upstream pull requests and thank-you issues need both to say true, and
    secrets for the repository's code (runtime.pass_env) come from the floor alone."""
    lic = LicensePolicy(
        allow=_allow_both(floor.license.allow, repo.license.allow),
        deny=list(dict.fromkeys(floor.license.deny + repo.license.deny)),
        require_commercial_use=floor.license.require_commercial_use
        or repo.license.require_commercial_use,
    )
    # A key the repository's file leaves unset keeps the floor's value: its default (true) is
    # no restriction the repository asked for, and must not undo the operator's downgrade.
    risks = RiskPolicy(
        fail_on_dangerous_pickle=floor.risks.fail_on_dangerous_pickle
        or (
            "risks.fail_on_dangerous_pickle" in repo.explicit
            and repo.risks.fail_on_dangerous_pickle
        )
    )
    # Upstream writes use the operator's credentials: both must opt in, the floor is a cap.
    upstream = UpstreamConfig(
        open_pull_requests=floor.upstream.open_pull_requests and repo.upstream.open_pull_requests,
        thank_you=floor.upstream.thank_you and repo.upstream.thank_you,
        max_prs_per_hour=min(floor.upstream.max_prs_per_hour, repo.upstream.max_prs_per_hour),
        max_open_prs=min(floor.upstream.max_open_prs, repo.upstream.max_open_prs),
    )
    return Config(
        license=lic,
        risks=risks,
        smoke=SmokeConfig(
            command=repo.smoke.command,
            timeout=_capped(floor.smoke.timeout, repo, "smoke.timeout"),
        ),
        train=replace(
            repo.train,
            timeout=_capped(floor.train.timeout, repo, "train.timeout"),
            max_steps=_capped_steps(floor.train.max_steps, repo),
            # The regression gate is a restriction: the repository may turn it on or make it
            # stricter (a smaller tolerated slowdown), never off or looser.
            fail_on_regression=floor.train.fail_on_regression
            or ("train.fail_on_regression" in repo.explicit and repo.train.fail_on_regression),
            max_slowdown=_capped(floor.train.max_slowdown, repo, "train.max_slowdown"),
        ),
        runner=repo.runner,
        upstream=upstream,
        # Secrets for the repository's code come from the operator only; so does every other
        # runtime setting, except that the repository may cut its own network. An audit fails
        # on the stricter of the two levels.
        runtime=replace(floor.runtime, network=_stricter_network(floor, repo)),
        # Acceptances are the operator's: a fork's own file must never accept its findings.
        accept=floor.accept,
        audit=AuditConfig(fail_on=min(floor.audit.fail_on, repo.audit.fail_on, key=_STRICT.index)),
        source=f"{floor.source or 'defaults'} + {repo.source}" if repo.source else floor.source,
    )


def _capped(cap: int, repo: Config, key: str) -> int:
    """The floor's limit (the operator's, or forkvet's default) is a cap: the repository's
    file may only lower it. A key the file leaves unset keeps the cap."""
    if key not in repo.explicit:
        return cap
    value: int = getattr(getattr(repo, key.split(".")[0]), key.split(".")[1])
    return min(cap, value)


def _capped_steps(cap: int, repo: Config) -> int:
    """train.max_steps, where 0 means no limit: the repository's 0 cannot lift a cap."""
    if "train.max_steps" not in repo.explicit:
        return cap
    asked = repo.train.max_steps
    if cap == 0:
        return asked
    return cap if asked == 0 else min(cap, asked)


def _category(entry: str) -> str | None:
    from forkvet.vet.licensedb import is_osi, known_ids
    from forkvet.vet.licenseterms import KNOWN, spdx_terms

    low = entry.lower()
    if low in CATEGORIES:
        return low
    for k in KNOWN:
        if low in (k.key.lower(), (k.spdx or "").lower()):
            return k.terms.category
    ids = {i.lower(): i for i in known_ids()}
    return spdx_terms(ids[low], is_osi(ids[low])).category if low in ids else None


def _allow_both(floor: list[str], repo: list[str]) -> list[str]:
    """Licenses both allow-lists admit: an entry of one list stays when the other list
    names it or its category (floor `permissive` and repo `MIT` -> `MIT`)."""
    if not floor or not repo:
        return list(floor or repo)

    def covered(entry: str, other: list[str]) -> bool:
        names = {o.lower() for o in other}
        return entry.lower() in names or _category(entry) in names

    both = [e for e in floor if covered(e, repo)] + [e for e in repo if covered(e, floor)]
    kept = list(dict.fromkeys(both))
    # Nothing in common: nothing is allowed. A license key no list can match says so.
    return kept or ["none-allowed-by-both-policies"]


def _no_operator_floor() -> Config:
    """Without --config the person running forkvet, with their own token and an explicit
    --open, is the operator: upstream writes then hang on the repository's opt-in alone."""
    return Config(upstream=UpstreamConfig(open_pull_requests=True, thank_you=True))


def config_for(
    path: str | None, root: Path | None, limits: Callable[[Config], None] | None = None
) -> tuple[Config, list[Finding]]:
    """The policy: the operator's (--config FILE, or forkvet's defaults) is the floor; the
    repository's own .github/forkvet.yml can only tighten it (tighten(): it adds
    restrictions, never removes one; its run settings, such as commands and timeouts, apply).
    The vetted repository is untrusted: its file must not switch an error off. A broken
    repository file is an error finding (exit 1), and the floor applies: a typo like
    `licence:` never silently switches the policy off.

    limits: sets the operator's command-line run limits (--timeout, --max-steps) on the floor,
    where they are caps the repository's file can only lower."""
    floor = load_config(Path(path), root=root) if path else Config()
    if limits is not None:
        limits(floor)
    try:
        text = read_repo_config(root) if root is not None and root.is_dir() else None
        own = load_config(Path(CONFIG_PATH), text) if text is not None else None
    except InputError as exc:
        applied = f"the policy of {path}" if path else "the default policy"
        return floor, [
            Finding(
                "config",
                "error",
                "Invalid .github/forkvet.yml",
                f"{exc}; {applied} was applied instead. Fix the file: until then this check fails",
                path=CONFIG_PATH,
            )
        ]
    if own is None:
        return floor, []
    notes = []
    if own.accept:
        notes.append(
            Finding(
                "accept",
                "warning",
                "Acceptances in the repository ignored",
                f"{CONFIG_PATH} lists {len(own.accept)} accepted finding(s): acceptances come "
                f"from your own policy (--config) only, never from the vetted repository, "
                f"whose files its upstream authors write",
                path=CONFIG_PATH,
            )
        )
    if not path:
        floor = _no_operator_floor()
        if limits is not None:
            limits(floor)
    return tighten(floor, own), notes
