"""Each complaint's own random numbers, so that scenarios stay in step complaint by complaint.

Mrs Wang's drain takes the street office 0.4 days of work on her first visit there, in the
old process and in the new one alike, however many other problems the office saw before
hers and wherever they went. So a draw that belongs to one complaint is a function of the
replication, the complaint's id, the level, the purpose (work, lead, delay, routing, fix,
contact, reopen) and ``k``, the complaint's own count at that level (its k-th visit, contact
or reopen): never of the order in which the model asks.

Creating a generator per complaint would cost more than the event it serves. Instead, for
each (purpose, level, k) one vector holds a value for every complaint id, drawn the first
time any complaint needs it from a stream derived from the replication's ``SeedSequence``
and (purpose, level, k); complaint ``i`` reads element ``i``. numpy's draws are
prefix-stable, so element ``i`` does not depend on how long the vector is either.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from sim.config import LEVELS, Distribution, Scenario, Uniform
from sim.distributions import Draw, vector_draw


class Purpose(IntEnum):
    """What a per-complaint draw is for; its value is part of the stream's spawn key."""

    HANDLE = 0         # staff time of a visit that passes the complaint on
    RESOLVE = 1        # staff time of a visit that resolves it
    LEAD = 2           # elapsed days after the resolving work, holding no one
    ESCALATE = 3       # the delay on the way up after the visit
    BOUNCE = 4         # the delay on the way back down after the visit
    DODGE = 5          # the uniform that decides a bounce of an unclear complaint
    GUIDE = 6          # the uniform that decides a guided grid's community-level fix
    FIX = 7            # the uniform that decides whether the fix holds
    CONTACT = 8        # staff time of the k-th contact (duplicate or follow-up) at a level
    REOPEN = 9         # days until the resident reports an unfixed closure again (level 0)


UNIFORM = Uniform(dist="uniform", low=0.0, high=1.0)


def purpose_specs(scenario: Scenario) -> list[list[Distribution | None]]:
    """Per purpose, per level: the distribution its vectors are drawn from (None: unused)."""
    p, levels = scenario.process, scenario.levels
    specs: list[list[Distribution | None]] = []
    for purpose in Purpose:
        row: list[Distribution | None] = []
        for name in LEVELS:
            level = getattr(levels, name)
            row.append({
                Purpose.HANDLE: level.handle, Purpose.RESOLVE: level.resolve, Purpose.LEAD: level.lead,
                Purpose.ESCALATE: p.escalation_delay, Purpose.BOUNCE: p.bounce.delay,
                Purpose.DODGE: UNIFORM, Purpose.GUIDE: UNIFORM, Purpose.FIX: UNIFORM,
                Purpose.CONTACT: level.handle, Purpose.REOPEN: scenario.residents.reopen_after_days,
            }[purpose])
        specs.append(row)
    return specs


class ComplaintDraws:
    """The per-complaint draws of one replication: ``draw(purpose, level, k, i)``."""

    __slots__ = ("_seq", "_n", "_makers", "_vectors")

    def __init__(self, scenario: Scenario, seq: np.random.SeedSequence, n: int) -> None:
        self._seq, self._n = seq, n
        self._makers: list[Draw | None] = [None if spec is None else vector_draw(spec)
                                           for row in purpose_specs(scenario) for spec in row]
        self._vectors: list[list[np.ndarray]] = [[] for _ in self._makers]

    def draw(self, purpose: int, level: int, k: int, i: int) -> float:
        """Complaint ``i``'s value for its ``k``-th (from 0) draw of ``purpose`` at ``level``."""
        vectors = self._vectors[purpose * len(LEVELS) + level]
        if k >= len(vectors):
            self._extend(purpose, level, k)
        try:
            return vectors[k].item(i)
        except IndexError:
            self._grow(purpose, level, k, i)
            return vectors[k].item(i)

    def _extend(self, purpose: int, level: int, k: int) -> None:
        """Draw the vectors of (purpose, level) up to index ``k``, each on its own stream."""
        slot = purpose * len(LEVELS) + level
        maker, vectors = self._makers[slot], self._vectors[slot]
        if maker is None:
            raise ValueError(f"{Purpose(purpose).name} has no distribution at {LEVELS[level]}")
        while len(vectors) <= k:
            vectors.append(self._vector(maker, purpose, level, len(vectors), self._n))

    def _vector(self, maker: Draw, purpose: int, level: int, k: int, n: int) -> np.ndarray:
        """The first ``n`` values of the stream of (purpose, level, k)."""
        key = (*self._seq.spawn_key, purpose, level, k)
        return maker(np.random.default_rng(np.random.SeedSequence(self._seq.entropy, spawn_key=key)), n)

    def _grow(self, purpose: int, level: int, k: int, i: int) -> None:
        """Make room for complaint ``i`` (one raised during the run, beyond the drawn
        stream): the same stream drawn longer, so the values already read stay."""
        slot = purpose * len(LEVELS) + level
        maker, vectors = self._makers[slot], self._vectors[slot]
        assert maker is not None
        self._n = max(self._n, 2 * i + 1)
        vectors[k] = self._vector(maker, purpose, level, k, max(len(vectors[k]), 2 * i + 1))

    def visit(self, level: int, k: int, i: int) -> VisitUniform:
        """Complaint ``i``'s routing uniforms for its ``k``-th visit to ``level``."""
        return VisitUniform(self, level, k, i)

    def drawn(self) -> int:
        """How many vectors have been drawn: what the laziness saved is the rest."""
        return sum(len(v) for v in self._vectors)


class VisitUniform:
    """The uniform(0, 1) draws of one visit, by purpose: what routing.decide asks for."""

    __slots__ = ("_draws", "_level", "_k", "_i")

    def __init__(self, draws: ComplaintDraws, level: int, k: int, i: int) -> None:
        self._draws, self._level, self._k, self._i = draws, level, k, i

    def __call__(self, purpose: int) -> float:
        return self._draws.draw(purpose, self._level, self._k, self._i)
