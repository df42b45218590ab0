"""Validation errors in the analyst's words: the key path, what was wrong, what was expected.

pydantic reports ``('levels', 'grid', 'handle', 'exponential', 'cv')`` and "Extra inputs are
not permitted"; the analyst wants ``levels.grid.handle.cv: unknown key (expected one of:
dist, mean)``. This module turns the first of pydantic's errors into that one line.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from sim.config import DIST_CLASSES, DIST_NAMES, KEYED, Scenario, ScenarioError
from sim.yamlio import shown


def first_error(exc: ValidationError, source: str, raw: Any,
                model: type[BaseModel] = Scenario) -> ScenarioError:
    """The first of pydantic's errors about a file of ``model`` (a scenario by default)."""
    err = exc.errors(include_url=False)[0]
    loc = [str(p) for p in err["loc"] if not (isinstance(p, str) and _is_internal(p))]
    message = _describe(err, raw, loc, model)
    if KEYED in message:
        _, key, message = message.split(KEYED)
        loc = [*loc, *key.split(".")]
    path = ".".join(loc)
    return ScenarioError(source, path or "(top level)", message)


def _is_internal(part: str) -> bool:
    return part in DIST_NAMES or "[" in part or part in ("function-after", "tagged-union")


def _describe(err: dict[str, Any], raw: Any, loc: list[str], model: type[BaseModel]) -> str:
    kind, ctx, got = err["type"], err.get("ctx", {}), err.get("input")
    bounds = {"greater_than": "above", "greater_than_equal": "at least",
              "less_than": "below", "less_than_equal": "at most"}
    if kind == "extra_forbidden":
        return f"unknown key (expected one of: {', '.join(_known_keys(loc, raw, model))})"
    if kind == "missing":
        return "missing (a required key)"
    if kind in bounds:
        limit = next(iter(ctx.values()))
        return f"{shown(got)} is out of range (expected a value {bounds[kind]} {limit})"
    if kind == "string_too_long":
        return f"has {len(got)} characters (expected at most {ctx.get('max_length')})"
    if kind in ("too_short", "too_long"):
        return f"has {ctx.get('actual_length')} items (expected {_length_rule(ctx)})"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        return f"unknown or missing dist (expected dist: one of {', '.join(DIST_NAMES)})"
    if kind == "literal_error":
        return f"{shown(got)} is not allowed (expected {ctx.get('expected')})"
    if kind == "string_pattern_mismatch":
        return f"{shown(got)} has characters that are not allowed (expected lower-case letters, digits and -)"
    if kind == "finite_number":
        return f"{shown(got)} is not finite (expected a finite number)"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    expected = {"int": "a whole number", "float": "a number", "bool": "true or false",
                "string": "text", "dict": "a mapping", "tuple": "a list", "model": "a mapping",
                "list": "a list"}
    if kind.startswith("float") and isinstance(got, str) and _number(got):
        return (f"{shown(got)} is text to YAML (expected a number: write exponents with a dot "
                f"and a signed exponent, as in {float(got):.1e})")
    for prefix, what in expected.items():
        if kind.startswith(prefix) or kind == f"{prefix}_type":
            return f"{shown(got)} is the wrong type (expected {what})"
    return f"{err['msg']} (got {shown(got)})"


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _length_rule(ctx: dict[str, Any]) -> str:
    low, high = ctx.get("min_length"), ctx.get("max_length")
    if low is not None and low == high:
        return f"exactly {low}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _known_keys(loc: list[str], raw: Any, root: type[BaseModel]) -> list[str]:
    """The keys allowed in the section that holds the unknown one."""
    section: Any = raw
    for part in loc[:-1]:
        if isinstance(section, list) and part.isdigit() and int(part) < len(section):
            section = section[int(part)]
        else:
            section = section.get(part, {}) if isinstance(section, dict) else {}
    if isinstance(section, dict) and isinstance(section.get("dist"), str) and section["dist"] in DIST_CLASSES:
        return list(DIST_CLASSES[section["dist"]].model_fields)
    model: Any = root
    for part in loc[:-1]:
        if part.isdigit() or model is None:
            continue
        fields = getattr(model, "model_fields", {})
        key = "from_" if part == "from" else part
        annotation = fields[key].annotation if key in fields else None
        model = _model_of(annotation)
    if model is None or not hasattr(model, "model_fields"):
        return ["(see docs/scenario-reference.md)"]
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_of(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
