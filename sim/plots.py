"""Figures of the published results, drawn from the data tables in results/.

Each figure is drawn from a CSV that ``govsim reproduce`` compares cell by cell; the PNG is
only its picture (image bytes differ between matplotlib versions, the data do not). Each
drawer returns a matplotlib Figure made without pyplot, so it shows inline in a notebook
and changes no backend or style of the caller; with a path it also writes the PNG.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import LEVELS

Drawer = Callable[[pd.DataFrame, "Path | None"], Any]


@contextmanager
def _style() -> Iterator[None]:
    """seaborn's look for the published figures, without changing the caller's settings."""
    import seaborn as sns

    with sns.axes_style("whitegrid"), sns.plotting_context("notebook"):
        yield


def _figure(width: float, height: float, columns: int = 1, **kwargs: Any) -> tuple[Any, Any]:
    """A figure not tied to any pyplot backend (safe in a notebook and on a server)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    return fig, fig.subplots(1, columns, squeeze=False, **kwargs)[0]


def _save(fig: Any, path: Path | None) -> Any:
    from sim import atomic

    fig.tight_layout()
    if path is not None:
        atomic.write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=120))
    return fig


STYLES = (("-", "o"), ("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v"))
"""Line style and marker per scenario, so curves that coincide stay distinguishable in print."""
PLAIN = {
    "process.bounce.probability": "bounce probability (unclear complaints)",
    "arrivals.per_1000_residents_per_day": "complaints per 1,000 residents per day",
    "process.pushdown.tasks_per_community_per_day": "departments' tasks per community per day",
    "process.bounce.allowed": "bounce-back allowed",
    "process.grid_branches": "grids with a party branch",
    "process.guides": "grid guides",
}
KPI_LABELS = {
    "resolved_share": "share of complaints resolved",
    "resolved_within_30d_share": "share resolved within 30 days",
    "resolved_within_7d_share": "share resolved within 7 days",
    "days_to_close_mean": "mean days to close (resolved)",
    "abandoned_share": "share abandoned by the resident",
    "satisfaction_mean": "mean probability of satisfaction",
}


def plain(key: str) -> str:
    """A key's name in words for an axis: ``process.guides`` -> ``grid guides``."""
    if key in PLAIN:
        return PLAIN[key]
    if key in KPI_LABELS:
        return KPI_LABELS[key]
    parts = key.split(".")
    return " ".join(p.replace("_", " ") for p in parts[-2:])


def time_to_close(data: pd.DataFrame, path: Path | None = None) -> Any:
    """F1: ECDF of days to close (share of the cohort resolved within d days), each scenario
    in its own line style, with its 95% band over replications when the data has one."""
    with _style():
        fig, (ax,) = _figure(7, 4.2)
        for i, (name, part) in enumerate(data.groupby("scenario", sort=False)):
            line, marker = STYLES[i % len(STYLES)]
            x, y = part["days"].to_numpy(), part["resolved_share"].to_numpy()
            every = max(len(x) // 8, 1)         # markers staggered, so coinciding curves show
            ax.step(x, y, where="post", linestyle=line, linewidth=2.2 - 0.4 * (i % 3), label=str(name),
                    marker=marker, markevery=(i * every // 3 % every, every), markersize=5, color=f"C{i}")
            if {"ci_low", "ci_high"} <= set(part.columns) and part["ci_low"].notna().any():
                ax.fill_between(x, part["ci_low"], part["ci_high"], step="post", alpha=0.2, color=f"C{i}")
        ax.set(xlabel="days since the complaint arrived", ylabel="share of complaints resolved",
               title="Time to close (band: 95% CI over replications)", ylim=(0, 1))
        ax.legend(title="scenario", loc="lower right")
        return _save(fig, path)


def _grouped_bars(ax: Any, data: pd.DataFrame, x: str, y: str, order: list[str]) -> None:
    """Bars of ``y`` by ``x`` and scenario, with 95% interval bars from ``ci_low``/``ci_high``."""
    names = list(dict.fromkeys(data["scenario"]))
    width = 0.8 / max(len(names), 1)
    for i, name in enumerate(names):
        part = data[data["scenario"] == name].set_index(x).reindex(order)
        pos = [j + (i - (len(names) - 1) / 2) * width for j in range(len(order))]
        value = part[y].to_numpy(dtype=float)
        err = None
        if {"ci_low", "ci_high"} <= set(part.columns):
            low, high = part["ci_low"].to_numpy(dtype=float), part["ci_high"].to_numpy(dtype=float)
            err = [value - low, high - value]
        ax.bar(pos, value, width, yerr=err, capsize=3, label=str(name), color=f"C{i}",
               hatch=("", "//", "..", "xx", "\\\\")[i % 5], edgecolor="white")
    ax.set_xticks(range(len(order)), order)
    ax.legend(title="scenario")


def where_resolved(data: pd.DataFrame, path: Path | None = None) -> Any:
    """F2: where resolved complaints were resolved, by level and scenario, with 95% CIs."""
    with _style():
        fig, (ax,) = _figure(7, 4.2)
        _grouped_bars(ax, data, "level", "share", list(LEVELS))
        ax.set(xlabel="level that resolved it", ylabel="share of resolved complaints",
               title="Where complaints are resolved (bars: 95% CI)")
        return _save(fig, path)


def utilization(data: pd.DataFrame, path: Path | None = None) -> Any:
    """Staff utilisation per level and scenario, with 95% CIs over replications."""
    order = [lv for lv in LEVELS if lv in set(data["level"])]
    with _style():
        fig, (ax,) = _figure(7, 4.2)
        _grouped_bars(ax, data, "level", "utilization", order)
        ax.set(xlabel="level", ylabel="share of staff time busy",
               title="Utilisation per level (bars: 95% CI)")
        return _save(fig, path)


def sensitivity(data: pd.DataFrame, path: Path | None = None) -> Any:
    """F3: T3 as heatmaps, one per scenario, of the share resolved within 30 days."""
    import seaborn as sns

    keys = [c for c in data.columns[1:] if not c.endswith(("_mean", "_ci_low", "_ci_high"))]
    names = list(dict.fromkeys(data["scenario"]))
    value = "resolved_within_30d_share_mean"
    with _style():
        fig, axes = _figure(5.6 * len(names), 4.4, len(names))
        for ax, name in zip(axes, names):
            grid = data[data["scenario"] == name].pivot(index=keys[0], columns=keys[1], values=value)
            sns.heatmap(grid, annot=True, fmt=".3f", cmap="viridis", vmin=data[value].min(),
                        vmax=data[value].max(), ax=ax, cbar_kws={"label": plain("resolved_within_30d_share")})
            ax.set(title=f"{name}: resolved within 30 days", ylabel=plain(keys[0]), xlabel=plain(keys[1]))
        return _save(fig, path)


def backlog(data: pd.DataFrame, path: Path | None = None) -> Any:
    """F4: open complaints by level over time, one panel per scenario; each panel's legend,
    below it, lists only the levels that have a backlog there."""
    import seaborn as sns

    names = list(dict.fromkeys(data["scenario"]))
    with _style():
        fig, axes = _figure(6 * len(names), 4.6, len(names), sharey=True)
        for ax, name in zip(axes, names):
            part = data[data["scenario"] == name]
            shown = [lv for lv in LEVELS if (part.loc[part["level"] == lv, "open"] > 0).any()]
            sns.lineplot(data=part[part["level"].isin(shown)], x="day", y="open", hue="level",
                         hue_order=shown, palette={lv: f"C{LEVELS.index(lv)}" for lv in shown}, ax=ax)
            ax.set(title=f"{name}: open backlog by level", xlabel="day", ylabel="open complaints")
            sns.move_legend(ax, "upper center", bbox_to_anchor=(0.5, -0.18), ncol=len(shown),
                            title="level", frameon=False)
        return _save(fig, path)


def sweep_kpi(data: pd.DataFrame, keys: list[str], kpi: str, path: Path | None = None) -> Any:
    """One KPI of a sweep: a line with its 95% band over the first key (one line per value of
    the others), or a heatmap when exactly two keys vary."""
    import seaborn as sns

    mean, low, high = (f"{kpi}_{s}" for s in ("mean", "ci_low", "ci_high"))
    with _style():
        fig, (ax,) = _figure(7, 4.4)
        if len(keys) == 2:
            grid = data.pivot(index=keys[0], columns=keys[1], values=mean)
            sns.heatmap(grid, annot=True, fmt=".3g", cmap="viridis", ax=ax, cbar_kws={"label": plain(kpi)})
            ax.set(ylabel=plain(keys[0]), xlabel=plain(keys[1]), title=plain(kpi))
            return _save(fig, path)
        others = keys[1:]
        groups = data.groupby(others, sort=False) if others else [("", data)]
        for i, (label, part) in enumerate(groups):
            line, marker = STYLES[i % len(STYLES)]
            x = list(range(len(part)))
            ax.plot(x, part[mean], linestyle=line, marker=marker, color=f"C{i}",
                    label=", ".join(f"{k}={v}" for k, v in zip(others, label if isinstance(label, tuple)
                                                                 else (label,))) or None)
            ax.fill_between(x, part[low], part[high], alpha=0.2, color=f"C{i}")
            ax.set_xticks(x, [str(v) for v in part[keys[0]]])
        ax.set(xlabel=plain(keys[0]), ylabel=plain(kpi), title=f"{plain(kpi)} (band: 95% CI)")
        if others:
            ax.legend()
        return _save(fig, path)


def indices(data: pd.DataFrame, path: Path | None = None, most: int = 12) -> Any:
    """Global sensitivity, one panel per output: Morris mu* (bars, bootstrap 95% interval)
    with sigma (dots), or Sobol S1 and ST (bars with intervals), most influential on top."""
    morris = "mu_star" in data.columns
    bars = ([("mu_star", "mu_star_conf", "mu*")] if morris
            else [("S1", "S1_conf", "S1"), ("ST", "ST_conf", "ST")])
    names = list(dict.fromkeys(data["output"]))
    with _style():
        fig, axes = _figure(6.5 * len(names), 0.9 + 0.32 * min(most, data["parameter"].nunique()),
                            len(names))
        for ax, name in zip(axes, names):
            part = data[data["output"] == name].sort_values(bars[-1][0], ascending=False).head(most)
            rows = np.arange(len(part))[::-1]
            height = 0.8 / len(bars)
            for j, (col, conf, label) in enumerate(bars):
                half = part[conf].abs().to_numpy()
                # mu* is a mean of absolute effects: its interval stops at 0
                low = np.minimum(half, part[col].clip(lower=0).to_numpy()) if morris else half
                ax.barh(rows + (j - (len(bars) - 1) / 2) * height, part[col], height=height,
                        xerr=[low, half], label=label, capsize=2)
            if morris:
                ax.plot(part["sigma"], rows, "o", color="black", label="sigma")
            ax.set_yticks(rows, part["parameter"], fontsize=8)
            ax.set(title=name, xlabel="change across the range" if morris else "share of variance")
            ax.legend(fontsize=8, loc="best")
        return _save(fig, path)


def posterior(data: pd.DataFrame, path: Path | None = None) -> Any:
    """F5: each calibrated parameter's weighted posterior over its whole prior range
    (``data``: ``parameter, value, weight, low, high``, one row per particle and parameter)."""
    names = list(dict.fromkeys(data["parameter"]))
    columns = min(3, len(names))
    rows = -(-len(names) // columns)
    with _style():
        fig = _figure(4.2 * columns, 3.0 * rows)[0]
        fig.clear()
        axes = fig.subplots(rows, columns, squeeze=False).ravel()
        for ax, name in zip(axes, names):
            part = data[data["parameter"] == name]
            low, high = float(part["low"].iloc[0]), float(part["high"].iloc[0])
            ax.hist(part["value"], bins=20, range=(low, high), weights=part["weight"], alpha=0.85)
            ax.set_xlim(low, high)
            ax.set_yticks([])
            ax.set_title(name, fontsize=9)
        for ax in axes[len(names):]:
            ax.set_visible(False)
        fig.suptitle("posterior over each prior's range")
        return _save(fig, path)


DRAWERS: dict[str, Drawer] = {"f1": time_to_close, "f2": where_resolved, "f3": sensitivity,
                              "f4": backlog, "f5": indices, "f6": posterior}


def waterfall(attribution: pd.DataFrame, kpi: str, start: float, path: Path | None = None) -> Any:
    """From the base's level to the reform's: one floating bar per element's Shapley value
    (with its 95% interval), in the order of the table; the axis starts near the levels shown,
    so small effects stay visible."""
    rows = attribution[(attribution["kpi"] == kpi) & (attribution["element"] != "total")]
    values = rows["shapley"].fillna(0.0).to_numpy()
    ends = start + values.cumsum()
    before = ends - values
    levels = [start, *ends]
    span = (max(levels) - min(levels)) or abs(start) * 0.1 or 1.0
    floor, top = min(levels) - 0.5 * span, max(levels) + 0.2 * span
    with _style():
        fig, (ax,) = _figure(max(6.0, 0.9 * len(values) + 3), 4.4)
        names = ["base", *rows["element"], "reform"]
        bottoms = [floor, *np.minimum(before, ends), floor]
        heights = [start - floor, *np.abs(values), ends[-1] - floor if len(ends) else start - floor]
        colours = ["0.6", *["tab:green" if v >= 0 else "tab:red" for v in values], "0.3"]
        ax.bar(names, heights, bottom=bottoms, color=colours)
        has_ci = rows["ci_low"].notna().to_numpy()
        shapley = rows["shapley"].to_numpy()
        err = [(shapley - rows["ci_low"].to_numpy())[has_ci], (rows["ci_high"].to_numpy() - shapley)[has_ci]]
        ax.errorbar(np.arange(1, len(values) + 1)[has_ci], ends[has_ci], yerr=err, fmt="none",
                    ecolor="black", capsize=3)
        ax.set_ylim(floor, top)
        ax.set(title=f"{kpi}: what each element buys (Shapley values)", ylabel=kpi)
        ax.tick_params(axis="x", labelrotation=35)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
        return _save(fig, path)
