"""Durations drawn in batches from one random stream each.

A street officer's handling time or a department's repair time is drawn thousands of times a
run. Drawing one number at a time through numpy costs more than the rest of the event, so a
``Sampler`` fills a buffer from its own stream and hands values out one by one. Every draw
used here consumes the stream variate by variate, so the sequence a sampler yields does not
depend on the batch size: only on the stream's seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from sim.config import Distribution, Empirical, Exponential, Fixed, Gamma, Lognormal, Triangular, Uniform

BATCH = 4096
Draw = Callable[[np.random.Generator, int], np.ndarray]


def vector_draw(spec: Distribution) -> Draw:
    """A function ``(rng, n) -> n values`` for the distribution ``spec``."""
    if isinstance(spec, Fixed):
        return lambda rng, n: np.full(n, spec.value)
    if isinstance(spec, Exponential):
        return lambda rng, n: spec.mean * rng.standard_exponential(n)
    if isinstance(spec, Lognormal):
        if spec.cv == 0:
            return lambda rng, n: np.full(n, spec.mean)
        sigma = math.sqrt(math.log1p(spec.cv**2))
        mu = math.log(spec.mean) - sigma**2 / 2
        return lambda rng, n: np.exp(mu + sigma * rng.standard_normal(n))
    if isinstance(spec, Gamma):
        if spec.cv == 0:
            return lambda rng, n: np.full(n, spec.mean)
        shape, scale = 1 / spec.cv**2, spec.mean * spec.cv**2
        return lambda rng, n: rng.gamma(shape, scale, n)
    if isinstance(spec, Uniform):
        return lambda rng, n: spec.low + (spec.high - spec.low) * rng.random(n)
    if isinstance(spec, Triangular):
        return lambda rng, n: rng.triangular(spec.low, spec.mode, spec.high, n)
    if isinstance(spec, Empirical):
        values = np.asarray(spec.values, dtype=float)
        # floor(u * k), not rng.integers: integers() buffers bits within a call.
        return lambda rng, n: values[np.minimum((rng.random(n) * len(values)).astype(np.int64),
                                                len(values) - 1)]
    raise TypeError(f"unknown distribution {spec!r}")


Skip = Callable[[np.random.Generator, int], None]


def skip_draw(spec: Distribution) -> Skip:
    """A function ``(rng, n)`` that moves ``rng`` on exactly as drawing ``n`` values of
    ``vector_draw(spec)`` would, without making the values: the raw variates only (no
    transform, no scaling), or no call at all where a value takes one 64-bit draw (advance)
    or none (a constant)."""
    if isinstance(spec, Fixed) or (isinstance(spec, Lognormal | Gamma) and spec.cv == 0):
        return lambda rng, n: None
    if isinstance(spec, Exponential):
        return lambda rng, n: _discard(rng.standard_exponential(n))
    if isinstance(spec, Lognormal):
        return lambda rng, n: _discard(rng.standard_normal(n))
    if isinstance(spec, Gamma):
        shape = 1 / spec.cv**2
        return lambda rng, n: _discard(rng.standard_gamma(shape, n))
    if isinstance(spec, Uniform | Triangular | Empirical):     # one 64-bit draw per value
        return lambda rng, n: _discard(cast(Any, rng.bit_generator).advance(n))   # PCG64's jump
    raise TypeError(f"unknown distribution {spec!r}")


def _discard(_: object) -> None:
    return None


def mean_of(spec: Distribution) -> float:
    """The distribution's mean, for theory checks and documentation."""
    if isinstance(spec, Fixed):
        return spec.value
    if isinstance(spec, Exponential | Lognormal | Gamma):
        return spec.mean
    if isinstance(spec, Uniform):
        return (spec.low + spec.high) / 2
    if isinstance(spec, Triangular):
        return (spec.low + spec.mode + spec.high) / 3
    return float(np.mean(spec.values))


class Sampler:
    """One distribution on one stream; call it for the next value."""

    __slots__ = ("_draw", "_rng", "_batch", "_buffer", "_next")

    def __init__(self, spec: Distribution, rng: np.random.Generator, batch: int = BATCH) -> None:
        self._draw, self._rng, self._batch = vector_draw(spec), rng, batch
        self._buffer: list[float] = []
        self._next = 0

    def __call__(self) -> float:
        return self.next()

    def next(self) -> float:
        """The next value (a direct call from compiled code, where ``sampler()`` is not)."""
        if self._next == len(self._buffer):
            self._buffer = self._draw(self._rng, self._batch).tolist()
            self._next = 0
        value = self._buffer[self._next]
        self._next += 1
        return value


class Uniforms(Sampler):
    """Uniform(0, 1) draws for routing decisions, batched like any sampler."""

    def __init__(self, rng: np.random.Generator, batch: int = BATCH) -> None:
        super().__init__(Uniform(dist="uniform", low=0.0, high=1.0), rng, batch)
