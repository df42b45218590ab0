"""Each complaint's own random numbers, so that scenarios stay in step complaint by complaint.

Mrs Wang's drain takes the street office 0.4 days of work on her first visit there, in the
old process and in the new one alike, however many other problems the office saw before
hers and wherever they went. So a draw that belongs to one complaint is a function of the
replication, the complaint's id, the level, the purpose (work, lead, delay, routing, fix,
contact, reopen) and ``k``, the complaint's own count at that level (its k-th visit, contact
or reopen): never of the order in which the model asks.

Creating a generator per complaint would cost more than the event it serves. Instead, for
each (purpose, level, k) one stream, derived from the replication's ``SeedSequence`` and
(purpose, level, k), holds a value for every complaint id: complaint ``i`` reads element
``i``. numpy's draws consume the stream variate by variate, so element ``i`` does not
depend on how many values are drawn at a time.

The stream is drawn in blocks of ``BLOCK`` complaints, in order, the first time any complaint
of a block needs it; only the most recent blocks (a window of about an eighth of the run's
complaints) are held. Complaint ids follow arrival, and a complaint is active for weeks, not
for the run, so an older block is rarely asked for again: it is drawn again then, from the
generator's state saved at the block's start, giving the same values (only up to the part
asked for), and the stream's window widens by a block, up to twice its width: streams that
old complaints come back to (a seventh contact) hold more of their past. A replication holds a
window of its draws instead of every one of them, which is what lets a Beijing-size district
run in one process.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any, Final

import numpy as np
from librt.vecs import vec
from mypy_extensions import i64, mypyc_attr

from sim.config import LEVELS, Distribution, Scenario, Uniform
from sim.distributions import Draw, Skip, skip_draw, vector_draw
from sim.units import floats


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


# The purposes as plain constants, for the event loop (a compiled Final int is a C constant)
DRAW_HANDLE: Final = 0
DRAW_RESOLVE: Final = 1
DRAW_LEAD: Final = 2
DRAW_ESCALATE: Final = 3
DRAW_BOUNCE: Final = 4
DRAW_DODGE: Final = 5
DRAW_GUIDE: Final = 6
DRAW_FIX: Final = 7
DRAW_CONTACT: Final = 8
DRAW_REOPEN: Final = 9
assert list(Purpose) == [DRAW_HANDLE, DRAW_RESOLVE, DRAW_LEAD, DRAW_ESCALATE, DRAW_BOUNCE, DRAW_DODGE,
                         DRAW_GUIDE, DRAW_FIX, DRAW_CONTACT, DRAW_REOPEN]

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


BLOCK_BITS: Final = 12
BLOCK: Final = 4096          # complaints per block of a stream: 1 << BLOCK_BITS
MASK: Final = 4095           # BLOCK - 1
N_LEVELS: Final = 6          # len(LEVELS)
PART: Final = 512            # an old block drawn again is drawn up to a multiple of this
WIDEN: Final = 2            # a stream that draws old blocks again may hold up to twice the window
WINDOW: Final = 8            # hold the latest 1/WINDOW of the run's complaints (at least 4 blocks)

assert BLOCK == 1 << BLOCK_BITS and MASK == BLOCK - 1 and len(LEVELS) == N_LEVELS
assert PART & (PART - 1) == 0 and PART <= BLOCK


GONE: Final = vec[float]()
"""A block that has left the window (or was never drawn): no values."""


class Stream:
    """One (purpose, level, k) stream, drawn block by block: ``blocks[b]`` holds complaints
    ``b * BLOCK`` to ``(b + 1) * BLOCK - 1``, or nothing (``GONE``) once it has left the
    window."""

    __slots__ = ("blocks", "_maker", "_skip", "_rng", "_states", "_keep", "_widest", "_revived", "redrawn",
                 "_spare")

    def __init__(self, maker: Draw, skip: Skip, rng: np.random.Generator, keep: int,
                 spare: np.random.Generator) -> None:
        self.blocks: list[vec[float]] = []
        self._maker, self._skip, self._rng, self._keep = maker, skip, rng, keep
        self._widest = WIDEN * keep      # the window widens by a block at each old block drawn again
        self._states: list[Mapping[str, Any]] = []      # the generator's state at each block's start
        self._revived: list[int] = []                    # old blocks drawn again, dropped at the next new one
        self.redrawn = 0
        self._spare = spare      # draws old blocks again, shared: its state is set each time

    def block(self, b: int, j: int) -> vec[float]:
        """Block ``b``'s values, up to element ``j`` at least: drawn now, or drawn again from
        its saved state. A block older than the window is drawn again only up to the part
        that holds ``j`` (its first values are the same however many are drawn), as an old
        complaint seldom asks twice; asked again past that part, it is drawn whole. Blocks
        before it not reached yet are skipped over (``skip_draw``: the generator moves on as
        if they were drawn) with their state saved, to be drawn if ever asked for, which in
        a sparse stream (a fourth visit to a street office) they seldom are."""
        blocks = self.blocks
        if b < len(blocks):
            rng = self._spare
            rng.bit_generator.state = self._states[b]
            aged = b < len(blocks) - self._keep         # older than the window: held a while
            n = BLOCK if not aged or len(blocks[b]) > 0 else min(BLOCK, (j | (PART - 1)) + 1)
            values = blocks[b] = floats(self._maker(rng, n))
            if aged:
                self._revived.append(b)
                if self._keep < self._widest:
                    self._keep += 1
            self.redrawn += 1
            return values
        reached = len(blocks)
        while len(blocks) < b:
            self._states.append(self._rng.bit_generator.state)
            self._skip(self._rng, BLOCK)
            blocks.append(GONE)
        self._states.append(self._rng.bit_generator.state)
        values = floats(self._maker(self._rng, BLOCK))
        blocks.append(values)
        for old in range(max(0, reached - self._keep), b - self._keep + 1):   # out of the window
            blocks[old] = GONE
        for r in self._revived:                        # older than the window when revived
            blocks[r] = GONE
        self._revived.clear()
        return values


class ComplaintDraws:
    """The per-complaint draws of one replication: ``draw(purpose, level, k, i)``."""

    __slots__ = ("_seq", "_keep", "_makers", "_skips", "_streams", "_spare", "_uniform")

    def __init__(self, scenario: Scenario, seq: np.random.SeedSequence, n: int) -> None:
        self._seq = seq
        self._keep = max(4, -(-n // (WINDOW * BLOCK)))
        specs = [spec for row in purpose_specs(scenario) for spec in row]
        self._makers: list[Draw | None] = [None if spec is None else vector_draw(spec) for spec in specs]
        self._skips: list[Skip | None] = [None if spec is None else skip_draw(spec) for spec in specs]
        self._streams: list[list[Stream]] = [[] for _ in self._makers]
        self._spare = np.random.Generator(np.random.PCG64(0))   # its state is always set before use
        self._uniform = VisitUniform(self, 0, 0, 0)

    def draw(self, purpose: i64, level: i64, k: i64, i: i64) -> float:
        """Complaint ``i``'s value for its ``k``-th (from 0) draw of ``purpose`` at ``level``."""
        streams = self._streams[purpose * N_LEVELS + level]
        if k >= len(streams):
            self._extend(int(purpose), int(level), int(k))
        stream = streams[k]
        b: i64 = i >> BLOCK_BITS
        blocks = stream.blocks
        values = blocks[b] if b < len(blocks) else GONE
        j: i64 = i & MASK
        if j >= len(values):                    # not drawn yet, no longer held, or only in part
            values = stream.block(b, j)
        return values[j]

    def _extend(self, purpose: int, level: int, k: int) -> None:
        """Open the streams of (purpose, level) up to index ``k``, each from its own seed."""
        slot = purpose * N_LEVELS + level
        maker, skip, streams = self._makers[slot], self._skips[slot], self._streams[slot]
        if maker is None or skip is None:
            raise ValueError(f"{Purpose(purpose).name} has no distribution at {LEVELS[level]}")
        while len(streams) <= k:
            key = (*self._seq.spawn_key, purpose, level, len(streams))
            rng = np.random.default_rng(np.random.SeedSequence(self._seq.entropy, spawn_key=key))
            streams.append(Stream(maker, skip, rng, self._keep, self._spare))

    def let_go(self) -> None:
        """Drop every stream and its blocks (a finished run's); ``drawn`` and ``redrawn`` then
        count nothing."""
        self._streams = [[] for _ in self._makers]

    def visit(self, level: int, k: int, i: int) -> VisitUniform:
        """Complaint ``i``'s routing uniforms for its ``k``-th visit to ``level``: one object,
        set again by every call (a decision uses it at once, and not after the next)."""
        uniform = self._uniform
        uniform._level, uniform._k, uniform._i = level, k, i
        return uniform

    def drawn(self) -> int:
        """How many streams have been opened: what the laziness saved is the rest."""
        return sum(len(v) for v in self._streams)

    def redrawn(self) -> int:
        """How many blocks were drawn later than in order: skipped over, or out of the window."""
        return sum(s.redrawn for v in self._streams for s in v)


@mypyc_attr(allow_interpreted_subclasses=True)
class VisitUniform:
    """The uniform(0, 1) draws of one visit, by purpose: what routing.decide asks for
    (``of(purpose)``: a direct call, compiled). A test may subclass it with scripted values."""

    __slots__ = ("_draws", "_level", "_k", "_i")

    def __init__(self, draws: ComplaintDraws, level: int, k: int, i: int) -> None:
        self._draws, self._level, self._k, self._i = draws, level, k, i

    def of(self, purpose: int) -> float:
        """The visit's uniform for ``purpose`` (a ``Purpose``)."""
        return self._draws.draw(purpose, self._level, self._k, self._i)
