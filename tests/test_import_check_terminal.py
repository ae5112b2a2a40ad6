"""The import check (env --verify, smoke) gives the repository's modules a terminal to ask
about, and nothing to wait for."""

from __future__ import annotations

import sys

from forkvet.runtime.imports import check_imports
from forkvet.snapshot import load
from tests.conftest import MakeRepo

# kuangliu/pytorch-cifar's progress bar, copied into countless repositories: it asks the
# terminal for its size at import.
PROGRESS_BAR = (
    "import os\n"
    "_, term_width = os.popen('stty size', 'r').read().split()\n"
    "term_width = int(term_width)\n"
)


def test_modules_that_read_the_terminal_size_import_and_input_fails_at_once(
    make_repo: MakeRepo,
) -> None:
    repo = make_repo(
        {
            "utils.py": PROGRESS_BAR,
            "ask.py": "name = input('dataset? ')\n",
            "shape.py": "import shutil\nCOLS = shutil.get_terminal_size().columns\n",
        }
    )
    checked = check_imports(load(repo), sys.executable, timeout=30)
    failed = {f["module"]: f["error"] for f in checked.failures}
    assert "utils" not in failed and "shape" not in failed, failed
    # nobody types: input() ends as on /dev/null (not a timeout), and its prompt, printed
    # without a newline, does not hide the module's result
    assert "EOFError" in failed.get("ask", ""), failed
