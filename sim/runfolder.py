"""A run folder, written while the replications arrive and finished by its manifest.

A run of the Shibei scenario makes a quarter of a million complaints per replication; fifty
replications do not fit comfortably in memory. So each replication's complaints are appended
to ``complaints.parquet`` (one row group each) as soon as it is its turn, and only the small
tables (KPIs, utilization) stay in memory. Big files grow under hidden temporary names and
are renamed at the end; ``manifest.json`` is written last, and the whole folder, built
beside its final name, replaces any older run folder in one rename (sim/outdir.py).
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pandas as pd

from sim import atomic, outdir
from sim.config import Scenario
from sim.metrics import kpi_names, summarize
from sim.records import UTILIZATION_COLUMNS

if TYPE_CHECKING:
    import pyarrow.parquet as pq

MANIFEST = "manifest.json"


class ParquetAppender:
    """One Parquet file, one row group per appended table, renamed into place when the
    stack it was opened on closes without an error."""

    def __init__(self, path: Path, stack: ExitStack) -> None:
        self._stack = stack
        self._file: IO[bytes] = stack.enter_context(atomic.open_atomic(path))
        self._writer: pq.ParquetWriter | None = None

    def append(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self._writer is None:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            self._writer = pq.ParquetWriter(self._file, table.schema)
            self._stack.callback(self._writer.close)
        else:
            table = pa.Table.from_pandas(frame, schema=self._writer.schema, preserve_index=False)
        if len(frame):
            self._writer.write_table(table)


class RunWriter:
    """Writes one run folder replication by replication; use as a context manager.

    Replications must be added in index order. The folder is built in a hidden sibling and
    replaces ``out`` as a whole when ``finish`` ends (sim/outdir.py): leaving the block with
    an error leaves the old folder, if any, as it was, and nothing else behind. With
    ``complaints=False`` the folder has no complaints.parquet: an attribution's hundreds of
    combinations need only their KPIs, and their complaints would fill the disk.
    """

    def __init__(self, out: str | Path, scenario: Scenario, events: bool = False,
                 complaints: bool = True) -> None:
        self.out = Path(out)
        self.scenario = scenario
        self.events = events
        self.complaints = complaints
        self.kpis: list[dict[str, float]] = []
        self.utilization: list[pd.DataFrame] = []
        self._folder = ExitStack()
        self._stack = ExitStack()

    def __enter__(self) -> RunWriter:
        self._staging = self._folder.enter_context(outdir.replaced(self.out))
        self._complaints = (ParquetAppender(self._staging / "complaints.parquet", self._stack)
                            if self.complaints else None)
        self._events = (ParquetAppender(self._staging / "events.parquet", self._stack)
                        if self.events else None)
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self._stack.__exit__(*exc)
        finally:
            self._folder.__exit__(*exc)

    def add(self, complaints: pd.DataFrame, kpis: dict[str, float], utilization: pd.DataFrame,
            events: pd.DataFrame | None = None) -> None:
        """Append one replication's tables."""
        if self._complaints is not None:
            self._complaints.append(complaints)
        if self._events is not None and events is not None:
            self._events.append(events)
        self.kpis.append(kpis)
        self.utilization.append(utilization)

    def kpi_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.kpis, columns=["replication", *kpi_names(self.scenario)])

    def utilization_frame(self) -> pd.DataFrame:
        if not self.utilization:
            return pd.DataFrame(columns=list(UTILIZATION_COLUMNS))
        return pd.concat(self.utilization, ignore_index=True)

    def finish(self, manifest: dict[str, Any]) -> pd.DataFrame:
        """Move the big files into place, write the small ones, the manifest last; the summary."""
        self._stack.close()
        kpis = self.kpi_frame()
        summary = summarize(kpis)
        atomic.write_text(self._staging / "scenario.yaml", self.scenario.to_yaml())
        atomic.write_csv(self._staging / "kpis.csv", kpis)
        atomic.write_csv(self._staging / "summary.csv", summary)
        atomic.write_csv(self._staging / "utilization.csv", self.utilization_frame())
        atomic.write_text(self._staging / MANIFEST, json.dumps(manifest, indent=2) + "\n")
        self._folder.close()
        return summary


def finished(out: str | Path, scenario: Scenario, replications: int) -> bool:
    """Whether ``out`` holds a whole run of exactly this scenario and replication count."""
    try:
        manifest = json.loads((Path(out) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (manifest.get("scenario_sha256") == scenario.sha256()
            and manifest.get("replications") == replications)


def read_summary(out: str | Path) -> pd.DataFrame:
    return pd.read_csv(Path(out) / "summary.csv")
