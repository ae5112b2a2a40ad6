"""forkvet: vet an ML research repository before you build on it."""

__version__ = "0.1.0"
# The repository's own forkvet settings (forkvet/config.py reads them). Here, at the bottom
# of the imports, because the SARIF writer and the policy both name it and the policy
# imports acceptances, which fingerprint findings the way SARIF does.
CONFIG_PATH = ".github/forkvet.yml"
