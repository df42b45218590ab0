"""Every number of a scenario file with the comment that gives its source.

Scenario files say where each number comes from in a comment on its line (``# article: ...``,
``# assumption: ...``); PyYAML drops comments, so this reads the lines themselves: a small
reader that follows indentation and list items to name each key by its dotted path
(``categories.1.unclear``). It only has to understand the block style the shipped files use;
flow mappings (``{dist: lognormal, mean: 1.0}``) stay one row with their text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sim.config import ScenarioError, load_scenario

KEY = re.compile(r"^(?P<key>[A-Za-z0-9_.-]+):(?:\s+(?P<value>.*))?$")


@dataclass(frozen=True)
class Assumption:
    key: str
    value: str
    comment: str


def split_comment(line: str) -> tuple[str, str]:
    """The line without its comment, and the comment (a ``#`` outside quotes)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ""


def assumptions(text: str) -> list[Assumption]:
    """One row per key with a value on its line, with that line's comment."""
    stack: list[tuple[int, str]] = []
    items: dict[tuple[str, ...], int] = {}
    rows = []
    for raw in text.splitlines():
        body, comment = split_comment(raw)
        if not body.strip():
            continue
        indent = len(body) - len(body.lstrip())
        content = body.strip()
        if content.startswith("- "):
            while stack and stack[-1][0] >= indent:
                stack.pop()
            parent = tuple(part for _, part in stack)
            index = items.get(parent, 0)
            items[parent] = index + 1
            stack.append((indent, str(index)))
            content, indent = content[2:].strip(), indent + 2
        match = KEY.match(content)
        if match is None:
            continue
        while stack and stack[-1][0] >= indent:
            stack.pop()
        key, value = match.group("key"), (match.group("value") or "").strip()
        if value:
            rows.append(Assumption(".".join([*(p for _, p in stack), key]), value, comment))
        else:
            stack.append((indent, key))
    return rows


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}, "c": [2]}`` -> ``{"a.b": 1, "c": [2]}``: dotted keys down to values
    and lists (lists of mappings are numbered: ``categories.0.name``)."""
    out: dict[str, Any] = {}
    if isinstance(data, dict) and data:
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
    elif isinstance(data, list) and data and all(isinstance(v, dict) for v in data):
        for i, value in enumerate(data):
            out.update(flatten(value, f"{prefix}{i}."))
    else:
        out[prefix.rstrip(".")] = data
    return out


def resolved(folder: Path) -> dict[str, Any]:
    """The run folder's resolved scenario as dotted keys."""
    return flatten(yaml.safe_load((folder / "scenario.yaml").read_text(encoding="utf-8")))


def candidates(folder: Path, manifest: dict[str, Any]) -> Iterator[Path]:
    """Scenario files that may be the one a run was made from, most likely first."""
    if manifest.get("source"):
        yield Path(manifest["source"])
    for base in (Path.cwd(), *folder.resolve().parents):
        yield from sorted((base / "scenarios").glob("*.yaml"))


def source_file(folder: Path, manifest: dict[str, Any]) -> tuple[Path | None, bool]:
    """The scenario file the run was made from, and whether it is exactly that file (same
    resolved hash) or only a file of the same name (the run used overrides)."""
    by_name = None
    for path in dict.fromkeys(candidates(folder, manifest)):
        try:
            scenario = load_scenario(path)
        except (ScenarioError, OSError):
            continue
        if scenario.sha256() == manifest.get("scenario_sha256"):
            return path, True
        if by_name is None and scenario.name == manifest.get("name"):
            by_name = path
    return by_name, False


def overridden(path: Path, folder: Path) -> list[str]:
    """Keys whose value in the run differs from the file's (its ``--set`` overrides)."""
    file_values = flatten(load_scenario(path).resolved())
    run_values = resolved(folder)
    keys: Iterable[str] = dict.fromkeys([*file_values, *run_values])
    return [k for k in keys if file_values.get(k) != run_values.get(k)]
