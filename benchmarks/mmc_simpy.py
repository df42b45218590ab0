"""M/M/c in plain SimPy: the baseline govsim is timed against.

A post office with ``c`` clerks: customers arrive at random (Poisson, rate ``lambda`` per
day), wait for a free clerk, are served for an exponential time (mean ``1/mu``) and leave.
This is the program a SimPy user writes first, as in SimPy's own examples: one generator
process per customer, a ``simpy.Resource`` for the clerks, request / yield / timeout /
release, the standard library's ``random`` for the draws, and every customer's wait appended
to a list. It runs until ``customers / lambda`` days, the same horizon the govsim and Ciw
versions use, and prints one JSON line: customers served, mean wait, seconds inside Python.

    python benchmarks/mmc_simpy.py --customers 200000
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Generator

import simpy
from clock import Clock


def customer(env: simpy.Environment, clerks: simpy.Resource, rng: random.Random, mu: float,
             waits: list[float]) -> Generator[simpy.Event, None, None]:
    """Wait for a clerk, record the wait, be served, leave."""
    arrived = env.now
    request = clerks.request()
    yield request
    waits.append(env.now - arrived)
    yield env.timeout(rng.expovariate(mu))
    clerks.release(request)


def arrivals(env: simpy.Environment, clerks: simpy.Resource, rng: random.Random, lam: float,
             mu: float, waits: list[float]) -> Generator[simpy.Event, None, None]:
    """A Poisson stream of customers, each its own process."""
    while True:
        yield env.timeout(rng.expovariate(lam))
        env.process(customer(env, clerks, rng, mu, waits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--lam", type=float, default=3.6, help="arrivals per day")
    parser.add_argument("--mu", type=float, default=1.0, help="services per clerk per day")
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    clock = Clock()
    env = simpy.Environment()
    clerks = simpy.Resource(env, capacity=args.servers)
    waits: list[float] = []
    env.process(arrivals(env, clerks, random.Random(args.seed), args.lam, args.mu, waits))
    env.run(until=args.customers / args.lam)
    clock.report(customers=len(waits), mean_wait=sum(waits) / len(waits))


if __name__ == "__main__":
    main()
