"""The worker's side: clone, vet, and publish the check run, the report issue and the setup
pull request — or, when that fails, tell the human exactly what to do."""

from __future__ import annotations

import errno
import logging
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from github import Github, GithubException
from github.CheckRun import CheckRun
from github.Issue import Issue
from github.PullRequest import PullRequest
from github.Repository import Repository
from requests import RequestException

from bot import accepting, tracking
from bot.handlers.comments import read_command
from bot.handlers.workflow_run import WORKFLOW_PATH
from bot.optin import pushed_to_fork
from bot.settings import Settings
from bot.store import Job, Store, is_free
from bot.workflow import choose_labels, is_rendered, render
from forkvet import CONFIG_PATH, accept, fstree
from forkvet.accept import Acceptance
from forkvet.config import Config, opted_out, tighten
from forkvet.envgen.generate import generate
from forkvet.envgen.sbom import SBOM_NAME, sbom_json
from forkvet.errors import ForkvetError, InputError
from forkvet.escape import md_code, md_fence, md_inline, md_url
from forkvet.escape import title as plain_title
from forkvet.github import artifacts, checks, content, issues, pr_comments, pulls
from forkvet.github.client import GitHubApp
from forkvet.giveback.drafts import not_a_sha
from forkvet.giveback.gitops import fetch_upstream, set_in_fork
from forkvet.render import to_markdown, verdict
from forkvet.report import Finding, Report
from forkvet.snapshot import load
from forkvet.source import CheckoutRefused, TreeTooLarge, clone
from forkvet.vet import vet

if TYPE_CHECKING:
    from forkvet.giveback.drafts import Draft

log = logging.getLogger("forkvet.app")
T = TypeVar("T")
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


def _job_dirs(tmp: Path) -> tuple[Path, Path]:
    """(checkout, work) inside a job's own fresh temporary folder. Both names are the
    worker's own, never the repository's: a fork named `generated`, `.git` or `checkout`
    collides with nothing, and the generated files live outside the clone."""
    dest, work = tmp / "checkout", tmp / "generated"
    work.mkdir()
    return dest, work


def _clone(url: str, token: str, dest: Path, depth: int | None = 1, disk_mb: int = 0) -> None:
    """Fetch, then check out. Only the fetch can fail for a reason that passes (the network,
    GitHub): a Transient. A tree over the bounds or the disk budget (TreeTooLarge) and a tree
    git refuses to write (CheckoutRefused) are the repository's content, the same on every
    attempt: raised as they are, never retried (round 17c F3)."""
    try:
        clone(url, dest, depth=depth, token=token, max_bytes=(disk_mb << 20) or None)
    except (TreeTooLarge, CheckoutRefused):
        raise
    except InputError as exc:
        raise Transient(str(exc)) from exc


@dataclass
class SetupFiles:
    files: dict[str, str]
    # Lines for the pull request body: what the App could not do as asked, and why.
    notes: list[str] = field(default_factory=list)


def _pinned_env(
    snap_root: Path, name: str, config: Config, work: Path
) -> tuple[dict[str, str], str | None]:
    """requirements.txt and environment.yml as `forkvet env` makes them, written to `work`
    (never into the clone). Online with the worker's own pip/uv configuration; when no index
    is reachable, the authors' own pins (`--offline`) and a note saying so."""
    note = None
    try:
        result, env_report = generate(load(snap_root, name=name), config, out=work / "online")
        out = work / "online"
        note = _vulnerable_pins_note(result.requirements, result.python)
    except (ForkvetError, OSError) as exc:
        log.warning(
            "online environment resolution failed; offline files instead",
            extra={"error_type": type(exc).__name__},
        )
        result, env_report = generate(
            load(snap_root, name=name), config, out=work / "offline", offline=True
        )
        out = work / "offline"
        note = (
            "No package index was reachable from the forkvet App, so `requirements.txt` and "
            "`environment.yml` carry the authors' own pins only (`forkvet env --offline`). "
            "Run `forkvet env .` on a machine with your package index to pin every version "
            "as of the code's date."
        )
    files = {
        name: (out / name).read_text(encoding="utf-8")
        for name in ("requirements.txt", "environment.yml")
    }
    # The environment's CycloneDX SBOM, for the security team's SBOM tools (env --sbom).
    files[SBOM_NAME] = sbom_json(result, env_report, reproducible=True)
    return files, note


def _vulnerable_pins_note(requirements: list[dict[str, Any]], python: str) -> str | None:
    """The setup pull request names pins with known vulnerabilities (OSV through the worker's
    own configuration; FORKVET_OSV_URL for a mirror) and the nearest safe releases."""
    from forkvet.audit.envaudit import audit_env

    audit = audit_env(requirements, python, None)
    vulns = audit.get("vulnerabilities") or []
    if not vulns:
        return None
    rows = [
        f"{md_code(v['package'] + '==' + v['version'])} {md_inline(v['id'])} "
        f"({md_inline(v['severity'])}, nearest safe {md_code(v['nearest_safe'] or 'none')})"
        for v in vulns[:15]
    ]
    return (
        f"**Known vulnerabilities in these pins**: {md_inline(audit['summary'])}: "
        + "; ".join(rows)
        + ". The pins keep the versions the authors used; `forkvet env --safe` pins the "
        "nearest safe releases instead."
    )


def _setup_files(
    repo: Repository,
    snap_root: Path,
    report: Report,
    settings: Settings,
    config: Config,
    work: Path,
) -> SetupFiles:
    labels, label_note = choose_labels(config.runner.labels, settings.runner_labels)
    out = SetupFiles(
        {
            ".github/workflows/forkvet.yml": render(
                settings.action_repo, settings.action_ref, labels, settings.policy
            )
        }
    )
    if label_note:
        out.notes.append(md_inline(label_note, limit=None))
    if not settings.pinned:
        out.notes.append(UNPINNED_WARNING)
    declared_in = real_requirement_files(report)
    if declared_in:
        out.notes.append(
            "No `requirements.txt` or `environment.yml` added: the repository declares its "
            f"dependencies in {', '.join(map(md_code, declared_in[:5]))}, and a second list "
            "would compete with the authors' own. `forkvet env .` pins them as of the "
            "code's date."
        )
    else:
        _add_env(out, snap_root, repo.name, config, work)
    out.files["ATTRIBUTION.md"] = attribution_draft(repo, report, snap_root)
    return out


def real_requirement_files(report: Report) -> list[str]:
    """Declaration files a tool installs from; a README's `pip install` line or a notebook's
    `!pip` cell is evidence, not an environment anyone can install."""
    return [
        f
        for f in report.dependencies.files
        if not f.rsplit("/", 1)[-1].lower().startswith("readme")
        and not f.lower().endswith((".md", ".rst", ".ipynb"))
    ]


def _add_env(out: SetupFiles, snap_root: Path, name: str, config: Config, work: Path) -> None:
    try:
        env, env_note = _pinned_env(snap_root, name, config, work)
    except (ForkvetError, OSError) as exc:
        log.warning("environment generation failed", extra={"error_type": type(exc).__name__})
        # The error's text stays in the log (it can carry paths or the repository's text).
        out.notes.append(
            "**No `requirements.txt` or `environment.yml`**: forkvet could not generate them "
            f"here ({type(exc).__name__}, in the App's log). Run `forkvet env .` in your "
            "checkout, which says why."
        )
        return
    out.files.update(env)
    if env_note:
        out.notes.append(env_note)


UNPINNED_WARNING = (
    "**Warning: this App runs without `FORKVET_ACTION_REF`**, so the workflow's forkvet "
    "actions are not pinned to a release (`@000…000` placeholders): it will not run as is. "
    "Ask the App's operator to set `FORKVET_ACTION_REF` to a full commit SHA."
)


def attribution_draft(repo: Repository, report: Report, snap_root: Path) -> str:
    from forkvet.giveback.attribution import attribution_md

    upstream = repo.parent.full_name if repo.parent else None
    return attribution_md(report, load(snap_root, name=repo.name), upstream, None)


def vet_and_publish(
    settings: Settings, store: Store, job: Job, trial: Acceptance | None = None
) -> dict[str, Any]:
    """Vet the fork's default branch and publish: check run, report issue, setup pull request
    (with `trial`, accept.apply's answer for it is the result's `acceptance`)."""
    p = job.payload
    app = app_for(settings)
    opened = _open_repo(app.client(int(p["installation_id"])), job)
    if isinstance(opened, dict):
        return opened
    repo, head = opened
    if p.get("forks_only") and not repo.fork:
        return {"skipped": "not a fork"}
    check = _check_run(repo, store, job, head)
    # A failure propagates: the queue retries transient ones and reports the final one
    # on this check run (report_failure).
    config, config_error = _effective_config(settings, repo)
    with fstree.temporary_folder("forkvet-app-") as tmp:
        dest, work = _job_dirs(Path(tmp))
        try:
            token = app.token(int(p["installation_id"]))
            _clone(repo.clone_url, token, dest, disk_mb=settings.job_disk_mb)
        except TreeTooLarge as exc:
            _too_large(check, exc, settings)
            return {"check_run": check.id, "skipped": "tree too large"}
        except CheckoutRefused as exc:
            _refused(check, exc)
            return {"check_run": check.id, "skipped": "checkout refused"}
        if (moved := branch_moved(dest, check)) is not None:
            return moved
        report, why = _vet_checkout(store, job, repo, dest, config, config_error, trial)
        out = _Outputs(check, report, to_markdown(report), config_error)
        issue_body = issues.with_commit(out.markdown, report.repo.commit)  # 22c F4
        # Each output on its own (round 17c F4): the check run first, then the report issue,
        # then the setup pull request; one failing never loses the others. A failure that
        # passes (GitHub 5xx) retries the job once all were tried (each output is written
        # in place, so a retry adds none twice); any other is said on the check run.
        store.save_report(job.repo, issue_body)
        if not repo.has_issues:
            out.notices.append(ISSUES_DISABLED)
        out.complete()
        made = _try(out, "report issue", lambda: _report_issue(app, repo, out, issue_body))
        issue, created = made or (None, False)
        pull = _try(
            out,
            "setup pull request",
            lambda: _publish_setup_pr(
                app, repo, out, _setup_files(repo, dest, report, settings, config, work)
            ),
        )
    out.finish()
    return {
        "check_run": check.id,
        "issue": issue.number if issue else None,
        "issue_created": created,
        "pull": pull.number if pull else None,
        "verdict": verdict(report)[0],
        **({"notices": len(out.notices)} if out.notices else {}),
        **({"acceptance": why} if trial is not None else {}),
    }


ISSUES_DISABLED = (
    "**No report issue**: Issues are disabled on this repository (GitHub's default for a "
    "new fork), so this check run is the report. To get the report as an issue, where "
    "people with write access can also comment `/forkvet` commands, enable Issues (the "
    "repository's Settings → General → Features → Issues), then re-run this check."
)


@dataclass
class _Outputs:
    """What one vet publishes, and what went wrong publishing it."""

    check: CheckRun
    report: Report
    markdown: str
    config_error: str | None
    notices: list[str] = field(default_factory=list)
    said: int = 0  # notices already on the check run
    retry: BaseException | None = None

    def title(self) -> str:
        return f"forkvet: {verdict(self.report)[1]}"[:255]

    def summary(self) -> str:
        head = "".join(f"> {n}\n>\n" for n in self.notices).removesuffix(">\n")
        return f"{head}\n{self.markdown}" if head else self.markdown

    def complete(self) -> None:
        checks.complete(
            self.check,
            self.report,
            title=self.title(),
            summary=self.summary(),
            # a broken .github/forkvet.yml asks for action (unless an error already fails it)
            conclusion=(
                "action_required" if self.config_error and not self.report.has_errors else None
            ),
        )
        self.said = len(self.notices)

    def finish(self) -> None:
        """Say on the check run what failed after it was written; retry what may pass."""
        if len(self.notices) > self.said:
            # The title as the check run holds it (checks.complete made it a plain title).
            title = self.check.output.title or self.title()
            summary = self.summary()[: checks.SUMMARY_LIMIT]
            self.check.edit(output={"title": title, "summary": summary})
            self.said = len(self.notices)
        if self.retry is not None:
            raise Transient("an output failed for a reason that passes") from self.retry


def _try(out: _Outputs, what: str, write: Callable[[], T]) -> T | None:
    """write(), or None with a notice on the check run when it fails."""
    try:
        return write()
    except MemoryError:
        raise  # the job's memory budget: jobchild says so
    except Exception as exc:
        error_id = uuid.uuid4().hex[:12]
        log.warning(
            "output failed",
            exc_info=exc,
            extra={"output": what, "error_id": error_id, "error_type": type(exc).__name__},
        )
        if is_transient(exc):
            out.retry = out.retry or exc
            then = "forkvet tries again shortly"
        else:
            then = "re-run this check; if it fails again, give the App's operator the error id"
        writes = "issues" if what == "report issue" else "contents and pull requests"
        out.notices.append(
            f"**The {what} was not written** (error id `{error_id}`, in the App's log; "
            f"what GitHub answered stays there): the rest of this report stands. What to do: "
            f"check that the forkvet App may write this repository's {writes}, then {then}."
        )
        return None


def _report_issue(
    app: GitHubApp, repo: Repository, out: _Outputs, body: str
) -> tuple[Issue | None, bool]:
    found = _upsert_issue(app, repo, body)
    if found is None and repo.has_issues:  # disabled since the repository was read
        out.notices.append(ISSUES_DISABLED)
    return found or (None, False)


def _upsert_issue(app: GitHubApp, repo: Repository, body: str) -> tuple[Issue, bool] | None:
    """The report issue written (issue, created), or None when the repository has Issues
    disabled (GitHub answers 410 Gone: "Issues are disabled for this repo")."""
    if not repo.has_issues:
        return None
    try:
        return issues.upsert_report_issue(repo, body, creator=app_login(app))
    except GithubException as exc:
        if exc.status != 410:
            raise
        return None


def _too_large(check: CheckRun, exc: TreeTooLarge, settings: Settings) -> None:
    disk = (
        f" Each job's disk budget is {settings.job_disk_mb} MiB (what git fetches and the "
        f"checkout writes, files counted in whole 4 KiB blocks), set by the App's operator "
        f"(`FORKVET_JOB_DISK_MB`)."
        if settings.job_disk_mb
        else ""
    )
    checks.fail(
        check,
        "forkvet: not vetted: too many files or bytes to check out",
        f"**This repository was not vetted**: {md_inline(str(exc))}. Its tree was measured "
        f"before checkout and nothing was written. Nothing in this check says the repository "
        f"is safe.{disk} Not retried: the same tree is as large every time.\n\nWhat to do: "
        f"vet it on your own machine from a checkout you made (`forkvet vet FOLDER`), after "
        f"removing what makes it this large, or ask the App's operator for a larger budget.",
    )


def _refused(check: CheckRun, exc: CheckoutRefused) -> None:
    checks.fail(
        check,
        "forkvet: not vetted: git refuses to check out this tree",
        f"**This repository was not vetted**: {md_inline(str(exc))}. git fetched the commit "
        f"but refuses to write its tree (a path such as `.git/...` that no checkout may hold, "
        f"or an object git cannot read), so no clone of it can be checked out, here or on "
        f"your machine. Nothing in this check says the repository is safe. Not retried: the "
        f"same tree fails the same way every time.\n\nWhat to do: remove or rename the "
        f"path git names above in a new commit on the default branch (forkvet vets it on "
        f"the push), then re-run this check.",
    )


def branch_moved(dest: Path, check: CheckRun) -> dict[str, Any] | None:
    """The branch moved between reading its head and cloning it (round 21c F3: a push right
    after a malicious commit got that commit a green check for the newer, clean tree). The
    verdict of this tree is never published on the check run's commit: the run says so, never
    a success, and the push that moved the branch queued its own vet."""
    from forkvet.giveback.gitops import git

    cloned = git(dest, "rev-parse", "--verify", "-q", "HEAD^{commit}").stdout.strip()
    if cloned == check.head_sha:
        return None
    check.edit(
        status="completed",
        conclusion="neutral",
        output={
            "title": plain_title("forkvet: not vetted: the branch moved while this check ran"),
            "summary": (
                f"**This commit was not vetted**: the default branch moved to "
                f"{md_code(cloned[:12])} before its tree was fetched, and that tree's verdict "
                f"belongs to that commit. The push that moved it is vetted on its own check "
                f"run. Nothing in this check says this commit is safe: the newer commit's "
                f"check run has the verdict of the branch as it is now."
            ),
        },
    )
    return {"check_run": check.id, "skipped": "branch moved", "cloned": cloned}


def _open_repo(gh: Github, job: Job) -> tuple[Repository, str] | dict[str, Any]:
    """(repository, default branch head), or the job's result when it is gone."""
    try:
        repo = gh.get_repo(job.repo)
        return repo, repo.get_branch(repo.default_branch).commit.sha
    except GithubException as exc:
        if exc.status == 404:
            log.warning(
                "repository gone or not accessible; nothing to do",
                extra={"repo": job.repo, "job": job.id},
            )
            return {"skipped": "repository not found"}
        raise


def _check_run(repo: Repository, store: Store, job: Job, head: str) -> CheckRun:
    """The job's own check run (a retried job reuses it), else a new one on `head`."""
    if job.check_run_id:
        try:
            return repo.get_check_run(job.check_run_id)
        except GithubException:
            pass
    check = checks.start(repo, head)
    store.set_check_run(job.id, check.id)
    return check


def _effective_config(settings: Settings, repo: Repository) -> tuple[Config, str | None]:
    """The operator's policy is the floor; the fork's own file can only tighten it, and a
    broken one leaves the operator's policy in force (the error is returned, to be said) —
    but grants nothing: what uses the operator's credentials needs the fork's own opt-in too,
    and a file that does not parse opts in to nothing (round 17c F5)."""
    own, config_error = content.repo_config(repo, repo.default_branch)
    if config_error:
        return opted_out(settings.policy), config_error
    return tighten(settings.policy, own), config_error


def _vet_checkout(
    store: Store,
    job: Job,
    repo: Repository,
    dest: Path,
    config: Config,
    config_error: str | None,
    trial: Acceptance | None = None,
) -> tuple[Report, str | None]:
    snap = load(dest, name=repo.full_name, remote=repo.html_url)
    report = vet(snap, config)
    # The operator's acceptances (FORKVET_POLICY's accept:) and those people with write
    # access made with `/forkvet accept`: never the fork's own file.
    stored = config.accept + accepting.stored(store, job.repo)
    why = accept.apply(report, stored, dest, trial=trial, files=accept.snapshot_files(snap))
    if config_error:
        report.findings.append(
            Finding(
                "config",
                "warning",
                "Invalid .github/forkvet.yml",
                f"{config_error}; the App's policy was applied instead. Fix the file: "
                f"until then this check asks for action",
                path=".github/forkvet.yml",
            )
        )
    return report, why


def _publish_setup_pr(
    app: GitHubApp, repo: Repository, out: _Outputs, setup_files: SetupFiles
) -> PullRequest | None:
    login = app_login(app)
    setup = pulls.ensure_setup_pr(
        repo,
        setup_files.files,
        _pr_body(out.report, setup_files.notes, setup_files.files),
        login,
    )
    if setup.skipped_reason is None:
        return setup.pull
    if setup.pull is not None and setup.pull.user.login == login:
        setup.pull.create_issue_comment(
            f"forkvet did not update this pull request: {setup.skipped_reason}."
        )
        return setup.pull
    # Round 22c F2: a branch forkvet did not make (an upstream's, copied by a fork made with
    # all branches) left no word anywhere: every fork of that upstream silently lost its
    # setup pull request. Refused, said on the check run with what to do.
    log.warning("setup branch not the App's", extra={"why": setup.skipped_reason})
    out.notices.append(NOT_OUR_SETUP_BRANCH.format(branch=pulls.BRANCH, why=setup.skipped_reason))
    return None


NOT_OUR_SETUP_BRANCH = (
    "**No setup pull request**: this repository already has a branch `{branch}` that forkvet "
    "did not make ({why}). forkvet neither commits on it nor opens it as its setup pull "
    "request: a push with forkvet's token would run the workflows that branch holds, with "
    "this repository's secrets. An upstream can ship such a branch (a fork made with all "
    "branches copies it). What to do: look at what it holds, delete it (`git push origin "
    "--delete {branch}`, or the repository's Branches page), then re-run this check: forkvet "
    "makes its own."
)


def is_transient(exc: BaseException) -> bool:
    """Worth retrying later: GitHub 5xx, rate limits, network trouble, a fetch that failed,
    the App's own disk full. Never the repository's content: a tree git refuses or that is
    over a bound, a file the vet cannot read (an OSError that is no network error), a bug
    (round 17c F3: each retry would cost the job's budget again for the same failure)."""
    flag = getattr(exc, "transient", None)  # a job's child said so (bot.isolate)
    if isinstance(flag, bool):
        return flag
    if isinstance(exc, Transient | TimeoutError | ConnectionError | RequestException):
        return True
    if isinstance(exc, OSError):
        # socket-level failures (a resolver error, a reset) and a full disk on the App's side
        return isinstance(exc, socket.gaierror | socket.herror) or exc.errno in _HOST_ERRNOS
    status = getattr(exc, "status", 0)
    return isinstance(status, int) and (status >= 500 or status in (403, 429))


_HOST_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.ENETUNREACH, errno.EHOSTUNREACH})


def report_failure(
    settings: Settings, store: Store, job: Job, error_id: str, why: str | None = None
) -> None:
    """A job failed for good. The human is told what to do and given an id that finds the
    error in the App's log; the exception's text stays in the log (it can carry paths,
    URLs or a repository's own text). `why`: the App's own words for the failure."""
    p = job.payload
    gh = app_for(settings).client(int(p["installation_id"]))
    repo = gh.get_repo(job.repo)
    job = store.get(job.id) or job
    why = why or "forkvet stopped with an internal error"
    if job.kind == "vet" and job.check_run_id:
        check = repo.get_check_run(job.check_run_id)
        if check.status == "completed":
            # An earlier attempt published the report; what failed after it is added to it,
            # never put in its place (round 17c F4).
            check.edit(
                output={
                    "title": check.output.title,
                    "summary": (
                        f"> **Not everything was published**: {why} (error id `{error_id}`, "
                        f"in the App's log). Re-run this check to try again.\n\n"
                        + (check.output.summary or "")
                    )[: checks.SUMMARY_LIMIT],
                }
            )
            return
        checks.fail(
            check,
            "forkvet could not vet this repository",
            f"{why} (error id `{error_id}`, in the App's log).\n\nWhat to do: check that the "
            f"forkvet App can read this repository's contents, then re-run this check or "
            f"comment `/forkvet recheck` on the report issue. If it fails again, give the "
            f"App's operator the error id.",
        )
    elif job.kind == "comment" and p.get("issue_number"):
        # The command is read in the job (round 20c F11); a failed job may not have read it.
        said = p.get("command")
        command = md_code(f"/forkvet {said}") if said else "your `/forkvet` command"
        repo.get_issue(int(p["issue_number"])).create_comment(
            f"@{p.get('user')} forkvet could not run {command} "
            f"(error id `{error_id}`, in the App's log). Try again later; if it fails again, "
            f"give the App's operator the error id."
        )


def report_killed(
    settings: Settings, store: Store, job: Job, reason: str, detail: str, error_id: str
) -> None:
    """A job was stopped at its budget: the check run ends `timed_out` (time) or `failure`
    (memory, or no result), says so in words, and says what to do. Never a silent flip."""
    p = job.payload
    gh = app_for(settings).client(int(p["installation_id"]))
    repo = gh.get_repo(job.repo)
    job = store.get(job.id) or job
    what = {
        "time": "took longer than the time budget",
        "memory": "needed more memory than the memory budget",
        "disk": "needed more disk than the disk budget",
    }.get(reason, "stopped without a result")
    budgets = (
        f"forkvet vets each repository in a separate process with a time budget of "
        f"{settings.job_timeout_s:g} s (all attempts together), a memory budget of "
        f"{settings.job_memory_mb} MiB and a disk budget of {settings.job_disk_mb} MiB, set by "
        f"the App's operator (`FORKVET_JOB_TIMEOUT_S`, `FORKVET_JOB_MEMORY_MB`, "
        f"`FORKVET_JOB_DISK_MB`)."
    )
    message = (
        f"**This repository was not vetted**: vetting it {what} ({md_inline(detail)}), so "
        f"forkvet stopped it. Nothing in this check says the repository is safe.\n\n"
        f"{budgets} A repository usually goes past them when it holds very many or very "
        f"large files, or text built to slow parsers down.\n\nWhat to do: vet it on your "
        f"own machine with `forkvet vet .` (no budget there), or ask the App's operator to "
        f"raise the budget, then comment `/forkvet recheck` on the report issue. The App's "
        f"log has this under error id `{error_id}`."
    )
    if job.kind == "vet" and job.check_run_id:
        repo.get_check_run(job.check_run_id).edit(
            status="completed",
            conclusion="timed_out" if reason == "time" else "failure",
            output={"title": plain_title(f"forkvet: not vetted: {what}", 255), "summary": message},
        )
    elif job.kind == "comment" and p.get("issue_number"):
        repo.get_issue(int(p["issue_number"])).create_comment(f"@{p.get('user')} {message}")


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


def _pr_body(report: Report, notes: list[str], files: dict[str, str]) -> str:
    """The body lists exactly the files the pull request carries: it never promises one."""
    _status, line = verdict(report)
    adds = [
        "- `.github/workflows/forkvet.yml`: vet on every push; smoke test and training "
        "check on your self-hosted GPU runner"
    ]
    if "requirements.txt" in files:
        adds.append(
            "- `requirements.txt` and `environment.yml` (pinned by `forkvet env`): the "
            "repository declared no installable dependency list"
            + (", with `sbom.cdx.json`, their CycloneDX SBOM" if "sbom.cdx.json" in files else "")
        )
    adds.append("- `ATTRIBUTION.md`: a draft crediting the original authors")
    body = (
        f"forkvet vetted this fork: {md_inline(line, limit=None)}\n\nThis pull request adds:\n\n"
        + "\n".join(adds)
        + "\n\nforkvet keeps this branch up to date until someone pushes to it."
    )
    if notes:
        body += "\n\n### Notes\n\n" + "\n".join(f"- {n}" for n in notes)
    return body


def _web_hosts(settings: Settings) -> tuple[str, ...]:
    """Hosts whose https URLs the App links to: github.com, or a GitHub Enterprise Server's."""
    host = urlsplit(settings.api_url).hostname or ""
    return ("github.com",) if host in ("api.github.com", "") else ("github.com", host)


def _runtime_report(store: Store, full_name: str, runtime_line: str) -> str:
    """The report issue's body with this runtime line and the training trend kept."""
    markdown, runtime = store.save_runtime(full_name, runtime_line)
    trend = tracking.trend_table(store.train_results(full_name))
    return (
        (markdown or "forkvet has not vetted this repository yet.")
        + f"\n\n### Runtime checks\n\n{runtime}\n"
        + (f"\n### Training over commits\n\n{trend}" if trend else "")
    )


def _workflow_at(repo: Repository, sha: str) -> bytes | None:
    """The workflow file at the run's commit, through the contents API; None when absent, a
    folder, or over the API's 1 MB (sent without content: never a file the App renders)."""
    try:
        item = repo.get_contents(WORKFLOW_PATH, ref=sha)
    except GithubException as exc:
        if exc.status == 404:
            return None
        raise
    if isinstance(item, list) or item.encoding != "base64":
        return None
    return item.decoded_content


def fold_workflow_run(settings: Settings, store: Store, job: Job) -> dict[str, Any]:
    """The fork's forkvet workflow finished (the handler checked it is the fork's own run of
    its own workflow file): count it only when that file at its commit is one the App renders,
    then add its result to the report issue, with the training trend over commits, and a
    `forkvet GPU` check run on its commit. Nothing of the run's own text is shown unescaped."""
    p = job.payload
    run = p["workflow_run"]
    sha = str(run["head_sha"])
    where, logs = _run_where(settings, job.repo, run)
    app = app_for(settings)
    iid = int(p["installation_id"])
    repo = app.client(iid).get_repo(job.repo)
    if not _runs_our_workflow(settings, repo, sha):
        return _not_counted(
            app, store, job.repo, repo, sha, f"{where}: **not counted** (logs: {logs})"
        )
    config, _ = content.repo_config(repo)
    found = _run_result(app, iid, repo, run)
    entry = _record(store, job.repo, repo, run, found, config)
    line = f"{where}: **{md_inline(str(run.get('conclusion') or 'neutral'))}** (logs: {logs})"
    # Issues disabled: the `forkvet GPU` check run and the pull request comments still say it.
    issue = (_upsert_issue(app, repo, _runtime_report(store, job.repo, line)) or (None,))[0]
    check = _gpu_check(repo, run, line, logs, entry, config)
    plot = _artifact_link(settings, job.repo, run, found)
    number = issue.number if issue else None
    comments = _comment_on_pulls(app, repo, run, (logs, plot), found, entry, number)
    return {
        "issue": number,
        "check_run": check.id,
        "regression": bool(entry and entry["regression"]),
        "pull_comments": comments,
    }


def _run_where(settings: Settings, full_name: str, run: dict[str, Any]) -> tuple[str, str]:
    """(what ran where, the logs link): the run's URL is a link only to the fork's own runs
    on GitHub, else code."""
    url = str(run.get("html_url") or "")
    logs = md_url(url, _web_hosts(settings), f"/{full_name}/actions/runs/")
    where = (
        f"- GPU workflow `{WORKFLOW_PATH}` on {md_code(str(run['head_sha'])[:12])} "
        f"({md_inline(run.get('event') or '')} to {md_code(run.get('head_branch') or '?')})"
    )
    return where, logs


def _runs_our_workflow(settings: Settings, repo: Repository, sha: str) -> bool:
    workflow = _workflow_at(repo, sha)
    return workflow is not None and is_rendered(
        workflow, settings.action_repo, settings.action_ref, settings.runner_labels, settings.policy
    )


def _run_result(
    app: GitHubApp, iid: int, repo: Repository, run: dict[str, Any]
) -> artifacts.ArtifactResult | None:
    """The run's train-check result (its artifact), or None."""
    if not run.get("id"):
        return None
    return artifacts.run_artifact_result(repo, int(run["id"]), app.token(iid))


def _record(
    store: Store,
    full_name: str,
    repo: Repository,
    run: dict[str, Any],
    found: artifacts.ArtifactResult | None,
    config: Config,
) -> dict[str, Any] | None:
    """The result stored per commit and compared with the default branch's previous one;
    the stored entry, or None without a result."""
    if found is None:
        return None
    return tracking.record(
        store, full_name, run, found.result, repo.default_branch, config.train.max_slowdown / 100
    )


def _artifact_link(
    settings: Settings,
    full_name: str,
    run: dict[str, Any],
    found: artifacts.ArtifactResult | None,
) -> str | None:
    """A link to the artifact that holds the loss plot, on the fork's own run page (the App
    hosts no images: the plot stays in the artifact). None without one."""
    url = str(run.get("html_url") or "")
    if found is None or not url:
        return None
    return md_url(
        f"{url}/artifacts/{found.artifact_id}",
        _web_hosts(settings),
        f"/{full_name}/actions/runs/",
    )


def _comment_on_pulls(
    app: GitHubApp,
    repo: Repository,
    run: dict[str, Any],
    links: tuple[str, str | None],
    found: artifacts.ArtifactResult | None,
    entry: dict[str, Any] | None,
    issue_number: int | None,
) -> list[int]:
    """The one forkvet comment on each of the fork's own pull requests the run belongs to (the
    handler kept only those), written or updated in place; the comments' ids."""
    body = tracking.pr_comment(
        str(run["head_sha"]),
        str(run.get("conclusion") or "neutral"),
        links,
        found.result if found else None,
        entry,
        issue_number,
    )
    ids = []
    for number in run.get("pull_requests") or []:
        try:
            comment, _ = pr_comments.upsert_pr_comment(repo, int(number), body, app_login(app))
        except GithubException as exc:
            # A locked or deleted pull request: the report issue and the check run already
            # hold the result, and retrying the job would add a second check run.
            log.warning(
                "pull request comment failed",
                extra={"repo": repo.full_name, "pull": number, "status": exc.status},
            )
            continue
        ids.append(comment.id)
    return ids


def _gpu_check(
    repo: Repository,
    run: dict[str, Any],
    line: str,
    logs: str,
    entry: dict[str, Any] | None,
    config: Config,
) -> CheckRun:
    """A `forkvet GPU` check run on the commit the GPU jobs ran on, beside the static one."""
    conclusion = str(run.get("conclusion") or "neutral")
    title = f"GPU smoke test and training check: {conclusion}"
    summary = f"{line}\n\nThe job summaries on the run hold the details (loss chart, output tail)."
    if entry is not None and entry["regression"]:
        title += f" — regressed vs {str(entry['baseline_sha'])[:7]}"
        summary += "\n\n" + "\n".join(f"- {md_inline(r)}" for r in entry["reasons"])
        if config.train.fail_on_regression and conclusion == "success":
            conclusion = "failure"
    kwargs: dict[str, Any] = {}
    if logs.startswith("["):  # a link: the URL is the fork's own run on GitHub
        kwargs["details_url"] = str(run.get("html_url") or "")
    return repo.create_check_run(
        name=f"{checks.CHECK_NAME} GPU",
        head_sha=str(run["head_sha"]),
        status="completed",
        conclusion=conclusion,
        output={"title": plain_title(title, 255), "summary": summary},
        **kwargs,
    )


NOT_COUNTED = (
    "Merge the forkvet setup pull request (branch `{branch}`); the workflow file `{path}` "
    "on this commit is not the one forkvet proposed. Its run's result is not counted: that "
    "file may run anything, on any runner, without forkvet's checks. Runs count again from "
    "the first commit whose `{path}` is, byte for byte, the one in the setup pull request."
)


def _not_counted(
    app: GitHubApp,
    store: Store,
    full_name: str,
    repo: Repository,
    sha: str,
    line: str,
) -> dict[str, Any]:
    """A run of a workflow file forkvet did not render: never a success, and nothing of the
    file or the run's own result shown (only the App's own words, the commit and the run's
    escaped link). The report and a neutral `forkvet GPU` check say what to do."""
    todo = NOT_COUNTED.format(branch=pulls.BRANCH, path=WORKFLOW_PATH)
    body = _runtime_report(store, full_name, f"{line}\n\n{todo}")
    issue = (_upsert_issue(app, repo, body) or (None,))[0]
    check = repo.create_check_run(
        name=f"{checks.CHECK_NAME} GPU",
        head_sha=sha,
        status="completed",
        conclusion="neutral",
        output={
            "title": plain_title("Not counted: the workflow file on this commit is not forkvet's"),
            "summary": f"{line}\n\n{todo}",
        },
    )
    log.info("workflow run not counted", extra={"repo": full_name, "sha": sha})
    return {"issue": issue.number if issue else None, "check_run": check.id, "counted": False}


LockFactory = Callable[[], AbstractContextManager[None]]


HELP = """forkvet commands (comment on this issue; people with write access only):

- `/forkvet recheck`: vet the default branch again; update this report, the `forkvet` check \
run and the setup pull request
- `/forkvet upstream [SHA ...]`: draft this fork's fixes (all, or the commits named) as pull \
requests to the parent repository
- `/forkvet thank`: draft a thank-you issue to the parent repository's authors
- `/forkvet accept RULE PATH REASON [until YYYY-MM-DD]`: accept a reviewed finding (shown as \
accepted, no longer counted) until the date or until the file changes
- `/forkvet help`: this list"""


REFUSAL_REPLY_EVERY_S = 3600.0


def _command_of(store: Store, job: Job) -> dict[str, Any] | None:
    """The job's payload with the command the comment holds, read here, in the job child and
    on the tenant's budget, never in the web tier (round 20c F11); None when the comment
    holds none (a `/forkvet` line in code or a quote): then nothing is asked of GitHub and
    nothing is answered. A payload without a comment (a merged `upstream` pull request, an
    older App's job) names its command itself."""
    if not job.payload.get("comment"):
        return job.payload
    read = read_command(store.job_text(job.id) or "")
    if read is None:
        log.info("no command in the comment", extra={"repo": job.repo, "job": job.id})
        return None
    return {**job.payload, **read}


def comment_command(settings: Settings, store: Store, job: Job) -> dict[str, Any]:
    """A `/forkvet` command on the report issue, from someone with write access."""
    p = _command_of(store, job)
    if p is None:
        return {"ignored": "no command"}
    app = app_for(settings)
    gh = app.client(int(p["installation_id"]))
    repo = gh.get_repo(job.repo)
    user = p["user"]
    permission = "write" if p.get("trusted") else repo.get_collaborator_permission(user)
    issue = repo.get_issue(int(p["issue_number"]))
    if not p.get("trusted") and issue.user.login != app_login(app):
        # The marker can be copied into any issue: commands count only on the App's own.
        log.info("command ignored", extra={"repo": job.repo, "issue": issue.number})
        return {"ignored": "not forkvet's issue"}
    # A merged, labelled pull request was approved by someone who could merge it (trusted).
    if permission not in ("admin", "maintain", "write"):
        # One refusal reply per person and fork per REFUSAL_REPLY_EVERY_S (round 18c F7): a
        # reader commenting in a loop gets no bot comment per comment (watchers' notifications).
        if store.once_per(f"refusal:{job.repo}:{user}", REFUSAL_REPLY_EVERY_S):
            issue.create_comment(
                f"@{user} only people with write access to {job.repo} can run forkvet commands."
            )
            return {"refused": user}
        log.info("refusal not repeated", extra={"repo": job.repo, "user": user})
        return {"refused": user, "replied": False}
    if p.get("command") == "help":
        unknown = p.get("unknown")
        head = f"{md_code(f'/forkvet {unknown}')} is not a forkvet command. " if unknown else ""
        issue.create_comment(f"@{user} {head}{HELP}")
        return {"command": "help", "unknown": unknown}
    if is_free(job.kind, job.payload):
        # A writer's command that reads or writes the repository: run in the repository's
        # line, one job at a time (bot.store.is_free, round 21c F1).
        return {"bind": True, "command": p.get("command")}
    if p.get("command") == "accept":
        return _accept_command(settings, store, job, (gh, repo, issue), user, p)
    if p.get("command") in ("upstream", "thank"):
        issue.create_comment(f"@{user} {_give_back_reply(settings, store, job, app, repo, p)}")
        return {"command": p["command"]}
    result = vet_and_publish(settings, store, job)
    issue.create_comment(
        f"@{user} done: the report above and the `forkvet` check run are "
        f"up to date ({result.get('verdict')})."
    )
    return result


def _accept_command(
    settings: Settings,
    store: Store,
    job: Job,
    where: tuple[Github, Repository, Issue],
    user: str,
    p: dict[str, Any],
) -> dict[str, Any]:
    """`/forkvet accept`: the acceptance is tried in the vet that refreshes the report, and
    recorded only when it accepted a finding there (round 21c F5); the reply says which."""
    gh, repo, issue = where
    reported = p.get("reported") if isinstance(p.get("reported"), str) else None
    made = accepting.prepare(settings, gh, repo, user, str(p.get("args", "")), reported)
    if isinstance(made, str):
        issue.create_comment(f"@{user} {made}")
        return {"command": "accept", "refused": made}
    result = vet_and_publish(settings, store, job, trial=made)
    vetted = "acceptance" in result  # else the vet stopped early (the branch moved, …)
    why = result.pop("acceptance", "the report could not be made now; try again later")
    reply = accepting.settle(store, job.repo, made, why)
    issue.create_comment(f"@{user} {reply}" + (" The report above is up to date." * vetted))
    return {"command": "accept", **result, **({"refused": reply} if why else {})}


def _give_back_reply(
    settings: Settings,
    store: Store,
    job: Job,
    app: GitHubApp,
    repo: Repository,
    p: dict[str, Any],
) -> str:
    """The answer to `/forkvet upstream` or `/forkvet thank`: the drafts, or what failed."""
    try:
        return give_back(settings, app, repo, p, store)
    except Exception as exc:  # the human gets told what to do, the log gets the error
        if is_transient(exc):
            raise
        error_id = uuid.uuid4().hex[:12]
        log.exception(
            "command failed", extra={"repo": job.repo, "job": job.id, "error_id": error_id}
        )
        return (
            f"forkvet could not run `/forkvet {p['command']}` (error id `{error_id}`). "
            f"Check that this fork's parent repository still exists and that the "
            f"commits are on the default branch."
        )


UPSTREAM_LOCK_WAIT_S = 120


@contextmanager
def upstream_lock(store: Store, upstream: str) -> Iterator[None]:
    """Held from counting an upstream's pull requests (or looking up its thank-you) to opening
    one, across every fork's job and every worker: the operator's caps are per upstream, and
    two forks' jobs running at once must not both take the last slot (round 17c F1)."""
    name = f"upstream:{upstream.lower()}"
    deadline = time.monotonic() + UPSTREAM_LOCK_WAIT_S
    while not store.acquire(name, ttl=300):
        if time.monotonic() > deadline:
            raise Transient(f"another job holds {name}")
        time.sleep(0.5)
    try:
        yield
    finally:
        store.release(name)


def give_back(
    settings: Settings,
    app: GitHubApp,
    repo: Repository,
    p: dict[str, Any],
    store: Store | None = None,
) -> str:
    """Draft (or, with a user token and opt-in config, open) upstream fixes or a thank-you."""
    parent = repo.parent
    if parent is None:
        return "this repository is not a fork: there is no upstream to give back to."
    words = str(p.get("args", "")).split() if p["command"] == "upstream" else []
    if (word := not_a_sha(words)) is not None:
        # Bad input is named before anything is cloned (round 17c L1, round 20c F13).
        return (
            f"{md_code(word[:100])} is not a commit sha. `/forkvet upstream` drafts every fix "
            f"this fork has that upstream lacks; `/forkvet upstream SHA ...` only the commits "
            f"named, by their sha (7 to 40 hex digits) on the default branch. Nothing was "
            f"drafted."
        )
    lock = (lambda: upstream_lock(store, parent.full_name)) if store is not None else None
    # The operator's policy caps what the fork's own file may ask: upstream writes use the
    # operator's user token, so they need the operator's opt-in as well as the fork's.
    config, _ = _effective_config(settings, repo)
    token = app.token(int(p["installation_id"]))
    with fstree.temporary_folder("forkvet-giveback-") as tmp:
        dest, _ = _job_dirs(Path(tmp))
        _clone(repo.clone_url, token, dest, depth=None)
        base = fetch_upstream(dest, parent.clone_url)
        config = fork_own_opt_in(config, dest, repo, parent)
        if p["command"] == "thank":
            return _thank(settings, config, repo, parent, dest, lock)
        args = p.get("args", "")
        return _upstream(settings, config, repo, parent, dest, token, args, base, lock)


def fork_own_opt_in(
    config: Config, dest: Path, repo: Repository, parent: Repository | None = None
) -> Config:
    """Round 19c A4: the fork's opt-in to upstream writes (which use the operator's token)
    counts only when the fork's own commits wrote `.github/forkvet.yml`. A fork starts as a
    copy of the upstream's files: a file the fork never changed is the upstream's word, and
    the upstream cannot opt a fork in to pull requests and issues against itself. Round 21c
    F2: the file differs from the upstream's (set_in_fork) AND its last change came in by a
    push to the fork, and by none to the upstream (bot.optin: an upstream that rewinds its
    branch chooses both points set_in_fork compares with, but not the record of pushes)."""
    if set_in_fork(dest, CONFIG_PATH) and pushed_to_fork(repo, dest, CONFIG_PATH, parent):
        return config
    none = replace(config.upstream, open_pull_requests=False, thank_you=False)
    return replace(config, upstream=none)


def _thank(
    settings: Settings,
    config: Config,
    repo: Repository,
    parent: Repository,
    dest: Path,
    lock: LockFactory | None = None,
) -> str:
    from forkvet.github.client import user_client as client
    from forkvet.giveback.cli import thanks_text
    from forkvet.giveback.publish import thank

    title, body = thanks_text(vet(load(dest, name=repo.name)), parent.full_name, None)
    if settings.user_token and config.upstream.thank_you:
        status, url = thank(
            client(settings.user_token, settings.api_url),
            parent.full_name,
            title,
            body,
            lock() if lock else None,
        )
        return f"thank-you issue: {status}" + (f" — {url}" if url else "")
    return (
        "here is a draft thank-you issue (forkvet opens it only when both this "
        "fork's `.github/forkvet.yml`, changed by this fork's own commits, and the App's "
        "operator set `upstream.thank_you: true` and a user token is configured):\n\n"
        f"**{title}**\n\n{body}"
    )


def _upstream(
    settings: Settings,
    config: Config,
    repo: Repository,
    parent: Repository,
    dest: Path,
    token: str,
    args: str,
    base: str,
    lock: LockFactory | None = None,
) -> str:
    from forkvet.giveback.drafts import UnknownCommit, compare_url, plan
    from forkvet.giveback.gitops import git
    from forkvet.giveback.publish import UnsafeBranch

    # The fork's default branch, as just cloned: what every pushed branch is measured against.
    fork_ref = git(dest, "rev-parse", "--verify", "-q", "HEAD^{commit}").stdout.strip()
    try:
        result = plan(
            dest,
            parent.clone_url,
            base,
            args.split() or None,
            repo.owner.login,
            # The link's upstream: no "pass --upstream-repo" (a CLI flag) in the App's answer.
            compare_upstream=parent.html_url,
        )
    except UnknownCommit as exc:  # bad input is named (round 17c L1), never a generic failure
        return (
            f"{md_code(str(exc)[:100])} is not one of this fork's commits that upstream lacks: "
            f"name them by their sha on the default branch, or give none for every fix. "
            f"Nothing was drafted.{_choices(dest)}"
        )
    if not result.commits:
        return "this fork has no commits that upstream lacks."
    lines = []
    for draft in result.drafts:
        draft.compare_url = compare_url(
            parent.html_url, base, repo.owner.login, draft.branch, draft.title, draft.body
        )
        if draft.status == "drafted":
            try:
                _push_draft(
                    settings, config, repo, parent, dest, token, draft, base, fork_ref, lock
                )
            except UnsafeBranch as exc:  # the human is told why, and what to do
                draft.status, draft.message, draft.compare_url = "refused", str(exc), None
        lines.append(_draft_line(settings, draft))
    skipped = [c for c in result.commits if c["classification"] != "fix"]
    lines += [
        f"- {md_code(str(c['sha'])[:10])} {md_inline(c['subject'])}: "
        f"{md_inline(c['classification'])} ({md_inline(c['reason'])})"
        for c in skipped
    ]
    return (
        "upstream drafts (each drafted branch is pushed to this fork, holding the fix alone on "
        "the newest upstream commit this fork has):\n\n" + "\n".join(lines)
    )


def _choices(dest: Path, most: int = 10) -> str:
    """The commits `/forkvet upstream SHA` may name (the newest `most`), as reply lines."""
    from forkvet.giveback.gitops import UPSTREAM_REF, git

    out = git(
        dest, "log", "--no-merges", f"-n{most}", "--format=%H%x00%s", f"{UPSTREAM_REF}..", "--"
    )
    rows = [line.split("\x00", 1) for line in out.stdout.splitlines() if "\x00" in line]
    if not rows:
        return " This fork has no commits that upstream lacks."
    lines = [f"- {md_code(sha[:10])} {md_inline(subject[:200])}" for sha, subject in rows]
    return " The newest of them:\n\n" + "\n".join(lines)


def _push_draft(
    settings: Settings,
    config: Config,
    repo: Repository,
    parent: Repository,
    dest: Path,
    token: str,
    draft: Draft,
    base: str,
    fork_ref: str,
    lock: LockFactory | None = None,
) -> None:
    """The draft's branch on the fork (only if it brings the fork nothing but the fix:
    publish.check_branch); the pull request upstream only when both opted in."""
    from forkvet.github.client import user_client as client
    from forkvet.giveback.publish import open_pull, push_branch

    push_branch(dest, repo.clone_url, draft.branch, token, fork_ref, draft.commits)
    if settings.user_token and config.upstream.open_pull_requests:
        open_pull(
            client(settings.user_token, settings.api_url),
            parent.full_name,
            repo.full_name,
            draft,
            base,
            config.upstream.max_prs_per_hour,
            config.upstream.max_open_prs,
            lock() if lock else None,
        )


def _draft_line(settings: Settings, draft: Draft) -> str:
    # Commit subjects and messages are the fork's text: escaped; links only to GitHub.
    link = (
        f": open the pull request {md_url(draft.compare_url, _web_hosts(settings))}"
        if draft.compare_url and draft.status == "drafted"
        else ""
    )
    return (
        f"- **{md_inline(draft.title)}** — {md_inline(draft.status)}{link}"
        + (f" ({md_url(draft.url, _web_hosts(settings))})" if draft.url else "")
        + (f"\n\n{md_fence(draft.message)}" if draft.message else "")
    )


HANDLERS = {"vet": vet_and_publish, "workflow_run": fold_workflow_run, "comment": comment_command}
