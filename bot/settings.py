"""The App's configuration, from environment variables, checked once at start-up."""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forkvet import rx
from forkvet.config import Config, load_config
from forkvet.errors import InputError
from forkvet.github.client import DEFAULT_API_URL

# The runner labels of workflows/forkvet.yml: the default pool, and the default allow-list.
TEMPLATE_LABELS = ("self-hosted", "linux", "x64", "gpu")
MIN_SECRET_LENGTH = 32
# Bits by the secret's own character frequencies (Shannon) times its length: `openssl rand
# -hex 16` (32 characters) gives 93 to 128 (none under 90 in 200,000 draws), a repeated
# character 0. A secret that is a short pattern repeated ("abcdefgh" * 4) is refused too.
MIN_SECRET_BITS = 80


class SettingsError(Exception):
    pass


@dataclass(frozen=True)
class Settings:
    app_id: str
    private_key: str
    webhook_secret: str
    api_url: str = DEFAULT_API_URL
    redis_url: str | None = None
    db: str = "forkvet-app.sqlite3"
    # The forkvet actions the setup pull request pins (owner/repo and a full commit SHA).
    # Empty only with allow_unpinned (development): then every setup PR says so, loudly.
    action_repo: str = "forkvet/forkvet"
    action_ref: str = ""
    allow_unpinned: bool = False
    # Runner label sets a fork's .github/forkvet.yml may pick one of, exactly
    # (FORKVET_RUNNER_LABELS); the first is the default.
    runner_labels: tuple[tuple[str, ...], ...] = (TEMPLATE_LABELS,)
    # The operator's policy (FORKVET_POLICY): the floor a fork's own file can only tighten.
    policy: Config = field(default_factory=Config)
    # A worker writes a heartbeat this often; /healthz is 503 when none is this old.
    heartbeat_s: float = 10.0
    health_max_age_s: float = 60.0
    workers: int = 4  # jobs at once per worker; each is a child process with its budget
    # Tests set these to 0; github.com wants PyGithub's gentle defaults.
    seconds_between_requests: float = 0.25
    seconds_between_writes: float = 1.0
    max_body_bytes: int = 25 * 1024 * 1024
    # Each job (clone, vet, environment, GitHub writes) runs in a child process with these
    # budgets; past them it is killed and its check run says so (bot.isolate).
    job_timeout_s: float = 600.0
    job_memory_mb: int = 3072
    # Each job's disk budget: what git fetches and the checkout writes (the tree is measured
    # before checkout), and all the job's folder holds while it runs (bot.isolate). 0: none.
    job_disk_mb: int = 2048
    # The child's module. Tests (only) point it at a wrapper that slows a job down.
    job_module: str = "bot.jobchild"
    # A user's token for writes upstream (pull requests, thank-you issues); without it the
    # App only drafts them.
    user_token: str | None = None
    # Who may `/forkvet accept` a finding (FORKVET_ACCEPTANCES): "write" (anyone with write
    # access), "team:ORG/SLUG" (write access and that team), or "off".
    acceptances: str = "write"

    @property
    def pinned(self) -> bool:
        return bool(rx.fullmatch(r"[0-9a-f]{40}", self.action_ref))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, allow_unpinned: bool = False) -> Settings:
        env = dict(os.environ if env is None else env)
        missing = [k for k in ("FORKVET_APP_ID", "FORKVET_WEBHOOK_SECRET") if not env.get(k)]
        key = _read_private_key(env)
        if not key:
            missing.append("FORKVET_PRIVATE_KEY or FORKVET_PRIVATE_KEY_PATH")
        if missing:
            raise SettingsError(f"missing configuration: {', '.join(missing)}")
        assert key is not None
        if "\n" not in key.strip() and "\\n" in key:
            key = key.replace("\\n", "\n")  # one line with \n, as .env files hold it
        _check_private_key(key)
        secret = env["FORKVET_WEBHOOK_SECRET"]
        _check_secret(secret)
        allow_unpinned = allow_unpinned or env.get("FORKVET_ALLOW_UNPINNED") == "1"
        action_repo, action_ref = _action_pin(env, allow_unpinned)
        if _number(env, "FORKVET_JOB_TIMEOUT_S", 600.0, float) == 0:
            raise SettingsError("FORKVET_JOB_TIMEOUT_S must be more than 0 seconds")
        return cls(
            app_id=env["FORKVET_APP_ID"],
            private_key=key,
            webhook_secret=secret,
            api_url=env.get("FORKVET_GITHUB_API_URL", DEFAULT_API_URL).rstrip("/"),
            redis_url=env.get("FORKVET_REDIS_URL") or None,
            db=env.get("FORKVET_DB", "forkvet-app.sqlite3"),
            action_repo=action_repo,
            action_ref=action_ref,
            allow_unpinned=allow_unpinned,
            runner_labels=_labels(env.get("FORKVET_RUNNER_LABELS")),
            policy=_policy(env.get("FORKVET_POLICY")),
            workers=_number(env, "FORKVET_WORKERS", 4, int),
            seconds_between_requests=_number(env, "FORKVET_SECONDS_BETWEEN_REQUESTS", 0.25, float),
            seconds_between_writes=_number(env, "FORKVET_SECONDS_BETWEEN_WRITES", 1.0, float),
            heartbeat_s=_number(env, "FORKVET_HEARTBEAT_S", 10.0, float),
            job_timeout_s=_number(env, "FORKVET_JOB_TIMEOUT_S", 600.0, float),
            job_memory_mb=_number(env, "FORKVET_JOB_MEMORY_MB", 3072, int),
            job_disk_mb=_number(env, "FORKVET_JOB_DISK_MB", 2048, int),
            health_max_age_s=_number(env, "FORKVET_HEALTH_MAX_AGE_S", 60.0, float),
            user_token=env.get("FORKVET_USER_TOKEN") or None,
            acceptances=_acceptances(env.get("FORKVET_ACCEPTANCES")),
        )


def _read_private_key(env: dict[str, str]) -> str | None:
    """FORKVET_PRIVATE_KEY, else the file FORKVET_PRIVATE_KEY_PATH names."""
    key = env.get("FORKVET_PRIVATE_KEY")
    if not key and env.get("FORKVET_PRIVATE_KEY_PATH"):
        path = Path(env["FORKVET_PRIVATE_KEY_PATH"])
        try:
            key = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(
                f"FORKVET_PRIVATE_KEY_PATH: cannot read {path}: {exc.strerror}"
            ) from exc
    return key


def _action_pin(env: dict[str, str], allow_unpinned: bool) -> tuple[str, str]:
    """(owner/repo, commit SHA) of the action the setup pull requests pin."""
    action_repo = env.get("FORKVET_ACTION_REPO", "forkvet/forkvet")
    action_ref = env.get("FORKVET_ACTION_REF", "").strip()
    if not rx.fullmatch(r"[\w.-]+/[\w.-]+", action_repo):
        raise SettingsError(f"FORKVET_ACTION_REPO must be owner/repo, not {action_repo!r}")
    if action_ref and not rx.fullmatch(r"[0-9a-f]{40}", action_ref):
        raise SettingsError(
            "FORKVET_ACTION_REF must be a full 40-character commit SHA of "
            f"{action_repo} (a tag or branch can be moved under the forks' feet)"
        )
    if not action_ref and not allow_unpinned:
        raise SettingsError(
            f"FORKVET_ACTION_REF is not set: set it to the full commit SHA of the "
            f"{action_repo} release the setup pull requests should pin "
            f"(--allow-unpinned for development only)"
        )
    return action_repo, action_ref


def _check_private_key(pem: str) -> None:
    """The App's key must load as an RSA private key (GitHub signs App JWTs with RS256);
    a certificate, a public key or a truncated file is a one-line error at start-up."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        key = load_pem_private_key(pem.strip().encode(), password=None)
    except (ValueError, TypeError) as exc:
        why = "it is encrypted" if "encrypted" in str(exc).lower() else "it does not parse"
        raise SettingsError(
            f"FORKVET_PRIVATE_KEY is not a usable PEM private key ({why}): give the "
            f"unencrypted .pem file GitHub generated for the App"
        ) from None
    if not isinstance(key, RSAPrivateKey):
        raise SettingsError(
            f"FORKVET_PRIVATE_KEY is a {type(key).__name__.removeprefix('_')}, not the RSA "
            f"key GitHub generates for an App"
        )


def secret_bits(secret: str) -> float:
    counts = Counter(secret)
    n = len(secret) or 1
    return max(0.0, -n * sum(c / n * math.log2(c / n) for c in counts.values()))


def _check_secret(secret: str) -> None:
    hint = "GitHub signs every delivery with it; use `openssl rand -hex 32`"
    if secret != secret.strip():
        raise SettingsError(f"FORKVET_WEBHOOK_SECRET has surrounding spaces ({hint})")
    if len(secret) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"FORKVET_WEBHOOK_SECRET must be at least {MIN_SECRET_LENGTH} characters ({hint})"
        )
    if secret_bits(secret) < MIN_SECRET_BITS or secret in (secret + secret)[1:-1]:
        raise SettingsError(
            f"FORKVET_WEBHOOK_SECRET is too predictable (repeated characters or a short "
            f"pattern, about {secret_bits(secret):.0f} bits; {MIN_SECRET_BITS} needed): {hint}"
        )


def _number(env: dict[str, str], name: str, default: Any, kind: Callable[[str], Any]) -> Any:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative")
    return value


def _labels(raw: str | None) -> tuple[tuple[str, ...], ...]:
    """FORKVET_RUNNER_LABELS: label sets separated by `;`, each `a,b,c` or `[a, b, c]`."""
    if raw is None or not raw.strip():
        return (TEMPLATE_LABELS,)
    sets = []
    for part in raw.split(";"):
        labels = tuple(x.strip() for x in part.strip().strip("[]").split(",") if x.strip())
        bad = [x for x in labels if not rx.fullmatch(r"[\w.-]+", x)]
        if bad or not labels:
            raise SettingsError(
                f"FORKVET_RUNNER_LABELS must be runner label sets, `a,b,c; a,b,d`; "
                f"not valid: {', '.join(bad) or repr(part.strip())}"
            )
        sets.append(tuple(dict.fromkeys(labels)))
    return tuple(sets)


def _acceptances(raw: str | None) -> str:
    value = (raw or "write").strip()
    if value in ("write", "off") or rx.fullmatch(r"team:[\w.-]+/[\w.-]+", value):
        return value
    raise SettingsError(
        f"FORKVET_ACCEPTANCES must be write, off or team:ORG/TEAM-SLUG, not {value!r}"
    )


def _policy(path: str | None) -> Config:
    if not path:
        return Config()
    try:
        return load_config(Path(path))
    except InputError as exc:
        raise SettingsError(f"FORKVET_POLICY: {exc}") from exc
