"""Trim GitHub's official REST OpenAPI description to the operations forkvet uses.

    python tests/github/trim_openapi.py SPEC OUT

SPEC is `generated/api.github.com.json` from the npm package @octokit/openapi (pinned in
tests/github/package.json). Loading all of it takes seconds and hundreds of MB; the trimmed
copy loads in a fraction of a second. `x-webhooks` is dropped, and check-run `conclusion`,
nullable in the schema but without `null` in its enum, is patched to accept null.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OPERATIONS = {
    "/app": ["get"],
    "/user": ["get"],
    "/app/installations/{installation_id}/access_tokens": ["post"],
    "/repos/{owner}/{repo}": ["get"],
    "/repos/{owner}/{repo}/activity": ["get"],
    "/repos/{owner}/{repo}/branches/{branch}": ["get"],
    "/repos/{owner}/{repo}/actions/runs/{run_id}": ["get"],
    "/repos/{owner}/{repo}/actions/runs/{run_id}/artifacts": ["get"],
    "/repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}": ["get"],
    "/repos/{owner}/{repo}/actions/workflows/{workflow_id}": ["get"],
    "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs": ["get"],
    "/repos/{owner}/{repo}/check-runs": ["post"],
    "/repos/{owner}/{repo}/check-runs/{check_run_id}": ["patch", "get"],
    "/repos/{owner}/{repo}/collaborators/{username}/permission": ["get"],
    "/repos/{owner}/{repo}/compare/{basehead}": ["get"],
    "/repos/{owner}/{repo}/contents/{path}": ["get", "put"],
    "/repos/{owner}/{repo}/git/ref/{ref}": ["get"],
    "/repos/{owner}/{repo}/git/refs": ["post"],
    "/repos/{owner}/{repo}/git/refs/{ref}": ["patch"],
    "/repos/{owner}/{repo}/git/commits": ["post"],
    "/repos/{owner}/{repo}/git/commits/{commit_sha}": ["get"],
    "/repos/{owner}/{repo}/git/trees": ["post"],
    "/repos/{owner}/{repo}/issues": ["get", "post"],
    "/repos/{owner}/{repo}/issues/{issue_number}": ["patch", "get"],
    "/repos/{owner}/{repo}/issues/{issue_number}/comments": ["get", "post"],
    "/repos/{owner}/{repo}/issues/comments/{comment_id}": ["patch"],
    "/repos/{owner}/{repo}/pulls": ["get", "post"],
    "/repos/{owner}/{repo}/pulls/{pull_number}": ["patch", "get"],
}


def _refs(node: Any, out: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/"):
            out.add(ref)
        for v in node.values():
            _refs(v, out)
    elif isinstance(node, list):
        for v in node:
            _refs(v, out)


def _get(spec: dict[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def trim(spec: dict[str, Any]) -> dict[str, Any]:
    paths = {}
    for path, methods in OPERATIONS.items():
        item = spec["paths"][path]
        kept = {m: item[m] for m in methods if m in item}
        if "parameters" in item:
            kept["parameters"] = item["parameters"]
        paths[path] = kept
    needed: set[str] = set()
    _refs(paths, needed)
    todo = list(needed)
    while todo:
        ref = todo.pop()
        found: set[str] = set()
        _refs(_get(spec, ref), found)
        for r in found - needed:
            needed.add(r)
            todo.append(r)
    components: dict[str, dict[str, Any]] = {}
    for ref in sorted(needed):
        _, _, kind, name = ref.split("/", 3)
        components.setdefault(kind, {})[name] = _get(spec, ref)
    trimmed = {k: v for k, v in spec.items() if k not in ("paths", "components", "x-webhooks")}
    trimmed["paths"] = paths
    trimmed["components"] = components
    # The emulator serves the API at the root of any host.
    trimmed["servers"] = [{"url": "/"}]
    conclusion = (
        components.get("schemas", {}).get("check-run", {}).get("properties", {}).get("conclusion")
    )
    if conclusion and "enum" in conclusion and None not in conclusion["enum"]:
        conclusion["enum"].append(None)
    return trimmed


def main(src: str, dest: str) -> None:
    spec = json.loads(Path(src).read_text(encoding="utf-8"))
    Path(dest).write_text(json.dumps(trim(spec)), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:])
