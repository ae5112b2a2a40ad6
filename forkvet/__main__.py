import os
import sys

# `python -m forkvet vet .` run inside a fork puts the fork's folder first on sys.path: its
# yaml.py or numpy/ would then be imported by forkvet itself. forkvet is already imported
# from its own package here, so the working folder is taken off before anything else loads.
_here = os.getcwd()
sys.path[:] = [p for p in sys.path if p not in ("", ".") and os.path.abspath(p) != _here]

from forkvet.cli import main  # noqa: E402

raise SystemExit(main())
