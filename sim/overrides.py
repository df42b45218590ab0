"""Dotted-path overrides of a scenario (``--set process.bounce.probability=0.3``, a study's
parameter keys): parsed as YAML values and set in a copy of the scenario's mapping, list
items addressed by index (``categories.2.weight``)."""

from __future__ import annotations

import json
from typing import Any

from sim.fields import ScenarioError


def parse_overrides(items: list[str], source: str = "--set") -> dict[str, Any]:
    """``["a.b=1", "c=[x, y]"]`` -> ``{"a.b": 1, "c": ["x", "y"]}``, values parsed as YAML."""
    from sim import yamlio

    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ScenarioError(source, item, "expected KEY=VALUE, e.g. process.bounce.probability=0.3")
        try:
            out[key.strip()] = yamlio.parse(value, source)
        except ScenarioError as exc:
            raise ScenarioError(source, key.strip(),
                                f"value {yamlio.shown(value)} is {exc.message}") from None
    return out


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any] | list[str],
                    source: str) -> dict[str, Any]:
    """Set each dotted path in a deep copy of ``raw``; list items are addressed by index."""
    if isinstance(overrides, list):
        overrides = parse_overrides(overrides, source)
    data = json.loads(json.dumps(raw))
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node: Any = data
        for depth, part in enumerate(parts[:-1]):
            here = ".".join(parts[: depth + 1])
            if isinstance(node, list):
                node = node[_index(part, node, source, here)]
            elif isinstance(node, dict):
                node = node.setdefault(part, {})
            else:
                raise ScenarioError(source, here, "is not a section (expected a key with sub-keys)")
        last = parts[-1]
        if isinstance(node, list):
            node[_index(last, node, source, dotted)] = value
        elif isinstance(node, dict):
            node[last] = value
        else:
            raise ScenarioError(source, dotted, "parent is not a section (expected a key with sub-keys)")
    return data


def _index(part: str, node: list[Any], source: str, here: str) -> int:
    if not (part.isascii() and part.isdigit()) or int(part) >= len(node):
        raise ScenarioError(source, here, f"expected a list index from 0 to {len(node) - 1}")
    return int(part)
