"""JSON Schema of the files an analyst edits, so an editor checks them while they type.

VS Code's YAML extension (and any editor speaking the YAML language server) validates a
scenario against the schema when the file starts with
``# yaml-language-server: $schema=govsim-scenario.schema.json``. The schema comes from the
pydantic models in ``sim.config``: each field's description is its attribute docstring
there, its range the model's own constraint, so the schema cannot disagree with the loader
on what a key means or allows. Rules that span several keys (``grids >= communities``, a
category's ``needs`` summing to 1) stay with the loader: ``govsim check`` reports them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, get_args

from pydantic import BaseModel

from sim.config import Scenario

SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"
FILLED_IN = ("Level", "Leadership")
"""Models written in part under ``levels``: the loader fills their missing keys, so none is
required in the file."""


def schema_models() -> dict[str, type[BaseModel]]:
    """The file kinds with a schema: each a pydantic model that validates the whole file."""
    from sim.study import CalibrationFile, SensitivityFile

    return {"scenario": Scenario, "calibration": CalibrationFile, "sensitivity": SensitivityFile}


def json_schema(kind: str = "scenario") -> dict[str, Any]:
    """The JSON Schema of one file kind, descriptions on one line each."""
    model = schema_models()[kind]
    schema = model.model_json_schema(by_alias=True, mode="validation")
    for name in FILLED_IN:
        schema.get("$defs", {}).get(name, {}).pop("required", None)
    for node in _nodes(schema):
        if isinstance(node.get("description"), str):
            node["description"] = " ".join(node["description"].split())
    return {"$schema": SCHEMA_URI, "$id": f"govsim-{kind}.schema.json", **schema,
            "title": f"govsim {kind} file",
            "description": f"A govsim {kind} file (docs/scenario-reference.md); `govsim check` also "
                           "checks the rules that span several keys."}


def schema_text(kind: str = "scenario") -> str:
    return json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n"


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping inside a JSON document, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def field_descriptions(model: type[BaseModel] = Scenario, prefix: str = "") -> Iterator[tuple[str, str, str]]:
    """(dotted key, bare key, description) of every field, sections and list items included."""
    for name, field in model.model_fields.items():
        key = field.alias or name
        dotted = f"{prefix}{key}"
        yield dotted, key, " ".join((field.description or "").split())
        for sub in _submodels(field.annotation):
            yield from field_descriptions(sub, f"{dotted}.")


def _submodels(annotation: Any) -> Iterator[type[BaseModel]]:
    """The models a field's type holds (directly, in a union, a tuple or a mapping)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in get_args(annotation):
        yield from _submodels(arg)
