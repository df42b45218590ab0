"""Validation errors in the analyst's words: the key path, what was wrong, what was expected.

pydantic reports ``('levels', 'grid', 'handle', 'exponential', 'cv')`` and "Extra inputs are
not permitted"; the analyst wants ``levels.grid.handle.cv: unknown key (expected one of:
dist, mean)``. This module turns the first of pydantic's errors into that one line.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from sim.config import DIST_NAMES, KEYED, PRIOR_NAMES, Scenario, ScenarioError
from sim.yamlio import shown


def first_error(exc: ValidationError, source: str, raw: Any,
                root: type[BaseModel] = Scenario) -> ScenarioError:
    """The first of pydantic's errors as one located line; ``root`` is the model of the whole
    file (a scenario, or a calibration or sensitivity file)."""
    err = exc.errors(include_url=False)[0]
    loc = [str(p) for p in err["loc"] if not (isinstance(p, str) and _is_internal(p))]
    message = _describe(dict(err), raw, loc, root)
    if KEYED in message:
        _, key, message = message.split(KEYED)
        loc = [*loc, *key.split(".")]
    path = ".".join(loc)
    return ScenarioError(source, path or "(top level)", message)


def _is_internal(part: str) -> bool:
    return (part in DIST_NAMES or part in PRIOR_NAMES or "[" in part
            or part in ("function-after", "tagged-union"))


def _describe(err: Any, raw: Any, loc: list[str], root: type[BaseModel]) -> str:
    kind, ctx, got = err["type"], err.get("ctx", {}), err.get("input")
    bounds = {"greater_than": "above", "greater_than_equal": "at least",
              "less_than": "below", "less_than_equal": "at most"}
    if kind == "extra_forbidden":
        return f"unknown key (expected one of: {', '.join(_known_keys(loc, raw, root))})"
    if kind == "missing":
        return "missing (a required key)"
    if kind in bounds:
        limit = next(iter(ctx.values()))
        return f"{shown(got)} is out of range (expected a value {bounds[kind]} {limit})"
    if kind == "string_too_long":
        return f"has {len(str(got))} characters (expected at most {ctx.get('max_length')})"
    if kind in ("too_short", "too_long"):
        return f"has {ctx.get('actual_length')} items (expected {_length_rule(ctx)})"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = str(ctx.get("expected_tags") or ", ".join(DIST_NAMES)).replace("'", "")
        return f"unknown or missing dist (expected dist: one of {tags})"
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
    model: Any = root
    for part in loc[:-1]:
        if isinstance(section, list) and part.isascii() and part.isdigit() and int(part) < len(section):
            section = section[int(part)]
        else:
            section = section.get(part, {}) if isinstance(section, dict) else {}
        if part.isdigit() or model is None:
            continue
        fields = getattr(model, "model_fields", {})
        key = "from_" if part == "from" else part
        annotation = fields[key].annotation if key in fields else None
        model = _model_of(annotation, section.get("dist") if isinstance(section, dict) else None)
    if model is None or not hasattr(model, "model_fields"):
        return ["(see docs/scenario-reference.md)"]
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_of(annotation: Any, tag: Any = None) -> Any:
    """The model an annotation holds; of a tagged union, the member whose ``dist`` is ``tag``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    members = [m for m in (_model_of(arg) for arg in getattr(annotation, "__args__", ())) if m is not None]
    tagged = [m for m in members if "dist" in m.model_fields
              and get_args(m.model_fields["dist"].annotation) == (tag,)]
    return (tagged or members or [None])[0]
