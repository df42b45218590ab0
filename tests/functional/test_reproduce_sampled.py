"""A published table made of cells is checked in CI by re-making a seeded sample of them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import yaml

from sim.cli import main
from sim.results import Sample, load_manifest, sampled_cells

ROOT = Path(__file__).resolve().parents[2]
ELEMENTS = {"grid-first": ["process.route.grid", "process.route.community", "process.grid_branches",
                           "process.guides"],
            "rest": ["process.route.platform", "process.route.leadership", "process.top_resolves_all",
                     "process.bounce", "process.escalation_delay", "process.duplicate_contacts",
                     "process.pushdown"]}


def project(tmp_path: Path) -> Path:
    """The demo pair split into two elements, as a T2 entry sampling 2 of its 4 cells."""
    (tmp_path / "results").mkdir()
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    (tmp_path / "scenarios" / "demo-elements.yaml").write_text(yaml.safe_dump(ELEMENTS))
    for name in ("demo.yaml", "demo-legacy.yaml"):
        path = tmp_path / "scenarios" / name
        path.write_text(path.read_text().replace("horizon_days: 200 ", "horizon_days: 120 "))
    entry = {"name": "t2-demo", "title": "T2 demo", "kind": "table", "make": "t2",
             "file": "results/t2-demo.csv", "cells": "results/t2-demo-combinations.csv",
             "command": "govsim attribute ...",
             "scenarios": ["scenarios/demo-legacy.yaml", "scenarios/demo.yaml"],
             "replications": 2, "seed": 7, "options": {"elements": "scenarios/demo-elements.yaml"},
             "sample": {"cells": 2, "seed": 1}}
    manifest = tmp_path / "results" / "manifest.yaml"
    manifest.write_text(yaml.safe_dump({"entries": [entry]}))
    return manifest


def test_sampled_cells_are_a_fixed_draw_in_order():
    ids = [f"{m:02b}" for m in range(4)]
    assert sampled_cells(ids, Sample(cells=2, seed=1)) == sampled_cells(ids, Sample(cells=2, seed=1))
    assert len(sampled_cells(ids, Sample(cells=2, seed=1))) == 2
    assert sampled_cells(ids, Sample(cells=9, seed=1)) == ids


def test_update_then_sampled_reproduce_then_a_changed_cell_and_a_changed_table_fail(tmp_path, capsys):
    manifest = project(tmp_path)
    common = ["reproduce", "--manifest", str(manifest), "--jobs", "1"]
    assert main([*common, "--update"]) == 0
    cells_file = tmp_path / "results" / "t2-demo-combinations.csv"
    cells = pd.read_csv(cells_file, dtype={"combination": str})
    assert cells["combination"].unique().tolist() == ["00", "10", "01", "11"]
    assert list(cells.columns[:2]) == ["combination", "replication"] and len(cells) == 8
    table = pd.read_csv(tmp_path / "results" / "t2-demo.csv")
    assert table["element"].unique().tolist() == ["grid-first", "rest", "total"]
    capsys.readouterr()

    assert main(common) == 0
    out = capsys.readouterr().out
    assert "t2-demo: reproduces" in out and "2 sampled cells" in out
    assert main([*common, "--full"]) == 0
    assert "sampled cells" not in capsys.readouterr().out

    entry = load_manifest(manifest).entries[0]
    chosen = sampled_cells(["00", "10", "01", "11"], entry.sample)
    edited = cells.copy()
    edited.loc[edited["combination"] == chosen[0], "resolved_share"] += 1e-6   # a sampled cell
    edited.to_csv(cells_file, index=False)
    assert main(common) == 1
    out = capsys.readouterr().out
    assert f"t2-demo-combinations.csv (cells {', '.join(chosen)}): row 1 (combination={chosen[0]}) " \
           "resolved_share: published" in out
    assert "t2-demo.csv: row" in out          # the table no longer follows from the stored cells

    cells.to_csv(cells_file, index=False)
    published = tmp_path / "results" / "t2-demo.csv"
    table.assign(shapley=table["shapley"] * 2).to_csv(published, index=False)
    assert main(common) == 1
    assert "t2-demo.csv: row 1 (kpi=resolved_share, element=grid-first" in capsys.readouterr().out


def test_stored_cells_of_another_design_are_reported(tmp_path, capsys):
    manifest = project(tmp_path)
    common = ["reproduce", "--manifest", str(manifest), "--jobs", "1"]
    assert main([*common, "--update"]) == 0
    elements = tmp_path / "scenarios" / "demo-elements.yaml"
    elements.write_text(yaml.safe_dump({"all": [*ELEMENTS["grid-first"], *ELEMENTS["rest"]]}))
    capsys.readouterr()
    assert main(common) == 1
    assert "holds 4 cells, the entry's design has 2" in capsys.readouterr().out


def test_a_sample_needs_a_cells_file(tmp_path, capsys):
    manifest = project(tmp_path)
    raw = yaml.safe_load(manifest.read_text())
    raw["entries"][0]["make"] = "t1"
    manifest.write_text(yaml.safe_dump(raw))
    assert main(["reproduce", "--manifest", str(manifest)]) == 2
    assert "t1 is not made of cells" in capsys.readouterr().err
