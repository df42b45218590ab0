"""Report sections of the folders the model's own commands write: run, compare and sweep.

A run answers "how does this process do?": the headline KPIs with intervals, how fast
complaints close, where they are resolved, how loaded each level is. A comparison adds "what
changes, and is it more than luck?": the paired differences, each significant one in a
sentence. A sweep shows how the KPIs move as the varied keys change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from sim import plots
from sim.comparison import excludes_zero
from sim.figures import SWEEP_KPIS, level_shares, time_to_close_data, utilization_data
from sim.report.assumptions import assumptions, flatten, overridden, resolved, source_file
from sim.report.page import Section, interval, number

HEADLINE = ("arrivals", "resolved_share", "resolved_within_7d_share", "resolved_within_30d_share",
            "days_to_close_mean", "days_to_close_p90", "abandoned_share", "open_share",
            "resolution_reported_share", "bounces_mean", "handoffs_mean", "satisfaction_mean",
            "satisfaction_survey")
"""KPIs shown first, when the folder has them; the full table follows."""


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    if not path.is_file():
        return {}
    return dict(json.loads(path.read_text(encoding="utf-8")))


def need(folder: Path, name: str, what: str) -> Path:
    from sim.config import ScenarioError

    path = folder / name
    if not path.exists():
        raise ScenarioError(str(folder), name, f"missing (expected {what})")
    return path


def run_sections(folder: Path) -> tuple[str, list[str], list[Section]]:
    """A run folder: headline KPIs, figures, assumptions, manifest."""
    manifest = read_manifest(folder)
    summary = pd.read_csv(need(folder, "summary.csv", "a run folder's summary.csv"))
    name = str(manifest.get("name", folder.name))
    reps = int(summary["replications"].max())
    table = summary.assign(scenario=name)
    kpis = Section("Headline KPIs").table(_kpi_rows(summary), f"mean [95% CI] over {reps} replications")
    figures = _figures({name: folder}, table)
    full = Section("Every KPI").table(summary)
    return (f"Run: {name}", _run_summary(summary, name, reps),
            [kpis, figures, full, assumptions_section({name: folder}), manifest_section({name: manifest})])


def _kpi_rows(summary: pd.DataFrame) -> pd.DataFrame:
    rows = summary.set_index("kpi")
    shown = [k for k in HEADLINE if k in rows.index]
    return pd.DataFrame({"KPI": shown, "meaning": [plots.plain(k) for k in shown],
                         "mean [95% CI]": [interval(*rows.loc[k, ["mean", "ci_low", "ci_high"]])
                                           for k in shown]})


def _run_summary(summary: pd.DataFrame, name: str, reps: int) -> list[str]:
    rows = summary.set_index("kpi")["mean"]
    lines = [f"{name}: {reps} replications."]
    if "resolved_share" in rows:
        lines.append(f"{rows['resolved_share']:.1%} of complaints resolved; "
                     f"{rows.get('abandoned_share', float('nan')):.1%} abandoned by the resident.")
    if "days_to_close_mean" in rows:
        lines.append(f"Resolved complaints took {number(float(rows['days_to_close_mean']))} days on average.")
    return lines


def _figures(runs: dict[str, Path], table: pd.DataFrame) -> Section:
    """Time to close, where resolved, utilisation: drawn from the run folders' data."""
    section = Section("Figures")
    section.figure(plots.time_to_close(time_to_close_data(runs)),
                   "Share of the cohort resolved within d days of arriving; band: 95% CI over replications.")
    section.figure(plots.where_resolved(level_shares(table)),
                   "Where resolved complaints were resolved, by level; bars: 95% CI.")
    usage = utilization_data(runs)
    if len(usage):
        section.figure(plots.utilization(usage), "Share of staff time busy at each level; bars: 95% CI.")
    return section


def compare_sections(folder: Path) -> tuple[str, list[str], list[Section]]:
    """A comparison folder: differences in words and numbers, figures, differing keys."""
    table = pd.read_csv(need(folder, "comparison.csv", "a comparison folder's comparison.csv"))
    names = list(dict.fromkeys(table["scenario"]))
    runs = {n: folder / n for n in names if (folder / n / "summary.csv").is_file()}
    manifests = {n: read_manifest(p) for n, p in runs.items()}
    reps = next((int(m["replications"]) for m in manifests.values() if "replications" in m), 0)
    findings = differences_in_words(table, names, reps)
    head = Section("Headline KPIs and paired differences").finding(*findings or [
        "No difference to the first scenario is significant at 95%."]).table(
        _comparison_rows(table, names), f"mean [95% CI]; Δ = scenario − {names[0]}, paired by replication")
    sections = [head]
    if len(runs) == len(names):
        sections.append(_figures(runs, table))
        sections.append(differing_keys(runs))
    else:
        sections.append(Section("Figures").note("the run folders of the scenarios are not in this folder"))
    sections += [Section("Every KPI").table(table), assumptions_section(runs),
                 manifest_section({"(comparison)": read_manifest(folder), **manifests})]
    title = "Comparison: " + " vs ".join(names)
    lead = [f"{len(names)} scenarios on the same complaints (common random numbers), "
            f"{reps} replications each; differences are to {names[0]}."]
    return title, lead + findings[:6], sections


def differences_in_words(table: pd.DataFrame, names: list[str], reps: int) -> list[str]:
    """One sentence per headline KPI and scenario whose paired difference excludes 0."""
    lines = []
    for row in table.itertuples():
        if row.kpi not in HEADLINE or row.scenario == names[0] or not excludes_zero(row.diff_ci_low,
                                                                                    row.diff_ci_high):
            continue
        base = float(row.mean) - float(row.diff)
        way = "higher" if row.diff > 0 else "lower"
        share = abs(row.diff) / abs(base) if base else float("nan")
        relative = "" if not base else f", {share:.0%} {way}" if share >= 0.01 else f", {share:.2%} {way}"
        lines.append(f"{row.scenario}: {plots.plain(row.kpi)} is {number(float(row.mean))} against "
                     f"{number(base)} for {names[0]} ({'+' if row.diff > 0 else '−'}"
                     f"{number(abs(float(row.diff)))}{relative}; 95% CI of the paired difference "
                     f"{number(float(row.diff_ci_low))} to {number(float(row.diff_ci_high))}, "
                     f"{reps} replications).")
    return lines


def _comparison_rows(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    rows = []
    for kpi, block in table.groupby("kpi", sort=False):
        if kpi not in HEADLINE:
            continue
        row: dict[str, str] = {"KPI": str(kpi)}
        for r in block.itertuples():
            row[str(r.scenario)] = interval(r.mean, r.ci_low, r.ci_high)
            if r.scenario != names[0]:
                mark = " *" if excludes_zero(r.diff_ci_low, r.diff_ci_high) else ""
                row[f"Δ {r.scenario}"] = interval(r.diff, r.diff_ci_low, r.diff_ci_high) + mark
        rows.append(row)
    return pd.DataFrame(rows)


def differing_keys(runs: dict[str, Path]) -> Section:
    """The keys in which the resolved scenarios differ, side by side."""
    values = {name: resolved(path) for name, path in runs.items()}
    keys = dict.fromkeys(k for v in values.values() for k in v if k not in ("name", "description"))
    differ = [k for k in keys if len({json.dumps(v.get(k), sort_keys=True) for v in values.values()}) > 1]
    frame = pd.DataFrame({"key": differ, **{n: [_show(v.get(k)) for k in differ] for n, v in values.items()}})
    section = Section("Where the scenarios differ")
    if not differ:
        return section.note("the scenarios have the same keys and values")
    return section.text(f"{len(differ)} keys differ; all other keys are the same.").table(frame)


def _show(value: Any) -> str:
    return "–" if value is None else json.dumps(value) if isinstance(value, list | dict) else str(value)


def assumptions_section(runs: dict[str, Path]) -> Section:
    """Each scenario file's numbers with their source comments."""
    section = Section("Assumptions and their sources")
    for name, folder in runs.items():
        path, exact = source_file(folder, read_manifest(folder))
        if path is None:
            section.note(f"{name}: the scenario file was not found; the resolved scenario is in "
                         f"{folder / 'scenario.yaml'} (without comments)")
            continue
        rows = assumptions(path.read_text(encoding="utf-8"))
        frame = pd.DataFrame([(r.key, r.value, r.comment or "(no comment)") for r in rows],
                             columns=["key", "value in the file", "source or assumption"])
        section.text(f"{name}: from {_shown_path(path)}.")
        if not exact:
            changed = overridden(path, folder)
            section.note(f"The run used other values than the file for: {', '.join(changed) or '(none)'}.")
        section.table(frame)
    return section


def _shown_path(path: Path) -> str:
    """A path relative to the working directory when it is under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def manifest_section(manifests: dict[str, dict[str, Any]]) -> Section:
    """What made the results: seed, hash, versions, commit, wall time."""
    flat = {name: flatten(m) for name, m in manifests.items() if m}
    keys = list(dict.fromkeys(k for f in flat.values() for k in f))
    frame = pd.DataFrame({"field": keys, **{n: [_show(f.get(k)) for k in keys] for n, f in flat.items()}})
    section = Section("Manifest: what made these results")
    return section.table(frame) if keys else section.note("no manifest.json in this folder")


def sweep_sections(folder: Path) -> tuple[str, list[str], list[Section]]:
    """A sweep folder: one figure per headline KPI over the varied keys, and the table."""
    table = pd.read_csv(need(folder, "sweep.csv", "a sweep folder's sweep.csv"))
    manifest = read_manifest(folder)
    keys = list(manifest.get("vary") or [c for c in table.columns if not c.endswith(
        ("_mean", "_ci_low", "_ci_high"))])
    figures = Section("Figures")
    for kpi in SWEEP_KPIS:
        if f"{kpi}_mean" in table.columns and table[f"{kpi}_mean"].notna().any():
            figures.figure(plots.sweep_kpi(table, keys, kpi), f"{plots.plain(kpi)} over {', '.join(keys)}")
    shown = table[[*keys, *(c for k in SWEEP_KPIS for c in (f"{k}_mean", f"{k}_ci_low", f"{k}_ci_high")
                            if c in table.columns)]]
    rows = Section("Headline KPIs per combination").table(shown, "mean and 95% CI bounds per combination")
    name = (manifest.get("scenarios") or [folder.name])[0]
    runs = {name: next(p.parent for p in sorted(folder.glob("*/summary.csv")))} if any(
        folder.glob("*/summary.csv")) else {}
    lead = [f"Sweep of {name}: {len(table)} combinations of {', '.join(keys)}"
            + (f", {manifest['replications']} replications each." if "replications" in manifest else ".")]
    return (f"Sweep: {name}", lead, [figures, rows, Section("Every KPI").table(table),
                                     assumptions_section(runs), manifest_section({"(sweep)": manifest})])
