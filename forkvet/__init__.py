"""forkvet: vet an ML research repository before you build on it."""

import itertools
import os
import sys

from forkvet import hostpaths

__version__ = "0.1.0"
# The repository's own forkvet settings (forkvet/config.py reads them). Here, at the bottom
# of the imports, because the SARIF writer and the policy both name it and the policy
# imports acceptances, which fingerprint findings the way SARIF does.
CONFIG_PATH = ".github/forkvet.yml"


def _started_as_cli() -> bool:
    """The `forkvet` console script or `python -m forkvet`: the process is forkvet's own."""
    argv = list(getattr(sys, "orig_argv", sys.argv))
    module = any(a == "-m" and b == "forkvet" for a, b in itertools.pairwise(argv))
    return module or os.path.basename(sys.argv[0]) == "forkvet"


# Before any other import (the console script imports forkvet.cli, which imports yaml): no
# module, library or program of the repository's folder through an empty or relative search
# path entry (forkvet.hostpaths).
if _started_as_cli():
    hostpaths.startup()
