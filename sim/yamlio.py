"""Reading the YAML a user hands us (scenarios, manifests, specs) without trusting it.

A scenario file is small, but a 4 KB file of nested aliases (``b: [*a, *a, ...]``) expands
to a billion values, a 5,000-deep list overflows the parser's stack, and a mapping that
names a key twice silently keeps the last value. This loader refuses all three with one
located line, and refuses files that are not plain UTF-8 files (a FIFO would block forever).
"""

from __future__ import annotations

import os
import reprlib
import stat
from pathlib import Path
from typing import Any

import yaml

from sim.config import ScenarioError

MAX_DEPTH = 64
"""Sections nest a few levels; 64 leaves room for any honest file."""
MAX_NODES = 200_000
"""Values after expanding aliases: a Shibei scenario has about 500."""
MAX_BYTES = 10_000_000
"""A scenario or manifest of 10 MB is not a hand-written file."""

_short = reprlib.Repr()
_short.maxstring, _short.maxother, _short.maxlist, _short.maxdict, _short.maxlevel = 40, 40, 4, 4, 2


def shown(value: Any) -> str:
    """``repr(value)``, bounded: a message never prints an unbounded value."""
    return _short.repr(value)


class _Loader(yaml.SafeLoader):
    """SafeLoader with a depth limit while composing and duplicate keys rejected."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused(mark, f"nested more than {MAX_DEPTH} levels deep "
                               "(expected a scenario's few levels of sections)")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                raise _Refused(key_node.start_mark, "a key that is a list or mapping "
                               "(expected a name)") from None
            if duplicate:
                raise _Refused(key_node.start_mark, f"key {shown(key)} given twice "
                               "(expected each key once in a section)")
        return super().construct_mapping(node, deep=deep)


class _Refused(Exception):
    def __init__(self, mark: Any, message: str) -> None:
        super().__init__(message)
        self.mark, self.message = mark, message


def _expanded_size(root: yaml.Node) -> int:
    """How many values the document holds once every alias is expanded (shared nodes counted
    once per use), without expanding it."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()                     # nodes whose children are being counted
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        children = _children(node)
        if children_done or not children:
            open_.discard(id(node))
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in children), MAX_NODES + 1)
            continue
        if id(node) in sizes:
            continue
        if id(node) in open_:
            raise _Refused(node.start_mark, "an alias refers to a section it is inside "
                           "(expected no recursive aliases)")
        open_.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def read_text(path: str | Path, expected: str) -> str:
    """The file's text, or one line saying why it cannot be read (``expected``: what it should be)."""
    source = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ScenarioError(source, "", f"no such file (expected {expected})") from None
    except OSError as exc:
        raise ScenarioError(source, "", f"cannot read: {exc.strerror} (expected {expected})") from None
    if not stat.S_ISREG(info.st_mode):
        kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file"
        raise ScenarioError(source, "", f"is {kind} (expected {expected})")
    if info.st_size > MAX_BYTES:
        raise ScenarioError(source, "", f"is {info.st_size} bytes (expected {expected} "
                            f"of at most {MAX_BYTES} bytes)")
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ScenarioError(source, "", f"cannot read: {exc.strerror} (expected {expected})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScenarioError(source, f"line {line}", "is not UTF-8 text (expected a file saved "
                            "as UTF-8)") from None


def parse(text: str, source: str) -> Any:
    """YAML text as plain data; bombs, deep nesting, duplicate keys and syntax errors are
    one located line."""
    loader = None
    try:
        loader = _Loader(text)
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_NODES:
            raise ScenarioError(source, "", f"aliases expand to more than {MAX_NODES} values "
                                "(expected a file without alias bombs)")
        return loader.construct_document(node)
    except _Refused as exc:
        raise ScenarioError(source, f"line {exc.mark.line + 1}", exc.message) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise ScenarioError(source, where, f"not valid YAML: {problem}") from None
    except RecursionError:
        raise ScenarioError(source, "", "nested too deeply (expected a scenario's few levels "
                            "of sections)") from None
    finally:
        if loader is not None:
            loader.dispose()


def load(path: str | Path, expected: str) -> Any:
    """Read and parse a YAML file handed in by a user."""
    return parse(read_text(path, expected), str(path))
