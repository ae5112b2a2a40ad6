"""The App's configuration, from environment variables, checked once at start-up."""

from __future__ import annotations

import os
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
MIN_SECRET_LENGTH = 16


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
    # Runner labels a fork's .github/forkvet.yml may choose among (FORKVET_RUNNER_LABELS).
    runner_labels: tuple[str, ...] = TEMPLATE_LABELS
    # The operator's policy (FORKVET_POLICY): the floor a fork's own file can only tighten.
    policy: Config = field(default_factory=Config)
    # A worker writes a heartbeat this often; /healthz is 503 when none is this old.
    heartbeat_s: float = 10.0
    health_max_age_s: float = 60.0
    workers: int = 2
    # Tests set these to 0; github.com wants PyGithub's gentle defaults.
    seconds_between_requests: float = 0.25
    seconds_between_writes: float = 1.0
    max_body_bytes: int = 25 * 1024 * 1024
    # A user's token for writes upstream (pull requests, thank-you issues); without it the
    # App only drafts them.
    user_token: str | None = None

    @property
    def pinned(self) -> bool:
        return bool(rx.fullmatch(r"[0-9a-f]{40}", self.action_ref))

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, allow_unpinned: bool = False) -> Settings:
        env = dict(os.environ if env is None else env)
        missing = [k for k in ("FORKVET_APP_ID", "FORKVET_WEBHOOK_SECRET") if not env.get(k)]
        key = env.get("FORKVET_PRIVATE_KEY")
        if not key and env.get("FORKVET_PRIVATE_KEY_PATH"):
            path = Path(env["FORKVET_PRIVATE_KEY_PATH"])
            try:
                key = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise SettingsError(
                    f"FORKVET_PRIVATE_KEY_PATH: cannot read {path}: {exc.strerror}"
                ) from exc
        if not key:
            missing.append("FORKVET_PRIVATE_KEY or FORKVET_PRIVATE_KEY_PATH")
        if missing:
            raise SettingsError(f"missing configuration: {', '.join(missing)}")
        assert key is not None
        if "PRIVATE KEY" not in key:
            raise SettingsError("FORKVET_PRIVATE_KEY does not look like a PEM private key")
        secret = env["FORKVET_WEBHOOK_SECRET"]
        if len(secret.strip()) < MIN_SECRET_LENGTH or secret != secret.strip():
            raise SettingsError(
                f"FORKVET_WEBHOOK_SECRET must be at least {MIN_SECRET_LENGTH} characters with no "
                f"surrounding spaces (GitHub signs every delivery with it; use a long random "
                f"string, e.g. `openssl rand -hex 32`)"
            )
        allow_unpinned = allow_unpinned or env.get("FORKVET_ALLOW_UNPINNED") == "1"
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
            workers=_number(env, "FORKVET_WORKERS", 2, int),
            seconds_between_requests=_number(env, "FORKVET_SECONDS_BETWEEN_REQUESTS", 0.25, float),
            seconds_between_writes=_number(env, "FORKVET_SECONDS_BETWEEN_WRITES", 1.0, float),
            heartbeat_s=_number(env, "FORKVET_HEARTBEAT_S", 10.0, float),
            health_max_age_s=_number(env, "FORKVET_HEALTH_MAX_AGE_S", 60.0, float),
            user_token=env.get("FORKVET_USER_TOKEN") or None,
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


def _labels(raw: str | None) -> tuple[str, ...]:
    """FORKVET_RUNNER_LABELS: `a,b,c` or `[a, b, c]`."""
    if raw is None or not raw.strip():
        return TEMPLATE_LABELS
    labels = tuple(x.strip() for x in raw.strip().strip("[]").split(",") if x.strip())
    bad = [x for x in labels if not rx.fullmatch(r"[\w.-]+", x)]
    if bad or not labels:
        raise SettingsError(
            f"FORKVET_RUNNER_LABELS must be a comma-separated list of runner labels; "
            f"not valid: {', '.join(bad) or raw!r}"
        )
    return labels


def _policy(path: str | None) -> Config:
    if not path:
        return Config()
    try:
        return load_config(Path(path))
    except InputError as exc:
        raise SettingsError(f"FORKVET_POLICY: {exc}") from exc
