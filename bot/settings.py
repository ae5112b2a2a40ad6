"""The App's configuration, from environment variables, checked once at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from forkvet.github.client import DEFAULT_API_URL


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
    action_repo: str = "forkvet/forkvet"
    action_ref: str = "0" * 40
    workers: int = 2
    # Tests set these to 0; github.com wants PyGithub's gentle defaults.
    seconds_between_requests: float = 0.25
    seconds_between_writes: float = 1.0
    max_body_bytes: int = 25 * 1024 * 1024
    # A user's token for writes upstream (pull requests, thank-you issues); without it the
    # App only drafts them.
    user_token: str | None = None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
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
        return cls(
            app_id=env["FORKVET_APP_ID"],
            private_key=key,
            webhook_secret=env["FORKVET_WEBHOOK_SECRET"],
            api_url=env.get("FORKVET_GITHUB_API_URL", DEFAULT_API_URL).rstrip("/"),
            redis_url=env.get("FORKVET_REDIS_URL") or None,
            db=env.get("FORKVET_DB", "forkvet-app.sqlite3"),
            action_repo=env.get("FORKVET_ACTION_REPO", "forkvet/forkvet"),
            action_ref=env.get("FORKVET_ACTION_REF", "0" * 40),
            workers=int(env.get("FORKVET_WORKERS", "2")),
            seconds_between_requests=float(env.get("FORKVET_SECONDS_BETWEEN_REQUESTS", "0.25")),
            seconds_between_writes=float(env.get("FORKVET_SECONDS_BETWEEN_WRITES", "1.0")),
            user_token=env.get("FORKVET_USER_TOKEN") or None,
        )
