"""Published results: every table and figure in results/, and how to make each one again.

``results/manifest.yaml`` lists each published file with the maker that computes it, its
scenarios, replications, seed and tolerance. ``govsim reproduce`` runs the makers afresh and
compares the new tables with the published ones cell by cell; only ``--update`` rewrites
results/, so every published number is one the code and the scenario files make again.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim import atomic
from sim.config import ScenarioError
from sim.plots import DRAWERS
from sim.tables import MAKERS, Bench, Spec

MANIFEST = Path("results") / "manifest.yaml"


class Tolerance(BaseModel):
    """How far a reproduced number may stray: |new - old| <= abs + rel * |old|."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    abs: Annotated[float, Field(ge=0)] = 0.0
    rel: Annotated[float, Field(ge=0)] = 0.0


class Entry(BaseModel):
    """One published table, or one figure with the table of data it is drawn from."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Annotated[str, Field(pattern=r"^[a-z0-9-]+$")]
    title: str
    kind: Literal["table", "figure"]
    make: Literal["t1", "t2", "t3", "t4", "t5", "f1", "f2", "f3", "f4"]
    file: str                       # the CSV of a table, the PNG of a figure
    data: str | None = None         # a figure's CSV
    command: str
    scenarios: tuple[str, ...] = ()
    replications: Annotated[int, Field(ge=1)] = 1
    seed: Annotated[int, Field(ge=0)] = 0
    options: dict[str, Any] = {}
    tolerance: Tolerance | Literal["exact"] = "exact"

    @property
    def table_file(self) -> str:
        return self.data if self.kind == "figure" and self.data else self.file

    def spec(self) -> Spec:
        return Spec(self.scenarios, self.replications, self.seed, dict(self.options))

    def limits(self) -> Tolerance:
        return Tolerance() if self.tolerance == "exact" else self.tolerance


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    entries: tuple[Entry, ...]


def load_manifest(path: str | Path = MANIFEST) -> Manifest:
    """The manifest, or one located line on what is wrong with it."""
    from sim import yamlio
    from sim.messages import first_error

    source = str(path)
    raw = yamlio.load(path, "a manifest like results/manifest.yaml")
    if not isinstance(raw, dict):
        raise ScenarioError(source, "", "expected a mapping with the key entries at the top level")
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        raise first_error(exc, source, raw, Manifest) from None


@dataclass
class Outcome:
    """What reproducing one entry found."""

    entry: Entry
    differences: list[str]
    seconds: float

    @property
    def ok(self) -> bool:
        return not self.differences


def reproduce(names: list[str] | None = None, manifest: str | Path = MANIFEST, update: bool = False,
              jobs: int | None = None, report: Any = print) -> list[Outcome]:
    """Make the named entries (all when None) again and compare them with results/."""
    manifest = Path(manifest)
    root = manifest.resolve().parent.parent
    entries = select(load_manifest(manifest), names, str(manifest))
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="govsim-reproduce-") as work:
        bench = Bench(root=root, work=Path(work), jobs=jobs)
        for entry in entries:
            started = time.perf_counter()
            table = MAKERS[entry.make](bench, entry.spec())
            fresh = atomic.csv_text(table)
            published = root / entry.table_file
            differences = [] if update else diff_tables(published, fresh, entry.limits())
            if update:
                publish(root, entry, table, fresh)
            outcome = Outcome(entry, differences, time.perf_counter() - started)
            report(describe(outcome, update))
            outcomes.append(outcome)
    return outcomes


def select(manifest: Manifest, names: list[str] | None, source: str) -> list[Entry]:
    known = {e.name: e for e in manifest.entries}
    for name in names or []:
        if name not in known:
            raise ScenarioError(source, "entries", f"no entry named {name!r} "
                                f"(expected one of: {', '.join(known)})")
    return [e for e in manifest.entries if not names or e.name in names]


def publish(root: Path, entry: Entry, table: pd.DataFrame, text: str) -> None:
    """Write the table (CSV and Markdown copy) and, for a figure, its picture."""
    path = root / entry.table_file
    atomic.write_text(path, text)
    atomic.write_text(path.with_suffix(".md"), markdown(table, entry.title))
    if entry.kind == "figure":
        DRAWERS[entry.make](table, root / entry.file)


def diff_tables(published: Path, fresh: str, tol: Tolerance, most: int = 20) -> list[str]:
    """Readable differences between the published CSV and the fresh one, cell by cell."""
    if not published.exists():
        return [f"{published.name}: not published yet (run govsim reproduce --update)"]
    from io import StringIO

    old = pd.read_csv(published, keep_default_na=True)
    new = pd.read_csv(StringIO(fresh), keep_default_na=True)
    if list(old.columns) != list(new.columns) or len(old) != len(new):
        return [f"{published.name}: shape or columns changed: published {len(old)} rows "
                f"{list(old.columns)}, now {len(new)} rows {list(new.columns)}"]
    labels = [c for c in old.columns if not pd.api.types.is_numeric_dtype(old[c])][:3]   # row names
    found = []
    for i in range(len(old)):
        for column in old.columns:
            a, b = old.at[i, column], new.at[i, column]
            if not _same(a, b, tol):
                where = ", ".join(f"{k}={old.at[i, k]}" for k in labels if k != column)
                found.append(f"{published.name}: row {i + 1} ({where}) {column}: "
                             f"published {a}, now {b}")
    if len(found) > most:
        found = [*found[:most], f"... and {len(found) - most} more differing cells"]
    return found


def _same(a: Any, b: Any, tol: Tolerance) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return abs(a - b) <= tol.abs + tol.rel * abs(a)
    if pd.isna(a) and pd.isna(b):
        return True
    return str(a) == str(b)


def describe(outcome: Outcome, updated: bool) -> str:
    e = outcome.entry
    if updated:
        return f"{e.name}: wrote {e.table_file}" + (f" and {e.file}" if e.kind == "figure" else "") + \
            f" ({outcome.seconds:.0f} s)"
    if outcome.ok:
        return f"{e.name}: reproduces ({outcome.seconds:.0f} s)"
    lines = [f"{e.name}: DOES NOT REPRODUCE"]
    return "\n".join([*lines, *(f"  {d}" for d in outcome.differences)])


def number_text(value: float) -> str:
    """A number for reading: 4 significant digits, without exponent for large values."""
    if math.isnan(value):
        return ""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def markdown(table: pd.DataFrame, title: str) -> str:
    """A Markdown copy of a table for reading on the web; numbers to 4 significant digits,
    counts and other large numbers written out (``209,183``, not ``2.092e+05``)."""
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "" if math.isnan(value) else number_text(value)
        return str(value).replace("|", "\\|")

    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([f"# {title}", "", header, rule, *body, ""])
