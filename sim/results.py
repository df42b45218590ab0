"""Published results: every table and figure in results/, and how to make each one again.

``results/manifest.yaml`` lists each published file with the maker that computes it, its
scenarios, replications, seed and tolerance. ``govsim reproduce`` runs the makers afresh and
compares the new tables with the published ones cell by cell; only ``--update`` rewrites
results/, so every published number is one the code and the scenario files make again.

An entry made of cells (see ``sim.tables.Cells``) stores every cell's rows in its ``cells``
file beside the table. With ``sample: {cells: N, seed: S}``, ``govsim reproduce`` re-makes
only N cells drawn with seed S, compares them exactly with the stored rows, and checks that
the table follows from the stored cells: an expensive entry is checked in minutes, and
``govsim reproduce --full`` (or ``--update``) still re-makes every cell.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim import atomic, outdir
from sim.config import ScenarioError
from sim.plots import DRAWERS
from sim.tables import CELLS, MAKERS, Bench, Spec

MANIFEST = Path("results") / "manifest.yaml"


class Tolerance(BaseModel):
    """How far a reproduced number may stray: |new - old| <= abs + rel * |old|."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    abs: Annotated[float, Field(ge=0)] = 0.0
    rel: Annotated[float, Field(ge=0)] = 0.0


class Sample(BaseModel):
    """Re-make ``cells`` cells drawn with ``seed``, not all of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    cells: Annotated[int, Field(ge=1)]
    seed: Annotated[int, Field(ge=0)] = 0


class Entry(BaseModel):
    """One published table, or one figure with the table of data it is drawn from."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Annotated[str, Field(pattern=r"^[a-z0-9-]+$")]
    title: str
    kind: Literal["table", "figure"]
    make: Literal["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9", "t10",
                  "f1", "f2", "f3", "f4", "f5", "f6"]
    file: str                       # the CSV of a table, the PNG of a figure
    data: str | None = None         # a figure's CSV
    cells: str | None = None        # the CSV of every cell's rows, for a table made of cells
    command: str
    scenarios: tuple[str, ...] = ()
    replications: Annotated[int, Field(ge=1)] = 1
    seed: Annotated[int, Field(ge=0)] = 0
    options: dict[str, Any] = {}
    tolerance: Tolerance | Literal["exact"] = "exact"
    sample: Sample | None = None

    @model_validator(mode="after")
    def _cells(self) -> Entry:
        if (self.cells is not None) != (self.make in CELLS):
            raise ValueError(f"cells: {self.make} {'is' if self.make in CELLS else 'is not'} made of "
                             "cells (expected a cells file exactly for the makers of sim.tables.CELLS)")
        if self.sample is not None and self.cells is None:
            raise ValueError("sample: only an entry with a cells file can be sampled")
        return self

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
    full: bool = True

    @property
    def ok(self) -> bool:
        return not self.differences


def reproduce(names: list[str] | None = None, manifest: str | Path = MANIFEST, update: bool = False,
              jobs: int | None = None, report: Any = print, full: bool = False,
              work: str | Path | None = None) -> list[Outcome]:
    """Make the named entries (all when None) again and compare them with results/; a
    sampled entry re-makes only its sample of cells unless ``full`` or ``update``. ``work``
    keeps the runs (default: a temporary folder), so an interrupted re-make resumes."""
    manifest = Path(manifest)
    root = manifest.resolve().parent.parent
    entries = select(load_manifest(manifest), names, str(manifest))
    outcomes = []
    with _scratch(work) as scratch, outdir.folder(scratch, "reproduce", flag="--work"):
        bench = Bench(root=root, work=scratch, jobs=jobs)
        for entry in entries:
            started = time.perf_counter()
            if entry.sample is not None and not (update or full):
                differences = check_sample(bench, entry, root)
            else:
                differences = make(bench, entry, root, update)
            outcome = Outcome(entry, differences, time.perf_counter() - started,
                              full=entry.sample is None or update or full)
            report(describe(outcome, update))
            outcomes.append(outcome)
    return outcomes


@contextmanager
def _scratch(work: str | Path | None) -> Iterator[Path]:
    """The folder the entries' runs go to: ``work`` as given, or a temporary one."""
    if work is not None:
        yield Path(work)
        return
    with tempfile.TemporaryDirectory(prefix="govsim-reproduce-") as temporary:
        yield Path(temporary)


def make(bench: Bench, entry: Entry, root: Path, update: bool) -> list[str]:
    """Make the entry whole; publish it, or return how it differs from the published files."""
    cells = None
    if entry.cells is not None:
        maker, spec = CELLS[entry.make], entry.spec()
        cells = read_cells(atomic.csv_text(maker.make(bench, spec, maker.ids(bench, spec))))
        table = maker.table(bench, spec, cells)
    else:
        table = MAKERS[entry.make](bench, entry.spec())
    fresh = atomic.csv_text(table)
    if update:
        publish(root, entry, table, fresh)
        if cells is not None and entry.cells is not None:
            atomic.write_csv(root / entry.cells, cells)
        return []
    found = diff_tables(root / entry.table_file, fresh, entry.limits())
    if cells is not None and entry.cells is not None:
        found += diff_tables(root / entry.cells, atomic.csv_text(cells), Tolerance())
    return found


def sampled_cells(ids: list[str], sample: Sample) -> list[str]:
    """The sample's cells: ``sample.cells`` ids drawn with its seed, in the ids' order."""
    rng = np.random.default_rng(sample.seed)
    chosen = rng.choice(len(ids), size=min(sample.cells, len(ids)), replace=False)
    return [ids[i] for i in sorted(int(i) for i in chosen)]


def check_sample(bench: Bench, entry: Entry, root: Path) -> list[str]:
    """Re-make the sampled cells and compare them exactly with the stored ones; check that
    the published table follows from the stored cells."""
    assert entry.cells is not None and entry.sample is not None
    maker, spec, path = CELLS[entry.make], entry.spec(), root / entry.cells
    if not path.exists():
        return [f"{path.name}: not published yet (run govsim reproduce --update {entry.name})"]
    stored = read_cells(path.read_text(encoding="utf-8"))
    ids, kept = maker.ids(bench, spec), list(dict.fromkeys(stored.iloc[:, 0]))
    if kept != ids:
        return [f"{path.name}: holds {len(kept)} cells, the entry's design has {len(ids)} "
                f"(or others): re-make it with govsim reproduce --update {entry.name}"]
    chosen = sampled_cells(ids, entry.sample)
    fresh = read_cells(atomic.csv_text(maker.make(bench, spec, chosen)))
    old = stored[stored.iloc[:, 0].isin(chosen)].reset_index(drop=True)
    found = diff_frames(old, fresh, f"{path.name} (cells {', '.join(chosen)})", Tolerance())
    table = atomic.csv_text(maker.table(bench, spec, stored))
    return found + diff_tables(root / entry.table_file, table, entry.limits())


def read_cells(text: str) -> pd.DataFrame:
    """A cells file: the first column, the cell id, as text (``"0101"`` stays itself)."""
    from io import StringIO

    first = pd.read_csv(StringIO(text), nrows=0).columns[0]
    return pd.read_csv(StringIO(text), dtype={first: str})


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
    return diff_frames(old, new, published.name, tol, most)


def diff_frames(old: pd.DataFrame, new: pd.DataFrame, name: str, tol: Tolerance,
                most: int = 20) -> list[str]:
    """Readable differences between two tables, cell by cell, rows named by their text columns."""
    if list(old.columns) != list(new.columns) or len(old) != len(new):
        return [f"{name}: shape or columns changed: published {len(old)} rows "
                f"{list(old.columns)}, now {len(new)} rows {list(new.columns)}"]
    labels = [c for c in old.columns if not pd.api.types.is_numeric_dtype(old[c])][:3]   # row names
    found = []
    for i in range(len(old)):
        for column in old.columns:
            a, b = old.at[i, column], new.at[i, column]
            if not _same(a, b, tol):
                where = ", ".join(f"{k}={old.at[i, k]}" for k in labels if k != column)
                found.append(f"{name}: row {i + 1} ({where}) {column}: "
                             f"published {a}, now {b}")
    if len(found) > most:
        found = [*found[:most], f"... and {len(found) - most} more differing cells"]
    return found


NUMBER = (int, float, np.integer, np.floating)


def _same(a: Any, b: Any, tol: Tolerance) -> bool:
    if isinstance(a, NUMBER) and isinstance(b, NUMBER):       # 2 read back as int beside 2.0 is the same
        a, b = float(a), float(b)
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
        how = (f", {e.sample.cells} sampled cells and the table from the stored cells"
               if e.sample is not None and not outcome.full else "")
        return f"{e.name}: reproduces ({outcome.seconds:.0f} s{how})"
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
