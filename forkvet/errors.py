"""Errors a user can act on. The CLI prints them as one line and exits with their code."""


class ForkvetError(Exception):
    """A problem with the user's input or environment, reported without a traceback."""

    exit_code = 2


class InputError(ForkvetError):
    """Bad command-line input, target or configuration (exit 2)."""
