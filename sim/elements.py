"""A reform's elements: the keys in which two scenarios differ, grouped, and every combination.

The legacy and whistle files differ in a handful of keys: the route, the grid branches, the
guides, the escalation delay, the bounce rule... Each difference is found by comparing the
two *resolved* scenarios (every default filled in), never from a list kept by hand, so a key
changed in either file cannot be missed. An elements file groups keys that make one element
of the reform together (``grid-branches: [process.route.grid, process.grid_branches]``);
every differing key must be in exactly one element. A combination is the base scenario with
some elements taken from the reform; the combination of all of them is the reform itself.

A route is a set of levels in a fixed order, so it counts as one key per level that is on one
route and not the other: ``process.route.community`` is "the community is on the route".
A distribution whose ``dist`` differs, a section whose keys differ (the leading group's
meetings or staff) and a list of numbers (a weekly profile) each count as one key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sim.config import LEVELS, Scenario, ScenarioError
from sim.shapley import antithetic_orders, prefixes

IGNORED = ("name", "description", "seed", "replications")
"""Keys that are not part of a process: names, and the run settings an attribution fixes."""
ROUTE = "process.route"
EXACT_LIMIT = 10
"""Up to this many elements every combination runs (2^10 = 1,024); above it, orders are sampled."""
PERMUTATION_PAIRS = 32
"""Antithetic pairs of orders sampled above EXACT_LIMIT elements (each pair: an order and its reverse)."""
NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


# --------------------------------------------------------------------------- differences
def differences(base: Scenario, reform: Scenario) -> dict[str, tuple[Any, Any]]:
    """Every key in which the two resolved scenarios differ: key -> (base value, reform value)."""
    a, b = base.resolved(), reform.resolved()
    out: dict[str, tuple[Any, Any]] = {}
    for key in a:
        if key not in IGNORED:
            _walk(key, a[key], b[key], out)
    route_a, route_b = set(a["process"]["route"]), set(b["process"]["route"])
    out.pop(ROUTE, None)
    for level in LEVELS:
        if (level in route_a) != (level in route_b):
            out[f"{ROUTE}.{level}"] = (level in route_a, level in route_b)
    return dict(sorted(out.items(), key=lambda item: _order(item[0], list(a))))


def _walk(key: str, a: Any, b: Any, out: dict[str, tuple[Any, Any]]) -> None:
    same_shape = isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
    if same_shape and a.get("dist") == b.get("dist"):
        for sub in a:
            _walk(f"{key}.{sub}", a[sub], b[sub], out)
    elif (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
          and all(isinstance(x, dict) for x in [*a, *b])):
        for i, (x, y) in enumerate(zip(a, b)):
            _walk(f"{key}.{i}", x, y, out)
    elif a != b:
        out[key] = (a, b)


def _order(key: str, sections: list[str]) -> tuple[int, str]:
    """Keys in the order of the scenario file's sections, then alphabetically."""
    top = key.split(".")[0]
    return (sections.index(top) if top in sections else len(sections), key)


def known(key: str, base: Scenario, reform: Scenario) -> bool:
    """Whether ``key`` names a scenario key (or a section, or a route level) of either scenario."""
    parts = key.split(".")
    if key.startswith(f"{ROUTE}.") and len(parts) == 3:
        return parts[2] in LEVELS
    return any(_exists(s.resolved(), parts) for s in (base, reform))


def _exists(node: Any, parts: list[str]) -> bool:
    for part in parts:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True


# --------------------------------------------------------------------------- elements
def load_elements(path: str | Path, base: Scenario, reform: Scenario,
                  diffs: dict[str, tuple[Any, Any]]) -> dict[str, tuple[str, ...]]:
    """The elements file's groups, each with the differing keys it covers: a listed key covers
    itself and every key under it. Elements whose keys do not differ are left out."""
    source = str(path)
    raw = _read_yaml(path)
    if not isinstance(raw, dict) or not raw:
        raise ScenarioError(source, "", "expected a mapping of element names to lists of keys "
                            "(e.g. no-bounce-back: [process.bounce])")
    owner: dict[str, str] = {}
    groups: dict[str, tuple[str, ...]] = {}
    for name, keys in raw.items():
        if not isinstance(name, str) or not NAME.match(name):
            raise ScenarioError(source, str(name), "is not an element name (expected lower-case "
                                "letters, digits, - and .)")
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            raise ScenarioError(source, name, f"{keys!r} is not a list of keys "
                                "(expected dotted scenario keys, e.g. [process.guides])")
        covered: list[str] = []
        for i, key in enumerate(keys):
            if not known(key, base, reform):
                raise ScenarioError(source, f"{name}.{i}", f"{key!r} is not a scenario key "
                                    "(expected a dotted key such as process.guides or process.route.grid)")
            for diff in diffs:
                if diff == key or diff.startswith(f"{key}."):
                    if diff in owner and owner[diff] != name:
                        raise ScenarioError(source, diff, f"is in elements {owner[diff]} and {name} "
                                            "(expected each key in exactly one element)")
                    owner[diff] = name
                    covered.append(diff)
        if covered:
            groups[name] = tuple(dict.fromkeys(covered))
    for diff in diffs:
        if diff not in owner:
            raise ScenarioError(source, diff, "differs between the scenarios but is in no element "
                                "(expected it in exactly one element)")
    return groups


def _read_yaml(path: str | Path) -> Any:
    source = str(path)
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(source, "", "no such file (expected an elements YAML file)") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise ScenarioError(source, "", f"cannot read ({exc.__class__.__name__})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ScenarioError(source, f"line {mark.line + 1}" if mark else "", "not valid YAML") from None


# --------------------------------------------------------------------------- design
@dataclass(frozen=True)
class Combination:
    """Some of the reform's elements added to the base: its bitmask, its scenario, its folder."""

    mask: int
    bits: str
    scenario: Scenario

    @property
    def folder(self) -> str:
        return f"combinations/{self.bits}"


@dataclass(frozen=True)
class Design:
    """The elements and the combinations an attribution runs; ``orders`` when sampled."""

    base: Scenario
    reform: Scenario
    elements: dict[str, tuple[str, ...]]
    values: dict[str, tuple[Any, Any]]
    combinations: tuple[Combination, ...]
    orders: Any = None          # np.ndarray of sampled orders, None when exact
    idle: tuple[str, ...] = ()  # elements of the file none of whose keys differ

    @property
    def names(self) -> list[str]:
        return list(self.elements)

    @property
    def exact(self) -> bool:
        return self.orders is None

    def bits(self, mask: int) -> str:
        return "".join("1" if mask >> i & 1 else "0" for i in range(len(self.elements)))

    def members(self, mask: int) -> list[str]:
        return [n for i, n in enumerate(self.elements) if mask >> i & 1]


def design(base: Scenario, reform: Scenario, elements: str | Path | None = None,
           pairs: int = PERMUTATION_PAIRS, source: str = "attribute") -> Design:
    """Every combination to run (or, above EXACT_LIMIT elements, those the sampled orders
    pass through), each validated, before anything runs."""
    if reform.seed != base.seed:
        reform = reform.with_overrides({"seed": base.seed}, source=source)
    diffs = differences(base, reform)
    if not diffs:
        raise ScenarioError(source, "", f"{reform.name} does not differ from {base.name} "
                            "(expected two scenarios that differ in some key)")
    groups: dict[str, tuple[str, ...]] = (load_elements(elements, base, reform, diffs)
                                          if elements is not None else {key: (key,) for key in diffs})
    k = len(groups)
    orders = None if k <= EXACT_LIMIT else antithetic_orders(k, pairs, base.seed)
    masks = range(1 << k) if orders is None else prefixes(orders)
    where = str(elements) if elements is not None else source
    partial = Design(base, reform, groups, diffs, ())
    combos = tuple(Combination(m, partial.bits(m), _scenario(partial, m, where)) for m in masks)
    _check_complete(combos[-1].scenario, reform)
    idle = tuple(n for n in (_read_yaml(elements) if elements is not None else {}) if n not in groups)
    return Design(base, reform, groups, diffs, combos, orders, idle)


def _scenario(d: Design, mask: int, source: str) -> Scenario:
    """The base with the chosen elements' keys set to the reform's values."""
    route: set[str] = set(d.base.process.route)
    overrides: dict[str, Any] = {}
    for name in d.members(mask):
        for key in d.elements[name]:
            if key.startswith(f"{ROUTE}."):
                level = key.split(".")[2]
                route = route | {level} if d.values[key][1] else route - {level}
            else:
                overrides[key] = d.values[key][1]
    members = d.members(mask)
    overrides.update({
        ROUTE: [level for level in LEVELS if level in route],
        "name": f"{d.base.name}-{d.bits(mask)}",
        "description": f"{d.base.name} with {', '.join(members) or 'no element'} of {d.reform.name}"})
    try:
        return d.base.with_overrides(overrides, source=source)
    except ScenarioError as exc:
        raise ScenarioError(exc.source, exc.path, f"{exc.message}, in the combination "
                            f"{'+'.join(members) or 'of none'} (expected every combination of the "
                            "elements to be a valid scenario: put keys that need each other in one "
                            "element)") from None


def _check_complete(everything: Scenario, reform: Scenario) -> None:
    """All elements together are the reform: otherwise a difference was missed (a bug)."""
    a, b = everything.resolved(), reform.resolved()
    for key in IGNORED:
        a.pop(key), b.pop(key)
    if a != b:
        raise AssertionError("the combination of every element is not the reform scenario")
