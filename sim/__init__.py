"""govsim: a discrete-event simulation of how a city district handles residents' problems.

>>> import sim
>>> scenario = sim.load_scenario("scenarios/demo.yaml")
>>> result = sim.run(scenario, replications=2)
>>> result.summary.head()

The names below are imported when first used, so ``govsim check`` and a bad flag answer
without loading pandas.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

from sim import native as _native

__version__ = "0.1.0"
"""The package version: pyproject.toml reads it from here."""

_native.install()       # the compiled engine, or its Python source (sim/native.py)

# One BLAS thread, unless the user set it: govsim multiplies no matrices, and OpenBLAS's idle
# worker threads spin on the other cores for about half a CPU second a process (a third of
# a small run, and the core a second ``--jobs`` worker needs). It takes effect only when
# numpy is first imported after this (docs/performance.md).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

_WHERE = {"Attribution": "sim.attribution", "attribute": "sim.attribution",
          "Comparison": "sim.comparison", "compare": "sim.comparison", "Scenario": "sim.config",
          "ScenarioError": "sim.config", "load_scenario": "sim.config", "RunResult": "sim.experiment",
          "run": "sim.experiment", "SweepResult": "sim.sweeps", "sweep": "sim.sweeps"}

__all__ = ["Attribution", "Comparison", "RunResult", "Scenario", "ScenarioError", "SweepResult",
           "attribute", "compare", "load_scenario", "run", "sweep"]

if TYPE_CHECKING:
    from sim.attribution import Attribution, attribute
    from sim.comparison import Comparison, compare
    from sim.config import Scenario, ScenarioError, load_scenario
    from sim.experiment import RunResult, run
    from sim.sweeps import SweepResult, sweep


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
