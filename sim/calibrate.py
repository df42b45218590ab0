"""Calibration: which values of the unknown numbers are consistent with what was published.

Before the reform, Beijing's hotline resolved 53% of requests. Which bounce probabilities,
patience and service times make the legacy scenario land there, while the same shared
numbers make the whistle scenario land near its own published figures? Approximate Bayesian
computation by sequential Monte Carlo (pyabc) answers with a population of particles: draw
parameters from the prior, run every scenario of the study at them, keep those whose KPIs
land close to the targets (distances in units of each target's ``sd``), and tighten the
threshold generation by generation. What is left is the posterior: the calibrated numbers
with their uncertainty. The history lives in SQLite, so an interrupted calibration
continues from its last finished generation. See docs/calibration.md.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import atomic
from sim.config import ScenarioError
from sim.district import scaled
from sim.executors import Executor, dask_client
from sim.experiment import git_commit, versions
from sim.priors import NormalPrior
from sim.study import CalibrationFile, Study, evaluate, lookup

HISTORY = "history.db"
FINGERPRINT = "calibration.json"
MANIFEST = "manifest.json"
PARTICLES = "particles"       # each simulated particle's KPIs, for a resume inside a generation
DEGENERATE = 0.25             # warn below an effective sample size of this share of the particles


def require_pyabc() -> Any:
    """pyabc, or a one-line error saying how to get it (it is the optional extra ``calibrate``)."""
    try:
        import pyabc
    except ImportError:
        raise ScenarioError("govsim calibrate", "", "needs pyabc, which is not installed "
                            "(expected pip install 'govsim[calibrate]')") from None
    return pyabc


def spec_of(study: Study) -> CalibrationFile:
    if not isinstance(study.spec, CalibrationFile):
        raise TypeError("expected a calibration study")
    return study.spec


def stat_names(study: Study) -> list[str]:
    """One summary statistic per target, ``kpi@alias``, in file order."""
    return [f"{t.kpi}@{t.scenario}" for t in spec_of(study).targets]


def particle_seed(seed: int, values: list[float]) -> int:
    """The simulation seed of a particle: a function of the calibration seed and the
    particle's own values only, so it does not depend on which worker ran it or when."""
    bits = np.asarray(values, dtype=np.float64).view(np.uint64)
    return int(np.random.SeedSequence([seed, *map(int, bits)]).generate_state(1, np.uint32)[0])


def generation_seed(seed: int, generation: int) -> int:
    """The seed of numpy's global generator for one generation (pyabc draws proposals there),
    so a resumed calibration draws what an uninterrupted one would have drawn."""
    return int(np.random.SeedSequence([seed, generation]).generate_state(1, np.uint32)[0])


EXTENSIVE = ("arrivals",)       # KPIs that grow with the district; the rest are shares and means


@dataclass(frozen=True)
class ParticleModel:
    """pyabc's model: a particle's values in, the mean KPI of each target over its
    replications out; the scenarios run through the experiment layer (``evaluate``), on the
    district scaled by ``method.scale`` (counts scaled back to the full district).

    With a ``cache`` folder every particle's KPIs are stored as they are made, under a hash
    of everything they depend on: a calibration stopped in the middle of a generation
    proposes the same particles again when resumed (its proposals are seeded per
    generation), and those already simulated are read back instead of run again."""

    study: Study
    cache: Path | None = None

    def __call__(self, parameter: Mapping[str, float]) -> dict[str, float]:
        spec = spec_of(self.study)
        point = [float(parameter[label]) for label in self.study.labels]
        seed = particle_seed(spec.method.seed, point)
        if self.cache is None:
            return self.simulate(point, seed)
        text = json.dumps([seed, point, spec.method.replications, spec.method.scale,
                           sorted((a, s.sha256()) for a, s in self.study.scenarios.items())])
        stored = self.cache / f"{hashlib.sha256(text.encode()).hexdigest()[:24]}.json"
        if stored.is_file():
            return {k: float(v) for k, v in json.loads(stored.read_text(encoding="utf-8")).items()}
        kpis = self.simulate(point, seed)
        atomic.write_text(stored, json.dumps(kpis) + "\n")
        return kpis

    def simulate(self, point: list[float], seed: int) -> dict[str, float]:
        """Run the particle's scenarios: each target's KPI, averaged over replications."""
        spec = spec_of(self.study)
        factor = spec.method.scale
        rows = evaluate(self.runs(), [point], spec.method.replications, seeds=[seed])
        means = rows.drop(columns="point").groupby("scenario").mean(numeric_only=True)
        return {f"{t.kpi}@{t.scenario}": float(means.at[t.scenario, t.kpi])
                / (factor if t.kpi in EXTENSIVE else 1.0) for t in spec.targets}

    def runs(self) -> Study:
        """The study as its particles run it: every scenario at ``method.scale``."""
        factor = spec_of(self.study).method.scale
        if factor == 1:
            return self.study
        return replace(self.study, scenarios={a: scaled(s, factor) for a, s in self.study.scenarios.items()})


@dataclass(frozen=True)
class ScaledDistance:
    """Euclidean distance in units of each target's ``sd``: one sd off on one target counts
    as much as one sd off on another; a KPI the run could not compute is infinitely far."""

    sd: dict[str, float]

    def __call__(self, x: Mapping[str, float], x0: Mapping[str, float]) -> float:
        total = sum(((x[k] - x0[k]) / s) ** 2 for k, s in self.sd.items())
        return float(np.sqrt(total)) if np.isfinite(total) else float("inf")


def prior_distribution(study: Study) -> Any:
    """The priors of the file as a pyabc Distribution, named by parameter label."""
    pyabc = require_pyabc()
    rvs = {}
    for label, p in zip(study.labels, study.parameters, strict=True):
        prior = p.prior
        if isinstance(prior, NormalPrior):
            a, b = (prior.low - prior.mean) / prior.sd, (prior.high - prior.mean) / prior.sd
            rvs[label] = pyabc.RV("truncnorm", a, b, loc=prior.mean, scale=prior.sd)
        elif prior.dist == "loguniform":
            rvs[label] = pyabc.RV("loguniform", prior.low, prior.high)
        else:
            rvs[label] = pyabc.RV("uniform", prior.low, prior.high - prior.low)
    return pyabc.Distribution(**rvs)


@contextmanager
def sampler(jobs: int, executor: Executor, scheduler: str | None, seed: int) -> Iterator[Any]:
    """The sampler for the executor: this process or the local cores, each proposal seeded by
    its number (sim.sampling: the same posterior whatever ``jobs``), or pyabc's Dask sampler."""
    pyabc = require_pyabc()
    from sim.sampling import SeededMulticoreSampler, SeededSingleCoreSampler

    if executor == "dask":
        with dask_client(jobs, scheduler) as client:
            yield pyabc.sampler.DaskDistributedSampler(dask_client=client)
    elif jobs == 1:
        yield SeededSingleCoreSampler(seed)
    else:
        yield SeededMulticoreSampler(seed, jobs)


def fingerprint(study: Study) -> dict[str, Any]:
    """What a history belongs to: the calibration file and every scenario it loaded."""
    return {"calibration": json.loads(spec_of(study).model_dump_json()),
            "scenarios": {alias: s.sha256() for alias, s in study.scenarios.items()}}


def check_out(study: Study, out: Path, resume: bool) -> None:
    """A new calibration needs a folder without a history; ``--resume`` needs this one's."""
    db = out / HISTORY
    if not resume and db.exists():
        raise ScenarioError(str(db), "", "a calibration history is already here "
                            "(expected --resume to continue it, or another --out)")
    if resume:
        if not db.exists():
            raise ScenarioError("--resume", str(db), "no such file (expected the folder of "
                                "an interrupted calibration)")
        try:
            stored = json.loads((out / FINGERPRINT).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            stored = None
        if stored is None or extendable(stored) != extendable(fingerprint(study)):
            raise ScenarioError("--resume", str(db), "was made by another calibration file or "
                                "other scenarios (expected the same ones, or another --out; "
                                "only method.generations may change)")
        done = stored_generations(db)
        if done > spec_of(study).method.generations:
            raise ScenarioError(study.source, "method.generations", f"{done} generations are "
                                f"already in {db} (expected at least {done} to resume it)")


def stored_generations(db: Path) -> int:
    """How many generations the history ``db`` holds, or one line on why it cannot be read."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        last = require_pyabc().History(f"sqlite:///{db.resolve()}").max_t
    except SQLAlchemyError as exc:
        raise ScenarioError("--resume", str(db), f"is not a readable calibration history "
                            f"({type(exc).__name__}; expected the history.db of a calibration)") from None
    return 0 if last is None else int(last) + 1


def extendable(made: dict[str, Any]) -> dict[str, Any]:
    """A fingerprint without ``method.generations``: a finished calibration resumed with more
    generations goes on from its last one, the path an uninterrupted longer run takes."""
    calibration = dict(made.get("calibration", {}))
    calibration["method"] = {k: v for k, v in dict(calibration.get("method", {})).items()
                             if k != "generations"}
    return {**made, "calibration": calibration}


@dataclass
class Calibration:
    """A finished calibration: the posterior particles and the folder holding the rest."""

    out: Path
    posterior: pd.DataFrame
    summary: pd.DataFrame
    predictive: pd.DataFrame
    manifest: dict[str, Any]


def calibrate(study: Study, out: str | Path, jobs: int = 1, executor: Executor = "local",
              scheduler: str | None = None, resume: bool = False,
              report: Callable[[str], None] | None = None) -> Calibration:
    """Run (or continue) the ABC-SMC calibration into ``out`` and write its outputs."""
    pyabc = require_pyabc()
    spec, folder = spec_of(study), Path(out)
    check_out(study, folder, resume)
    ParticleModel(study).runs()        # a scale that breaks a scenario fails before any file is written
    folder.mkdir(parents=True, exist_ok=True)
    earlier = previous_stop(folder) if resume else None
    (folder / MANIFEST).unlink(missing_ok=True)
    atomic.write_text(folder / FINGERPRINT, json.dumps(fingerprint(study), indent=2) + "\n")
    started = time.perf_counter()
    logging.getLogger("ABC").setLevel(logging.WARNING)
    db = f"sqlite:///{(folder / HISTORY).resolve()}"
    sd = {name: t.sd for name, t in zip(stat_names(study), spec.targets, strict=True)}
    observed = {name: float(t.value) for name, t in zip(stat_names(study), spec.targets, strict=True)}
    with sampler(jobs, executor, scheduler, spec.method.seed) as chosen:
        def generation(t: int) -> Any:
            """pyabc's ABCSMC for generation t, built afresh from the history each time, so a
            resumed calibration takes exactly the path of an uninterrupted one."""
            abc = pyabc.ABCSMC(ParticleModel(study, folder / PARTICLES), prior_distribution(study),
                               ScaledDistance(sd),
                               population_size=spec.method.population, sampler=chosen,
                               eps=pyabc.MedianEpsilon(np.inf if t == 0 else "from_sample"))
            history = abc.new(db, observed) if t == 0 and not resume else abc.load(db, 1)
            np.random.seed(generation_seed(spec.method.seed, t))
            abc.run(max_nr_populations=1, min_acceptance_rate=spec.method.min_acceptance)
            return history

        if earlier == "min_acceptance":            # finished early before: nothing to run
            history, stopped = pyabc.History(db), earlier
        else:
            history, stopped = run_generations(generation, db, spec, report or (lambda _line: None))
    from sim.posterior import write_outputs

    made = {"kind": "calibrate", "name": spec.name, "stopped": stopped,
            **fingerprint(study), "seed": spec.method.seed, "executor": executor, "jobs": jobs,
            "order_deterministic": executor == "local",
            "generations": generation_table(history), "versions": {**versions(), **_pyabc_version()},
            "git_commit": git_commit(), "wall_seconds": round(time.perf_counter() - started, 3)}
    return write_outputs(study, history, folder, made)


def previous_stop(folder: Path) -> str | None:
    """Why a finished calibration in ``folder`` stopped, if it finished."""
    try:
        return str(json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["stopped"])
    except (OSError, ValueError, KeyError):
        return None


def run_generations(generation: Callable[[int], Any], db: str, spec: CalibrationFile,
                    report: Callable[[str], None]) -> tuple[Any, str]:
    """Generations one at a time from the first not in the history, until the file's number
    of generations or an acceptance rate below ``min_acceptance``; the history and why it stopped."""
    pyabc = require_pyabc()
    method = spec.method
    path = Path(db.removeprefix("sqlite:///"))
    t = stored_generations(path) if path.exists() else 0
    history = None
    while t < method.generations:
        history = generation(t)
        if history.max_t < t:
            report(f"generation {t + 1}/{method.generations}: acceptance below "
                   f"{method.min_acceptance:g}, stopping")
            return history, "min_acceptance"
        row = generation_table(history)[-1]
        report(f"generation {t + 1}/{method.generations}: epsilon {row['epsilon']:.4g}, "
               f"accepted {row['particles']}/{row['simulations']} "
               f"({row['acceptance_rate']:.1%}), effective sample size "
               f"{row['effective_sample_size']:.1f}")
        if row["effective_sample_size"] < DEGENERATE * row["particles"]:
            report(f"warning: generation {t + 1}'s weights rest on about "
                   f"{row['effective_sample_size']:.1f} of its {row['particles']} particles: its "
                   "intervals are not credible intervals (docs/calibration.md, Reading the posterior)")
        t += 1
    return (history if history is not None else pyabc.History(db)), "generations"


def effective_sample_size(weights: Any) -> float:
    """Kish's effective sample size of importance weights, (sum w)^2 / sum w^2: the number of
    equally weighted particles that would carry as much information."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / (w ** 2).sum())


def generation_table(history: Any) -> list[dict[str, Any]]:
    """Each finished generation: its threshold, particles, simulations, acceptance rate and
    the effective sample size of its weights."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    return [{"generation": int(r.t) + 1, "epsilon": float(r.epsilon), "particles": int(r.particles),
             "simulations": int(r.samples), "acceptance_rate": float(r.particles / r.samples),
             "effective_sample_size": effective_sample_size(history.get_weighted_distances(t=int(r.t))["w"])}
            for r in pops.itertuples()]


def _pyabc_version() -> dict[str, str]:
    from importlib import metadata

    return {"pyabc": metadata.version("pyabc")}


def calibrated_yaml(study: Study, alias: str, values: Mapping[str, float],
                    notes: Mapping[str, str], source: str) -> str:
    """Scenario ``alias`` with every default filled in and the calibrated values written in,
    each such line commented as calibrated (``notes``: label -> the comment)."""
    import yaml

    point = [values[label] for label in study.labels]
    scenario = study.scenarios_at(point)[alias]
    data = scenario.resolved()
    marks: dict[str, str] = {}
    for label, p in zip(study.labels, study.parameters, strict=True):
        if alias not in (p.scenarios or study.scenarios):
            continue
        for key in p.keys:
            mark = f"CALIBRATED{len(marks)}"
            value = lookup(data, key)
            parent, _, last = key.rpartition(".")
            node = lookup(data, parent) if parent else data
            if isinstance(node, list):
                node[int(last)] = mark
            else:
                node[last] = mark
            marks[mark] = f"{json.dumps(value)}   # calibrated: {notes[label]}"
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    for mark, replacement in marks.items():
        text = text.replace(mark, replacement)
    header = (f"# {scenario.name} as calibrated by govsim calibrate {source}: the lines marked "
              "calibrated hold posterior medians;\n# every other value is the scenario's own "
              f"({study.spec.scenarios[alias]}), with every default filled in.\n")
    return header + text


def main_report(quiet: bool) -> Callable[[str], None]:
    """The per-generation progress line on stderr, unless quiet."""
    def report(line: str) -> None:
        if not quiet:
            print(line, file=sys.stderr, flush=True)
    return report
