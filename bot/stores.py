"""The job record store the settings ask for: Redis when FORKVET_REDIS_URL is set, else the
SQLite file. Below the queue, so the job's child process opens it without the queue."""

from __future__ import annotations

from typing import Any

from bot.settings import Settings
from bot.store import Store


def make_store(settings: Settings) -> Any:
    if settings.redis_url:
        # Shared by every web process and worker, on every machine.
        from bot.redis_store import RedisStore

        return RedisStore(settings.redis_url)
    return Store(settings.db)
