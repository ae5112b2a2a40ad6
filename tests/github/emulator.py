"""A stateful GitHub REST emulator for the tests (Flask on 127.0.0.1).

PyGithub talks to it over real HTTP. Every request and response is validated against
GitHub's official OpenAPI description (trimmed by trim_openapi.py), so a call the real API
would reject, or a response it would never send, is recorded in `errors` and fails the test.
Responses are built from the description's own examples, with this emulator's URLs. Repos
are real bare git repositories on disk; contents, refs and compares go through real git.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import os
import re
import secrets
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from flask import Flask, Response, request
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from werkzeug.serving import make_server

ROOT = "https://api.github.com"


def _git(
    bare: Path, *args: str, input: bytes | None = None, env: dict[str, str] | None = None
) -> bytes:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        ["git", "--git-dir", str(bare), *args],
        input=input,
        capture_output=True,
        check=True,
        env=full_env,
    ).stdout


@dataclass
class RepoState:
    owner: str
    name: str
    bare: Path
    id: int
    fork: bool = True
    default_branch: str = "main"
    archived: bool = False
    has_issues: bool = True
    parent: str | None = None
    issues: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    permissions: dict[str, str] = field(default_factory=dict)
    workflow_runs: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    # GitHub's record of the pushes to the repository (GET .../activity): a push through
    # `commit` is one; a repository's creation (a fork's copy) and `bare` ref moves are none.
    activity: list[dict[str, Any]] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Fault:
    method: str
    pattern: str
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)


class GitHubEmulator:
    def __init__(
        self,
        workdir: Path,
        spec_path: Path,
        app_id: int,
        public_key: str,
        app_slug: str = "forkvet",
    ) -> None:
        self.workdir = workdir
        self.spec = json.loads(spec_path.read_text())
        self.openapi = OpenAPI.from_dict(self.spec)
        self.examples = self.spec["components"]["examples"]
        self.app_id, self.public_key, self.app_slug = app_id, public_key, app_slug
        self.repos: dict[str, RepoState] = {}
        self.tokens: dict[str, datetime] = {}
        self.token_users: dict[str, str] = {}  # user tokens -> login (installation: the bot)
        self.errors: list[str] = []
        self.calls: list[tuple[str, str, int]] = []
        self.faults: list[Fault] = []
        # "METHOD /path" -> seconds to stall before answering (a slow or hung GitHub).
        self.delays: dict[str, float] = {}
        self.lock = threading.RLock()
        self.blobs: dict[str, bytes] = {}
        self.blob_auth: list[str | None] = []
        self._ids = itertools.count(1000)
        self.flask = self._build()
        self.server = make_server("127.0.0.1", 0, self.flask, threaded=True)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> GitHubEmulator:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()

    @property
    def bot_login(self) -> str:
        return f"{self.app_slug}[bot]"

    # -- state ----------------------------------------------------------------------------
    def add_repo(
        self,
        owner: str,
        name: str,
        files: dict[str, str],
        fork: bool = True,
        parent: str | None = "upstream-org/model",
    ) -> RepoState:
        bare = self.workdir / f"{owner}__{name}.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
        repo = RepoState(owner, name, bare, next(self._ids), fork=fork, parent=parent)
        # One fixed date (unless the test sets one): a fork and its upstream created from the
        # same files share their root commit even when created in different seconds.
        date = os.environ.get("GIT_COMMITTER_DATE", "2024-01-02T03:04:05+00:00")
        self.commit(
            repo,
            "main",
            files,
            "initial import",
            author=("Ada Author", "ada@example.org"),
            date=date,
        )
        self.repos[repo.full_name] = repo
        return repo

    def commit(
        self,
        repo: RepoState,
        branch: str,
        files: dict[str, str],
        message: str,
        author: tuple[str, str] | None = None,
        date: str | None = None,
    ) -> str:
        name, email = author or (self.bot_login, f"{self.app_slug}[bot]@users.noreply.github.com")
        index = self.workdir / f"idx-{secrets.token_hex(4)}"
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_INDEX_FILE": str(index),
        }
        if date:
            env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        parent = self.sha(repo, branch)
        if parent:
            _git(repo.bare, "read-tree", parent, env=env)
        for path, content in files.items():
            blob = (
                _git(repo.bare, "hash-object", "-w", "--stdin", input=content.encode(), env=env)
                .decode()
                .strip()
            )
            _git(
                repo.bare, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env
            )
        tree = _git(repo.bare, "write-tree", env=env).decode().strip()
        args = ["commit-tree", tree, "-m", message] + (["-p", parent] if parent else [])
        sha = _git(repo.bare, *args, env=env).decode().strip()
        _git(repo.bare, "update-ref", f"refs/heads/{branch}", sha)
        Path(env["GIT_INDEX_FILE"]).unlink(missing_ok=True)
        if repo.full_name in self.repos:  # added already: a push, not the copy it began as
            repo.activity.insert(0, self._push(repo, branch, parent, sha))
        return sha

    def _push(self, repo: RepoState, branch: str, before: str | None, after: str) -> Any:
        n = next(self._ids)
        return {
            "id": n,
            "node_id": f"A_{n}",
            "before": before or "0" * 40,
            "after": after,
            "ref": f"refs/heads/{branch}",
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "activity_type": "push" if before else "branch_creation",
            "actor": self.user(repo.owner),
        }

    def sha(self, repo: RepoState, ref: str) -> str | None:
        try:
            return (
                _git(repo.bare, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}").decode().strip()
            )
        except subprocess.CalledProcessError:
            return None

    def user_token(self, login: str) -> str:
        token = "ghp_" + secrets.token_hex(18)
        self.tokens[token] = datetime.now(UTC) + timedelta(days=30)
        self.token_users[token] = login
        return token

    def add_comment(self, repo: RepoState, number: int, body: str, login: str) -> dict[str, Any]:
        """A comment on issue or pull request `number`, written by `login`."""
        c = {"id": next(self._ids), "issue": number, "body": body, "_user": login, "_edits": 0}
        repo.comments.append(c)
        return c

    def fail_next(
        self,
        method: str,
        pattern: str,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.faults.append(Fault(method, pattern, status, times, headers or {}))

    def add_workflow_run(
        self,
        repo: RepoState,
        head_sha: str,
        branch: str | None = None,
        conclusion: str = "success",
        event: str = "push",
        artifacts: dict[str, bytes] | None = None,
        head_repo: RepoState | None = None,
        path: str = ".github/workflows/forkvet.yml",
    ) -> dict[str, Any]:
        """A finished run of a workflow, with uploaded artifacts (name -> zip bytes); returns
        its JSON as the API and the `workflow_run` webhook show it."""
        run = self.example("workflow-run")
        run_id = next(self._ids)
        api = f"{self.base_url}/repos/{repo.full_name}/actions/runs/{run_id}"
        run.update(
            {
                "id": run_id,
                "name": "forkvet",
                "path": path,
                "head_sha": head_sha,
                "head_branch": branch or repo.default_branch,
                "event": event,
                "status": "completed",
                "conclusion": conclusion,
                "url": api,
                "artifacts_url": f"{api}/artifacts",
                "html_url": f"https://github.com/{repo.full_name}/actions/runs/{run_id}",
                "repository": self._minimal_repo(repo),
                "head_repository": self._minimal_repo(head_repo or repo),
                "pull_requests": [],
            }
        )
        repo.workflow_runs.insert(0, run)
        for name, data in (artifacts or {}).items():
            art = self.example("artifact-paginated")["artifacts"][0]
            aid = next(self._ids)
            aapi = f"{self.base_url}/repos/{repo.full_name}/actions/artifacts/{aid}"
            art.update(
                {
                    "id": aid,
                    "name": name,
                    "size_in_bytes": len(data),
                    "url": aapi,
                    "archive_download_url": f"{aapi}/zip",
                    "expired": False,
                    "workflow_run": {
                        "id": run_id,
                        "repository_id": repo.id,
                        "head_repository_id": (head_repo or repo).id,
                        "head_branch": run["head_branch"],
                        "head_sha": head_sha,
                    },
                    "_run_id": run_id,
                    "_data": data,
                }
            )
            repo.artifacts.append(art)
        return run

    def _minimal_repo(self, repo: RepoState) -> dict[str, Any]:
        full = self.repo_json(repo)
        keep = self.example("workflow-run")["repository"]
        return {k: full.get(k, v) for k, v in keep.items()}

    # -- JSON built from GitHub's own examples -------------------------------------------------
    def example(self, name: str) -> Any:
        value = copy.deepcopy(self.examples[name]["value"])
        return json.loads(json.dumps(value).replace(ROOT, self.base_url))

    def user(self, login: str, bot: bool = False) -> dict[str, Any]:
        u = self.example("issue")["user"]
        u.update(
            {
                "login": login,
                "type": "Bot" if bot else "User",
                # GitHub percent-encodes a bot's login in its URLs (forkvet%5Bbot%5D)
                "url": f"{self.base_url}/users/{urllib.parse.quote(login, safe='')}",
            }
        )
        return u

    def repo_json(self, repo: RepoState) -> dict[str, Any]:
        r = self.example("full-repository-default-response")
        api = f"{self.base_url}/repos/{repo.full_name}"
        for key, value in list(r.items()):
            if isinstance(value, str) and "/repos/octocat/Hello-World" in value:
                r[key] = value.replace(f"{self.base_url}/repos/octocat/Hello-World", api)
        r.update(
            {
                "id": repo.id,
                "name": repo.name,
                "full_name": repo.full_name,
                "owner": self.user(repo.owner),
                "fork": repo.fork,
                "url": api,
                "default_branch": repo.default_branch,
                "archived": repo.archived,
                "has_issues": repo.has_issues,
                "clone_url": f"file://{repo.bare}",
                "html_url": f"https://github.example/{repo.full_name}",
            }
        )
        # GitHub's own example omits `language`, which its schema requires; `source` and
        # `template_repository` are optional and carry the same gap.
        r["language"] = "Python"
        r.pop("source", None)
        r.pop("template_repository", None)
        if repo.parent and repo.parent in self.repos:
            r["parent"] = self.repo_json(self.repos[repo.parent])
        elif repo.parent:
            parent = copy.deepcopy(r)
            parent.pop("parent", None)
            owner, name = repo.parent.split("/", 1)
            parent.update(
                {
                    "full_name": repo.parent,
                    "name": name,
                    "owner": self.user(owner),
                    "fork": False,
                    "id": repo.id + 100000,
                }
            )
            r["parent"] = parent
        else:
            r.pop("parent", None)
        return r

    # -- the Flask app --------------------------------------------------------------------
    def _build(self) -> Flask:
        app = Flask("github-emulator")
        routes: list[tuple[str, re.Pattern[str], Callable[..., Any]]] = []

        def route(method: str, pattern: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
            def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
                routes.append((method, re.compile(f"^{pattern}$"), fn))
                return fn

            return deco

        @app.route("/<path:path>", methods=["GET", "POST", "PATCH", "PUT", "DELETE"])
        def dispatch(path: str) -> Response:
            full = "/" + path
            stall = self.delays.get(f"{request.method} {full}")
            if stall:
                time.sleep(stall)
            with self.lock:
                for fault in self.faults:
                    if (
                        fault.method == request.method
                        and re.search(fault.pattern, full)
                        and fault.times > 0
                    ):
                        fault.times -= 1
                        self.calls.append((request.method, full, fault.status))
                        return Response(
                            json.dumps({"message": "injected fault"}),
                            fault.status,
                            headers=fault.headers,
                            mimetype="application/json",
                        )
            self._validate_request()
            for method, rx, fn in routes:
                m = rx.match(full)
                if m and method == request.method:
                    denied = self._auth(full)
                    if denied:
                        return denied
                    with self.lock:
                        status, body, *extra = fn(**m.groupdict())
                    if 300 <= status < 400:  # a redirect (artifact downloads): no body
                        resp = Response(b"", status, headers=extra[0] if extra else {})
                    else:
                        resp = Response(json.dumps(body), status, mimetype="application/json")
                    self.calls.append((request.method, full, status))
                    if status < 400:
                        self._validate_response(resp)
                    return resp
            self.calls.append((request.method, full, 404))
            return Response(json.dumps({"message": "Not Found"}), 404, mimetype="application/json")

        def repo_or_404(owner: str, repo: str) -> RepoState:
            state = self.repos.get(f"{owner}/{repo}")
            if state is None:
                raise _NotFound()
            return state

        @app.errorhandler(_NotFound)
        def not_found(_: Exception) -> Response:
            return Response(json.dumps({"message": "Not Found"}), 404, mimetype="application/json")

        R = "/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"

        @route("GET", "/app")
        def get_app() -> tuple[int, Any]:
            body = self.example("integration")
            body.update({"id": self.app_id, "slug": self.app_slug})
            return 200, body

        @route("POST", r"/app/installations/(?P<iid>\d+)/access_tokens")
        def access_token(iid: str) -> tuple[int, Any]:
            token = "ghs_" + secrets.token_hex(18)
            expires = datetime.now(UTC) + timedelta(hours=1)
            self.tokens[token] = expires
            body = self.example("installation-token")
            body.update({"token": token, "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ")})
            body.pop("repositories", None)
            return 201, body

        @route("GET", R)
        def get_repo(owner: str, repo: str) -> tuple[int, Any]:
            return 200, self.repo_json(repo_or_404(owner, repo))

        @route("GET", R + "/activity")
        def activity(owner: str, repo: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            ref = request.args.get("ref")
            want = ref if not ref or ref.startswith("refs/") else f"refs/heads/{ref}"
            return 200, [a for a in state.activity if not want or a["ref"] == want]

        @route("GET", R + "/branches/(?P<branch>.+)")
        def get_branch(owner: str, repo: str, branch: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            sha = self.sha(state, branch)
            if sha is None:
                raise _NotFound()
            body = self.example("branch-get")
            body["name"] = branch
            body["commit"]["sha"] = sha
            return 200, body

        @route("GET", R + "/git/ref/(?P<ref>.+)")
        def get_ref(owner: str, repo: str, ref: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            sha = self.sha(state, f"refs/{ref}")
            if sha is None:
                raise _NotFound()
            body = self.example("git-ref")
            body.update(
                {
                    "ref": f"refs/{ref}",
                    "url": f"{self.base_url}/repos/{state.full_name}/git/refs/{ref}",
                }
            )
            body["object"].update({"sha": sha, "type": "commit"})
            return 200, body

        @route("POST", R + "/git/refs")
        def create_ref(owner: str, repo: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            data = request.get_json()
            if self.sha(state, data["ref"]):
                return 422, {"message": "Reference already exists"}
            _git(state.bare, "update-ref", data["ref"], data["sha"])
            return 201, get_ref(owner, repo, data["ref"][len("refs/") :])[1]

        # -- the Git database API: one commit of many files (the setup pull request) ----------
        @route("PATCH", R + "/git/refs/(?P<ref>.+)")
        def update_ref(owner: str, repo: str, ref: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            data = request.get_json()
            old = self.sha(state, f"refs/{ref}")
            if old is None:
                return 422, {"message": "Reference does not exist"}
            is_ancestor = subprocess.run(
                [
                    "git",
                    "--git-dir",
                    str(state.bare),
                    "merge-base",
                    "--is-ancestor",
                    old,
                    data["sha"],
                ],
                capture_output=True,
                check=False,
            )
            if is_ancestor.returncode != 0 and not data.get("force"):
                return 422, {"message": "Update is not a fast forward"}
            _git(state.bare, "update-ref", f"refs/{ref}", data["sha"])
            return 200, get_ref(owner, repo, ref)[1]

        @route("GET", R + "/git/commits/(?P<sha>[0-9a-f]{40})")
        def get_git_commit(owner: str, repo: str, sha: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            try:
                tree = _git(state.bare, "rev-parse", f"{sha}^{{tree}}").decode().strip()
            except subprocess.CalledProcessError:
                raise _NotFound() from None
            return 200, git_commit_json(state, sha, tree, "git-commit-2")

        def git_commit_json(state: RepoState, sha: str, tree: str, example: str) -> Any:
            body = self.example(example)
            message = _git(state.bare, "log", "-1", "--format=%B", sha).decode().rstrip("\n")
            parents = _git(state.bare, "log", "-1", "--format=%P", sha).decode().split()
            base = f"{self.base_url}/repos/{state.full_name}/git"
            body.update(
                {
                    "sha": sha,
                    "node_id": "C_" + sha[:20],
                    "url": f"{base}/commits/{sha}",
                    "message": message,
                    "tree": {"sha": tree, "url": f"{base}/trees/{tree}"},
                    "parents": [
                        {"sha": p, "url": f"{base}/commits/{p}", "html_url": body["html_url"]}
                        for p in parents
                    ],
                }
            )
            return body

        @route("POST", R + "/git/trees")
        def create_tree(owner: str, repo: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            data = request.get_json()
            index = self.workdir / f"idx-{secrets.token_hex(4)}"
            env = {"GIT_INDEX_FILE": str(index)}
            try:
                if data.get("base_tree"):
                    _git(state.bare, "read-tree", data["base_tree"], env=env)
                for item in data["tree"]:
                    blob = (
                        _git(
                            state.bare,
                            "hash-object",
                            "-w",
                            "--stdin",
                            input=item["content"].encode(),
                        )
                        .decode()
                        .strip()
                    )
                    info = f"{item['mode']},{blob},{item['path']}"
                    _git(state.bare, "update-index", "--add", "--cacheinfo", info, env=env)
                tree = _git(state.bare, "write-tree", env=env).decode().strip()
            finally:
                index.unlink(missing_ok=True)
            body = self.example("git-tree")
            body.update(
                {
                    "sha": tree,
                    "url": f"{self.base_url}/repos/{state.full_name}/git/trees/{tree}",
                    "tree": [],
                    "truncated": False,
                }
            )
            return 201, body

        @route("POST", R + "/git/commits")
        def create_git_commit(owner: str, repo: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            data = request.get_json()
            name, email = self.bot_login, f"{self.app_slug}[bot]@users.noreply.github.com"
            env = {
                "GIT_AUTHOR_NAME": name,
                "GIT_AUTHOR_EMAIL": email,
                "GIT_COMMITTER_NAME": name,
                "GIT_COMMITTER_EMAIL": email,
            }
            args = ["commit-tree", data["tree"], "-m", data["message"]]
            for parent in data.get("parents", []):
                args += ["-p", parent]
            sha = _git(state.bare, *args, env=env).decode().strip()
            return 201, git_commit_json(state, sha, data["tree"], "git-commit")

        @route("GET", R + "/contents/(?P<path>.+)")
        def get_contents(owner: str, repo: str, path: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            ref = request.args.get("ref", state.default_branch)
            try:
                blob = _git(state.bare, "rev-parse", f"{ref}:{path}").decode().strip()
                content = _git(state.bare, "cat-file", "blob", blob)
            except subprocess.CalledProcessError:
                raise _NotFound() from None
            body = self.example("content-file-response-if-content-is-a-file")
            body.update(
                {
                    "name": path.rsplit("/", 1)[-1],
                    "path": path,
                    "sha": blob,
                    "size": len(content),
                    "content": base64.b64encode(content).decode(),
                    "encoding": "base64",
                    "url": f"{self.base_url}/repos/{state.full_name}/contents/{path}",
                }
            )
            return 200, body

        @route("PUT", R + "/contents/(?P<path>.+)")
        def put_contents(owner: str, repo: str, path: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            data = request.get_json()
            branch = data.get("branch", state.default_branch)
            existing = get_contents_safe(state, branch, path)
            if existing and data.get("sha") != existing:
                return 409, {"message": f"{path} does not match {data.get('sha')}"}
            content = base64.b64decode(data["content"]).decode()
            sha = self.commit(state, branch, {path: content}, data["message"])
            body = self.example("file-commit-example-for-creating-a-file")
            body["content"].update({"name": path.rsplit("/", 1)[-1], "path": path})
            body["commit"]["sha"] = sha
            return (200 if existing else 201), body

        def get_contents_safe(state: RepoState, ref: str, path: str) -> str | None:
            try:
                return _git(state.bare, "rev-parse", f"{ref}:{path}").decode().strip()
            except subprocess.CalledProcessError:
                return None

        @route("GET", R + "/compare/(?P<basehead>.+)")
        def compare(owner: str, repo: str, basehead: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            base, head = basehead.split("...", 1)
            log = (
                _git(state.bare, "log", "--reverse", "--format=%H%x00%an%x00%ae", f"{base}..{head}")
                .decode()
                .strip()
                .splitlines()
            )
            body = self.example("commit-comparison")
            template = body["commits"][0]
            commits = []
            for line in log:
                sha, name, email = line.split("\x00")
                c = copy.deepcopy(template)
                c["sha"] = sha
                login = email.split("@")[0].split("+")[-1]
                c["author"] = self.user(login, bot=login.endswith("[bot]"))
                c["commit"]["author"].update({"name": name, "email": email})
                commits.append(c)
            changed = _git(state.bare, "diff", "--name-only", "-z", f"{base}...{head}").decode()
            files = [
                {**(body.get("files") or [{}])[0], "filename": name, "status": "modified"}
                for name in changed.split("\0")
                if name
            ]
            body.update(
                {
                    "commits": commits,
                    "files": files,
                    "total_commits": len(commits),
                    "ahead_by": len(commits),
                    "status": "ahead" if commits else "identical",
                }
            )
            return 200, body

        @route("POST", R + "/check-runs")
        def create_check(owner: str, repo: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            data = request.get_json()
            run = self.example("check-run")
            run.update(
                {
                    "id": next(self._ids),
                    "name": data["name"],
                    "head_sha": data["head_sha"],
                    "status": data.get("status", "queued"),
                    "conclusion": None,
                    "output": {
                        "title": None,
                        "summary": None,
                        "text": None,
                        "annotations_count": 0,
                        "annotations_url": run["output"]["annotations_url"],
                    },
                    "url": f"{self.base_url}/repos/{state.full_name}/check-runs/",
                }
            )
            run["url"] += str(run["id"])
            run["_annotations"] = []
            run["conclusion"] = data.get("conclusion")
            if data.get("output"):
                run["output"].update(
                    {k: data["output"].get(k) for k in ("title", "summary", "text")}
                )
            state.check_runs.append(run)
            return 201, _public(run)

        @route("PATCH", R + r"/check-runs/(?P<cid>\d+)")
        def update_check(owner: str, repo: str, cid: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            run = next((r for r in state.check_runs if r["id"] == int(cid)), None)
            if run is None:
                raise _NotFound()
            data = request.get_json()
            out = data.pop("output", None)
            run.update(
                {
                    k: v
                    for k, v in data.items()
                    if k in ("status", "conclusion", "details_url", "name")
                }
            )
            if out:
                notes = out.pop("annotations", [])
                if len(notes) > 50:
                    return 422, {"message": "at most 50 annotations per request"}
                run["_annotations"] += notes
                run["output"].update({k: out.get(k) for k in ("title", "summary", "text")})
                run["output"]["annotations_count"] = len(run["_annotations"])
            return 200, _public(run)

        @route("GET", R + r"/check-runs/(?P<cid>\d+)")
        def get_check(owner: str, repo: str, cid: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            run = next((r for r in state.check_runs if r["id"] == int(cid)), None)
            if run is None:
                raise _NotFound()
            return 200, _public(run)

        def issue_json(state: RepoState, issue: dict[str, Any]) -> dict[str, Any]:
            body = self.example("issue")
            body.update({k: v for k, v in issue.items() if not k.startswith("_")})
            body["url"] = f"{self.base_url}/repos/{state.full_name}/issues/{issue['number']}"
            body["repository_url"] = f"{self.base_url}/repos/{state.full_name}"
            body.pop("pull_request", None)
            body["user"] = self.user(issue["_creator"], issue["_creator"].endswith("[bot]"))
            return body

        def requester_login() -> str:
            token = request.headers.get("Authorization", "").split(" ", 1)[-1].strip()
            return self.token_users.get(token, self.bot_login)

        @route("GET", "/user")
        def get_user() -> tuple[int, Any]:
            body = self.example("issue")["user"]
            body.update({"login": requester_login()})
            private = self.spec["components"]["examples"].get(
                "private-user-response-with-public-and-private-profile-information"
            )
            if private:
                body = copy.deepcopy(private["value"])
                # The schema discriminates private/public users on this field; the example
                # omits it.
                body.update({"login": requester_login(), "user_view_type": "private"})
            return 200, json.loads(json.dumps(body).replace(ROOT, self.base_url))

        @route("GET", R + "/issues")
        def list_issues(owner: str, repo: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            want = request.args.get("state", "open")
            creator = request.args.get("creator")
            items = [
                i
                for i in state.issues
                if (want == "all" or i["state"] == want)
                and (not creator or i["_creator"] == creator)
            ]
            return 200, [issue_json(state, i) for i in items]

        @route("POST", R + "/issues")
        def create_issue(owner: str, repo: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            if not state.has_issues or state.archived:
                return 410, {"message": "Issues are disabled for this repo"}
            data = request.get_json()
            number = len(state.issues) + len(state.pulls) + 1
            issue = {
                "id": next(self._ids),
                "number": number,
                "title": data["title"],
                "body": data.get("body"),
                "state": "open",
                "_creator": requester_login(),
            }
            state.issues.append(issue)
            return 201, issue_json(state, issue)

        @route("PATCH", R + r"/issues/(?P<number>\d+)")
        def edit_issue(owner: str, repo: str, number: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            issue = next((i for i in state.issues if i["number"] == int(number)), None)
            if issue is None:
                raise _NotFound()
            data = request.get_json()
            issue.update({k: v for k, v in data.items() if k in ("title", "body", "state")})
            return 200, issue_json(state, issue)

        @route("GET", R + r"/issues/(?P<number>\d+)")
        def get_issue(owner: str, repo: str, number: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            issue = next((i for i in state.issues if i["number"] == int(number)), None)
            if issue is None:
                # Pull requests are issues too.
                pull = next((p for p in state.pulls if p["number"] == int(number)), None)
                if pull is None:
                    raise _NotFound()
                issue = {
                    "id": pull["id"],
                    "number": pull["number"],
                    "title": pull["title"],
                    "body": pull["body"],
                    "state": pull["state"],
                    "_creator": self.bot_login,
                }
            return 200, issue_json(state, issue)

        def comment_json(state: RepoState, c: dict[str, Any]) -> dict[str, Any]:
            body = self.example("issue-comment")
            api = f"{self.base_url}/repos/{state.full_name}/issues"
            body.update(
                {
                    "id": c["id"],
                    "body": c["body"],
                    "user": self.user(c["_user"], c["_user"].endswith("[bot]")),
                    "url": f"{api}/comments/{c['id']}",
                    "issue_url": f"{api}/{c['issue']}",
                    "html_url": f"https://github.com/{state.full_name}/issues/{c['issue']}"
                    f"#issuecomment-{c['id']}",
                }
            )
            return body

        @route("POST", R + r"/issues/(?P<number>\d+)/comments")
        def comment(owner: str, repo: str, number: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            data = request.get_json()
            c = self.add_comment(state, int(number), data["body"], requester_login())
            return 201, comment_json(state, c)

        @route("GET", R + r"/issues/(?P<number>\d+)/comments")
        def list_comments(owner: str, repo: str, number: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            return 200, [
                comment_json(state, c) for c in state.comments if c["issue"] == int(number)
            ]

        @route("PATCH", R + r"/issues/comments/(?P<cid>\d+)")
        def edit_comment(owner: str, repo: str, cid: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            c = next((c for c in state.comments if c["id"] == int(cid)), None)
            if c is None:
                raise _NotFound()
            # GitHub lets anyone with write access edit any comment: only the App's own
            # check keeps it off other people's comments.
            c["body"] = request.get_json()["body"]
            c["_edits"] += 1
            return 200, comment_json(state, c)

        def pull_json(state: RepoState, pull: dict[str, Any]) -> dict[str, Any]:
            body = self.example("pull-request")
            body.update({k: v for k, v in pull.items() if not k.startswith("_")})
            body["url"] = f"{self.base_url}/repos/{state.full_name}/pulls/{pull['number']}"
            owner, _, ref = pull["_head"].rpartition(":")
            body["head"]["ref"] = ref
            body["head"]["label"] = f"{owner or state.owner}:{ref}"
            body["merged"] = bool(pull.get("_merged"))
            body["html_url"] = f"https://github.example/{state.full_name}/pull/{pull['number']}"
            body["base"]["ref"] = pull["_base"]
            creator = pull.get("_creator", self.bot_login)
            body["user"] = self.user(creator, creator.endswith("[bot]"))
            body["requested_teams"] = []  # the example's team lacks the required `type`
            return body

        @route("GET", R + "/pulls")
        def list_pulls(owner: str, repo: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            head = request.args.get("head")
            want = request.args.get("state", "open")

            def label(p: dict[str, Any]) -> str:
                return p["_head"] if ":" in p["_head"] else f"{state.owner}:{p['_head']}"

            items = [
                p
                for p in state.pulls
                if (want == "all" or p["state"] == want) and (not head or label(p) == head)
            ]
            # GitHub's default order is newest first (sort=created, direction=desc).
            if request.args.get("direction", "desc") == "desc":
                items = items[::-1]
            return 200, [pull_json(state, p) for p in items]

        @route("POST", R + "/pulls")
        def create_pull(owner: str, repo: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            data = request.get_json()
            if any(p["_head"] == data["head"] and p["state"] == "open" for p in state.pulls):
                return 422, {"message": "A pull request already exists"}
            number = len(state.issues) + len(state.pulls) + 1
            pull = {
                "id": next(self._ids),
                "number": number,
                "title": data["title"],
                "body": data.get("body"),
                "state": "open",
                "_head": data["head"],
                "_base": data["base"],
                "_creator": requester_login(),
                "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            state.pulls.append(pull)
            return 201, pull_json(state, pull)

        @route("PATCH", R + r"/pulls/(?P<number>\d+)")
        def edit_pull(owner: str, repo: str, number: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            pull = next((p for p in state.pulls if p["number"] == int(number)), None)
            if pull is None:
                raise _NotFound()
            pull.update(
                {k: v for k, v in request.get_json().items() if k in ("title", "body", "state")}
            )
            return 200, pull_json(state, pull)

        @route("GET", R + r"/actions/runs/(?P<run_id>\d+)")
        def get_run(owner: str, repo: str, run_id: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            for run in state.workflow_runs:
                if run["id"] == int(run_id):
                    return 200, run
            raise _NotFound()

        @route("GET", R + r"/actions/runs/(?P<run_id>\d+)/artifacts")
        def run_artifacts(owner: str, repo: str, run_id: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            arts = [_public(a) for a in state.artifacts if a["_run_id"] == int(run_id)]
            return 200, {"total_count": len(arts), "artifacts": arts}

        @route("GET", R + r"/actions/artifacts/(?P<aid>\d+)/(?P<fmt>[^/]+)")
        def download_artifact(owner: str, repo: str, aid: str, fmt: str) -> tuple[int, Any, Any]:
            state = repo_or_404(owner, repo)
            for art in state.artifacts:
                if art["id"] == int(aid):
                    key = secrets.token_hex(8)
                    self.blobs[key] = art["_data"]
                    return 302, None, {"Location": f"{self.base_url}/_blobs/{key}"}
            raise _NotFound()

        @route("GET", R + "/actions/workflows/(?P<wf>[^/]+)")
        def get_workflow(owner: str, repo: str, wf: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            if not any(r["path"].endswith("/" + wf) for r in state.workflow_runs):
                raise _NotFound()
            body = self.example("workflow")
            body.update(
                {
                    "id": 161335,
                    "name": "forkvet",
                    "path": f".github/workflows/{wf}",
                    "url": f"{self.base_url}/repos/{state.full_name}/actions/workflows/161335",
                }
            )
            return 200, body

        @route("GET", R + "/actions/workflows/(?P<wf>[^/]+)/runs")
        def workflow_runs(owner: str, repo: str, wf: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            runs = [
                r
                for r in state.workflow_runs
                if r["path"].endswith("/" + wf) or str(wf) == "161335"
            ]
            if request.args.get("branch"):
                runs = [r for r in runs if r["head_branch"] == request.args["branch"]]
            if request.args.get("status") == "success":
                runs = [r for r in runs if r["conclusion"] == "success"]
            return 200, {"total_count": len(runs), "workflow_runs": runs}

        @app.route("/_blobs/<key>")
        def blob(key: str) -> Response:
            # the storage host behind a download redirect: it must not see a token
            self.blob_auth.append(request.headers.get("Authorization"))
            data = self.blobs.get(key)
            if data is None:
                return Response(b"", 404)
            return Response(data, 200, mimetype="application/zip")

        @route("GET", R + "/collaborators/(?P<username>[^/]+)/permission")
        def permission(owner: str, repo: str, username: str) -> tuple[int, Any]:
            state = repo_or_404(owner, repo)
            body = self.example(
                "repository-collaborator-permission-response-if-user-has-admin-permissions"
            )
            level = state.permissions.get(username, "admin" if username == owner else "read")
            user = self.user(username)
            user["role_name"] = level  # a collaborator here, whose schema requires role_name
            body.update({"permission": level, "role_name": level, "user": user})
            return 200, body

        return app

    # -- validation and auth --------------------------------------------------------------
    def _validate_request(self) -> None:
        try:
            self.openapi.validate_request(_SlashSafeRequest(request))
        except Exception as exc:
            self.errors.append(f"request {request.method} {request.path}: {exc}")

    def _validate_response(self, resp: Response) -> None:
        try:
            self.openapi.validate_response(
                _SlashSafeRequest(request), WerkzeugOpenAPIResponse(resp)
            )
        except Exception as exc:
            cause = getattr(exc, "__cause__", None)
            where = [
                f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in getattr(cause, "schema_errors", [])
            ]
            self.errors.append(
                f"response {request.method} {request.path}: {type(exc).__name__} {where or cause}"
            )

    def _auth(self, path: str) -> Response | None:
        header = request.headers.get("Authorization", "")
        if path.startswith("/app"):
            token = header.removeprefix("Bearer ").strip()
            try:
                claims = jwt.decode(token, self.public_key, algorithms=["RS256"])
            except jwt.PyJWTError:
                return Response(
                    json.dumps({"message": "bad JWT"}), 401, mimetype="application/json"
                )
            if str(claims.get("iss")) != str(self.app_id):
                return Response(
                    json.dumps({"message": "wrong app"}), 401, mimetype="application/json"
                )
            return None
        token = header.split(" ", 1)[-1].strip()
        expires = self.tokens.get(token)
        if expires is None or expires < datetime.now(UTC):
            return Response(
                json.dumps({"message": "Bad credentials"}), 401, mimetype="application/json"
            )
        return None


class _NotFound(Exception):
    pass


class _SlashSafeRequest(WerkzeugOpenAPIRequest):
    """GitHub accepts slashes inside {path} and {ref}; OpenAPI path templates do not match
    them, so they are percent-encoded for validation only."""

    _SLASHED = re.compile(r"^(/repos/[^/]+/[^/]+/(?:contents|git/refs?|branches))/(.+)$")

    def get_path(self, path: str) -> str:
        m = self._SLASHED.match(path)
        if m:
            path = f"{m.group(1)}/{m.group(2).replace('/', '%2F')}"
        return super().get_path(path)


def _public(run: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in run.items() if not k.startswith("_")}
