"""Sensitivity sweeps: every combination of a few scenario keys, one run folder each.

"What if departments bounced less often?" is a sweep over ``process.bounce.probability``;
"... and with more street staff?" adds a second key, and the sweep runs every combination.
Each combination is an ordinary run folder, so a sweep that crashed (or was stopped) picks up
where it left off: a folder whose manifest matches the combination is finished and skipped;
any other folder is run again from scratch. ``sweep.csv`` is rebuilt from the folders'
``summary.csv`` files, so a resumed sweep gives the same table as an uninterrupted one.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
import yaml

from sim import atomic, outdir
from sim.config import Scenario, ScenarioError
from sim.executors import Executor, ordered
from sim.experiment import folder_manifest, manifest, progress_bar, simulate, write_manifest
from sim.runfolder import RunWriter, finished, read_summary

FLAG = "--vary"
UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")


@dataclass(frozen=True)
class Combination:
    """One point of the sweep: the varied keys' values (as given) and the scenario they make."""

    values: tuple[tuple[str, str], ...]
    scenario: Scenario

    @property
    def folder(self) -> str:
        """A folder name that says the values, e.g. ``process.bounce.probability=0.4``."""
        return ",".join(UNSAFE.sub("_", f"{key}={text}") for key, text in self.values)


@dataclass
class SweepResult:
    """``sweep.csv`` as a table, where the run folders are, and which ones this call ran."""

    table: pd.DataFrame
    out: Path
    combinations: list[Combination]
    ran: list[str]
    skipped: list[str]

    def _repr_html_(self) -> str:
        """In a notebook, the sweep shows itself as ``sweep.csv``."""
        from sim.report.page import notebook_html

        return notebook_html(f"sweep of {len(self.table)} combinations in {self.out}", self.table)


def parse_vary(items: Sequence[str], source: str = FLAG) -> dict[str, list[str]]:
    """``["a.b=1,2", "c=[x, y],[z]"]`` -> ``{"a.b": ["1", "2"], "c": ["[x, y]", "[z]"]}``."""
    out: dict[str, list[str]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ScenarioError(source, item, "expected KEY=V1,V2,..., "
                                "e.g. process.bounce.probability=0.2,0.4")
        if key in out:
            raise ScenarioError(source, key, "given twice (expected each key once, with all its values)")
        values = split_values(text)
        if not values or any(not v for v in values):
            raise ScenarioError(source, key, f"{text!r} has an empty value (expected V1,V2,...)")
        if len(set(values)) != len(values):
            raise ScenarioError(source, key, f"{text!r} repeats a value (expected each value once)")
        out[key] = values
    return out


def split_values(text: str) -> list[str]:
    """Split on the commas that are not inside brackets, braces or quotes."""
    values: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0:
            values.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    values.append("".join(current).strip())
    return values


def combinations(base: Scenario, vary: Mapping[str, Sequence[Any]], source: str = FLAG) -> list[Combination]:
    """Every combination, in the order given, each validated like a ``--set``."""
    if not vary:
        raise ScenarioError(source, "", "nothing to vary (expected at least one KEY=V1,V2,...)")
    texts = {key: [_text(v) for v in values] for key, values in vary.items()}
    out = []
    for chosen in itertools.product(*texts.values()):
        pairs = tuple(zip(texts, chosen))
        overrides = {key: _value(text) for key, text in pairs}
        out.append(Combination(pairs, base.with_overrides(overrides, source=source)))
    folders = [c.folder for c in out]
    for folder in folders:
        if folders.count(folder) > 1:
            raise ScenarioError(source, "", f"two combinations share the folder name {folder!r} "
                                "(expected values that differ in letters or digits)")
        if len(folder.encode()) > outdir.NAME_MAX - outdir.RESERVED:
            raise ScenarioError(source, "", f"the folder name of a combination is {len(folder)} "
                                f"characters (expected at most {outdir.NAME_MAX - outdir.RESERVED}: "
                                "shorter values)")
    seen: dict[str, Combination] = {}
    for combo in out:
        first = seen.setdefault(combo.scenario.sha256(), combo)
        if first is not combo:
            raise ScenarioError(source, "", f"{combo.folder} and {first.folder} are the same "
                                "scenario (expected values that differ once read as YAML)")
    return out


def default_folder(base: Scenario, vary: Mapping[str, Sequence[Any]]) -> Path:
    """``runs/sweep-<name>-<keys varied>``: two sweeps of one scenario over different keys
    get different folders."""
    keys = UNSAFE.sub("_", "-".join(vary))
    name = f"sweep-{base.name}-{keys}"
    if len(name) > 120:
        digest = hashlib.sha256("\n".join(vary).encode()).hexdigest()[:8]
        name = f"{name[:100]}-{digest}"
    return Path("runs") / name


def grid_marker(base: Scenario, combos: Sequence[Combination]) -> dict[str, Any]:
    """What makes a sweep folder this sweep's: the base scenario and every combination."""
    keys = [key for key, _ in combos[0].values]
    values = {key: list(dict.fromkeys(dict(c.values)[key] for c in combos)) for key in keys}
    return {"scenario_sha256": base.sha256(), "vary": values}


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else json.dumps(value)


def _value(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def sweep(scenario: Scenario, vary: Mapping[str, Sequence[Any]], out: str | Path | None = None,
          replications: int | None = None, jobs: int | None = 1, executor: Executor = "local",
          scheduler: str | None = None, progress: bool = False) -> SweepResult:
    """Run every combination of ``vary`` (key -> values) not yet finished under ``out``, then
    write ``out/sweep.csv``. Values may be given as YAML text (``"0.4"``) or as values."""
    started = time.perf_counter()
    combos = combinations(scenario, vary)
    out = Path(out) if out is not None else default_folder(scenario, vary)
    count = scenario.replications if replications is None else replications
    with outdir.folder(out, "sweep", grid_marker(scenario, combos)):
        todo = [c for c in combos if not finished(out / c.folder, c.scenario, count)]
        run_into_folders(todo, out, count, jobs, executor, scheduler, progress,
                         done_before=len(combos) - len(todo))
        table = sweep_table(combos, out)
        atomic.write_csv(out / "sweep.csv", table)
        varied = {key: [_text(v) for v in values] for key, values in vary.items()}
        write_manifest(out, folder_manifest("sweep", [scenario], count, time.perf_counter() - started,
                                            vary=varied, scenario_sha256=scenario.sha256()))
    ran = {c.folder for c in todo}
    return SweepResult(table, out, combos, [c.folder for c in combos if c.folder in ran],
                       [c.folder for c in combos if c.folder not in ran])


class Folder(Protocol):
    """A scenario to run into its own folder under a command's output folder."""

    @property
    def folder(self) -> str: ...

    @property
    def scenario(self) -> Scenario: ...


def run_into_folders(todo: Sequence[Folder], out: Path, count: int, jobs: int | None, executor: Executor,
                scheduler: str | None, progress: bool, done_before: int = 0, label: str = "sweep",
                complaints: bool = True) -> None:
    """Run the folders' replications as one stream of work, finishing folders in order: the
    one replication loop of every command that runs many scenarios (sweep, attribute)."""
    tasks = ((c.scenario, r, False) for c in todo for r in range(count))
    stream = ordered(simulate, tasks, jobs, executor, scheduler, count=len(todo) * count)
    combo_bar = progress_bar(len(todo) + done_before, label, progress, unit="combination")
    combo_bar.update(done_before)
    rep_bar = progress_bar(len(todo) * count, "replications", progress)
    try:
        for combo in todo:
            started = time.perf_counter()
            with RunWriter(out / combo.folder, combo.scenario, complaints=complaints) as writer:
                for _ in range(count):
                    rep = next(stream)
                    writer.add(rep.complaints, rep.kpis, rep.utilization)
                    rep_bar.update(1)
                writer.finish(manifest(combo.scenario, count, time.perf_counter() - started))
            combo_bar.update(1)
    finally:
        stream.close()
        rep_bar.close()
        combo_bar.close()


def sweep_table(combos: Sequence[Combination], out: Path) -> pd.DataFrame:
    """One row per combination: the varied keys, then each KPI's mean and CI bounds."""
    rows = []
    for combo in combos:
        row: dict[str, Any] = dict(combo.values)
        for s in read_summary(out / combo.folder).itertuples():
            row.update({f"{s.kpi}_mean": s.mean, f"{s.kpi}_ci_low": s.ci_low, f"{s.kpi}_ci_high": s.ci_high})
        rows.append(row)
    return pd.DataFrame(rows)


HEADLINE = ("resolved_share", "days_to_close_mean", "abandoned_share", "satisfaction_mean")


def format_sweep(result: SweepResult, kpis: Sequence[str] = HEADLINE) -> str:
    """The headline KPIs of each combination as aligned text: mean and 95% CI half-width."""
    table = result.table
    keys = [key for key, _ in result.combinations[0].values]
    shown = [k for k in kpis if f"{k}_mean" in table.columns]
    cells = [[*(str(row[k]) for k in keys),
              *(_pm(row[f"{k}_mean"], row[f"{k}_ci_low"], row[f"{k}_ci_high"]) for k in shown)]
             for _, row in table.iterrows()]
    header = [*keys, *shown]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    lines = [f"sweep of {table.shape[0]} combinations: mean ± 95% CI half-width"]
    for cols in [header, *cells]:
        lines.append("  ".join(c.rjust(w) if i >= len(keys) else c.ljust(w)
                               for i, (c, w) in enumerate(zip(cols, widths))).rstrip())
    return "\n".join(lines)


def _pm(mean: float, low: float, high: float) -> str:
    if pd.isna(mean):
        return "-"
    return f"{mean:.4g}" if pd.isna(low) else f"{mean:.4g} ± {(high - low) / 2:.2g}"
