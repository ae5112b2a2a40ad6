"""Training-check results uploaded by forkvet's workflow, read back through the Actions API:
the App folds them into its trend table, the train-check action takes its baseline from them.

An artifact is data from a run of the fork's code: it is downloaded size-limited, never
extracted to disk, and only a `train.json` that parses as a train-check result is used.
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from typing import Any

from github import GithubException
from github.Repository import Repository

from forkvet.runtime.baseline import curve_from_result

ARTIFACT_NAMES = ("forkvet-runtime", "forkvet-train")
RESULT_MEMBER = "train.json"
MAX_ARCHIVE_BYTES = 20 * 1024 * 1024
MAX_MEMBER_BYTES = 4 * 1024 * 1024
# The action uploads one train.json at the top; a fork's run can add any number more (300
# of them once cost 19 s of worker CPU). Only the shallowest few are ever read.
MAX_RESULT_MEMBERS = 2
WORKFLOW_FILE = "forkvet.yml"


@dataclass
class RunResult:
    run_id: int
    head_sha: str
    branch: str | None
    result: dict[str, Any]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # handled by hand: the token must not follow the redirect


def _download(url: str, token: str, timeout: float = 60) -> bytes | None:
    """GitHub answers an archive download with a redirect to a pre-signed URL; the token goes
    only to GitHub, never to the storage host."""
    opener = urllib.request.build_opener(_NoRedirect)
    req = urllib.request.Request(
        url, headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
    )
    try:
        with opener.open(req, timeout=timeout) as resp:
            return _bounded(resp)
    except urllib.error.HTTPError as exc:
        location = exc.headers.get("Location") if exc.code in (301, 302, 303, 307) else None
        if not location:
            return None
    try:
        with urllib.request.urlopen(location, timeout=timeout) as resp:
            return _bounded(resp)
    except (urllib.error.URLError, OSError):
        return None


def _bounded(resp: Any) -> bytes | None:
    data: bytes = resp.read(MAX_ARCHIVE_BYTES + 1)
    return None if len(data) > MAX_ARCHIVE_BYTES else data


def result_from_archive(data: bytes) -> dict[str, Any] | None:
    """The train-check result inside an artifact zip, validated; None when absent or bad."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return None
    with zf:
        # Only the artifact's own root train.json: forkvet writes it outside the sandbox;
        # anything deeper came from an output folder the repository's command could write.
        members = [
            i
            for i in zf.infolist()
            if i.filename == RESULT_MEMBER and i.file_size <= MAX_MEMBER_BYTES
        ]
        for info in members[:MAX_RESULT_MEMBERS]:
            try:
                with zf.open(info) as fh:
                    raw = fh.read(MAX_MEMBER_BYTES + 1)
                parsed = json.loads(raw)
                curve_from_result(parsed)
            except Exception:
                continue
            return dict(parsed)
    return None


@dataclass
class ArtifactResult:
    result: dict[str, Any]
    artifact_id: int  # for a link to the artifact (with the loss plot) on the run's page


def run_artifact_result(repo: Repository, run_id: int, token: str) -> ArtifactResult | None:
    """The train-check result a workflow run uploaded, and the artifact it came in; or None."""
    try:
        artifacts = list(repo.get_workflow_run(run_id).get_artifacts())
    except GithubException:
        return None
    for art in artifacts:
        if art.name in ARTIFACT_NAMES and not art.expired:
            if art.size_in_bytes > MAX_ARCHIVE_BYTES:
                continue
            data = _download(art.archive_download_url, token)
            result = result_from_archive(data) if data else None
            if result is not None:
                return ArtifactResult(result, int(art.id))
    return None


def run_result(repo: Repository, run_id: int, token: str) -> dict[str, Any] | None:
    """The train-check result a workflow run uploaded, or None."""
    found = run_artifact_result(repo, run_id, token)
    return found.result if found else None


def latest_result(
    repo: Repository,
    token: str,
    branch: str | None = None,
    workflow: str = WORKFLOW_FILE,
    max_runs: int = 5,
) -> RunResult | None:
    """The newest successful run of the workflow on a branch of the repository itself (the
    default branch unless told) that uploaded a train-check result."""
    branch = branch or repo.default_branch
    try:
        runs = repo.get_workflow(workflow).get_runs(branch=branch, status="success")
        for i, run in enumerate(runs):
            if i >= max_runs:
                break
            head = run.raw_data.get("head_repository") or {}
            if head.get("id") != repo.id or run.event == "pull_request":
                continue  # only the fork's own branches count
            result = run_result(repo, run.id, token)
            if result is not None:
                return RunResult(run.id, run.head_sha, run.head_branch, result)
    except GithubException:
        return None
    return None
