"""Priors on scenario keys: the ranges a calibration or sensitivity study draws from.

Every prior has both ends (a scenario key has a valid range) and maps the unit interval onto
itself by its quantiles (``ppf``), so a design drawn on the unit cube becomes a design on the
priors. Study files name them by ``dist`` (DESIGN sections 9 and 11).
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from sim.config import Frozen, Number, PositiveFloat, bad


class RangedPrior(Frozen):
    """A prior on [low, high]: every scenario key it sets has a range."""

    low: Number
    high: Number

    @model_validator(mode="after")
    def _ordered(self) -> RangedPrior:
        if not self.low < self.high:
            raise bad("high", f"{self.high} is not above low {self.low} (expected low < high)")
        return self

    def bounds(self) -> tuple[float, float]:
        return self.low, self.high


class UniformPrior(RangedPrior):
    dist: Literal["uniform"]

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """The prior's quantiles at ``u`` in [0, 1]: maps a unit-cube design onto the prior."""
        return self.low + (self.high - self.low) * np.asarray(u, dtype=float)


class LogUniformPrior(RangedPrior):
    dist: Literal["loguniform"]
    low: PositiveFloat
    high: PositiveFloat

    def ppf(self, u: np.ndarray) -> np.ndarray:
        a, b = math.log(self.low), math.log(self.high)
        return np.exp(a + (b - a) * np.asarray(u, dtype=float))


class NormalPrior(RangedPrior):
    """A normal prior, truncated to [low, high] (both required: a scenario key has a range)."""

    dist: Literal["normal"]
    mean: Number
    sd: PositiveFloat

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy.stats import truncnorm

        a, b = (self.low - self.mean) / self.sd, (self.high - self.mean) / self.sd
        return np.asarray(truncnorm.ppf(np.asarray(u, dtype=float), a, b, loc=self.mean, scale=self.sd))


Prior = Annotated[UniformPrior | LogUniformPrior | NormalPrior, Field(discriminator="dist")]


def describe_prior(prior: UniformPrior | LogUniformPrior | NormalPrior) -> str:
    """``uniform(0.1, 0.9)``: the prior in a table cell."""
    if isinstance(prior, NormalPrior):
        return f"normal({prior.mean:g}, {prior.sd:g}) on [{prior.low:g}, {prior.high:g}]"
    return f"{prior.dist}({prior.low:g}, {prior.high:g})"


def middle(prior: UniformPrior | LogUniformPrior | NormalPrior) -> float:
    """The prior's median: where a study holds a parameter it does not vary."""
    return float(prior.ppf(np.array(0.5)))
