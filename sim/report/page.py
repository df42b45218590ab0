"""The pieces of a report page (sections of text, figures and tables) and their HTML.

A report is one file that reads offline and prints: figures are PNGs inside the page as
data URIs, tables are plain HTML, the style sheet is in the page, and nothing needs
JavaScript. Numbers are shown to 4 significant digits, large ones written out.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

TEMPLATES = Path(__file__).with_name("templates")


@dataclass
class Block:
    """One thing on the page: ``text`` (a paragraph), ``finding`` (a plain-words result),
    ``note``, ``figure`` (data URI and caption) or ``table`` (HTML and caption)."""

    kind: str
    body: str | Markup
    caption: str = ""


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def text(self, *paragraphs: str) -> Section:
        self.blocks.extend(Block("text", p) for p in paragraphs)
        return self

    def finding(self, *lines: str) -> Section:
        self.blocks.extend(Block("finding", line) for line in lines)
        return self

    def note(self, line: str) -> Section:
        self.blocks.append(Block("note", line))
        return self

    def figure(self, fig: Any, caption: str) -> Section:
        self.blocks.append(Block("figure", figure_uri(fig), caption))
        return self

    def png(self, path: Path, caption: str) -> Section:
        self.blocks.append(Block("figure", png_uri(path.read_bytes()), caption))
        return self

    def table(self, frame: pd.DataFrame, caption: str = "") -> Section:
        self.blocks.append(Block("table", table_html(frame), caption))
        return self


@dataclass
class Page:
    title: str
    kind: str
    folder: str
    summary: list[str]
    sections: list[Section]


def number(value: Any) -> str:
    """A cell for reading: 4 significant digits, large numbers written out, NaN blank."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value).lower()
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    if isinstance(value, float):
        from sim.results import number_text

        return "" if math.isnan(value) else number_text(value)
    return str(value)


def interval(mean: float, low: float, high: float) -> str:
    """``mean [low, high]``, or the mean alone when there is no interval."""
    if pd.isna(mean):
        return "–"
    if pd.isna(low) or pd.isna(high):
        return number(float(mean))
    return f"{number(float(mean))} [{number(float(low))}, {number(float(high))}]"


def table_html(frame: pd.DataFrame) -> Markup:
    """A DataFrame as an HTML table, numbers formatted for reading, text escaped."""
    shown = frame.copy()
    for column in shown.columns:
        shown[column] = [number(v.item() if hasattr(v, "item") else v) for v in shown[column]]
    html = shown.to_html(index=False, escape=True, border=0, classes="data", na_rep="")
    return Markup(html)


def notebook_html(title: str, frame: pd.DataFrame) -> str:
    """A result as a notebook shows it: a heading and the table, numbers formatted for reading."""
    from html import escape

    return f"<div><p><strong>{escape(title)}</strong></p>{table_html(frame)}</div>"


def png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def figure_uri(fig: Any) -> str:
    """A matplotlib figure as a PNG data URI."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return png_uri(buffer.getvalue())


def render(page: Page) -> str:
    """The page as one HTML document (templates/report.html.j2)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    from sim import __version__

    return env.get_template("report.html.j2").render(page=page, version=__version__)
