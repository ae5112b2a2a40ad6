"""YAML from a repository, parsed without letting it blow up.

PyYAML's safe_load builds every alias expansion: a 1 KB "billion laughs" document of nested
anchors becomes gigabytes. Repository files (environment.yml, CITATION.cff, .github/forkvet.yml)
have no need for many aliases or huge documents, so this loader counts nodes, expanded alias
uses and input size, and stops with a YAMLError past the limits.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

from forkvet import safeparse

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
MAX_ALIASES = 100


class YamlLimitError(yaml.YAMLError):
    """The document is over a size, node or alias limit."""


class YamlValueError(yaml.YAMLError):
    """A scalar PyYAML cannot build: an integer past int()'s digit limit, a date like 2020-13-45."""


def _bounded_int(loader: Any, node: yaml.ScalarNode) -> Any:
    """PyYAML's int, refused past MAX_DIGITS characters (decimal, hex or sexagesimal 1:2:3...).

    int() raises a bare ValueError past 4,300 digits, and a long sexagesimal builds an integer
    str() cannot print later: no repository setting needs more than a few digits.
    """
    if isinstance(node.value, str) and len(node.value) > safeparse.MAX_DIGITS:
        raise YamlValueError(f"an integer of more than {safeparse.MAX_DIGITS} digits")
    return loader.construct_yaml_int(node)


def _check_expanded_size(node: yaml.Node) -> None:
    """Count the expanded size (aliases repeat their anchor's subtree) before building."""
    total = 0
    stack = [node]
    while stack:
        n = stack.pop()
        total += 1
        if total > MAX_NODES:
            raise YamlLimitError(f"expands to more than {MAX_NODES:,} nodes")
        if isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
        elif isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                stack.append(k)
                stack.append(v)


class _BoundedComposer:
    """Counts nodes and aliases as they are composed, and the expanded size before building."""

    def __init__(self) -> None:
        self._nodes = 0
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):  # type: ignore[attr-defined]
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise YamlLimitError(f"more than {MAX_ALIASES} aliases")
        node = super().compose_node(parent, index)  # type: ignore[misc]
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise YamlLimitError(f"more than {MAX_NODES:,} nodes")
        return node

    def construct_document(self, node: yaml.Node) -> Any:
        _check_expanded_size(node)
        return super().construct_document(node)  # type: ignore[misc]


class _BoundedLoader(_BoundedComposer, yaml.SafeLoader):
    """The pure-Python loader, used when PyYAML was built without libyaml."""

    def __init__(self, stream: str) -> None:
        yaml.SafeLoader.__init__(self, stream)
        _BoundedComposer.__init__(self)


# libyaml scans and parses in C, many times faster than PyYAML's Python parser (a 2 MB
# environment.yml took 26 s); the nodes are still composed in Python, by the counting
# composer above, so every limit holds as the document is read, before it is all in memory.
_LOADER: type
try:
    from yaml._yaml import CParser
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _LOADER = _BoundedLoader
else:

    class _CBoundedLoader(
        _BoundedComposer, yaml.composer.Composer, CParser, SafeConstructor, Resolver
    ):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            _BoundedComposer.__init__(self)

    _LOADER = _CBoundedLoader

_LOADER.add_constructor("tag:yaml.org,2002:int", _bounded_int)


def load(text: str) -> Any:
    """yaml.safe_load with limits; raises yaml.YAMLError (YamlLimitError past a limit) only."""
    if len(text) > MAX_BYTES:
        raise YamlLimitError(f"over {MAX_BYTES >> 20} MiB")
    loader = _LOADER(text)
    try:
        return loader.get_single_data()
    except RecursionError:  # composing and constructing recurse once per nesting level
        raise YamlLimitError("nested too deeply") from None
    except yaml.YAMLError:
        raise
    except ValueError as exc:  # a scalar PyYAML's constructors cannot build (a bad date...)
        raise YamlValueError(f"unreadable value: {str(exc)[:80]}") from None
    finally:
        loader.dispose()
