"""Round 21c (the App) and 21a F3 (acceptances), fixed in round 22; each test failed first."""

# The App's fixtures (emulator, settings, worker) come from tests/test_app.py.
# ruff: noqa: F811
from __future__ import annotations

import json

from bot.settings import Settings
from bot.store import Store
from bot.web import create_app
from forkvet.github.issues import MARKER
from tests.test_app import (  # noqa: F401  (pytest fixtures)
    command_payload,
    emulator,
    no_package_index,
    post,
    settings,
)


def _comment_bytes(body_json: str) -> bytes:
    """A report-issue comment whose body is the JSON string literal `body_json` as written."""
    payload = command_payload({"number": 1, "body": f"report\n{MARKER}"}, "@@BODY@@", "acme")
    return json.dumps(payload).replace('"@@BODY@@"', body_json).encode()


def test_a_lone_surrogate_in_a_signed_delivery_is_a_400_not_a_500(settings: Settings) -> None:
    """Round 21c F4: `\\ud800` unpaired in a signed delivery's JSON (a comment body, a key)
    decodes to a lone surrogate that no store or log can encode: a 500 after the delivery was
    half recorded. It is refused at the door, and nothing is queued; a surrogate PAIR is an
    emoji and stays a command."""
    client = create_app(settings).test_client()
    for body in ('"/forkvet help \\ud800"', '"/forkvet upstream \\udfff\\ud800"'):
        answer = post(client, _comment_bytes(body), "issue_comment")
        assert answer.status_code == 400, (body, answer.status_code)
        assert "surrogate" in answer.get_json()["error"]
    key = _comment_bytes('"/forkvet help"').replace(b'"comment": {', b'"comment": {"\\udc80": 1, ')
    assert post(client, key, "issue_comment").status_code == 400
    pair = post(client, _comment_bytes('"/forkvet help \\ud83d\\ude00"'), "issue_comment")
    assert pair.status_code == 202 and pair.get_json()["jobs"] == 1
    assert Store(settings.db).counts() == {"queued": 1}
