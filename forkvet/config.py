"""`.github/forkvet.yml`: the repository's (or the team's) forkvet settings, validated.

Every key is optional; the defaults below are what an unconfigured fork gets. A bad file is an
InputError naming the key, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from forkvet.errors import InputError

CONFIG_PATH = ".github/forkvet.yml"
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
class Config:
    license: LicensePolicy = field(default_factory=LicensePolicy)
    risks: RiskPolicy = field(default_factory=RiskPolicy)
    smoke: SmokeConfig = field(default_factory=SmokeConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    runner: RunnerConfig = field(default_factory=RunnerConfig)
    upstream: UpstreamConfig = field(default_factory=UpstreamConfig)
    source: str | None = None  # where it was read from


_SECTIONS: dict[str, type] = {
    "license": LicensePolicy,
    "risks": RiskPolicy,
    "smoke": SmokeConfig,
    "train": TrainConfig,
    "runner": RunnerConfig,
    "upstream": UpstreamConfig,
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
        cls = _SECTIONS.get(str(key))
        if cls is None:
            raise InputError(f"{source}: unknown section {key!r} (known: {', '.join(_SECTIONS)})")
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
    _check_policy_entries(cfg.license, source)
    return cfg


def _check_policy_entries(policy: LicensePolicy, source: str) -> None:
    # Imported here: the license table is only needed when a policy names licenses.
    from forkvet.vet.licensedb import known_ids
    from forkvet.vet.licenseterms import KNOWN

    valid = {i.lower() for i in known_ids()} | {k.key for k in KNOWN} | set(CATEGORIES)
    valid |= {k.spdx.lower() for k in KNOWN if k.spdx}
    for item in policy.allow + policy.deny:
        if item.lower() not in valid:
            # Catch typos ("permisive") rather than silently allowing nothing.
            raise InputError(
                f"{source}: license policy entry {item!r} is neither a category "
                f"({', '.join(CATEGORIES)}) nor a known license id"
            )


def load_config(path: Path) -> Config:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"config file not found: {path}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read config file {path}: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise InputError(f"{path}: not valid YAML{where}") from exc
    return parse_config(data, str(path))
