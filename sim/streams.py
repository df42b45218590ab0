"""Named random streams: one seed, a child per replication, a child per purpose.

Two scenarios that differ only in how departments treat problems must still see the same
residents with the same problems (common random numbers). So each purpose draws from a
stream of its own, found by name, and nothing is ever seeded globally: changing the number
of routing draws cannot shift the next complaint's arrival time.
"""

from __future__ import annotations

import numpy as np

ARRIVAL_PURPOSES = ("times", "counts", "overdispersion", "grid", "category", "needs", "unclear",
                    "department", "patience", "duplicates")
REPLICATION_PURPOSES = ("arrivals", "residents", "pushdown", "pushdown.work", "complaints")
"""``complaints`` is the root of each complaint's own draws (sim/draws.py)."""
DISTRICT_PURPOSES = ("population", "branches")
DISTRICT_KEY = 2**31 - 1
"""Spawn key of the district's stream: fixed for a seed, shared by every replication."""


class Streams:
    """Generators by purpose, spawned from one SeedSequence in a fixed order."""

    def __init__(self, seq: np.random.SeedSequence, purposes: tuple[str, ...]) -> None:
        self.seq = seq
        self._children = dict(zip(purposes, seq.spawn(len(purposes))))
        self._generators: dict[str, np.random.Generator] = {}

    def __getitem__(self, purpose: str) -> np.random.Generator:
        """The generator of ``purpose``: the same object on every call, so two users of one
        purpose share its stream instead of drawing the same numbers twice."""
        if purpose not in self._generators:
            self._generators[purpose] = np.random.default_rng(self._children[purpose])
        return self._generators[purpose]

    def sequence(self, purpose: str) -> np.random.SeedSequence:
        """A fresh copy of the child sequence of ``purpose``, to derive streams from."""
        seq = self._children[purpose]
        return np.random.SeedSequence(seq.entropy, spawn_key=seq.spawn_key)

    def child(self, purpose: str, purposes: tuple[str, ...]) -> Streams:
        """The same sub-streams on every call: spawn from a fresh copy of the child sequence
        (spawning from the child itself would give new ones each time)."""
        return Streams(self.sequence(purpose), purposes)


def replication_streams(seed: int, replication: int) -> Streams:
    """Child ``replication`` of ``SeedSequence(seed).spawn(...)``, split by purpose."""
    seq = np.random.SeedSequence(seed, spawn_key=(replication,))
    return Streams(seq, REPLICATION_PURPOSES)


def district_streams(seed: int) -> Streams:
    """The district's layout draws: the same for every replication of a seed."""
    seq = np.random.SeedSequence(seed, spawn_key=(DISTRICT_KEY,))
    return Streams(seq, DISTRICT_PURPOSES)
