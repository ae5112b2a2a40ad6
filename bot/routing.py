"""A small event router in the style of gidgethub/probot:

    router = Router()

    @router.on("repository.created")
    def fork_created(event): ...

An event name matches its own handlers ("push") and, with an action, "name.action" ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Handler = Callable[["Event"], Any]


@dataclass(frozen=True)
class Event:
    name: str
    delivery: str
    payload: dict[str, Any]

    @property
    def action(self) -> str | None:
        action = self.payload.get("action")
        return action if isinstance(action, str) else None

    @property
    def full_name(self) -> str:
        return f"{self.name}.{self.action}" if self.action else self.name


class Router:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)

    def on(self, events: str | list[str]) -> Callable[[Handler], Handler]:
        names = [events] if isinstance(events, str) else list(events)

        def register(fn: Handler) -> Handler:
            for name in names:
                self._handlers[name].append(fn)
            return fn

        return register

    def handlers(self, event: Event) -> list[Handler]:
        found = list(self._handlers.get(event.name, []))
        if event.action:
            found += self._handlers.get(f"{event.name}.{event.action}", [])
        return found

    def dispatch(self, event: Event) -> list[Any]:
        return [handler(event) for handler in self.handlers(event)]
