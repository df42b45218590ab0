"""Study files: which numbers of which scenarios to vary, within what ranges, and against what.

A calibration asks "which bounce probabilities are consistent with a 53% resolution rate
before the reform?"; a sensitivity study asks "does the reform's effect change if the bounce
probability is 0.2 rather than 0.8?". Both name scenario files by alias, list dotted scenario
keys with a prior (a range, for sensitivity) shared by some of those scenarios, and say what
to look at: published targets for a calibration, outputs for a sensitivity study. This module
reads and checks such files (DESIGN sections 9 and 11) and turns a point of the parameter
space into the scenarios to run; the commands that explore the space live in their own
modules and run those scenarios through the experiment layer.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import pandas as pd
import yaml
from pydantic import Field, Strict, ValidationError, model_validator

from sim.config import (
    AtLeastOne,
    AtLeastZero,
    Frozen,
    Number,
    PositiveFloat,
    Scenario,
    ScenarioError,
    Text,
    bad,
    load_scenario,
    read_mapping,
)
from sim.executors import Executor, ordered
from sim.experiment import progress_bar, simulate_kpis
from sim.metrics import kpi_names
from sim.priors import Prior, middle

Alias = Annotated[str, Strict(), Field(pattern=r"^[a-z0-9_-]+$")]
Name = Annotated[str, Strict(), Field(pattern=r"^[a-z0-9-]+$")]


# --------------------------------------------------------------------------- the file
class Parameter(Frozen):
    key: Annotated[str, Strict(), Field(min_length=1)]
    prior: Prior
    scenarios: tuple[Alias, ...] | None = None      # default: every scenario of the study
    also: tuple[Annotated[str, Strict(), Field(min_length=1)], ...] = ()   # keys set to the same value
    note: Text = ""                                  # why this range: source or argument

    @model_validator(mode="after")
    def _distinct(self) -> Parameter:
        for j, key in enumerate(self.also):
            if key in self.keys[:j + 1]:
                raise bad(f"also.{j}", f"{key} is listed twice (expected keys other than key "
                          "and each other)")
        return self

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key this parameter sets: ``key``, then ``also``."""
        return (self.key, *self.also)


class Target(Frozen):
    scenario: Alias
    kpi: Annotated[str, Strict(), Field(min_length=1)]
    value: Number
    sd: PositiveFloat                  # how far a simulation may honestly be from the value
    source: Annotated[str, Strict(), Field(min_length=1)]
    measures: Text = ""                # the construct: what the figure counts, and which KPI stands for it
    confidence: Literal["H", "M", "L"] = "M"


class Output(Frozen):
    """One quantity a sensitivity study explains: a scenario's KPI, or a paired difference
    ``diff: [a, b]`` (b minus a, replication by replication)."""

    kpi: Annotated[str, Strict(), Field(min_length=1)]
    scenario: Alias | None = None
    diff: tuple[Alias, Alias] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Output:
        if (self.scenario is None) == (self.diff is None):
            raise bad("scenario", "expected exactly one of scenario or diff: [a, b]")
        return self

    @property
    def label(self) -> str:
        if self.diff is None:
            return f"{self.kpi}@{self.scenario}"
        return f"{self.kpi}@{self.diff[1]}-{self.diff[0]}"

    @property
    def aliases(self) -> tuple[str, ...]:
        return (self.scenario,) if self.diff is None else self.diff     # type: ignore[return-value]


class CalibrationMethod(Frozen):
    population: Annotated[int, Strict(), Field(ge=2)] = 200
    generations: AtLeastOne = 8
    replications: AtLeastOne = 1
    seed: AtLeastZero = 1
    min_acceptance: Annotated[float, Strict(), Field(gt=0, le=1)] = 0.01   # stop below this rate
    scale: Annotated[float, Field(gt=0, le=1)] = 1.0   # particles run on the district at this size


class SensitivityMethod(Frozen):
    method: Literal["morris", "sobol"] = "morris"
    budget: AtLeastOne = 10            # Morris trajectories, or Sobol base samples N (power of 2)
    levels: Annotated[int, Strict(), Field(ge=2)] = 4     # Morris grid levels
    replications: AtLeastOne = 1
    seed: AtLeastZero = 1

    @model_validator(mode="after")
    def _balanced(self) -> SensitivityMethod:
        if (problem := budget_problem(self.method, self.budget)) is not None:
            raise bad("budget", problem)
        return self


def budget_problem(method: str, budget: int) -> str | None:
    """What is wrong with a design's budget, if anything: a Sobol/Saltelli base sample keeps
    its balance only at a power of two."""
    if method == "sobol" and (budget < 2 or budget & (budget - 1)):
        return f"{budget} is not a power of two for sobol (expected 2, 4, 8, 16, ... base samples)"
    return None


class StudyFile(Frozen):
    name: Name
    description: Text = ""
    scenarios: Annotated[dict[Alias, Annotated[str, Strict(), Field(min_length=1)]], Field(min_length=1)]
    parameters: Annotated[tuple[Parameter, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _known_aliases(self) -> StudyFile:
        keys = [(key, tuple(p.scenarios or self.scenarios)) for p in self.parameters for key in p.keys]
        where = [i for i, p in enumerate(self.parameters) for _ in p.keys]
        for i, p in enumerate(self.parameters):
            for alias in p.scenarios or ():
                if alias not in self.scenarios:
                    raise bad(f"parameters.{i}.scenarios", f"unknown scenario {alias!r} "
                              f"(expected one of {', '.join(self.scenarios)})")
        for i, (key, aliases) in enumerate(keys):
            for key2, aliases2 in keys[:i]:
                both = ", ".join(sorted(set(aliases) & set(aliases2)))
                if key == key2 and both:
                    raise bad(f"parameters.{where[i]}.key", f"{key} is already a parameter of {both} "
                              "(expected each key once per scenario)")
        return self

    @property
    def labels(self) -> list[str]:
        """One name per parameter: its key, with the scenarios when a key appears twice."""
        counts: dict[str, int] = {}
        for p in self.parameters:
            counts[p.key] = counts.get(p.key, 0) + 1
        return [p.key if counts[p.key] == 1 else f"{p.key}@{'+'.join(p.scenarios or self.scenarios)}"
                for p in self.parameters]


class CalibrationFile(StudyFile):
    targets: Annotated[tuple[Target, ...], Field(min_length=1)]
    method: CalibrationMethod = CalibrationMethod()

    @model_validator(mode="after")
    def _target_aliases(self) -> CalibrationFile:
        for i, t in enumerate(self.targets):
            if t.scenario not in self.scenarios:
                raise bad(f"targets.{i}.scenario", f"unknown scenario {t.scenario!r} "
                          f"(expected one of {', '.join(self.scenarios)})")
        return self


class SensitivityFile(StudyFile):
    outputs: Annotated[tuple[Output, ...], Field(min_length=1)]
    method: SensitivityMethod = SensitivityMethod()

    @model_validator(mode="after")
    def _output_aliases(self) -> SensitivityFile:
        for i, o in enumerate(self.outputs):
            for alias in o.aliases:
                if alias not in self.scenarios:
                    raise bad(f"outputs.{i}", f"unknown scenario {alias!r} "
                              f"(expected one of {', '.join(self.scenarios)})")
            if o.label in [earlier.label for earlier in self.outputs[:i]]:
                raise bad(f"outputs.{i}", f"{o.label} is already an output (expected each once)")
        return self


# --------------------------------------------------------------------------- loaded study
@dataclass(frozen=True)
class Study:
    """A checked study file with its scenarios loaded: what calibrate and sensitivity run."""

    spec: CalibrationFile | SensitivityFile
    scenarios: dict[str, Scenario]
    source: str

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        return self.spec.parameters

    @property
    def labels(self) -> list[str]:
        return self.spec.labels

    def to_yaml(self) -> str:
        """The file with every default filled in, and the name of each scenario it loaded."""
        data = self.spec.model_dump(mode="json", exclude_none=True)
        for parameter in data["parameters"]:
            if not parameter["also"]:
                del parameter["also"]
        data["loaded"] = {alias: s.name for alias, s in self.scenarios.items()}
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

    def scenarios_at(self, point: Sequence[float]) -> dict[str, Scenario]:
        """Every scenario with the parameters set to ``point`` (one value per parameter, in
        file order); a key whose scenario value is a whole number is rounded to one."""
        overrides: dict[str, dict[str, Any]] = {alias: {} for alias in self.scenarios}
        for p, value in zip(self.parameters, point, strict=True):
            for alias in p.scenarios or self.scenarios:
                for key in p.keys:
                    overrides[alias][key] = _typed(self.scenarios[alias], key, float(value))
        return {alias: (s.with_overrides(overrides[alias], self.source) if overrides[alias] else s)
                for alias, s in self.scenarios.items()}


def _typed(scenario: Scenario, key: str, value: float) -> float | int:
    return round(value) if isinstance(lookup(scenario.resolved(), key), int) else value


def lookup(data: Any, key: str) -> Any:
    """The value at a dotted key of resolved scenario data; KeyError when there is none."""
    node = data
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(key)
    return node


def study_kind(raw: Mapping[str, Any]) -> Literal["scenario", "calibration", "sensitivity"]:
    """What a YAML file is, by its top-level keys: ``govsim check`` reads all three."""
    if "targets" in raw:
        return "calibration"
    if "outputs" in raw:
        return "sensitivity"
    return "scenario"


def load_study(path: str | Path, kind: Literal["calibration", "sensitivity"] | None = None) -> Study:
    """Read and check a calibration or sensitivity file and load its scenarios; raise
    ScenarioError on bad input, naming the file and the key."""
    source = str(path)
    raw = read_mapping(path, "a calibration or sensitivity YAML file", "study keys")
    found = study_kind(raw)
    if found == "scenario" or (kind is not None and found != kind):
        wanted = {"calibration": "targets", "sensitivity": "outputs"}.get(kind or "", "targets or outputs")
        raise ScenarioError(source, "", f"is not a {kind or 'calibration or sensitivity'} file "
                            f"(expected top-level {wanted})")
    model = CalibrationFile if found == "calibration" else SensitivityFile
    try:
        spec = model.model_validate(raw)
    except ValidationError as exc:
        from sim.messages import first_error

        raise first_error(exc, source, raw, root=model) from None
    scenarios = {}
    for alias, rel in spec.scenarios.items():
        file = (Path(path).parent / rel)
        if not file.is_file():
            raise ScenarioError(source, f"scenarios.{alias}", f"{rel}: no such file "
                                "(expected a scenario path relative to this file)")
        scenarios[alias] = load_scenario(file)
    study = Study(spec, scenarios, source)
    _check_against_scenarios(study)
    return study


def _check_against_scenarios(study: Study) -> None:
    """Keys that exist and are numbers in every scenario they name; priors whose ends give
    valid scenarios; KPIs that the scenarios report."""
    spec, source = study.spec, study.source
    for i, p in enumerate(spec.parameters):
        wheres = [f"parameters.{i}.key"] + [f"parameters.{i}.also.{j}" for j in range(len(p.also))]
        for where, key in zip(wheres, p.keys, strict=True):
            for alias in p.scenarios or spec.scenarios:
                try:
                    value = lookup(study.scenarios[alias].resolved(), key)
                except KeyError:
                    raise ScenarioError(source, where, f"{key} is not a key of "
                                        f"scenario {alias} (expected a dotted key of a number, "
                                        "see govsim check)") from None
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ScenarioError(source, where, f"{key} is {value!r} in scenario "
                                        f"{alias} (expected a key whose value is a number)")
    for i, p in enumerate(spec.parameters):          # every key exists: now each prior's ends
        low, high = p.prior.bounds()
        for end, value in (("low", low), ("high", high)):
            point = [value if j == i else middle(q.prior) for j, q in enumerate(spec.parameters)]
            try:
                study.scenarios_at(point)
            except ScenarioError as exc:
                raise ScenarioError(source, f"parameters.{i}.prior.{end}", f"{value:g} makes "
                                    f"{exc.path} invalid: {exc.message}") from None
    kpis = {alias: set(kpi_names(s)) for alias, s in study.scenarios.items()}
    wanted = ([(f"targets.{i}.kpi", t.kpi, (t.scenario,)) for i, t in enumerate(spec.targets)]
              if isinstance(spec, CalibrationFile) else
              [(f"outputs.{i}.kpi", o.kpi, o.aliases) for i, o in enumerate(spec.outputs)])
    for where, kpi, aliases in wanted:
        for alias in aliases:
            if kpi not in kpis[alias]:
                raise ScenarioError(source, where, f"{kpi!r} is not a KPI of scenario {alias} "
                                    "(expected a column of kpis.csv, see docs/model.md)")



# --------------------------------------------------------------------------- running points
def evaluate(study: Study, points: Sequence[Sequence[float]], replications: int,
             seeds: Sequence[int] | None = None, jobs: int | None = 1, executor: Executor = "local",
             scheduler: str | None = None, progress: bool = False) -> pd.DataFrame:
    """The KPIs of every scenario of the study at every point, replication by replication:
    one row per (point, scenario, replication), in that order, whatever ran them.

    Every point runs on its scenarios' own seed (common random numbers across points, as a
    sensitivity design wants) unless ``seeds`` gives one per point (a calibration's
    particles, each a fresh draw of the simulation's noise).
    """
    rows = evaluate_points(study, points, replications, seeds, jobs, executor, scheduler, progress)
    return pd.DataFrame([row for _, point_rows in rows for row in point_rows])


def evaluate_points(study: Study, points: Sequence[Sequence[float]], replications: int,
                    seeds: Sequence[int] | None = None, jobs: int | None = 1,
                    executor: Executor = "local", scheduler: str | None = None,
                    progress: bool = False) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """``evaluate`` one point at a time, as each finishes: ``(point, its rows)``, so a long
    design can store what is done and resume after a crash."""
    if seeds is not None and len(seeds) != len(points):
        raise ValueError("expected one seed per point")
    per_point = len(study.scenarios) * replications

    def tasks() -> Iterator[tuple[Scenario, int]]:
        for i, point in enumerate(points):
            at = study.scenarios_at(point)
            if seeds is not None:
                at = {a: s.with_overrides({"seed": int(seeds[i])}) for a, s in at.items()}
            for alias in study.scenarios:
                for r in range(replications):
                    yield at[alias], r

    bar = progress_bar(len(points) * per_point, study.spec.name, progress, unit="sim")
    stream = cast(Generator[dict[str, float], None, None],
                  ordered(simulate_kpis, tasks(), jobs, executor, scheduler))
    try:
        for i in range(len(points)):
            rows = []
            for alias in study.scenarios:
                for _ in range(replications):
                    rows.append({"point": i, "scenario": alias, **next(stream)})
                    bar.update(1)
            yield i, rows
    finally:
        stream.close()
        bar.close()
