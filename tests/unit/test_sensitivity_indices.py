"""The sensitivity analysis on functions whose indices are known, through the same adapter
the simulation uses: Ishigami (Sobol indices published; Morris worked out on the grid) and a
linear function (every elementary effect exact)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from kit import ROOT
from SALib.test_functions import Ishigami

from sim.config import ScenarioError
from sim.priors import LogUniformPrior, UniformPrior
from sim.sensitivity import check_method, make_design, screen
from sim.study import SensitivityMethod

PI = np.pi
NAMES = ["x1", "x2", "x3"]
ISHIGAMI = [UniformPrior(dist="uniform", low=-PI, high=PI)] * 3


def ishigami(points: np.ndarray) -> dict[str, np.ndarray]:
    return {"ishigami": Ishigami.evaluate(points)}


def test_sobol_on_ishigami_matches_the_published_indices():
    # a = 7, b = 0.1: S1 = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437) (Saltelli et al. 2008)
    table = screen(ishigami, ISHIGAMI, NAMES, SensitivityMethod(method="sobol", budget=1024, seed=3))
    s1, st = np.array([0.3139, 0.4424, 0.0]), np.array([0.5576, 0.4424, 0.2437])
    assert list(table.columns) == ["output", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert (np.abs(table["S1"] - s1) <= table["S1_conf"]).all(), table
    assert (np.abs(table["ST"] - st) <= table["ST_conf"]).all(), table
    assert (table["S1_conf"] < 0.1).all() and (table["ST_conf"] < 0.1).all()


def test_morris_on_ishigami_matches_the_elementary_effects_of_its_grid():
    # On 4 levels, x_i in {-pi, -pi/3, pi/3, pi}, a step is 2/3 of the range (one unit of
    # the unit cube's scale per whole range): x2's effect is 7*(3/4)/(2/3) = 7.875 at every
    # step; x1's is (sqrt 3 / 2)/(2/3) times E[1 + 0.1 x3^4]; x3's is 0.1 (pi^4 - (pi/3)^4)
    # E|sin x1| / (2/3), the other variable at a level drawn uniformly.
    grid = np.array([-PI, -PI / 3, PI / 3, PI])
    exact = [np.sqrt(3) / 2 / (2 / 3) * np.mean(1 + 0.1 * grid**4), 7.875,
             0.1 * (PI**4 - (PI / 3) ** 4) * np.mean(np.abs(np.sin(grid))) / (2 / 3)]
    table = screen(ishigami, ISHIGAMI, NAMES, SensitivityMethod(method="morris", budget=200, seed=1))
    assert list(table.columns) == ["output", "parameter", "mu_star", "mu_star_conf", "sigma"]
    assert table["mu_star"][1] == pytest.approx(7.875, abs=1e-9)
    assert (np.abs(table["mu_star"] - exact) <= table["mu_star_conf"] + 1e-9).all(), table
    assert table["sigma"][2] > table["mu_star"][2]        # x3 acts only through x1: sign flips


def test_morris_mu_star_is_the_change_across_the_whole_range():
    priors = [UniformPrior(dist="uniform", low=0, high=10), UniformPrior(dist="uniform", low=-1, high=1),
              UniformPrior(dist="uniform", low=5, high=6)]

    def linear(points: np.ndarray) -> dict[str, np.ndarray]:
        return {"y": 2 * points[:, 0] - 3 * points[:, 1] + 0 * points[:, 2]}

    table = screen(linear, priors, NAMES, SensitivityMethod(method="morris", budget=6, levels=6, seed=2))
    assert table["mu_star"].to_numpy() == pytest.approx([20, 6, 0], abs=1e-9)
    assert table["sigma"].to_numpy() == pytest.approx([0, 0, 0], abs=1e-9)


def test_the_design_maps_the_unit_cube_through_each_prior():
    priors = [UniformPrior(dist="uniform", low=2, high=4),
              LogUniformPrior(dist="loguniform", low=1, high=100)]
    design = make_design(priors, ["a", "b"], SensitivityMethod(method="sobol", budget=8, seed=1))
    assert design.unit.shape == (8 * 4, 2)                 # N (k + 2) points, no second order
    assert design.points[:, 0] == pytest.approx(2 + 2 * design.unit[:, 0])
    assert design.points[:, 1] == pytest.approx(100 ** design.unit[:, 1])
    again = make_design(priors, ["a", "b"], SensitivityMethod(method="sobol", budget=8, seed=1))
    assert np.array_equal(design.points, again.points)


@pytest.mark.parametrize("budget", [1, 3, 12])
def test_sobol_wants_a_power_of_two(budget):
    with pytest.raises(ValueError, match=f"budget.*{budget} is not a power of two for sobol"):
        SensitivityMethod(method="sobol", budget=budget)
    changed = SensitivityMethod(method="morris", budget=budget).model_copy(update={"method": "sobol"})
    with pytest.raises(ScenarioError, match=f"study.yaml: method.budget: {budget} is not a power of two"):
        check_method(changed, "study.yaml")
    check_method(SensitivityMethod(method="morris", budget=budget), "study.yaml")


NUMBER = re.compile(r"(?<![\w.-])-?\d+(?:\.\d+)?(?![\w.-])")


@pytest.mark.parametrize("path", sorted((ROOT / "sensitivity").glob("*.yaml")), ids=lambda p: p.name)
def test_every_number_of_a_sensitivity_file_says_where_it_comes_from(path):
    bare = [f"{path.name}:{i}: {line.strip()}" for i, line in enumerate(path.read_text().splitlines(), 1)
            if not line.lstrip().startswith("#") and NUMBER.search(line.split("#")[0]) and "#" not in line]
    assert not bare, "numbers without a comment (a source, or 'assumption' and why):\n" + "\n".join(bare)
