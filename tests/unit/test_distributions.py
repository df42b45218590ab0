"""Distributions and the batched Sampler: the values a stream yields depend on its seed only,
never on the batch size, and each kind has the mean (and spread) its keys say."""

from __future__ import annotations

import numpy as np
import pydantic
import pytest

from sim.config import Distribution
from sim.distributions import Sampler, Uniforms, mean_of, skip_draw, vector_draw

SPECS = {
    "fixed": {"dist": "fixed", "value": 2.5},
    "exponential": {"dist": "exponential", "mean": 2.0},
    "lognormal": {"dist": "lognormal", "mean": 2.0, "cv": 1.5},
    "lognormal-cv0": {"dist": "lognormal", "mean": 2.0, "cv": 0.0},
    "gamma-cv-below-1": {"dist": "gamma", "mean": 2.0, "cv": 0.5},
    "gamma-cv-above-1": {"dist": "gamma", "mean": 2.0, "cv": 2.0},
    "uniform": {"dist": "uniform", "low": 1.0, "high": 3.0},
    "triangular": {"dist": "triangular", "low": 0.0, "mode": 1.0, "high": 5.0},
    "empirical": {"dist": "empirical", "values": [1.0, 2.0, 7.0]},
}
CV = {"exponential": 1.0, "lognormal": 1.5, "gamma-cv-below-1": 0.5, "gamma-cv-above-1": 2.0}


def spec(raw: dict) -> Distribution:
    return pydantic.TypeAdapter(Distribution).validate_python(raw)


def sample(raw: dict, n: int, batch: int, seed: int = 11) -> list[float]:
    draw = Sampler(spec(raw), np.random.default_rng(seed), batch=batch)
    return [draw() for _ in range(n)]


@pytest.mark.parametrize("raw", SPECS.values(), ids=SPECS.keys())
def test_sequence_does_not_depend_on_batch_size(raw):
    reference = sample(raw, 300, batch=4096)
    for batch in (1, 7, 64, 299):
        assert sample(raw, 300, batch=batch) == reference


def test_uniforms_do_not_depend_on_batch_size():
    a = Uniforms(np.random.default_rng(5), batch=3)
    b = Uniforms(np.random.default_rng(5))
    assert [a() for _ in range(50)] == [b() for _ in range(50)]


def test_different_seeds_give_different_sequences():
    raw = SPECS["exponential"]
    assert sample(raw, 20, 8, seed=1) != sample(raw, 20, 8, seed=2)


@pytest.mark.parametrize("name", SPECS)
def test_mean_and_spread(name):
    raw = SPECS[name]
    x = vector_draw(spec(raw))(np.random.default_rng(3), 200_000)
    assert (x >= 0).all()
    assert x.mean() == pytest.approx(mean_of(spec(raw)), rel=0.03)
    if name in CV:
        assert x.std() / x.mean() == pytest.approx(CV[name], rel=0.1)


def test_fixed_and_zero_cv_are_constant():
    for raw in (SPECS["fixed"], SPECS["lognormal-cv0"], {"dist": "gamma", "mean": 4.0, "cv": 0.0}):
        x = vector_draw(spec(raw))(np.random.default_rng(0), 10)
        assert np.unique(x).size == 1


def test_empirical_resamples_only_its_values_evenly():
    x = vector_draw(spec(SPECS["empirical"]))(np.random.default_rng(0), 30_000)
    values, counts = np.unique(x, return_counts=True)
    assert values.tolist() == [1.0, 2.0, 7.0]
    assert counts / counts.sum() == pytest.approx([1 / 3] * 3, abs=0.01)


def test_uniform_and_triangular_stay_in_their_bounds():
    u = vector_draw(spec(SPECS["uniform"]))(np.random.default_rng(0), 10_000)
    t = vector_draw(spec(SPECS["triangular"]))(np.random.default_rng(0), 10_000)
    assert u.min() >= 1.0 and u.max() <= 3.0
    assert t.min() >= 0.0 and t.max() <= 5.0


@pytest.mark.parametrize("raw", SPECS.values(), ids=SPECS.keys())
def test_skipping_values_moves_the_generator_as_drawing_them(raw):
    """A stream's block that no complaint asks for is only skipped over (sim/draws.py): the
    generator must then stand exactly where drawing the block would have left it."""
    drawn, skipped = np.random.default_rng(3), np.random.default_rng(3)
    make = vector_draw(spec(raw))
    make(drawn, 4096)
    skip_draw(spec(raw))(skipped, 4096)
    assert drawn.bit_generator.state == skipped.bit_generator.state
    assert make(drawn, 50).tolist() == make(skipped, 50).tolist()
