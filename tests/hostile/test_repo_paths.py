"""Round 16b M1/M2: a file the operator names on the command line (--notebook, --log,
--baseline, --config) inside the checkout is opened one component at a time without following
a link the repository planted; outside it, the operator's own links still work."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from forkvet.errors import InputError
from forkvet.userfile import open_no_follow, read_regular


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text('{"secret": "MARKER"}\n')
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    (repo / "own.json").write_text("{}\n")
    (repo / "runs").symlink_to(outside)  # a committed link to a folder outside
    (repo / "sub" / "file.json").symlink_to(outside / "secret.json")
    return repo, outside


@pytest.mark.parametrize("rel", ["runs/secret.json", "sub/file.json", "sub/../runs/secret.json"])
def test_a_link_inside_the_repository_is_never_followed(
    layout: tuple[Path, Path], rel: str
) -> None:
    repo, _ = layout
    with pytest.raises(InputError, match="symbolic link") as caught:
        read_regular(str(repo / rel), 1 << 20, "config file", repo)
    assert "MARKER" not in str(caught.value)


def test_the_repository_spelled_through_the_operators_link_is_still_the_repository(
    layout: tuple[Path, Path], tmp_path: Path
) -> None:
    repo, _ = layout
    alias = tmp_path / "alias"
    alias.symlink_to(repo)  # the operator's own link to the checkout
    with pytest.raises(InputError, match="symbolic link"):
        read_regular(str(alias / "runs" / "secret.json"), 1 << 20, "log", repo)
    assert read_regular(str(alias / "own.json"), 1 << 20, "log", repo) == b"{}\n"


def test_the_operators_own_files_and_links_outside_the_repository_are_read(
    layout: tuple[Path, Path], tmp_path: Path
) -> None:
    repo, outside = layout
    mine = tmp_path / "mine.json"
    mine.symlink_to(outside / "secret.json")
    assert b"MARKER" in read_regular(str(mine), 1 << 20, "config file", repo)
    with pytest.raises(InputError, match="symbolic link"):  # never the file's own link
        read_regular(str(mine), 1 << 20, "--baseline", repo, follow_last=False)
    fd = open_no_follow(outside, repo, "log")
    os.close(fd)


def test_baseline_and_config_in_a_linked_folder_are_refused(layout: tuple[Path, Path]) -> None:
    from forkvet.config import config_for
    from forkvet.runtime.baseline import load_baseline

    repo, _ = layout
    with pytest.raises(InputError, match="symbolic link"):
        load_baseline(repo / "runs" / "secret.json", repo)
    with pytest.raises(InputError, match="symbolic link"):
        config_for(str(repo / "runs" / "secret.json"), repo)
