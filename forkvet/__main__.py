# `python -m forkvet vet .` run inside a fork puts the fork's folder first on sys.path: its
# yaml.py or numpy/ would then be imported by forkvet itself. forkvet/__init__.py has already
# cleaned sys.path and the search-path variables (forkvet.hostpaths.startup) before this runs.
from forkvet.cli import main

raise SystemExit(main())
