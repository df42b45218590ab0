"""govsim: a discrete-event simulation of how a city district handles residents' problems.

>>> import sim
>>> scenario = sim.load_scenario("scenarios/demo.yaml")
>>> result = sim.run(scenario, replications=2)
>>> result.summary.head()
"""

from sim.attribution import Attribution, attribute
from sim.comparison import Comparison, compare
from sim.config import Scenario, ScenarioError, load_scenario
from sim.experiment import RunResult, run
from sim.sweeps import SweepResult, sweep

__all__ = ["Attribution", "Comparison", "RunResult", "Scenario", "ScenarioError", "SweepResult",
           "attribute", "compare", "load_scenario", "run", "sweep"]
__version__ = "0.1.0"
