"""Files of a repository through the contents API: the fork's .github/forkvet.yml."""

from __future__ import annotations

import yaml
from github import GithubException
from github.Repository import Repository

from forkvet import safeyaml
from forkvet.config import CONFIG_PATH, Config, parse_config
from forkvet.errors import InputError


def read_text(repo: Repository, path: str, ref: str | None = None) -> str | None:
    try:
        item = repo.get_contents(path, ref=ref) if ref else repo.get_contents(path)
    except GithubException as exc:
        if exc.status == 404:
            return None
        raise
    if isinstance(item, list):
        return None
    return item.decoded_content.decode("utf-8", "replace")


def repo_config(repo: Repository, ref: str | None = None) -> tuple[Config, str | None]:
    """(config, error). A broken file gives the defaults and the error, never an exception."""
    text = read_text(repo, CONFIG_PATH, ref)
    if text is None:
        return Config(), None
    try:
        return parse_config(safeyaml.load(text), CONFIG_PATH), None
    except yaml.YAMLError as exc:
        return Config(), f"{CONFIG_PATH} is not valid YAML: {exc}"
    except InputError as exc:
        return Config(), str(exc)
