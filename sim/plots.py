"""Figures of the published results, drawn from the data tables in results/.

Each figure is drawn from a CSV that ``govsim reproduce`` compares cell by cell; the PNG is
only its picture (image bytes differ between matplotlib versions, the data do not).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from sim.config import LEVELS

Drawer = Callable[[pd.DataFrame, Path], None]


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="notebook")
    return plt, sns


def _save(fig, path: Path) -> None:  # type: ignore[no-untyped-def]
    from sim import atomic

    fig.tight_layout()
    atomic.write_atomic(path, lambda f: fig.savefig(f, format="png", dpi=120))
    import matplotlib.pyplot as plt

    plt.close(fig)


def time_to_close(data: pd.DataFrame, path: Path) -> None:
    """F1: ECDF of days to close (share of the cohort resolved within d days)."""
    plt, sns = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    sns.lineplot(data=data, x="days", y="resolved_share", hue="scenario", drawstyle="steps-post", ax=ax)
    ax.set(xlabel="days since the complaint arrived", ylabel="share of complaints resolved",
           title="Time to close", ylim=(0, 1))
    _save(fig, path)


def where_resolved(data: pd.DataFrame, path: Path) -> None:
    """F2: where resolved complaints were resolved, by level and scenario."""
    plt, sns = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    sns.barplot(data=data, x="level", y="share", hue="scenario", order=list(LEVELS), ax=ax)
    ax.set(xlabel="level that resolved it", ylabel="share of resolved complaints",
           title="Where complaints are resolved")
    _save(fig, path)


def sensitivity(data: pd.DataFrame, path: Path) -> None:
    """F3: T3 as heatmaps, one per scenario, of the share resolved within 30 days."""
    plt, sns = _pyplot()
    keys = [c for c in data.columns[1:] if not c.endswith(("_mean", "_ci_low", "_ci_high"))]
    names = list(dict.fromkeys(data["scenario"]))
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 4.2), squeeze=False)
    value = "resolved_within_30d_share_mean"
    for ax, name in zip(axes[0], names):
        grid = data[data["scenario"] == name].pivot(index=keys[0], columns=keys[1], values=value)
        sns.heatmap(grid, annot=True, fmt=".3f", cmap="viridis", vmin=data[value].min(),
                    vmax=data[value].max(), ax=ax, cbar=ax is axes[0][-1])
        ax.set(title=f"{name}: resolved within 30 days", ylabel=keys[0], xlabel=keys[1])
    _save(fig, path)


def backlog(data: pd.DataFrame, path: Path) -> None:
    """F4: open complaints by level over time, one panel per scenario."""
    plt, sns = _pyplot()
    names = list(dict.fromkeys(data["scenario"]))
    fig, axes = plt.subplots(1, len(names), figsize=(6 * len(names), 4), sharey=True, squeeze=False)
    for ax, name in zip(axes[0], names):
        sns.lineplot(data=data[data["scenario"] == name], x="day", y="open", hue="level",
                     hue_order=[lv for lv in LEVELS if lv in set(data["level"])], ax=ax)
        ax.set(title=f"{name}: open backlog by level", xlabel="day", ylabel="open complaints")
    _save(fig, path)


DRAWERS: dict[str, Drawer] = {"f1": time_to_close, "f2": where_resolved, "f3": sensitivity,
                              "f4": backlog}
