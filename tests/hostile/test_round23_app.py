"""Round 22c (the App), fixed in round 23; each test failed first."""

# The App's fixtures (emulator, settings, worker) come from tests/test_app.py.
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.store import Store
from tests.test_app import (  # noqa: F401  (pytest fixtures)
    redis_url,
)


def _store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    if kind == "redis":
        from bot.redis_store import RedisStore

        return RedisStore(request.getfixturevalue("redis_url"))
    return Store(str(tmp_path / "s.sqlite3"))


def _comment(store: Any, iid: int, user: str, n: int) -> Any:
    payload = {"installation_id": iid, "comment": True, "user": user, "issue_number": 1}
    return store.add_job(f"c{iid}-{n}#0", "comment", "mal/model", payload, "/forkvet recheck")


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_many_commenters_of_one_tenant_cost_another_tenant_one_start(
    tmp_path: Path, request: pytest.FixtureRequest, kind: str
) -> None:
    """Round 22c F5: comment jobs waited in one line per commenter, and accounts are free:
    60 accounts commenting on one installation's report issue put another installation's
    fork vet behind 60 job starts (3.5 s -> 84 s). The turns are the installation's: its
    comments, whoever wrote them, share one turn a round with its own jobs; another tenant's
    vet is among the first two jobs started, in every round; the tenant's own push waits
    for at most one of its comments."""
    store = _store(kind, tmp_path, request)
    for n in range(60):
        _comment(store, 77, f"sock{n}", n)
    bobs = store.add_job("bob#0", "vet", "bob/model", {"installation_id": 88})
    first = [store.claim_next() for _ in range(2)]
    assert bobs in [j.id for j in first if j], first
    # a second round: the attacker's fork is pushed, and another of bob's forks arrives
    own = store.add_job("mal#0", "vet", "mal/model", {"installation_id": 77})
    bobs2 = store.add_job("bob2#0", "vet", "bob/other", {"installation_id": 88})
    second = [store.claim_next() for _ in range(3)]
    ids = [j.id for j in second if j]
    assert bobs2 in ids[:2] and own in ids, second
