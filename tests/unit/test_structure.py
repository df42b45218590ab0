"""The package stays easy to change: no module over about 400 lines, no class that holds
more than about 15 attributes (the world was taken apart once for holding 41)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SIM = Path(__file__).resolve().parents[2] / "sim"
MODULE_LINES = 420
CLASS_ATTRIBUTES = 15
SCHEMAS = {"BaseModel", "Frozen", "IntEnum", "Enum", "Exception", "ValueError", "TypedDict",
           "NamedTuple", "Protocol"}


def modules() -> list[Path]:
    return sorted(SIM.rglob("*.py"))


def attributes(node: ast.ClassDef) -> set[str]:
    """What an instance holds: its slots, its annotated class-level fields (dataclasses), and
    every ``self.NAME = ...`` in its methods."""
    names: set[str] = set()
    for item in node.body:
        if isinstance(item, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__slots__"
                                                for t in item.targets):
            names |= {e.value for e in ast.walk(item.value) if isinstance(e, ast.Constant)
                      and isinstance(e.value, str)}
        elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) \
                and "ClassVar" not in ast.unparse(item.annotation):
            names.add(item.target.id)
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and isinstance(sub.ctx, ast.Store) \
                and isinstance(sub.value, ast.Name) and sub.value.id == "self":
            names.add(sub.attr)
    return names


def classes() -> list[tuple[str, ast.ClassDef]]:
    found = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(b).split(".")[-1] for b in node.bases}
                if not bases & SCHEMAS:
                    found.append((f"{path.relative_to(SIM.parent)}:{node.name}", node))
    return found


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SIM.parent)))
def test_no_module_is_long(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MODULE_LINES, f"{path.name}: {lines} lines (split it by what its parts do)"


def test_no_class_holds_many_attributes():
    big = {name: sorted(attributes(node)) for name, node in classes()
           if len(attributes(node)) > CLASS_ATTRIBUTES}
    assert not big, big


def test_the_count_sees_slots_and_assignments():
    """The check can fail: a class of 16 slots, or of 16 assignments, is caught."""
    slotted = ast.parse("class A:\n    __slots__ = (" + ", ".join(f"'a{i}'" for i in range(16)) + ")\n")
    assigned = ast.parse("class B:\n    def __init__(self):\n" + "".join(
        f"        self.b{i} = {i}\n" for i in range(16)))
    for tree in (slotted, assigned):
        (node,) = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
        assert len(attributes(node)) == 16
