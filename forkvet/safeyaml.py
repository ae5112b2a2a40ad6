"""YAML from a repository, parsed without letting it blow up.

PyYAML's safe_load builds every alias expansion: a 1 KB "billion laughs" document of nested
anchors becomes gigabytes. Repository files (environment.yml, CITATION.cff, .github/forkvet.yml)
have no need for many aliases or huge documents, so this loader counts nodes, expanded alias
uses and input size, and stops with a YAMLError past the limits.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000
MAX_ALIASES = 100


class YamlLimitError(yaml.YAMLError):
    """The document is over a size, node or alias limit."""


class _BoundedLoader(yaml.SafeLoader):
    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._nodes = 0
        self._aliases = 0
        self._weights: dict[int, int] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise YamlLimitError(f"more than {MAX_ALIASES} aliases")
        node = super().compose_node(parent, index)
        # Each node counts with the size of what an alias to it would expand to.
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise YamlLimitError(f"more than {MAX_NODES:,} nodes")
        return node

    def construct_document(self, node: yaml.Node) -> Any:
        # Count the expanded size (aliases repeat their anchor's subtree) before building.
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
        return super().construct_document(node)


def load(text: str) -> Any:
    """yaml.safe_load with limits; raises yaml.YAMLError (YamlLimitError past a limit)."""
    if len(text) > MAX_BYTES:
        raise YamlLimitError(f"over {MAX_BYTES >> 20} MiB")
    loader = _BoundedLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
