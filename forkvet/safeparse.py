"""TOML, JSON and version text from a repository or an index, parsed without a crash.

Python refuses to convert integers of more than 4,300 digits (sys.int_max_str_digits: lifting
it makes conversion quadratic, 11 s for a million digits) with a plain ValueError, raised from
inside tomllib, json and packaging's Version; deep nesting raises RecursionError from tomllib
and json. Neither is the parser's own error class, so a caller catching TOMLDecodeError,
JSONDecodeError or InvalidVersion crashed on one hostile number or bracket run. These wrappers
turn both into the parser's own error, so every caller's existing "bad file" path covers them.
"""

from __future__ import annotations

import configparser
import json
import tomllib
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from forkvet import rx

# Far past any real version part or setting (dates and build numbers have up to ~14 digits),
# far under int()'s limit: text with a longer run of digits is refused before any conversion.
MAX_DIGITS = 100
# Any decimal digit int() takes (Unicode Nd, not only ASCII), on RE2: linear in the text.
_LONG_DIGITS = rx.compile(rf"\p{{Nd}}{{{MAX_DIGITS + 1}}}")


def long_digits(text: str) -> bool:
    """Whether text holds a run of more than MAX_DIGITS digits (no int() may see it)."""
    return _LONG_DIGITS.search(text) is not None


class _LinearIni(configparser.ConfigParser):
    """configparser with its line patterns on RE2: its option pattern `(.*?)\\s*(=|:)` backtracks
    quadratically over a long run of spaces with no delimiter (round 22a F11: a 400 KB INI
    held `vet` past 300 s inside C `re`, where no deadline reaches). Same patterns, same
    meaning (the lines are stripped first, so `$` is the line's end)."""

    # configparser only calls .match/.search and .group(names) on them, which RE2's have.
    SECTCRE = rx.compile(r"\[(?P<header>.+)\]")  # type: ignore[assignment]
    OPTCRE = rx.compile(r"(?P<option>.*?)\s*(?P<vi>=|:)\s*(?P<value>.*)$")  # type: ignore[assignment]
    OPTCRE_NV = rx.compile(r"(?P<option>.*?)\s*(?:(?P<vi>=|:)\s*(?P<value>.*))?$")  # type: ignore[assignment]
    NONSPACECRE = rx.compile(r"\S")  # type: ignore[assignment]


def ini_parser(
    interpolation: bool = False, strict: bool = False, allow_no_value: bool = False
) -> configparser.ConfigParser:
    """A ConfigParser for repository text (default delimiters only: the patterns above are the
    ones it uses). Every INI/`.cfg` forkvet reads goes through here
    (tests/hostile/test_round22_ini_linear.py)."""
    if interpolation:
        return _LinearIni(strict=strict, allow_no_value=allow_no_value)
    return _LinearIni(interpolation=None, strict=strict, allow_no_value=allow_no_value)


# A dotted key's every prefix is kept by tomllib: memory quadratic in its parts (round 22a F25:
# one 120 KB key took 4 GiB). Real keys have a handful of parts; a run of this many is refused
# wherever it stands (a string value so shaped is refused too: the file is then unread).
_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')"""
_LONG_DOTTED_KEY = rx.compile(_KEY_PART + r"(?:[ \t]*\.[ \t]*" + _KEY_PART + r"){64}")


def toml_loads(text: str) -> dict[str, Any]:
    """tomllib.loads; a number past int()'s limit, nesting past the stack or a dotted key of
    more than 64 parts is a TOMLDecodeError."""
    if _LONG_DOTTED_KEY.search(text):
        raise tomllib.TOMLDecodeError("a dotted key of more than 64 parts")
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise tomllib.TOMLDecodeError("nested too deeply") from None
    except tomllib.TOMLDecodeError:
        raise
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise tomllib.TOMLDecodeError(f"unreadable number: {str(exc)[:80]}") from None


def json_loads(text: str | bytes) -> Any:
    """json.loads; a number past int()'s limit or nesting past the stack is a JSONDecodeError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", "", 0) from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise json.JSONDecodeError(f"unreadable number: {str(exc)[:80]}", "", 0) from None


def version(text: str) -> Version:
    """packaging's Version; text with a digit run past MAX_DIGITS is an InvalidVersion."""
    if long_digits(text):
        raise InvalidVersion(f"a version part of more than {MAX_DIGITS} digits: {text[:40]!r}")
    return Version(text)


def specifiers(text: str) -> SpecifierSet:
    """packaging's SpecifierSet; a digit run past MAX_DIGITS is an InvalidSpecifier (its
    versions are converted to int() only when compared, past every caller's try)."""
    if long_digits(text):
        raise InvalidSpecifier(f"a version part of more than {MAX_DIGITS} digits: {text[:40]!r}")
    return SpecifierSet(text)


def requirement(text: str) -> Requirement:
    """packaging's Requirement; a digit run past MAX_DIGITS is an InvalidRequirement."""
    if long_digits(text):
        raise InvalidRequirement(f"a number of more than {MAX_DIGITS} digits: {text[:40]!r}")
    return Requirement(text)


def marker(text: str) -> Marker:
    """packaging's Marker (an environment marker: `python_version < "3.8"`); a digit run past
    MAX_DIGITS is an InvalidMarker (its versions are converted to int() when evaluated)."""
    if long_digits(text):
        raise InvalidMarker(f"a number of more than {MAX_DIGITS} digits: {text[:40]!r}")
    return Marker(text)
