"""forkvet: vet an ML research repository before you build on it."""

__version__ = "0.1.0"
