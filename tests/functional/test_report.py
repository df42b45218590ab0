"""``govsim report`` on a folder of each kind: the page is one self-contained file (figures as
PNG data, no script, no network), shows what the kind calls for, and bad input is one line.

Run, compare and sweep folders are made by the commands themselves on a short demo; the
calibrate, attribute and sensitivity folders are written here in the formats of DESIGN
sections 9-11, as those commands write them.
"""

from __future__ import annotations

import base64
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from kit import SCENARIOS

from sim.cli import main
from sim.report import detect_kind

SHORT = ["--set", "horizon_days=80", "--set", "warmup_days=10", "--set", "cooldown_days=10",
         "--replications", "2", "--jobs", "1", "--quiet"]


class Page(HTMLParser):
    """What a reader (or a browser) would load: images, tables, scripts, outside links."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.images: list[str] = []
        self.tables = 0
        self.scripts = 0
        self.outside: list[str] = []
        self.findings: list[str] = []
        self._finding = False
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img":
            self.images.append(values.get("src") or "")
        self.tables += tag == "table"
        self.scripts += tag == "script"
        for key in ("src", "href"):
            link = values.get(key) or ""
            if link and not link.startswith(("data:", "#")):
                self.outside.append(link)
        self._finding = tag == "p" and values.get("class") == "finding"

    def handle_data(self, data: str) -> None:
        if self._finding:
            self.findings.append(data.strip())
            self._finding = False


def report(folder: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, Page]:
    assert main(["report", str(folder)]) == 0
    assert re.fullmatch(r"wrote .*report\.html \(\w+ report\)\n", capsys.readouterr().out)
    text = (folder / "report.html").read_text(encoding="utf-8")
    page = Page(text)
    assert page.scripts == 0 and page.outside == []
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    return text, page


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    assert main(["run", str(SCENARIOS / "demo.yaml"), "--out", str(root / "run"), *SHORT]) == 0
    assert main(["compare", str(SCENARIOS / "demo-legacy.yaml"), str(SCENARIOS / "demo.yaml"),
                 "--out", str(root / "compare"), *SHORT, "--replications", "3"]) == 0
    assert main(["sweep", str(SCENARIOS / "demo.yaml"), "--vary", "process.bounce.allowed=false,true",
                 "--out", str(root / "sweep"), *SHORT]) == 0
    return root


def test_run_report(made: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text, page = report(made / "run", capsys)
    assert detect_kind(made / "run") == "run"
    assert len(page.images) == 3 and page.tables >= 4
    assert "Headline KPIs" in text and "resolved_share" in text
    assert "assumption: any fixed seed" in text            # the seed's comment in scenarios/demo.yaml
    assert "horizon_days, warmup_days, cooldown_days" in text   # the run's overrides, named
    manifest = json.loads((made / "run" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["kind"] == "run" and manifest["scenario_sha256"] in text


def test_compare_report_says_each_significant_difference(made: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    folder = made / "compare"
    assert {p.name for p in folder.glob("*.png")} == {"time-to-close.png", "where-resolved.png",
                                                      "utilization.png"}
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["kind"] == "compare"
    text, page = report(folder, capsys)
    table = pd.read_csv(folder / "comparison.csv")
    bounces = table[(table["kpi"] == "bounces_mean") & (table["scenario"] == "demo")].iloc[0]
    assert bounces["diff_ci_high"] < 0                       # the whistle demo never bounces
    assert any(f.startswith("demo: bounces mean is 0 against") for f in page.findings)
    assert "Where the scenarios differ" in text and "process.bounce.allowed" in text
    assert len(page.images) == 3


def test_sweep_report(made: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = made / "sweep"
    assert len(list(folder.glob("sweep-*.png"))) == 4
    text, page = report(folder, capsys)
    assert detect_kind(folder) == "sweep"
    assert len(page.images) == 4 and "Sweep of demo: 2 combinations of process.bounce.allowed" in text


def write_calibrate(folder: Path) -> None:
    folder.mkdir()
    pd.DataFrame({"parameter": ["process.bounce.probability"], "prior": ["uniform(0.1, 0.9)"], "mean": [0.41],
                  "median": [0.4], "q05": [0.25], "q95": [0.6]}).to_csv(folder / "posterior.csv", index=False)
    pd.DataFrame({"scenario": ["before", "after"], "kpi": ["resolution_reported_share"] * 2,
                  "target": [0.53, 0.97], "sd": [0.05, 0.02], "median": [0.55, 0.9], "q05": [0.5, 0.88],
                  "q95": [0.6, 0.93], "within_90": [True, False]}).to_csv(folder / "predictive.csv",
                                                                          index=False)
    pd.DataFrame({"process.bounce.probability": [0.3, 0.4, 0.5], "weight": [0.2, 0.5, 0.3]}).to_parquet(
        folder / "posterior.parquet")
    (folder / "calibrated").mkdir()
    (folder / "calibrated" / "before.yaml").write_text(
        "name: before\nprocess:\n  bounce:\n    probability: 0.4   # calibrated: posterior median\n",
        encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps({"kind": "calibrate", "name": "joint"}),
                                          encoding="utf-8")


def write_attribute(folder: Path) -> None:
    folder.mkdir()
    rows = [("days_to_close_mean", "total", -3.0, -3.4, -2.6, 1.0),
            ("days_to_close_mean", "no-bounce-back", -2.0, -2.3, -1.7, 0.667),
            ("days_to_close_mean", "grid-branches", -1.0, -1.4, -0.6, 0.333)]
    pd.DataFrame(rows, columns=["kpi", "element", "shapley", "ci_low", "ci_high", "share"]).to_csv(
        folder / "attribution.csv", index=False)
    pd.DataFrame({"combination": ["", "no-bounce-back"], "days_to_close_mean": [6.0, 4.0]}).to_csv(
        folder / "combinations.csv", index=False)
    pd.DataFrame({"kpi": ["days_to_close_mean"], "a": ["no-bounce-back"], "b": ["grid-branches"],
                  "interaction": [0.1]}).to_csv(folder / "interactions.csv", index=False)


def write_sensitivity(folder: Path) -> None:
    folder.mkdir()
    pd.DataFrame({"output": ["days_to_close_mean@before"] * 2,
                  "parameter": ["process.bounce.probability", "arrivals.per_1000_residents_per_day"],
                  "mu_star": [1.2, 0.3], "mu_star_conf": [0.2, 0.1], "sigma": [0.5, 0.1]}).to_csv(
        folder / "sensitivity.csv", index=False)


@pytest.mark.parametrize(("kind", "write", "says"), [
    ("calibrate", write_calibrate, "1 of 2 targets lie within the 90% posterior predictive interval."),
    ("attribute", write_attribute, "the largest part, -2, comes from no-bounce-back."),
    ("sensitivity", write_sensitivity,
     "days_to_close_mean@before: the most influential parameter is process.bounce.probability"),
])
def test_study_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, write,
                       says: str) -> None:
    write(tmp_path / kind)
    assert detect_kind(tmp_path / kind) == kind
    text, page = report(tmp_path / kind, capsys)
    assert any(says in f for f in page.findings), page.findings
    assert len(page.images) >= (2 if kind == "calibrate" else 1) and page.tables >= 1


def test_report_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err == (
        f"govsim: error: {tmp_path / 'nowhere'}: no such folder (expected a folder written by govsim "
        "run, compare, sweep, calibrate, attribute or sensitivity)\n")
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"govsim: error: {tmp_path / 'empty'}: not a govsim folder")
    assert err.count("\n") == 1
    assert list((tmp_path / "empty").iterdir()) == []


def test_results_show_themselves_as_tables_in_a_notebook(made: Path) -> None:
    import sim

    scenario = sim.load_scenario(SCENARIOS / "demo.yaml", {"horizon_days": 60, "warmup_days": 5,
                                                           "cooldown_days": 5})
    run = sim.run(scenario, replications=1)
    html = run._repr_html_()
    assert html.startswith("<div><p><strong>demo: 1 replications") and "<table" in html
    assert "resolved_share" in html and "e+0" not in html
    comparison = sim.compare([scenario, scenario.with_overrides({"name": "demo-b"})], replications=1)
    assert "diff = scenario - demo" in comparison._repr_html_()
    swept = sim.sweep(scenario, {"levels.street.staff": [20, 25]}, out=made / "notebook-sweep",
                      replications=1)
    assert "sweep of 2 combinations" in swept._repr_html_() and "<table" in swept._repr_html_()
