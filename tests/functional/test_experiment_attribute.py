"""govsim attribute: every combination on the same complaints, Shapley values that add up."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim import shapley
from sim.attribution import ATTRIBUTION_COLUMNS, STRUCTURAL, attribute
from sim.cli import main
from sim.metrics import kpi_names

ROOT = Path(__file__).resolve().parents[2]
LEGACY, WHISTLE = ROOT / "scenarios" / "demo-legacy.yaml", ROOT / "scenarios" / "demo.yaml"
SHORT = {"horizon_days": 120}
GROUPS = {
    "grid-first": ["process.route.grid", "process.route.community", "process.grid_branches",
                   "process.guides"],
    "top": ["process.route.platform", "process.route.leadership", "process.top_resolves_all"],
    "rules": ["process.bounce", "process.escalation_delay", "process.duplicate_contacts", "process.pushdown"],
}


def elements_file(folder: Path, groups: dict[str, list[str]] = GROUPS) -> Path:
    path = folder / "elements.yaml"
    path.write_text(yaml.safe_dump(groups, sort_keys=False))
    return path


def per_replication(out: Path, names: list[str]) -> np.ndarray:
    """(combination, replication, KPI) from the combinations' kpis.csv, in bitmask order."""
    k = len(names)
    bits = ["".join("1" if m >> i & 1 else "0" for i in range(k)) for m in range(1 << k)]
    return np.stack([pd.read_csv(out / "combinations" / b / "kpis.csv").drop(columns="replication")
                     .to_numpy(dtype=float) for b in bits])


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("attribute")
    base, reform = (sim.load_scenario(p, SHORT) for p in (LEGACY, WHISTLE))
    result = attribute(base, reform, elements_file(folder), replications=3, out=folder / "out", jobs=2)
    return base, reform, result, folder


def test_elements_sum_to_the_paired_difference_in_every_replication(demo):
    base, reform, result, folder = demo
    out = folder / "out"
    values = per_replication(out, list(GROUPS))
    phi = shapley.exact(values)
    gap = np.abs(phi.sum(axis=0) - (values[-1] - values[0]))
    assert np.nanmax(gap) < 1e-9 * max(1.0, np.nanmax(np.abs(values)))
    compared = sim.compare([base, reform], replications=3)
    names = kpi_names(base)
    assert values[0] == pytest.approx(compared.kpis[base.name][names].to_numpy(), rel=1e-9, nan_ok=True)
    assert values[-1] == pytest.approx(compared.kpis[reform.name][names].to_numpy(), rel=1e-9, nan_ok=True)
    table = pd.read_csv(out / "attribution.csv")
    assert tuple(table.columns) == ATTRIBUTION_COLUMNS
    for kpi in ("resolved_share", "days_to_close_mean", "satisfaction_survey"):
        rows = table[table["kpi"] == kpi].set_index("element")
        assert list(rows.index) == [*GROUPS, "total"]
        elements = rows.loc[list(GROUPS), "shapley"]
        assert elements.sum() == pytest.approx(rows.loc["total", "shapley"], abs=1e-9)
        diff = compared.table.query("kpi == @kpi and scenario == @reform.name")["diff"].item()
        assert rows.loc["total", "shapley"] == pytest.approx(diff, rel=1e-8)
        assert rows.loc[list(GROUPS), "share"].sum() == pytest.approx(1.0)


def test_the_folder_has_every_table_a_waterfall_per_headline_kpi_and_the_manifest(demo):
    _, _, result, folder = demo
    out = folder / "out"
    for name in ("attribution.csv", "combinations.csv", "interactions.csv", "elements.csv",
                 "waterfall-resolved_share.png", "waterfall-days_to_close_mean.png"):
        assert (out / name).stat().st_size > 0, name
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "attribute" and manifest["combinations"] == 8 and manifest["ran"] == 8
    assert manifest["elements"]["top"] == GROUPS["top"]
    combos = pd.read_csv(out / "combinations.csv", dtype={"combination": str})
    assert combos["combination"].tolist() == ["000", "100", "010", "110", "001", "101", "011", "111"]
    pairs = pd.read_csv(out / "interactions.csv")
    rows = pairs[pairs["kpi"] == "resolved_share"]
    assert rows[["element_a", "element_b"]].values.tolist() == [
        ["grid-first", "top"], ["grid-first", "rules"], ["top", "rules"]]
    assert not (out / "combinations" / "000" / "complaints.parquet").exists()


def test_a_rerun_skips_finished_combinations_and_writes_the_same_tables(demo):
    base, reform, result, folder = demo
    out = folder / "out"
    before = {n: (out / n).read_bytes() for n in ("attribution.csv", "combinations.csv", "interactions.csv")}
    shutil.rmtree(out / "combinations" / "011")     # as if killed before it was swapped into place
    again = attribute(base, reform, folder / "elements.yaml", replications=3, out=out, jobs=1)
    assert (again.ran, again.skipped) == (1, 7)
    assert {n: (out / n).read_bytes() for n in before} == before


def test_an_element_that_cannot_act_alone_is_not_a_measured_zero(tmp_path):
    """Guides need grid branches: adding guides alone changes nothing (the combinations are
    the same, and say so), yet guides get their share of what they do with the branches."""
    base = sim.load_scenario(LEGACY, SHORT)
    reform = sim.load_scenario(LEGACY, {**SHORT, "name": "branches-and-guides", "process.route":
                                        ["grid", "community", "street", "department"],
                                        "process.grid_branches": 35, "process.guides": 11})
    groups = {"branches": ["process.route.grid", "process.grid_branches"], "guides": ["process.guides"],
              "guide-delay": ["process.guide_effect"]}
    reform = reform.with_overrides({"process.guide_effect.delay_factor": 0.9})
    result = attribute(base, reform, elements_file(tmp_path, groups), replications=2, out=tmp_path / "out")
    combos = result.combinations.set_index("combination")
    assert combos.loc["010", "same_as"] == "000"          # guides alone: no grid has a branch
    table = result.attribution.set_index(["kpi", "element"])
    guides = table.loc[("resolved_share", "guides")]
    assert guides["note"] == "" and guides["shapley"] != 0 and np.isfinite(guides["ci_low"])
    assert table.loc[("arrivals", "guides"), "note"] == STRUCTURAL
    assert np.isnan(table.loc[("arrivals", "guides"), "ci_low"])


def test_above_ten_elements_sampled_orders_still_sum_to_the_total(tmp_path):
    base, reform = (sim.load_scenario(p, SHORT) for p in (LEGACY, WHISTLE))
    result = attribute(base, reform, replications=2, out=tmp_path / "out", pairs=2)
    d = result.design
    assert len(d.elements) == 12 and not d.exact and len(d.orders) == 4
    assert len(d.combinations) == len(shapley.prefixes(d.orders)) < 2 * 2 * 11 + 2
    table = result.attribution[result.attribution["kpi"] == "resolved_share"].set_index("element")
    assert table.drop("total")["shapley"].sum() == pytest.approx(table.loc["total", "shapley"], abs=1e-9)
    assert table["ci_low"].notna().sum() >= 2 and result.interactions.empty
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["method"].startswith("sampled: 4 orders in antithetic pairs")


def test_local_pool_and_dask_give_the_same_attribution(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    base, reform = (sim.load_scenario(p, SHORT) for p in (LEGACY, WHISTLE))
    groups = {"all-but-rules": [*GROUPS["grid-first"], *GROUPS["top"]], "rules": GROUPS["rules"]}
    path = elements_file(tmp_path, groups)
    local = attribute(base, reform, path, replications=2, out=tmp_path / "local", jobs=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        attribute(base, reform, path, replications=2, out=tmp_path / "dask", executor="dask",
                  scheduler=cluster.scheduler_address)
    assert local.ran == 4
    for name in ("attribution.csv", "combinations.csv", "interactions.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()


@pytest.mark.parametrize("groups, phrase", [
    ({"top": GROUPS["top"], "rules": GROUPS["rules"]}, "process.grid_branches: differs between the "
     "scenarios but is in no element"),
    ({**GROUPS, "again": ["process.guides"]}, "process.guides: is in elements grid-first and again"),
    ({**GROUPS, "typo": ["process.gudes"]}, "typo.0: 'process.gudes' is not a scenario key"),
])
def test_bad_elements_files_are_one_line_exit_2_and_nothing_written(tmp_path, capsys, groups, phrase):
    path = elements_file(tmp_path, groups)
    out = tmp_path / "out"
    code = main(["attribute", str(LEGACY), str(WHISTLE), "--elements", str(path), "--out", str(out),
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"govsim: error: {path}: {phrase}")
    assert not out.exists()


@pytest.mark.parametrize("args, phrase", [
    ([str(WHISTLE), str(WHISTLE)], "'demo' appears twice"),
    ([str(LEGACY), str(WHISTLE), "--set", "process.bounce.probability=2"],
     "process.bounce.probability: 2 is out"),
    ([str(LEGACY), str(WHISTLE), "--elements", "missing.yaml"], "missing.yaml: no such file"),
    ([str(LEGACY), str(WHISTLE), "--replications", "0"], "--replications: 0 is out of range"),
])
def test_bad_arguments_are_one_line_exit_2_and_nothing_written(tmp_path, capsys, args, phrase):
    out = tmp_path / "out"
    assert main(["attribute", *args, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and phrase in err and not out.exists()


def test_identical_scenarios_are_bad_input(tmp_path, capsys):
    copy = tmp_path / "copy.yaml"
    copy.write_text(LEGACY.read_text().replace("name: demo-legacy", "name: copy"))
    assert main(["attribute", str(LEGACY), str(copy), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "copy does not differ from demo-legacy" in capsys.readouterr().err
