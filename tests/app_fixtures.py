"""Fixtures for the App tests: an RSA key, GitHub's own webhook examples, the emulator."""

from __future__ import annotations

import copy
import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.signature import sign
from tests.github.trim_openapi import main as trim

GITHUB = Path(__file__).parent / "github"
NODE = GITHUB / "node_modules" / "@octokit"
SECRET = "test-webhook-secret-7f3a9c1e5b2d8046"  # 35 characters, ~150 bits
APP_ID = 4242
INSTALLATION = 777


@cache
def keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def trimmed_spec(cache_dir: Path) -> Path:
    src = NODE / "openapi" / "generated" / "api.github.com.json"
    if not src.exists():
        raise RuntimeError(
            "GitHub's OpenAPI description is missing: run `npm ci` in "
            "tests/github (scripts/test.sh does)"
        )
    out = cache_dir / "api.github.com.trimmed.json"
    if not out.exists():
        trim(str(src), str(out))
    return out


@cache
def _examples() -> dict[str, list[dict[str, Any]]]:
    path = NODE / "webhooks-examples" / "api.github.com" / "index.json"
    if not path.exists():
        raise RuntimeError("webhook examples are missing: run `npm ci` in tests/github")
    return {e["name"]: e["examples"] for e in json.loads(path.read_text())}


def example(event: str, action: str | None = None) -> dict[str, Any]:
    """A real example payload from @octokit/webhooks-examples (a deep copy)."""
    for ex in _examples()[event]:
        if action is None or ex.get("action") == action:
            return copy.deepcopy(ex)
    raise KeyError(f"{event}.{action}")


def adapt(payload: dict[str, Any], owner: str, name: str, fork: bool = True) -> dict[str, Any]:
    """Point an example payload at a test repository and installation."""
    repo = payload.setdefault("repository", {})
    repo.update(
        {"name": name, "full_name": f"{owner}/{name}", "fork": fork, "default_branch": "main"}
    )
    repo.setdefault("owner", {})["login"] = owner
    payload["installation"] = {"id": INSTALLATION, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0"}
    return payload


def signed(
    payload: dict[str, Any] | bytes, event: str, delivery: str | None = None
) -> tuple[bytes, dict[str, str]]:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return body, {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(SECRET, body),
        "Content-Type": "application/json",
    }
