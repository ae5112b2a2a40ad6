"""Round 17c, against the GitHub emulator: the operator's upstream caps are counted over every
pull request the token's user has on the upstream, from any fork (F1); every title sent to
GitHub is escaped as a title (F2)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from forkvet.escape import ZWSP, title
from forkvet.github.client import user_client
from forkvet.giveback.drafts import Draft
from forkvet.giveback.publish import open_pull, thank

HOSTILE = (
    "Fix crash @octocat @acme/admins #1 GH-1 <img src=x> https://evil.example/x "
    "<!-- forkvet:report --> :+1: \u202eRTL \x1b[31mRED\nSecond line\u2028\u200bz"
)


def draft(owner: str, n: int, subject: str = "Fix bug") -> Draft:
    return Draft([f"{n:040x}"], f"forkvet/fix-{n:07x}-fix-bug", subject, "body", None, "drafted")


def test_caps_count_every_fork_of_one_upstream(github: Any) -> None:
    upstream = github.add_repo(
        "upstream-org", "model", {"a.py": "x = 1\n"}, fork=False, parent=None
    )
    gh = user_client(github.user_token("operator"), github.base_url)
    first = open_pull(gh, "upstream-org/model", "mallory/model", draft("mallory", 1), "main", 1, 1)
    assert first.status == "opened"
    # Another fork of the same upstream, within the hour, with the same token: capped.
    second = open_pull(
        gh, "upstream-org/model", "mallory2/model", draft("mallory2", 2), "main", 1, 5
    )
    assert second.status == "capped", second
    assert "1 opened in the last hour" in second.message
    third = open_pull(
        gh, "upstream-org/model", "mallory3/model", draft("mallory3", 3), "main", 5, 1
    )
    assert third.status == "capped" and "1 open" in third.message
    assert len(upstream.pulls) == 1
    # Someone else's pull requests are not the token's: they do not count.
    upstream.pulls[0]["_creator"] = "somebody-else"
    fourth = open_pull(
        gh, "upstream-org/model", "mallory4/model", draft("mallory4", 4), "main", 1, 1
    )
    assert fourth.status == "opened"


def test_a_pull_request_older_than_an_hour_counts_only_while_open(github: Any) -> None:
    upstream = github.add_repo(
        "upstream-org", "model", {"a.py": "x = 1\n"}, fork=False, parent=None
    )
    gh = user_client(github.user_token("operator"), github.base_url)
    assert open_pull(gh, "upstream-org/model", "a/model", draft("a", 1), "main", 1, 1).status == (
        "opened"
    )
    upstream.pulls[0]["created_at"] = "2020-01-01T00:00:00Z"
    d = open_pull(gh, "upstream-org/model", "b/model", draft("b", 2), "main", 1, 1)
    assert d.status == "capped" and "1 open and 0 opened" in d.message
    upstream.pulls[0]["state"] = "closed"
    assert open_pull(gh, "upstream-org/model", "b/model", draft("b", 3), "main", 1, 1).status == (
        "opened"
    )


def test_the_lock_is_held_from_the_count_to_the_opening(github: Any) -> None:
    """Two forks' jobs at once, one slot: with the App's per-upstream lock only one opens."""
    upstream = github.add_repo(
        "upstream-org", "model", {"a.py": "x = 1\n"}, fork=False, parent=None
    )
    mutex = threading.Lock()
    inside: list[int] = []

    @contextmanager
    def lock() -> Iterator[None]:
        with mutex:
            inside.append(1)
            time.sleep(0.2)  # both would have counted 0 without the lock
            yield

    results: list[str] = []

    def one(n: int) -> None:
        gh = user_client(github.user_token("operator"), github.base_url)
        d = open_pull(
            gh, "upstream-org/model", f"f{n}/model", draft(f"f{n}", n), "main", 1, 1, lock()
        )
        results.append(d.status)

    threads = [threading.Thread(target=one, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["capped", "opened"] and len(upstream.pulls) == 1


def test_title_escapes_what_github_acts_on_in_a_title() -> None:
    t = title(HOSTILE)
    assert "\u202e" not in t and "\x1b" not in t and "\\u202e" in t and "\\x1b" in t
    assert "\n" not in t and "\u2028" not in t
    for acting in ("@octocat", "@acme", "#1", "GH-1", "https://", ":+1:", "<!--"):
        assert acting not in t, acting
    assert f"@{ZWSP}octocat" in t and "<img src=x>" in t  # plain text: shown as written
    assert title(t) == t  # idempotent: a title escaped twice reads the same
    assert t.count(ZWSP) == title(t).count(ZWSP)
    assert len(title("x" * 1000)) == 256
    assert title("Fix NaN in loss when the batch is empty") == (
        "Fix NaN in loss when the batch is empty"
    )


def test_upstream_pull_request_and_thank_you_titles_are_escaped(github: Any) -> None:
    upstream = github.add_repo(
        "upstream-org", "model", {"a.py": "x = 1\n"}, fork=False, parent=None
    )
    gh = user_client(github.user_token("operator"), github.base_url)
    d = open_pull(gh, "upstream-org/model", "m/model", draft("m", 1, HOSTILE), "main", 5, 5)
    assert d.status == "opened"
    sent = upstream.pulls[0]["title"]
    assert sent == title(HOSTILE) and "\u202e" not in sent and "#1" not in sent
    status, _ = thank(gh, "upstream-org/model", HOSTILE, "thanks")
    assert status == "opened" and upstream.issues[0]["title"] == title(HOSTILE)
