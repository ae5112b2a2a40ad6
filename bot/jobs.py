"""The worker's side: clone, vet, and publish the check run, the report issue and the setup
pull request — or, when that fails, tell the human exactly what to do."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from github import GithubException
from github.Repository import Repository

from bot import tracking
from bot.settings import Settings
from bot.store import Job, Store
from bot.workflow import render
from forkvet.envgen.generate import generate
from forkvet.errors import InputError
from forkvet.escape import md_code, md_inline, md_url
from forkvet.github import artifacts, checks, content, issues, pulls
from forkvet.github.client import GitHubApp
from forkvet.render import to_markdown, verdict
from forkvet.report import Finding, Report
from forkvet.snapshot import load
from forkvet.source import clone
from forkvet.vet import vet

log = logging.getLogger("forkvet.app")
CLONE_TIMEOUT_S = 600


class Transient(Exception):
    """Worth retrying later (GitHub 5xx, rate limits, network)."""


def app_for(settings: Settings) -> GitHubApp:
    return GitHubApp(
        settings.app_id,
        settings.private_key,
        settings.api_url,
        settings.seconds_between_requests,
        settings.seconds_between_writes,
    )


def _clone(url: str, token: str, dest: Path, depth: int | None = 1) -> None:
    try:
        clone(url, dest, depth=depth, token=token)
    except InputError as exc:
        raise Transient(str(exc)) from exc


def _setup_files(
    repo: Repository, snap_root: Path, report: Report, settings: Settings, labels: list[str]
) -> dict[str, str]:
    files = {
        ".github/workflows/forkvet.yml": render(settings.action_repo, settings.action_ref, labels)
    }
    has_reqs = bool(report.dependencies.files)
    if not has_reqs:
        # Offline in the App: names and pins only; full pinning runs on the fork's runner.
        # Generated in a fresh folder of our own: nothing is ever written into the clone,
        # whose committed symlinks would otherwise choose where the files land.
        with tempfile.TemporaryDirectory(prefix="forkvet-env-") as tmp:
            out = Path(tmp) / "env"
            generate(load(snap_root), out=out, offline=True)
            files["requirements.txt"] = (out / "requirements.txt").read_text(encoding="utf-8")
            files["environment.yml"] = (out / "environment.yml").read_text(encoding="utf-8")
    files["ATTRIBUTION.md"] = attribution_draft(repo, report, snap_root)
    return files


def attribution_draft(repo: Repository, report: Report, snap_root: Path) -> str:
    from forkvet.giveback.attribution import attribution_md

    upstream = repo.parent.full_name if repo.parent else None
    return attribution_md(report, load(snap_root), upstream, None)


def vet_and_publish(settings: Settings, store: Store, job: Job) -> dict[str, Any]:
    p = job.payload
    app = app_for(settings)
    gh = app.client(int(p["installation_id"]))
    try:
        repo = gh.get_repo(job.repo)
        head = repo.get_branch(repo.default_branch).commit.sha
    except GithubException as exc:
        if exc.status == 404:
            log.warning(
                "repository gone or not accessible; nothing to do",
                extra={"repo": job.repo, "job": job.id},
            )
            return {"skipped": "repository not found"}
        raise
    if p.get("forks_only") and not repo.fork:
        return {"skipped": "not a fork"}
    check = None
    if job.check_run_id:
        try:
            check = repo.get_check_run(job.check_run_id)
        except GithubException:
            check = None
    if check is None:
        check = checks.start(repo, head)
        store.set_check_run(job.id, check.id)
    try:
        config, config_error = content.repo_config(repo, repo.default_branch)
        with tempfile.TemporaryDirectory(prefix="forkvet-app-") as tmp:
            dest = Path(tmp) / repo.name
            _clone(repo.clone_url, app.token(int(p["installation_id"])), dest)
            report = vet(load(dest, name=repo.full_name, remote=repo.html_url), config)
            if config_error:
                report.findings.append(
                    Finding(
                        "config",
                        "warning",
                        "Invalid .github/forkvet.yml",
                        f"{config_error}; defaults were used",
                        path=".github/forkvet.yml",
                    )
                )
            markdown = to_markdown(report)
            status, line = verdict(report)
            checks.complete(check, report, title=f"forkvet: {line}"[:255], summary=markdown)
            store.save_report(job.repo, markdown)
            issue, created = issues.upsert_report_issue(repo, markdown, creator=app_login(app))
            files = _setup_files(repo, dest, report, settings, config.runner.labels)
        setup = pulls.ensure_setup_pr(repo, files, _pr_body(report), app_login(app))
        if setup.skipped_reason and setup.pull is not None:
            setup.pull.create_issue_comment(
                f"forkvet did not update this pull request: {setup.skipped_reason}."
            )
        return {
            "check_run": check.id,
            "issue": issue.number,
            "issue_created": created,
            "pull": setup.pull.number if setup.pull else None,
            "verdict": status,
        }
    except Exception as exc:
        transient = isinstance(exc, Transient) or (
            isinstance(exc, GithubException) and (exc.status >= 500 or exc.status in (403, 429))
        )
        if not transient:
            checks.fail(
                check,
                "forkvet could not vet this repository",
                f"{type(exc).__name__}: {exc}\n\nWhat to do: check that the forkvet App "
                f"has read access to the repository's contents, then comment "
                f"`/forkvet recheck` on the report issue or re-run this check.",
            )
        raise


_LOGINS: dict[str, str] = {}


def app_login(app: GitHubApp) -> str:
    """The App's bot login (its slug + [bot]), from GET /app, cached."""
    key = f"{app.api_url}:{app.app_id}"
    if key not in _LOGINS:
        from github import Auth, GithubIntegration

        integration = GithubIntegration(
            auth=Auth.AppAuth(app.app_id, app.private_key),
            base_url=app.api_url,
            seconds_between_requests=app.seconds_between_requests,
            seconds_between_writes=app.seconds_between_writes,
        )
        _LOGINS[key] = f"{integration.get_app().slug}[bot]"
    return _LOGINS[key]


def _pr_body(report: Report) -> str:
    _status, line = verdict(report)
    return (
        f"forkvet vetted this fork: {line}\n\nThis pull request adds:\n\n"
        f"- `.github/workflows/forkvet.yml`: vet on every push; smoke test and training "
        f"check on your self-hosted GPU runner (`[self-hosted, linux, x64, gpu]`)\n"
        f"- `requirements.txt` and `environment.yml` when the repository had none\n"
        f"- `ATTRIBUTION.md`: a draft crediting the original authors\n\n"
        f"forkvet keeps this branch up to date until someone pushes to it."
    )


def fold_workflow_run(settings: Settings, store: Store, job: Job) -> dict[str, Any]:
    """A forkvet workflow finished on the fork: add its result to the report issue (with the
    training trend over commits) and a `forkvet GPU` check run on its commit."""
    p = job.payload
    run = p["workflow_run"]
    app = app_for(settings)
    iid = int(p["installation_id"])
    repo = app.client(iid).get_repo(job.repo)
    config, _ = content.repo_config(repo)
    entry = None
    if run.get("id"):
        result = artifacts.run_result(repo, int(run["id"]), app.token(iid))
        if result is not None:
            entry = tracking.record(
                store,
                job.repo,
                run,
                result,
                repo.default_branch,
                config.train.max_slowdown / 100,
            )
    line = (
        f"- GPU workflow on {md_code(str(run['head_sha'])[:12])}: "
        f"**{md_inline(run.get('conclusion') or run.get('status'))}** "
        f"(logs: {md_url(run.get('html_url'), path_prefix=f'/{job.repo}/')})"
    )
    markdown, runtime = store.save_runtime(job.repo, line)
    trend = tracking.trend_table(store.train_results(job.repo))
    body = (
        (markdown or "forkvet has not vetted this repository yet.")
        + f"\n\n### Runtime checks\n\n{runtime}\n"
        + (f"\n### Training over commits\n\n{trend}" if trend else "")
    )
    issue, _ = issues.upsert_report_issue(repo, body, creator=app_login(app))
    # And a check run on the commit the GPU jobs ran on, beside the static `forkvet` one.
    conclusion = {
        "success": "success",
        "failure": "failure",
        "cancelled": "cancelled",
        "timed_out": "timed_out",
    }.get(str(run.get("conclusion")), "neutral")
    title = f"GPU smoke test and training check: {conclusion}"
    summary = f"{line}\n\nThe job summaries on the run hold the details (loss chart, output tail)."
    if entry is not None and entry["regression"]:
        title += f" — regressed vs {str(entry['baseline_sha'])[:7]}"
        summary += "\n\n" + "\n".join(f"- {md_inline(r)}" for r in entry["reasons"])
        if config.train.fail_on_regression and conclusion == "success":
            conclusion = "failure"
    check = repo.create_check_run(
        name=f"{checks.CHECK_NAME} GPU",
        head_sha=str(run["head_sha"]),
        status="completed",
        conclusion=conclusion,
        details_url=run["html_url"],
        output={"title": title, "summary": summary},
    )
    return {
        "issue": issue.number,
        "check_run": check.id,
        "regression": bool(entry and entry["regression"]),
    }


def comment_command(settings: Settings, store: Store, job: Job) -> dict[str, Any]:
    """`/forkvet recheck` on the report issue, from someone with write access."""
    p = job.payload
    app = app_for(settings)
    repo = app.client(int(p["installation_id"])).get_repo(job.repo)
    user = p["user"]
    permission = "write" if p.get("trusted") else repo.get_collaborator_permission(user)
    issue = repo.get_issue(int(p["issue_number"]))
    # A merged, labelled pull request was approved by someone who could merge it (trusted).
    if permission not in ("admin", "maintain", "write"):
        issue.create_comment(
            f"@{user} only people with write access to {job.repo} can run forkvet commands."
        )
        return {"refused": user}
    if p.get("command") in ("upstream", "thank"):
        try:
            reply = give_back(settings, app, repo, p)
        except Exception as exc:  # the human gets told what happened
            reply = (
                f"forkvet could not run `/forkvet {p['command']}`: {exc}. Check that "
                f"this fork's parent repository still exists and that the commits are "
                f"on the default branch."
            )
        issue.create_comment(f"@{user} {reply}")
        return {"command": p["command"]}
    result = vet_and_publish(settings, store, job)
    issue.create_comment(
        f"@{user} done: the report above and the `forkvet` check run are "
        f"up to date ({result.get('verdict')})."
    )
    return result


def give_back(settings: Settings, app: GitHubApp, repo: Repository, p: dict[str, Any]) -> str:
    """Draft (or, with a user token and opt-in config, open) upstream fixes or a thank-you."""
    from forkvet.giveback.cli import thanks_text
    from forkvet.giveback.drafts import compare_url, plan
    from forkvet.giveback.gitops import fetch_upstream
    from forkvet.giveback.publish import client, open_pull, push_branch, thank

    parent = repo.parent
    if parent is None:
        return "this repository is not a fork: there is no upstream to give back to."
    config, _ = content.repo_config(repo, repo.default_branch)
    token = app.token(int(p["installation_id"]))
    with tempfile.TemporaryDirectory(prefix="forkvet-giveback-") as tmp:
        dest = Path(tmp) / repo.name
        _clone(repo.clone_url, token, dest, depth=None)
        if p["command"] == "thank":
            title, body = thanks_text(vet(load(dest)), parent.full_name, None)
            if settings.user_token and config.upstream.thank_you:
                status, url = thank(
                    client(settings.user_token, settings.api_url), parent.full_name, title, body
                )
                return f"thank-you issue: {status}" + (f" — {url}" if url else "")
            return (
                "here is a draft thank-you issue (forkvet opens it only when "
                "`upstream.thank_you: true` is set and a user token is configured):\n\n"
                f"**{title}**\n\n{body}"
            )
        base = fetch_upstream(dest, parent.clone_url)
        shas = p.get("args", "").split() or None
        result = plan(dest, parent.clone_url, base, shas, repo.owner.login)
        if not result.commits:
            return "this fork has no commits that upstream lacks."
        lines = []
        for draft in result.drafts:
            draft.compare_url = compare_url(
                parent.html_url, base, repo.owner.login, draft.branch, draft.title, draft.body
            )
            if draft.status == "drafted":
                push_branch(dest, repo.clone_url, draft.branch, token)
                if settings.user_token and config.upstream.open_pull_requests:
                    open_pull(
                        client(settings.user_token, settings.api_url),
                        parent.full_name,
                        repo.full_name,
                        draft,
                        base,
                        config.upstream.max_prs_per_hour,
                        config.upstream.max_open_prs,
                    )
            link = (
                f": [open the pull request]({draft.compare_url})"
                if draft.compare_url and draft.status == "drafted"
                else ""
            )
            lines.append(
                f"- **{draft.title}** — {draft.status}{link}"
                + (f" ({draft.url})" if draft.url else "")
                + (f"\n\n```\n{draft.message}\n```" if draft.message else "")
            )
        skipped = [c for c in result.commits if c["classification"] != "fix"]
        lines += [
            f"- `{c['sha'][:10]}` {c['subject']}: {c['classification']} ({c['reason']})"
            for c in skipped
        ]
        return "upstream drafts (branches pushed to this fork):\n\n" + "\n".join(lines)


HANDLERS = {"vet": vet_and_publish, "workflow_run": fold_workflow_run, "comment": comment_command}
