"""govsim reproduce: a published table that no longer matches is reported cell by cell."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import yaml

from sim.cli import main
from sim.results import Tolerance, diff_tables, markdown, reproduce

ROOT = Path(__file__).resolve().parents[2]


def project(tmp_path: Path, replications: int = 2) -> Path:
    """A small project: the demo pair, a T1 and a T5 entry, nothing published yet."""
    (tmp_path / "results").mkdir()
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    pair = ["scenarios/demo-legacy.yaml", "scenarios/demo.yaml"]
    entries = [
        {"name": "t1-demo", "title": "T1 demo", "kind": "table", "make": "t1",
         "file": "results/t1-demo.csv", "command": "govsim compare ...", "scenarios": pair,
         "replications": replications, "seed": 7},
        {"name": "f2-demo", "title": "F2 demo", "kind": "figure", "make": "f2",
         "file": "results/f2-demo.png", "data": "results/f2-demo.csv", "command": "x",
         "scenarios": pair, "replications": replications, "seed": 7},
    ]
    (tmp_path / "results" / "manifest.yaml").write_text(yaml.safe_dump({"entries": entries}))
    return tmp_path / "results" / "manifest.yaml"


def test_update_then_reproduce_then_a_changed_number_fails(tmp_path, capsys):
    manifest = project(tmp_path)
    assert main(["reproduce", "--manifest", str(manifest), "--update", "--jobs", "1"]) == 0
    for name in ("t1-demo.csv", "t1-demo.md", "f2-demo.csv", "f2-demo.md", "f2-demo.png"):
        assert (tmp_path / "results" / name).stat().st_size > 0
    assert main(["reproduce", "--manifest", str(manifest), "--jobs", "1"]) == 0
    assert "2 entries reproduce" in capsys.readouterr().out

    scenario = tmp_path / "scenarios" / "demo.yaml"
    scenario.write_text(scenario.read_text().replace("per_1000_residents_per_day: 0.575",
                                                     "per_1000_residents_per_day: 0.6"))
    assert main(["reproduce", "t1-demo", "--manifest", str(manifest), "--jobs", "1"]) == 1
    out = capsys.readouterr().out
    assert "t1-demo: DOES NOT REPRODUCE" in out
    assert "(kpi=arrivals, scenario=demo) mean: published" in out


def test_diff_names_rows_and_respects_tolerance(tmp_path):
    published = tmp_path / "t.csv"
    pd.DataFrame({"kpi": ["a", "b"], "mean": [1.0, 2.0]}).to_csv(published, index=False)
    fresh = "kpi,mean\na,1.0\nb,2.001\n"
    assert diff_tables(published, fresh, Tolerance()) == [
        "t.csv: row 2 (kpi=b) mean: published 2.0, now 2.001"]
    assert diff_tables(published, fresh, Tolerance(rel=1e-3)) == []
    assert "shape or columns changed" in diff_tables(published, "kpi\na\n", Tolerance())[0]
    assert "not published yet" in diff_tables(tmp_path / "missing.csv", fresh, Tolerance())[0]


def test_unknown_entry_is_bad_input_and_writes_nothing(tmp_path, capsys):
    manifest = project(tmp_path)
    assert main(["reproduce", "nope", "--manifest", str(manifest)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("govsim: error:") and "no entry named 'nope'" in err[0]
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["manifest.yaml"]


def test_markdown_copy():
    text = markdown(pd.DataFrame({"kpi": ["a|b"], "mean": [0.123456]}), "Title")
    assert text.splitlines() == ["# Title", "", "| kpi | mean |", "|---|---|", "| a\\|b | 0.1235 |"]


def test_reproduce_api_reports_each_entry(tmp_path):
    manifest = project(tmp_path, replications=1)
    lines: list[str] = []
    outcomes = reproduce(["t1-demo"], manifest, update=False, jobs=1, report=lines.append)
    assert [o.entry.name for o in outcomes] == ["t1-demo"] and not outcomes[0].ok
    assert "not published yet" in lines[0]


def test_a_cell_read_back_as_an_integer_equals_its_float():
    """A few re-made cells can read as integers (a column of whole numbers) beside the stored
    file's floats: 2 and 2.0 are the same number, 2 and 2.5 are not."""
    from sim.results import diff_frames

    stored = pd.DataFrame({"point": ["0001", "0002"], "x": [2.0, 0.0], "y": [0.5, 1.5]})
    fresh = pd.DataFrame({"point": ["0001", "0002"], "x": [2, 0], "y": [0.5, 1.5]})
    assert diff_frames(stored, fresh, "cells", Tolerance()) == []
    fresh.loc[1, "x"] = 3
    assert diff_frames(stored, fresh, "cells", Tolerance()) == [
        "cells: row 2 (point=0002) x: published 0.0, now 3"]
