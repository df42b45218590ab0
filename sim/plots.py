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


def time_to_close(data: pd.DataFrame, path: Path | None = None) -> Any:
    """F1: ECDF of days to close (share of the cohort resolved within d days)."""
    import seaborn as sns

    with _style():
        fig, (ax,) = _figure(7, 4.2)
        sns.lineplot(data=data, x="days", y="resolved_share", hue="scenario", drawstyle="steps-post",
                     ax=ax)
        ax.set(xlabel="days since the complaint arrived", ylabel="share of complaints resolved",
               title="Time to close", ylim=(0, 1))
        return _save(fig, path)


def where_resolved(data: pd.DataFrame, path: Path | None = None) -> Any:
    """F2: where resolved complaints were resolved, by level and scenario."""
    import seaborn as sns

    with _style():
        fig, (ax,) = _figure(7, 4.2)
        sns.barplot(data=data, x="level", y="share", hue="scenario", order=list(LEVELS), ax=ax)
        ax.set(xlabel="level that resolved it", ylabel="share of resolved complaints",
               title="Where complaints are resolved")
        return _save(fig, path)


def sensitivity(data: pd.DataFrame, path: Path | None = None) -> Any:
    """F3: T3 as heatmaps, one per scenario, of the share resolved within 30 days."""
    import seaborn as sns

    keys = [c for c in data.columns[1:] if not c.endswith(("_mean", "_ci_low", "_ci_high"))]
    names = list(dict.fromkeys(data["scenario"]))
    value = "resolved_within_30d_share_mean"
    with _style():
        fig, axes = _figure(5.2 * len(names), 4.2, len(names))
        for ax, name in zip(axes, names):
            grid = data[data["scenario"] == name].pivot(index=keys[0], columns=keys[1], values=value)
            sns.heatmap(grid, annot=True, fmt=".3f", cmap="viridis", vmin=data[value].min(),
                        vmax=data[value].max(), ax=ax, cbar=ax is axes[-1])
            ax.set(title=f"{name}: resolved within 30 days", ylabel=keys[0], xlabel=keys[1])
        return _save(fig, path)


def backlog(data: pd.DataFrame, path: Path | None = None) -> Any:
    """F4: open complaints by level over time, one panel per scenario."""
    import seaborn as sns

    names = list(dict.fromkeys(data["scenario"]))
    with _style():
        fig, axes = _figure(6 * len(names), 4, len(names), sharey=True)
        for ax, name in zip(axes, names):
            sns.lineplot(data=data[data["scenario"] == name], x="day", y="open", hue="level",
                         hue_order=[lv for lv in LEVELS if lv in set(data["level"])], ax=ax)
            ax.set(title=f"{name}: open backlog by level", xlabel="day", ylabel="open complaints")
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
                ax.barh(rows + (j - (len(bars) - 1) / 2) * height, part[col], height=height,
                        xerr=part[conf].abs(), label=label, capsize=2)
            if morris:
                ax.plot(part["sigma"], rows, "o", color="black", label="sigma")
            ax.set_yticks(rows, part["parameter"], fontsize=8)
            ax.set(title=name, xlabel="change across the range" if morris else "share of variance")
            ax.legend(fontsize=8, loc="best")
        return _save(fig, path)


DRAWERS: dict[str, Drawer] = {"f1": time_to_close, "f2": where_resolved, "f3": sensitivity,
                              "f4": backlog, "f5": indices}
