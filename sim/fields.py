"""The scenario schema's building blocks: strict number types and the ranges the model can
honestly run, located bad-input errors, and the distribution sections (``{dist: lognormal,
mean: 0.5, cv: 1.0}``) that every time in a scenario is written as. sim/config.py builds the
scenario's sections from them and re-exports them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, model_validator

LEVELS: tuple[str, ...] = ("grid", "community", "street", "department", "platform", "leadership")
"""The levels of the hierarchy, bottom to top; a complaint's ``needs`` is one of these."""

LevelName = Literal["grid", "community", "street", "department", "platform", "leadership"]
PROB_TOL = 1e-9
# Strict: "5" is not a number and true is not 1; a YAML integer is still a valid float.
Number = Annotated[float, Strict()]
PositiveFloat = Annotated[float, Strict(), Field(gt=0)]
NonNegFloat = Annotated[float, Strict(), Field(ge=0)]
Probability = Annotated[float, Strict(), Field(ge=0, le=1)]
Flag = Annotated[bool, Strict()]
Text = Annotated[str, Strict()]
AtLeastOne = Annotated[int, Strict(), Field(ge=1)]
AtLeastZero = Annotated[int, Strict(), Field(ge=0)]

# Ranges the model can honestly run (docs/hardening.md): beyond them a square underflows, a
# Poisson rate overflows, or a run needs more events than a machine can hold.
CV_MIN, CV_MAX = 1e-6, 100.0         # below 1e-6 a gamma's shape 1/cv² loses all precision
RATE_MAX = 1e3                       # multipliers and per-day rates: a thousand-fold is no district
INTERVAL_MIN = 0.01                  # days (a quarter of an hour) between follow-ups or meetings
HORIZON_MAX = 36_500.0               # days: a century
UNITS_MAX = 1_000_000                # streets, communities, grids or departments
POPULATION_MAX = 10**10              # more residents than the world has
ROUNDS_MAX = 100_000                 # bounce rounds (the validation loop uses 10,000 as "no limit")
COEFFICIENT_MAX = 1e3                # satisfaction coefficients (logistic scale)
WEIGHT_MAX = 1e12                    # category weights: their sum stays finite and exact enough


def _cv(value: float) -> float:
    if 0 < value < CV_MIN:
        raise ValueError(f"{value!r} is too small to compute (expected 0, or a value from {CV_MIN:g} "
                         f"to {CV_MAX:g})")
    return value


CV = Annotated[float, Strict(), Field(ge=0, le=CV_MAX), AfterValidator(_cv)]
Rate = Annotated[float, Strict(), Field(ge=0, le=RATE_MAX)]
Interval = Annotated[float, Strict(), Field(ge=INTERVAL_MIN)]
Units = Annotated[int, Strict(), Field(ge=1, le=UNITS_MAX)]
Coefficient = Annotated[float, Strict(), Field(ge=-COEFFICIENT_MAX, le=COEFFICIENT_MAX)]



def sla_label(days: float) -> str:
    """How a service-level target is named in a KPI: ``resolved_within_<label>d_share``."""
    return f"{days:g}"


class ScenarioError(ValueError):
    """Bad input, located: the file, the dotted key path and what was expected."""

    def __init__(self, source: str, path: str, message: str) -> None:
        source, path, message = one_line(source), one_line(path), one_line(message)
        self.source, self.path, self.message = source, path, message
        where = f"{source}: {path}: " if path else f"{source}: "
        super().__init__(where + message)


def one_line(text: str) -> str:
    """``text`` with control characters written as escapes: a key or value that holds a
    newline must not break the one-line error."""
    return text if text.isprintable() else "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def bad(key: str, message: str) -> ValueError:
    """A validation error about ``key`` (dotted, relative to the section being checked)."""
    return ValueError(f"{KEYED}{key}{KEYED}{message}")


KEYED = "\x1f"


class Frozen(BaseModel):
    """Base of every scenario section: unknown keys are errors, values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False,
                              use_attribute_docstrings=True)


# --------------------------------------------------------------------------- distributions
class Fixed(Frozen):
    dist: Literal["fixed"]
    """the distribution's form: `fixed`"""
    value: NonNegFloat
    """the value every draw takes"""


class Exponential(Frozen):
    dist: Literal["exponential"]
    """the distribution's form: `exponential`"""
    mean: PositiveFloat
    """mean of the exponential"""


class Lognormal(Frozen):
    dist: Literal["lognormal"]
    """the distribution's form: `lognormal`"""
    mean: PositiveFloat
    """mean of the lognormal"""
    cv: CV
    """coefficient of variation; 0 gives the mean"""


class Gamma(Frozen):
    dist: Literal["gamma"]
    """the distribution's form: `gamma`"""
    mean: PositiveFloat
    """mean of the gamma"""
    cv: CV
    """coefficient of variation; 0 gives the mean"""


class Uniform(Frozen):
    dist: Literal["uniform"]
    """the distribution's form: `uniform`"""
    low: NonNegFloat
    """lowest value"""
    high: NonNegFloat
    """highest value"""

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise bad("high", f"{self.high} is below low {self.low} (expected low <= high)")
        return self


class Triangular(Frozen):
    dist: Literal["triangular"]
    """the distribution's form: `triangular`"""
    low: NonNegFloat
    """lowest value"""
    mode: NonNegFloat
    """most likely value"""
    high: NonNegFloat
    """highest value"""

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise bad("mode", "out of order (expected low <= mode <= high with low < high)")
        return self


class Empirical(Frozen):
    dist: Literal["empirical"]
    """the distribution's form: `empirical`"""
    values: Annotated[tuple[NonNegFloat, ...], Field(min_length=1)]
    """observed values, resampled with replacement, each equally likely"""


Distribution = Annotated[
    Fixed | Exponential | Lognormal | Gamma | Uniform | Triangular | Empirical,
    Field(discriminator="dist"),
]
DIST_CLASSES: dict[str, type[Frozen]] = {
    "fixed": Fixed, "exponential": Exponential, "lognormal": Lognormal, "gamma": Gamma,
    "uniform": Uniform, "triangular": Triangular, "empirical": Empirical,
}
DIST_NAMES = tuple(DIST_CLASSES)
PRIOR_NAMES = ("uniform", "loguniform", "normal")
"""The priors of calibration and sensitivity files (sim/priors.py)."""


def expo(mean: float) -> Exponential:
    return Exponential(dist="exponential", mean=mean)


def logn(mean: float, cv: float) -> Lognormal:
    return Lognormal(dist="lognormal", mean=mean, cv=cv)
