"""govsim: a discrete-event simulation of how a city district handles residents' problems.

>>> import sim
>>> scenario = sim.load_scenario("scenarios/demo.yaml")
>>> result = sim.run(scenario, replications=2)
>>> result.summary.head()
"""

from sim.config import Scenario, ScenarioError, load_scenario
from sim.experiment import RunResult, run

__all__ = ["RunResult", "Scenario", "ScenarioError", "load_scenario", "run"]
__version__ = "0.1.0"
