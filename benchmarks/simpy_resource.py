"""What ``simpy.Resource`` would cost the model's units: the same queue both ways, in-process.

A unit of govsim is a counter of busy staff and a deque (sim/units.py); the alternative is a
``simpy.Resource`` whose requests are events. Both versions below run one M/M/c queue with
callbacks on timeouts, as the model does (no generator process per customer), so the only
difference is the queue mechanism: ``unit`` serves from a deque when a timeout ends;
``resource`` asks for a request event, starts on its callback and releases the request at
the end. The two take turns, round after round; the ratio of their medians is the result.

    python benchmarks/simpy_resource.py --customers 200000 --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import deque
from typing import Any

import numpy as np
import simpy

RATE, SERVICE, SERVERS = 3.6, 1.0, 4


def draws(customers: int) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(1)
    return (np.cumsum(rng.exponential(1 / RATE, customers)).tolist(),
            rng.exponential(SERVICE, customers).tolist())


def with_unit(arrivals: list[float], services: list[float]) -> float:
    """The model's way: a busy count and a deque, served when a step ends."""
    env, queue, waits = simpy.Environment(), deque(), []
    busy = [0]

    def start(i: int) -> None:
        waits.append(env.now - arrivals[i])
        busy[0] += 1
        env.timeout(services[i], i).callbacks.append(finish)

    def finish(_: Any) -> None:
        busy[0] -= 1
        if queue:
            start(queue.popleft())

    def arrive(event: Any) -> None:
        i = event.value
        if busy[0] < SERVERS:
            start(i)
        else:
            queue.append(i)
        if i + 1 < len(arrivals):
            env.timeout(arrivals[i + 1] - env.now, i + 1).callbacks.append(arrive)

    env.timeout(arrivals[0], 0).callbacks.append(arrive)
    env.run()
    return float(np.mean(waits))


def with_resource(arrivals: list[float], services: list[float]) -> float:
    """The same queue through ``simpy.Resource``: request, start on grant, release."""
    env, waits = simpy.Environment(), []
    staff = simpy.Resource(env, SERVERS)

    def granted(request: Any) -> None:
        i = request.customer
        waits.append(env.now - arrivals[i])
        env.timeout(services[i], request).callbacks.append(finish)

    def finish(event: Any) -> None:
        staff.release(event.value)

    def arrive(event: Any) -> None:
        i = event.value
        request = staff.request()
        request.customer = i
        request.callbacks.append(granted)
        if i + 1 < len(arrivals):
            env.timeout(arrivals[i + 1] - env.now, i + 1).callbacks.append(arrive)

    env.timeout(arrivals[0], 0).callbacks.append(arrive)
    env.run()
    return float(np.mean(waits))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    arrivals, services = draws(args.customers)
    times: dict[str, list[float]] = {"unit": [], "resource": []}
    waits = {}
    for r in range(args.rounds):
        cases = [("unit", with_unit), ("resource", with_resource)]
        for name, run in cases if r % 2 == 0 else cases[::-1]:
            started = time.perf_counter()
            waits[name] = run(arrivals, services)
            times[name].append(time.perf_counter() - started)
    assert abs(waits["unit"] - waits["resource"]) < 1e-9, waits      # the same queue
    unit, resource = (statistics.median(times[k]) for k in ("unit", "resource"))
    print(f"unit {unit:.3f} s, resource {resource:.3f} s (medians of {args.rounds}); "
          f"resource / unit = {resource / unit:.2f}; per-round ratios "
          f"{[round(b / a, 2) for a, b in zip(times['unit'], times['resource'])]}; "
          f"mean wait {waits['unit']:.3f}")


if __name__ == "__main__":
    main()
