"""Why do the weights of a calibration collapse? ABC-SMC on a cheap surrogate of the model.

A Shibei particle costs about 14 s of CPU, so trying a transition kernel on the real model
costs hours. This script fits a linear surrogate instead: every accepted particle of a stored
calibration history (parameters in, target KPIs out), least squares, plus Gaussian noise of
the residuals' size. It then runs pyabc on the surrogate with the calibration file's priors,
targets, distance, population and generations, for several seeds, and prints epsilon,
simulations and the effective sample size of each generation. Seconds, not hours.

    python benchmarks/abc_surrogate.py calibration/shibei-joint.yaml \\
        results/calibration/shibei-joint/run/history.db --kernel silverman
    python benchmarks/abc_surrogate.py calibration/shibei-joint.yaml \\
        results/calibration/shibei-joint/run/history.db --kernel beaumont --log

``--kernel silverman`` is pyabc's default (a Gaussian KDE, Silverman's bandwidth);
``beaumont`` is twice the weighted covariance (Beaumont et al. 2009). ``--log`` calibrates
each log-uniform parameter on the log scale, where its prior is flat; ``--fix K`` holds
the K parameters the surrogate finds weakest (the smallest largest standardized coefficient
over the targets) at the middle of their prior and calibrates the rest; ``--draw`` instead
draws those K from their prior inside every surrogate run (their uncertainty kept, the
kernel not seeing them). docs/calibration.md ("Why the weights collapse") quotes the output.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyabc

from sim.calibrate import ScaledDistance, effective_sample_size, prior_distribution, stat_names
from sim.priors import middle
from sim.study import Study, load_study


def accepted(history: Any) -> pd.DataFrame:
    """Every accepted particle of every generation: parameters and summary statistics."""
    rows = []
    for t in range(history.max_t + 1):
        for p in history.get_population(t=t).particles:
            rows.append({**{k: float(v) for k, v in p.parameter.items()},
                         **{f"S:{k}": float(v) for k, v in p.sum_stat.items()}})
    return pd.DataFrame(rows)


def log_prior(study: Study) -> Any:
    """The file's priors, each log-uniform one as a uniform prior on its logarithm."""
    base = prior_distribution(study)
    rvs = {}
    for label, parameter in zip(study.labels, study.parameters, strict=True):
        prior = parameter.prior
        if prior.dist == "loguniform":
            low, high = np.log(prior.low), np.log(prior.high)
            rvs[label] = pyabc.RV("uniform", low, high - low)
        else:
            rvs[label] = base[label]
    return pyabc.Distribution(**rvs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("calibration")
    parser.add_argument("history")
    parser.add_argument("--kernel", choices=("silverman", "beaumont"), default="silverman")
    parser.add_argument("--log", action="store_true", help="log-uniform parameters on the log scale")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--population", type=int, help="default: the file's")
    parser.add_argument("--generations", type=int, help="default: the file's")
    parser.add_argument("--fix", type=int, default=0,
                        help="hold the FIX parameters the surrogate finds weakest at their prior middle")
    parser.add_argument("--draw", action="store_true",
                        help="draw the --fix parameters from their prior instead")
    parser.add_argument("--hold", default="", help="comma-separated labels to hold at their prior middle")
    parser.add_argument("--tie", action="append", default=[],
                        help="comma-separated labels that take one value, the first one's (repeatable)")
    args = parser.parse_args()
    logging.getLogger("ABC").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    study = load_study(args.calibration, "calibration")
    spec = study.spec
    data = accepted(pyabc.History(f"sqlite:///{Path(args.history).resolve()}"))
    names = stat_names(study)
    design = np.column_stack([np.ones(len(data)), data[study.labels].to_numpy()])
    out = data[[f"S:{n}" for n in names]].to_numpy()
    coef, *_ = np.linalg.lstsq(design, out, rcond=None)
    fitted = design @ coef
    noise = (out - fitted).std(axis=0)
    logs = {label for label, p in zip(study.labels, study.parameters, strict=True)
            if args.log and p.prior.dist == "loguniform"}
    rng = np.random.default_rng(0)
    spread = data[study.labels].to_numpy().std(axis=0)[:, None] * np.abs(coef[1:]) / out.std(axis=0)
    weakest = [study.labels[i] for i in np.argsort(spread.max(axis=1))[:args.fix]]
    weakest += [label for label in args.hold.split(",") if label]
    ties = [[label for label in group.split(",") if label] for group in args.tie]
    tied = [label for group in ties for label in group]
    followers = [label for group in ties for label in group[1:]]
    for label in weakest + tied:
        if label not in study.labels:
            parser.error(f"unknown parameter {label!r} (expected one of {', '.join(study.labels)})")
    held = {label: middle(p.prior) for label, p in zip(study.labels, study.parameters, strict=True)
            if label in weakest}

    def surrogate(parameter: Any) -> dict[str, float]:
        drawn = {k: float(p.prior.ppf(rng.uniform())) for k, p in
                 zip(study.labels, study.parameters, strict=True) if k in held} if args.draw else held
        values = {**drawn, **{k: float(np.exp(v)) if k in logs else float(v) for k, v in parameter.items()}}
        values.update({k: values[group[0]] for group in ties for k in group[1:]})
        x = [1.0] + [values[k] for k in study.labels]
        return dict(zip(names, (np.asarray(x) @ coef + rng.normal(0.0, noise)).tolist(), strict=True))

    sd = {n: t.sd for n, t in zip(names, spec.targets, strict=True)}
    observed = {n: float(t.value) for n, t in zip(names, spec.targets, strict=True)}
    if args.kernel == "beaumont":
        kernel = pyabc.MultivariateNormalTransition(scaling=2.0, bandwidth_selector=lambda n, d: 1.0)
    else:
        kernel = pyabc.MultivariateNormalTransition()
    population = args.population or spec.method.population
    generations = args.generations or spec.method.generations
    r2 = 1 - ((out - fitted) ** 2).sum(axis=0) / ((out - out.mean(axis=0)) ** 2).sum(axis=0)
    fits = ", ".join(f"{n} {v:.2f}" for n, v in zip(names, r2, strict=True))
    print(f"surrogate: {len(data)} particles, R^2 {fits}")
    print(f"kernel {args.kernel}, log scale {'on' if args.log else 'off'}, population {population}, "
          f"{generations} generations, {len(study.labels) - len(held) - len(followers)} parameters"
          + (f" ({'drawn from the prior' if args.draw else 'held'}: {', '.join(held)})" if held else ""))
    prior = log_prior(study) if args.log else prior_distribution(study)
    prior = pyabc.Distribution(**{k: prior[k] for k in study.labels if k not in held and k not in followers})
    with tempfile.TemporaryDirectory() as work:
        for seed in range(args.seeds):
            np.random.seed(seed)
            abc = pyabc.ABCSMC(surrogate, prior,
                               ScaledDistance(sd), population_size=population, transitions=kernel,
                               eps=pyabc.MedianEpsilon(np.inf), sampler=pyabc.sampler.SingleCoreSampler())
            history = abc.new(f"sqlite:///{work}/seed{seed}.db", observed)
            history = abc.run(max_nr_populations=generations)
            pops = history.get_all_populations().set_index("t")
            cells = []
            for t in range(history.max_t + 1):
                _, w = history.get_distribution(t=t)
                cells.append(f"{t + 1}: eps {pops.at[t, 'epsilon']:.2f}, {pops.at[t, 'samples']} sims, "
                             f"ESS {effective_sample_size(w):.1f}")
            print(f"seed {seed} | " + " | ".join(cells), flush=True)


if __name__ == "__main__":
    main()
