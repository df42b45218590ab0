"""pyabc samplers whose proposals do not depend on the number of workers.

pyabc's own parallel sampler reseeds each worker from the operating system, so which
particles a generation proposes depends on timing, and a generation interrupted and run
again proposes other particles than the ones already simulated. Here every proposal has a
number in its generation (pyabc's evaluation counter: 0, 1, 2, ...), and numpy's and
Python's global generators are seeded from ``(calibration seed, generation, number)`` just
before it is drawn. Proposal k is then the same particle whichever worker draws it, and
the generation keeps the first ``population`` accepted proposals by number, which every
worker count evaluates: one process or several, the same posterior. Only how many proposals
past the last kept one were also simulated (pyabc's count of evaluations) depends on timing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from ctypes import c_longlong
from typing import Any

import numpy as np
from pyabc.sampler import Sampler
from pyabc.sampler.multicorebase import MultiCoreSampler, get_if_worker_healthy
from pyabc.sampler.util import get_mp_context

DONE = "done"


def seed_proposal(seed: int, generation: int, number: int) -> None:
    """Seed the global generators pyabc proposes from, for proposal ``number`` of ``generation``."""
    state = np.random.SeedSequence([seed, generation, number]).generate_state(2, np.uint32)
    np.random.seed(int(state[0]))
    random.seed(int(state[1]))


class SeededSingleCoreSampler(Sampler):  # type: ignore[misc]
    """Proposals one after another in this process, each seeded by its number."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.seed = seed

    def sample_until_n_accepted(self, n: int, simulate_one: Callable[[], Any], t: int, *,
                                max_eval: float = np.inf, all_accepted: bool = False,
                                ana_vars: Any = None) -> Any:
        sample, number = self._create_empty_sample(), 0
        while sample.n_accepted < n and number < max_eval:
            seed_proposal(self.seed, t, number)
            sample.append(simulate_one())
            number += 1
        self.nr_evaluations_ = number
        if sample.n_accepted < n:
            sample.ok = False
        return sample


def _work(simulate_one: Callable[[], Any], queue: Any, evaluated: Any, accepted: Any, n: int,
          max_eval: float, seed: int, t: int, empty: Callable[[], Any]) -> None:
    """A worker: take the next proposal number, seed, simulate; send each accepted particle
    (with the rejected ones before it) under its number."""
    sample = empty()
    while accepted.value < n and evaluated.value < max_eval:
        with evaluated.get_lock():
            number = evaluated.value
            evaluated.value += 1
        seed_proposal(seed, t, number)
        particle = simulate_one()
        sample.append(particle)
        if particle.accepted:
            with accepted.get_lock():
                accepted.value += 1
            queue.put((number, sample))
            sample = empty()
    queue.put(DONE)


class SeededMulticoreSampler(MultiCoreSampler):  # type: ignore[misc]
    """Proposals on ``n_procs`` forked workers, each seeded by its number; the first ``n``
    accepted by number are kept, as one process would keep them."""

    def __init__(self, seed: int, n_procs: int) -> None:
        super().__init__(n_procs=n_procs, check_max_eval=True)
        self.seed = seed

    def sample_until_n_accepted(self, n: int, simulate_one: Callable[[], Any], t: int, *,
                                max_eval: float = np.inf, all_accepted: bool = False,
                                ana_vars: Any = None) -> Any:
        ctx = get_mp_context()
        evaluated, accepted, queue = ctx.Value(c_longlong), ctx.Value(c_longlong), ctx.Queue()
        args = (simulate_one, queue, evaluated, accepted, n, max_eval, self.seed, t,
                self._create_empty_sample)
        workers = [ctx.Process(target=_work, args=args, daemon=self.daemon)
                   for _ in range(self.n_procs)]
        for worker in workers:
            worker.start()
        results, done = [], 0
        while done < len(workers):        # empty the queue before joining, or a worker blocks
            item = get_if_worker_healthy(workers, queue)
            if item == DONE:
                done += 1
            else:
                results.append(item)
        for worker in workers:
            worker.join()
        results.sort(key=lambda item: item[0])
        sample = self._create_empty_sample()
        for _, part in results[:n]:
            sample += part
        self.nr_evaluations_ = evaluated.value
        if sample.n_accepted < n:
            sample.ok = False
        return sample
