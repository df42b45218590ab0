"""Closed-form queueing results that degenerate scenarios must reproduce.

A department with three officers and exponential repair times is an M/M/3 queue: Erlang's
1917 formulas give the chance that a complaint waits and how long. Send complaints back and
forth between a street and a department and you have a Jackson network: each office is an
M/M/c queue fed at the external rate times its mean number of visits. Give residents
exponential patience and a single office is Erlang-A, a birth-death chain solved here
numerically. Nothing in this module simulates: it is the answer sheet for ``sim.validation``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


def erlang_b(servers: int, load: float) -> float:
    """Blocking probability of M/M/c/c with offered load ``load`` (stable recursion)."""
    b = 1.0
    for k in range(1, servers + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in M/M/c (load = lambda / mu < servers)."""
    if load >= servers:
        raise ValueError(f"offered load {load} needs more than {servers} servers for a steady state")
    b = erlang_b(servers, load)
    return servers * b / (servers - load * (1 - b))


@dataclass(frozen=True)
class Station:
    """An M/M/c station: arrival rate ``rate``, mean service ``service``, ``servers`` staff."""

    rate: float
    service: float
    servers: int

    @property
    def load(self) -> float:
        return self.rate * self.service

    @property
    def utilization(self) -> float:
        return self.load / self.servers

    @property
    def p_wait(self) -> float:
        return erlang_c(self.servers, self.load)

    @property
    def wait(self) -> float:
        """Mean time in queue (Erlang C over the spare capacity)."""
        return self.p_wait * self.service / (self.servers - self.load)

    @property
    def sojourn(self) -> float:
        return self.wait + self.service

    @property
    def queue(self) -> float:
        """Mean number waiting (Little's law)."""
        return self.rate * self.wait


def priority_waits(rates: Sequence[float], service: float, servers: int) -> list[float]:
    """Mean queueing time of each class of an M/M/c queue that serves waiting classes in
    order (first class first, not pre-empting), all with the same exponential service:
    Cobham's formula, E[R] / ((1 - s_(k-1)) (1 - s_k)), with E[R] = C(c, a) / (c mu) and
    s_k the utilisation of the first k classes."""
    total = Station(sum(rates), service, servers)
    residual = total.p_wait * service / servers
    waits, before = [], 0.0
    for rate in rates:
        upto = before + rate * service / servers
        waits.append(residual / ((1 - before) * (1 - upto)))
        before = upto
    return waits


@dataclass(frozen=True)
class Node:
    """A node of an open Jackson network: mean ``visits`` per complaint, mean ``service``
    per visit, and ``servers`` staff, or ``None`` for a pure delay (infinite servers)."""

    visits: float
    service: float
    servers: int | None


@dataclass(frozen=True)
class NetworkMeans:
    """Per-complaint means of an open Jackson network, and its staffed stations."""

    wait: float
    sojourn: float
    stations: tuple[Station | None, ...]


def jackson(rate: float, nodes: Sequence[Node]) -> NetworkMeans:
    """Mean queueing time and time in system of a complaint entering at ``rate``.

    The traffic equations give each node the rate ``rate * visits``; with product form every
    staffed node is an M/M/c queue at that rate and a delay node adds only its service, so
    the per-complaint means are the visit-weighted sums (a tandem line has all visits 1).
    """
    stations = tuple(None if n.servers is None else Station(rate * n.visits, n.service, n.servers)
                     for n in nodes)
    wait = sum(n.visits * s.wait for n, s in zip(nodes, stations) if s is not None)
    sojourn = sum(n.visits * (n.service if s is None else s.sojourn) for n, s in zip(nodes, stations))
    return NetworkMeans(wait, sojourn, stations)


def feedback_visits(p: float) -> float:
    """Mean passes through a loop left with probability ``1 - p`` each time (geometric)."""
    return 1.0 / (1.0 - p)


def birth_death(birth: float, death: Callable[[int], float], tol: float = 1e-15,
                max_states: int = 1_000_000) -> np.ndarray:
    """Stationary law of a birth-death chain with constant birth rate, truncated where the
    tail falls below ``tol`` of the mode (computed in logs, so large loads do not overflow)."""
    logs = [0.0]
    while len(logs) < max_states:
        n = len(logs)
        logs.append(logs[-1] + math.log(birth / death(n)))
        if n > 1 and logs[-1] < logs[-2] and logs[-1] < max(logs) + math.log(tol):
            break
    else:
        raise ValueError("birth-death chain does not settle (no steady state?)")
    p = np.exp(np.asarray(logs) - max(logs))
    return p / p.sum()


@dataclass(frozen=True)
class ErlangA:
    """M/M/c+M: exponential patience ``patience`` (mean) of residents waiting in queue."""

    rate: float
    service: float
    servers: int
    patience: float

    def law(self) -> np.ndarray:
        """P(n complaints at the office): served at c/service, abandoning at (n-c)/patience."""
        c, mu, theta = self.servers, 1 / self.service, 1 / self.patience
        return birth_death(self.rate, lambda n: min(n, c) * mu + max(n - c, 0) * theta)

    def queue(self) -> float:
        p = self.law()
        n = np.arange(len(p))
        return float(np.sum(np.maximum(n - self.servers, 0) * p))

    @property
    def p_wait(self) -> float:
        """An arrival waits when all staff are busy (Poisson arrivals see time averages)."""
        return float(self.law()[self.servers:].sum())

    @property
    def wait(self) -> float:
        """Mean time in queue over all arrivals, served or not (Little's law on the queue)."""
        return self.queue() / self.rate

    @property
    def abandon(self) -> float:
        """Share abandoning: abandonment rate (queue / patience) over the arrival rate."""
        return self.queue() / self.patience / self.rate


def periodic_wait(period: float) -> float:
    """Mean wait of Poisson arrivals for the next of meetings held every ``period`` days that
    take every waiting item: the arrival falls uniformly within a period."""
    return period / 2
