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
                              "f4": backlog, "f5": posterior}
