"""GitHub Actions integration: step outputs, job summaries and annotations.

Written through github-action-utils (it writes GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files and
prints workflow commands). GitHub shows at most 10 warning and 10 error annotations per step,
so findings are aggregated into at most 10; summaries are capped below the 1 MiB limit.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import stat
import sys
from pathlib import Path
from typing import Any

from forkvet import cmdgate, rx
from forkvet.errors import InputError
from forkvet.escape import md_code, md_fence, md_inline, md_url, strip_ansi, visible
from forkvet.escape import title as plain_title
from forkvet.extras import require
from forkvet.safe_write import write_file

MAX_ANNOTATIONS = 10


def require_actions() -> None:
    """Outside a workflow step the runner's files do not exist: say so, not KeyError."""
    missing = [n for n in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY") if not os.environ.get(n)]
    if missing:
        raise InputError(
            f"{' and '.join(missing)} not set: `forkvet report` and --github write to the "
            "files of a GitHub Actions step; run them inside a workflow"
        )


def _gha() -> Any:
    require_actions()
    # Imported when used: `forkvet vet` must work without the runtime extra installed.
    return require("github_action_utils")


SUMMARY_LIMIT = 1_000_000


def _summary(markdown: str) -> None:
    if len(markdown.encode()) > SUMMARY_LIMIT:
        markdown = markdown[: SUMMARY_LIMIT // 2] + "\n\n… (truncated)\n"
    _gha().append_job_summary(markdown)


def _annotate(items: list[tuple[str, str, str, str | None, int | None]]) -> None:
    """items: (severity, title, message, file, line); aggregated to at most 10."""
    shown = items[:MAX_ANNOTATIONS]
    if len(items) > MAX_ANNOTATIONS:
        rest = len(items) - MAX_ANNOTATIONS + 1
        more = f"… and {rest} more findings: see the job summary"
        shown = [*items[: MAX_ANNOTATIONS - 1], ("warning", "forkvet", more, None, None)]
    g = _gha()
    # The runner processes these lines and no other of forkvet's (forkvet.cmdgate).
    with cmdgate.speaking():
        for severity, title, message, file, line in shown:
            fn = {"error": g.error, "warning": g.warning}.get(severity, g.notice)
            # Every annotation passes here: invisible and acting characters shown as escapes
            # (forkvet.escape.visible), then github-action-utils applies GitHub's own escaping.
            fn(
                visible(message, keep="\r\n\t"),
                title=visible(title),
                file=visible(file) if file is not None else None,
                line=line,
            )


def publish_vet(data: dict[str, Any]) -> None:
    from forkvet.render import to_markdown, verdict
    from forkvet.report_io import report_from_dict

    report = report_from_dict(data)
    status, line = verdict(report)
    _gha().set_output("verdict", status)
    _gha().set_output("summary", line)
    _gha().set_output("license", report.license.spdx or "none")
    _gha().set_output("commercial-use", str(report.license.commercial_use).lower())
    _gha().set_output("python", report.python.recommended or "")
    _summary(to_markdown(report))
    _annotate(
        [
            (f.severity, f"forkvet: {f.title}", f.message, f.path, f.line)
            for f in report.sorted_findings()
            if f.severity != "notice"
        ]
    )


def publish_smoke(data: dict[str, Any]) -> None:
    _gha().set_output("smoke-verdict", data["verdict"])
    md = [f"### forkvet smoke test: {md_inline(data['verdict'])}", ""]
    if data.get("command"):
        md += [
            f"Command ({md_inline(data.get('command_source') or '')}):",
            "",
            md_fence(data["command"], "sh"),
            "",
            f"Exit code {md_inline(data.get('exit_code'))} in {md_inline(data.get('duration'))} s"
            + (" — timed out" if data.get("timed_out") else ""),
        ]
    imports = data.get("imports")
    if imports:
        md.append(
            f"Imports: {md_inline(imports['modules'])} module(s), {len(imports['failures'])} failed"
        )
    md.append(
        f"GPU: {md_inline(data.get('gpu') or 'none visible')}"
        + (
            f", peak {data['peak_gpu_memory_mib']:.0f} MiB"
            if number(data.get("peak_gpu_memory_mib"))
            else ""
        )
    )
    md += [f"- {md_inline(r, limit=1000)}" for r in data.get("reasons", [])]
    if data.get("tail"):
        md += [
            "",
            "<details><summary>Last lines of output</summary>",
            "",
            md_fence("\n".join(strip_ansi(str(t)) for t in data["tail"][-30:])),
            "</details>",
        ]
    _summary("\n".join(md) + "\n")
    if data["verdict"] == "fail":
        _annotate(
            [("error", "forkvet smoke test failed", r, None, None) for r in data.get("reasons", [])]
            or [("error", "forkvet smoke test failed", "see the job summary", None, None)]
        )


_PNG = b"\x89PNG\r\n\x1a\n"


def number(value: object) -> str:
    """A finite number as its text; anything else (a string, `1e999`, a bool) as ""."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    return str(value) if math.isfinite(value) else ""


def _losses(value: object) -> str:
    """The loss series as JSON: finite numbers and null (NaN/Inf), else ""."""
    ok = isinstance(value, list) and all(v is None or number(v) for v in value)
    return json.dumps(value) if ok else ""


def plot_output(plot: object, result: str | None) -> str:
    """The `plot` output: a PNG file named `loss.png`, not through a link, inside the folder
    of the result file it was read from (`result`; None: forkvet's own result in memory) —
    where forkvet draws it. Any other path a result names is not published: a train.json
    written where the repository's code ran named any file of the runner (round 22b F14)."""
    if not isinstance(plot, str) or os.path.basename(plot) != "loss.png":
        return ""
    if result is not None:
        home = os.path.realpath(os.path.dirname(os.path.abspath(result)))
        if not os.path.realpath(plot).startswith(home.rstrip("/") + "/"):
            return ""
    try:
        fd = os.open(plot, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return ""
    try:
        png = stat.S_ISREG(os.fstat(fd).st_mode) and os.read(fd, len(_PNG)) == _PNG
    finally:
        os.close(fd)
    return plot if png else ""


def publish_train(data: dict[str, Any], result: str | None = None) -> None:
    """Outputs are typed: the verdict (checked on reading), numbers as numbers, the plot by
    `plot_output`. `result`: the file `data` was read from (`forkvet report`)."""
    _gha().set_output("train-verdict", data["verdict"])
    _gha().set_output("losses", _losses(data.get("losses")))
    _gha().set_output("plot", plot_output(data.get("plot"), result))
    _gha().set_output("steps-per-second", number(data.get("steps_per_second")))
    md = [f"### forkvet training check: {md_inline(data['verdict'])}", ""]
    base = data.get("baseline")
    if isinstance(base, dict):
        # the comparison first: it is what changed since the last commit
        head = (
            "**Slower** than the baseline (the loss is not worse)"
            if base.get("slower_only")
            else "**Regressed** against the baseline"
            if base.get("regression")
            else "Baseline"
        )
        md.append(f"{head} {md_code(str(base.get('baseline') or '')[-40:])}:")
        md += [f"- {md_inline(r, limit=1000)}" for r in base.get("reasons", [])]
        md.append("")
    md += [f"- {md_inline(r, limit=1000)}" for r in data.get("reasons", [])]
    if number(data.get("steps_per_second")):
        md.append(f"- {number(data['steps_per_second'])} steps/s")
    if number(data.get("peak_gpu_memory_mib")):
        md.append(f"- GPU {md_inline(data.get('gpu'))}: peak {data['peak_gpu_memory_mib']:.0f} MiB")
    if _chart(data):
        md += ["", _chart(data)]
    _summary("\n".join(md) + "\n")
    if data["verdict"] == "fail":
        _annotate(
            [
                ("error", "forkvet training check failed", r, None, None)
                for r in data.get("reasons", [])[:3]
            ]
        )


def publish_env(data: dict[str, Any], path: str) -> None:
    """forkvet env --format json: outputs and a summary of the pins and problems."""
    verify = data.get("verify") or {"ok": True}
    complete = bool(data.get("complete")) and bool(verify.get("ok"))
    files = [str(f) for f in data.get("files") or []]
    _gha().set_output("python", str(data.get("python") or ""))
    _gha().set_output("complete", str(complete).lower())
    _gha().set_output(
        "requirements", next((f for f in files if f.endswith("requirements.txt")), "")
    )
    _gha().set_output("result", path)
    md = [
        f"### forkvet environment: Python {md_inline(data.get('python'))}, as of "
        f"{md_inline(data.get('as_of'))}",
        "",
    ]
    md += [
        f"- {md_inline(r.get('name'))}=={md_inline(r.get('version'))}"
        for r in data.get("requirements") or []
        if r.get("kind") != "transitive"
    ]
    md += [f"- ⚠️ {md_inline(p, limit=1000)}" for p in data.get("problems") or []]
    _summary("\n".join(md) + "\n")


def publish_upstream(data: dict[str, Any], path: str) -> None:
    """forkvet upstream --format json: outputs and a summary of the fork's commits and drafts
    (commit subjects are the fork's text: escaped; compare links only to the GitHub host)."""
    import os
    from urllib.parse import urlsplit

    drafts = data.get("drafts") or []
    _gha().set_output("result", path)
    _gha().set_output("drafts", str(len(drafts)))
    server = urlsplit(os.environ.get("GITHUB_SERVER_URL", "")).hostname
    hosts = ("github.com", server) if server else ("github.com",)
    md = ["### forkvet: fixes to send upstream", ""]
    for c in data.get("commits") or []:
        md.append(
            f"- {md_code(str(c.get('sha', ''))[:10])} {md_inline(c.get('subject'))}: "
            f"**{md_inline(c.get('classification'))}** ({md_inline(c.get('reason'))})"
        )
    for d in drafts:
        link = ""
        if d.get("compare_url"):
            link = f" — open the pull request: {md_url(d['compare_url'], hosts)}"
        md.append(f"- draft **{md_inline(d.get('title'))}**: {md_inline(d.get('status'))}{link}")
        if d.get("status") in ("conflict", "refused") and d.get("message"):
            md += ["", md_fence(str(d["message"]), limit=4000), ""]  # why, and what to do
    _summary("\n".join(md) + "\n")


_CHART = rx.compile(
    r'```mermaid\nxychart-beta\n    title "[\w ()-]*"\n    x-axis "[\w ()]*" 1 --> \d+\n'
    r'    y-axis "loss" [-\d.e+]+ --> [-\d.e+]+\n    line \[[-\d.e+, ]*\]\n```\n?'
)


def _chart(data: dict[str, Any]) -> str:
    """forkvet's own Mermaid loss chart, and nothing else that could sit in that field."""
    chart = data.get("chart")
    return chart if isinstance(chart, str) and _CHART.fullmatch(chart) else ""


def publish_check_run(name: str, title: str, summary: str, conclusion: str) -> str:
    """A check run on the workflow's commit when the token may write one. Tokens of pull
    requests from forks are read-only: then the job summary is all there is, and we say so."""
    import os

    require("github")
    from github import Auth, Github, GithubException

    token, repo_name = os.environ.get("GITHUB_TOKEN"), os.environ.get("GITHUB_REPOSITORY")
    sha = os.environ.get("GITHUB_SHA")
    if not (token and repo_name and sha):
        return "skipped: no GITHUB_TOKEN, GITHUB_REPOSITORY or GITHUB_SHA"
    gh = Github(
        auth=Auth.Token(token),
        base_url=os.environ.get("GITHUB_API_URL", "https://api.github.com"),
        seconds_between_requests=0,
        seconds_between_writes=0,
        retry=None,
    )
    try:
        gh.get_repo(repo_name).create_check_run(
            name=name,
            head_sha=sha,
            status="completed",
            conclusion=conclusion,
            output={"title": plain_title(title, 255), "summary": summary[:60_000]},
        )
    except GithubException as exc:
        if exc.status in (401, 403, 404):
            with cmdgate.speaking():
                _gha().notice(
                    "The token cannot write check runs here (pull requests from forks get "
                    "a read-only token): the results are in the job summary.",
                    title="forkvet",
                )
            return f"degraded: {exc.status}"
        raise
    return "created"


def _utf8(value: Any) -> Any:
    """Strings that can be written as UTF-8: JSON may spell a lone surrogate (`\\udcff`),
    which no output file takes; it is shown as its escape."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_utf8(v) for v in value]
    if isinstance(value, dict):
        return {_utf8(k): _utf8(v) for k, v in value.items()}
    return value


# A result file is forkvet's own, but written where the repository's code ran (train.json):
# read as untrusted input, bounded, every way it can fail one line.
MAX_RESULT_BYTES = 64 << 20
_VERDICTS = ("pass", "fail", "inconclusive", "skipped")


def _read_result(path: str) -> dict[str, Any]:
    from forkvet import safeparse
    from forkvet.userfile import read_regular

    raw = read_regular(path, MAX_RESULT_BYTES, "result file")
    try:
        data = _utf8(safeparse.json_loads(raw.decode("utf-8")))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not a forkvet JSON result: not UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} is not a forkvet JSON result: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path} is not a forkvet JSON result")
    verdict = data.get("verdict")
    if verdict is not None and verdict not in _VERDICTS:
        raise InputError(f"{path}: verdict must be one of {', '.join(_VERDICTS)}")
    return data


def cmd_report(args: argparse.Namespace) -> int:
    """Publish JSON results written by vet/smoke/train-check to the Actions runner."""
    status = 0
    for kind, path in (("vet", args.vet), ("smoke", args.smoke), ("train", args.train)):
        if not path:
            continue
        data = _read_result(path)
        if kind == "train":
            publish_train(data, path)
        else:
            {"vet": publish_vet, "smoke": publish_smoke}[kind](data)
        failed = data.get("verdict") == "fail" or (
            kind == "vet" and any(f.get("severity") == "error" for f in data.get("findings", []))
        )
        status = status or (1 if failed else 0)
        if args.check_run:
            summary, conclusion = _check_run_text(kind, data, failed)
            publish_check_run(
                f"forkvet {kind}" if kind != "vet" else "forkvet",
                summary.splitlines()[0],
                summary,
                conclusion,
            )
    for kind, path in (("env", args.env), ("upstream", args.upstream)):
        if path:
            {"env": publish_env, "upstream": publish_upstream}[kind](_read_result(path), path)
    if not (args.vet or args.smoke or args.train or args.env or args.upstream):
        raise InputError("give at least one of --vet, --smoke, --train, --env, --upstream")
    return status if args.fail_on_error else 0


def register(sub: Any) -> None:
    r = sub.add_parser(
        "report",
        help="publish results to GitHub Actions (outputs, job summary, annotations)",
        description="Write forkvet's JSON results to the Actions runner: step "
        "outputs (GITHUB_OUTPUT), a Markdown job summary "
        "(GITHUB_STEP_SUMMARY) and at most 10 annotations.",
    )
    r.add_argument("--vet", metavar="JSON", help="output of forkvet vet --format json")
    r.add_argument("--smoke", metavar="JSON", help="output of forkvet smoke --format json")
    r.add_argument("--train", metavar="JSON", help="output of forkvet train-check --format json")
    r.add_argument("--env", metavar="JSON", help="output of forkvet env --format json")
    r.add_argument("--upstream", metavar="JSON", help="output of forkvet upstream --format json")
    r.add_argument("--fail-on-error", action="store_true", help="exit 1 when a result failed")
    r.add_argument(
        "--check-run",
        action="store_true",
        help="also create a check run (needs GITHUB_TOKEN with checks: write)",
    )
    r.set_defaults(func=cmd_report)
    b = sub.add_parser(
        "baseline",
        help="fetch the default branch's latest train-check result (GitHub Actions)",
        description="Find the newest successful run of this workflow on the default branch "
        "(pushes of this repository only) and write its uploaded train-check result, for "
        "`forkvet train-check --baseline`. Needs GITHUB_TOKEN with actions: read.",
    )
    b.add_argument("--out", required=True, metavar="FILE", help="write the result here")
    b.add_argument("--branch", help="default: the repository's default branch")
    b.add_argument("--workflow", help="workflow file name (default: the running workflow's)")
    b.set_defaults(func=cmd_baseline)


def cmd_baseline(args: argparse.Namespace) -> int:
    """The latest train-check result of the default branch, from the forkvet workflow's
    artifacts: the train-check action's `baseline: auto`."""
    require("github")
    from github import Auth, Github, GithubException

    from forkvet.github.artifacts import latest_result

    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    repo_name = os.environ.get("GITHUB_REPOSITORY")
    if not token or not repo_name:
        raise InputError(
            "forkvet baseline runs in GitHub Actions: GITHUB_TOKEN and "
            "GITHUB_REPOSITORY must be set"
        )
    workflow = (
        args.workflow
        or os.environ.get("GITHUB_WORKFLOW_REF", "").split("@")[0].rsplit("/", 1)[-1]
        or "forkvet.yml"
    )
    gh = Github(
        auth=Auth.Token(token),
        base_url=os.environ.get("GITHUB_API_URL") or "https://api.github.com",
    )
    try:
        repo = gh.get_repo(repo_name)
        found = latest_result(repo, token, branch=args.branch, workflow=workflow)
    except GithubException as exc:
        found = None
        print(
            f"forkvet baseline: cannot read the runs ({exc.status}); no comparison", file=sys.stderr
        )
    if found is None:
        print("forkvet baseline: no earlier result on the default branch; no comparison")
        return 0
    found.result["commit"] = found.head_sha
    _write_new(Path(args.out), json.dumps(found.result))
    print(f"forkvet baseline: run {found.run_id} on {found.head_sha[:12]} -> {args.out}")
    return 0


def _write_new(path: Path, text: str) -> None:
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise InputError(f"{path}: refusing to write through a link or over a folder")
    write_file(path, text)  # without following links, credentials removed (safe_write)


def _check_run_text(kind: str, data: dict[str, Any], failed: bool) -> tuple[str, str]:
    if kind == "vet":
        from forkvet.render import to_markdown
        from forkvet.report_io import report_from_dict

        return to_markdown(report_from_dict(data)), "failure" if failed else "success"
    lines = [
        f"forkvet {kind}: {md_inline(data['verdict'])}",
        "",
        *[f"- {md_inline(r, limit=1000)}" for r in data.get("reasons", [])],
    ]
    if _chart(data):
        lines += ["", _chart(data)]
    conclusion = {"pass": "success", "fail": "failure"}.get(data["verdict"], "neutral")
    return "\n".join(lines), conclusion
