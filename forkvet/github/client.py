"""App JWT → installation token (PyGithub), cached until shortly before it expires.

PyGithub's AppInstallationAuth refreshes its token itself; keeping one per installation in the
process means a burst of jobs asks GitHub for one token, not one each. GithubRetry honours
Retry-After and x-ratelimit-reset and backs off on secondary limits.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from github import Auth, Github, GithubRetry

from forkvet.github import DEFAULT_API_URL

__all__ = ["DEFAULT_API_URL", "GitHubApp", "user_client"]


@dataclass
class GitHubApp:
    app_id: str
    private_key: str
    api_url: str = DEFAULT_API_URL
    # 0 in tests: PyGithub otherwise sleeps between requests to be gentle with github.com.
    seconds_between_requests: float = 0.25
    seconds_between_writes: float = 1.0
    retry_total: int = 5
    _auths: dict[int, Auth.AppInstallationAuth] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _auth(self, installation_id: int) -> Auth.AppInstallationAuth:
        with self._lock:
            auth = self._auths.get(installation_id)
            if auth is None:
                app_auth = Auth.AppAuth(self.app_id, self.private_key)
                auth = app_auth.get_installation_auth(installation_id)
                self._auths[installation_id] = auth
            return auth

    def client(self, installation_id: int) -> Github:
        return Github(
            auth=self._auth(installation_id),
            base_url=self.api_url,
            seconds_between_requests=self.seconds_between_requests,
            seconds_between_writes=self.seconds_between_writes,
            retry=GithubRetry(total=self.retry_total, backoff_factor=0.5),
        )

    def token(self, installation_id: int) -> str:
        """The installation token itself (for git over HTTPS); never logged."""
        self.client(installation_id)  # wires the auth to a requester for this API URL
        return str(self._auth(installation_id).token)


def user_client(token: str, api_url: str) -> Github:
    """A client with a person's own token: upstream pull requests and thank-you issues (the
    App's installation token cannot write to repositories it is not installed on)."""
    return Github(
        auth=Auth.Token(token),
        base_url=api_url,
        seconds_between_requests=0,
        seconds_between_writes=0,
        per_page=100,  # the upstream caps read the upstream's pull requests
    )
