"""M/M/c in Ciw: the peer library's version of the same queue.

The same post office as ``mmc_simpy.py``: one node with ``c`` servers, exponential arrivals
(rate ``lambda``) and services (rate ``mu``), run to ``customers / lambda`` days. Ciw keeps
one record per finished service; the mean wait is taken from those records. Prints one JSON
line: customers served, mean wait, seconds inside Python.

    python benchmarks/mmc_ciw.py --customers 200000
"""

from __future__ import annotations

import argparse

import ciw
from clock import Clock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--lam", type=float, default=3.6, help="arrivals per day")
    parser.add_argument("--mu", type=float, default=1.0, help="services per server per day")
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    clock = Clock()
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=args.lam)],
        service_distributions=[ciw.dists.Exponential(rate=args.mu)],
        number_of_servers=[args.servers],
    )
    ciw.seed(args.seed)                     # Ciw draws from the global random module
    simulation = ciw.Simulation(network)
    simulation.simulate_until_max_time(args.customers / args.lam)
    waits = [r.waiting_time for r in simulation.get_all_records() if r.record_type == "service"]
    clock.report(customers=len(waits), mean_wait=sum(waits) / len(waits))


if __name__ == "__main__":
    main()
