"""``govsim report``: one self-contained HTML page of any folder a govsim command wrote.

An analyst hands on a page, not a folder of CSV files. The page shows what the folder's kind
calls for (the headline KPIs with intervals and the paired differences in words, the
figures, where the scenarios differ, every assumption with its source, the manifest), reads
offline, prints, and needs no JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sim import atomic
from sim.config import ScenarioError
from sim.report.page import Page, Section, render
from sim.report.runs import compare_sections, read_manifest, run_sections, sweep_sections
from sim.report.studies import attribute_sections, calibrate_sections, sensitivity_sections

Builder = Callable[[Path], tuple[str, list[str], list[Section]]]
KINDS: dict[str, tuple[str, Builder]] = {
    # kind: (the file that marks a folder of that kind when its manifest names none, builder)
    "compare": ("comparison.csv", compare_sections),
    "sweep": ("sweep.csv", sweep_sections),
    "calibrate": ("posterior.csv", calibrate_sections),
    "attribute": ("attribution.csv", attribute_sections),
    "sensitivity": ("sensitivity.csv", sensitivity_sections),
    "run": ("summary.csv", run_sections),
}


def detect_kind(folder: Path) -> str:
    """The folder's kind: its manifest's ``kind``, else the kind whose table it holds."""
    kind = read_manifest(folder).get("kind")
    if kind in KINDS:
        return str(kind)
    for name, (marker, _) in KINDS.items():
        if (folder / marker).is_file():
            return name
    files = ", ".join(marker for marker, _ in KINDS.values())
    raise ScenarioError(str(folder), "", f"not a govsim folder (expected manifest.json with a kind, "
                        f"or one of {files})")


def build_page(folder: str | Path) -> Page:
    folder = Path(folder)
    kind = detect_kind(folder)
    title, summary, sections = KINDS[kind][1](folder)
    return Page(title, kind, str(folder), summary, sections)


def write_report(folder: str | Path, out: str | Path | None = None) -> tuple[Path, str]:
    """Write the folder's report (default ``folder/report.html``); its path and the kind."""
    page = build_page(folder)
    path = Path(out) if out is not None else Path(folder) / "report.html"
    atomic.write_text(path, render(page))
    return path, page.kind
