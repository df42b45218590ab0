"""A run's event log in the form process-mining tools read: pm4py, ProM, Disco, Celonis.

Those tools see a log as cases (here: one complaint in one replication), each a sequence of
events with an activity, a timestamp and a resource. So that their process map can show the
path grid → street → department, each activity carries the level it happened at
(``escalate@grid``, ``handoff@street``); the unit is the resource (``street-3``); days become
timestamps from a fixed start date; and a complaint still open at the horizon ends with an
``open@<level>`` event there, so no case looks as if it stopped for no reason. The rows are
sorted by case, then time, then the order in which the simulation recorded them, so a tool
that keeps file order and one that sorts by timestamp see the same sequences.

Works from the run folder's ``events.parquet`` and ``complaints.parquet`` alone; writing XES
needs only the standard library, so the log can be made where pm4py is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Literal
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from sim import atomic
from sim.config import ScenarioError

Format = Literal["xes", "csv", "parquet"]
FORMATS: tuple[str, ...] = ("xes", "csv", "parquet")
START = "2020-01-01"
"""Day 0 of the simulation as a date, for tools that want calendar timestamps."""
CASE, ACTIVITY, TIMESTAMP, RESOURCE = "case:concept:name", "concept:name", "time:timestamp", "org:resource"
CASE_ATTRIBUTES = ("category", "entry_level", "outcome")
"""Columns of the complaint table carried onto every case (``case:<name>``)."""


def event_log(run_dir: str | Path, start: str = START) -> pd.DataFrame:
    """The run's events under process-mining names, one case per complaint and replication."""
    run = Path(run_dir)
    events = _read(run, "events.parquet", ["replication", "complaint_id", "day", "activity", "level", "unit"])
    complaints = _read(run, "complaints.parquet", ["replication", "complaint_id", "arrival_day", "days_open",
                                                   *CASE_ATTRIBUTES])
    events = events.assign(order=np.arange(len(events)), activity=events["activity"].astype(str),
                           level=events["level"].astype(str))
    rows = pd.concat([events, _open_ends(events, complaints)], ignore_index=True)
    rows = rows.sort_values(["replication", "complaint_id", "day", "order"], kind="stable")
    cases = complaints.set_index(["replication", "complaint_id"])
    key = pd.MultiIndex.from_frame(rows[["replication", "complaint_id"]])
    log = pd.DataFrame({
        CASE: rows["replication"].astype(str).to_numpy() + "-" + rows["complaint_id"].astype(str).to_numpy(),
        ACTIVITY: rows["activity"].to_numpy() + "@" + rows["level"].to_numpy(),
        TIMESTAMP: pd.Timestamp(start, tz="UTC") + pd.to_timedelta(rows["day"].to_numpy(), unit="D"),
        RESOURCE: rows["level"].to_numpy() + "-" + rows["unit"].astype(str).to_numpy(),
        "replication": rows["replication"].to_numpy(),
        "complaint_id": rows["complaint_id"].to_numpy(),
        "day": rows["day"].to_numpy(),
    })
    for name in CASE_ATTRIBUTES:
        log[f"case:{name}"] = cases[name].astype(str).reindex(key).to_numpy()
    return log


def _read(run: Path, name: str, columns: list[str]) -> pd.DataFrame:
    path = run / name
    if not path.is_file():
        hint = "a run made with --events" if name == "events.parquet" else "a run folder"
        raise ScenarioError(str(run), name, f"missing (expected {hint})")
    return pd.read_parquet(path, columns=columns)


def _open_ends(events: pd.DataFrame, complaints: pd.DataFrame) -> pd.DataFrame:
    """An ``open`` event at the horizon for each complaint still open, at its last unit."""
    still = complaints[complaints["outcome"].astype(str) == "open"]
    last = events.groupby(["replication", "complaint_id"], sort=False).tail(1).set_index(
        ["replication", "complaint_id"])
    key = pd.MultiIndex.from_frame(still[["replication", "complaint_id"]])
    at = last.reindex(key)
    return pd.DataFrame({
        "replication": still["replication"].to_numpy(), "complaint_id": still["complaint_id"].to_numpy(),
        "day": (still["arrival_day"] + still["days_open"]).to_numpy(), "activity": "open",
        "level": at["level"].fillna("grid").to_numpy(), "unit": at["unit"].fillna(0).astype(int).to_numpy(),
        "order": len(events) + np.arange(len(still)),
    }).dropna(subset=["day"])


def export(run_dir: str | Path, fmt: Format, out: str | Path | None = None, start: str = START) -> Path:
    """Write the run's event log as XES, CSV or Parquet; the file's path."""
    if fmt not in FORMATS:
        raise ScenarioError("--format", "", f"{fmt!r} is not allowed (expected one of {', '.join(FORMATS)})")
    target = Path(out) if out is not None else Path(run_dir) / f"eventlog.{fmt}"
    log = event_log(run_dir, start)
    if fmt == "csv":
        frame = log.assign(**{TIMESTAMP: log[TIMESTAMP].dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z")})
        atomic.write_csv(target, frame)
    elif fmt == "parquet":
        atomic.write_atomic(target, lambda f: log.to_parquet(f, index=False))
    else:
        atomic.write_atomic(target, lambda f: write_xes(log, f))
    return target


XES_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <global scope="trace"><string key="concept:name" value="__INVALID__"/></global>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <string key="concept:name" value="govsim event log"/>
"""


def write_xes(log: pd.DataFrame, f: IO[bytes]) -> None:
    """XES 1.0 (IEEE 1849), one trace per case, events in the log's order."""
    f.write(XES_HEAD.encode())
    for chunk in _traces(log):
        f.write(chunk.encode())
    f.write(b"</log>\n")


def _traces(log: pd.DataFrame) -> Iterator[str]:
    stamps = log[TIMESTAMP].dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "+00:00"
    events = ('    <event><string key="concept:name" value=' + log[ACTIVITY].map(quoteattr)
              + '/><date key="time:timestamp" value="' + stamps
              + '"/><string key="org:resource" value=' + log[RESOURCE].map(quoteattr)
              + '/><float key="day" value="' + log["day"].map(repr) + '"/></event>\n')
    case = log[CASE].to_numpy()
    starts = np.flatnonzero(np.r_[True, case[1:] != case[:-1]])
    ends = np.r_[starts[1:], len(case)]
    texts = events.to_numpy()
    attributes = {c[5:]: log[c].to_numpy() for c in log.columns if c.startswith("case:") and c != CASE}
    for a, b in zip(starts, ends):
        head = [f'  <trace>\n    <string key="concept:name" value={quoteattr(str(case[a]))}/>\n']
        head += [f'    <string key="{k}" value={quoteattr(str(v[a]))}/>\n' for k, v in attributes.items()]
        yield "".join(head) + "".join(texts[a:b]) + "  </trace>\n"
