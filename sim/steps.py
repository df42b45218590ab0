"""The steps of a complaint's life that the world schedules (sim/engine.py): each holds what
its step needs and calls the world's method for it when its time comes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.engine import Step
from sim.units import Complaint, Unit

if TYPE_CHECKING:
    from sim.model import World


class Finish(Step):
    """A staff member's piece of work ends (``World._finish``)."""

    __slots__ = ("world", "unit", "kind", "c", "action", "k")

    def __init__(self, world: World, unit: Unit, kind: int, c: Complaint | None, action: int,
                 k: int) -> None:
        self.world, self.unit, self.kind, self.c, self.action, self.k = world, unit, kind, c, action, k

    def fire(self) -> None:
        self.world._finish(self.unit, self.kind, self.c, self.action, self.k)


class LeadOver(Step):
    """A fix's lead time ends: the office closes the complaint (``World._closed``)."""

    __slots__ = ("world", "c", "unit", "k")

    def __init__(self, world: World, c: Complaint, unit: Unit, k: int) -> None:
        self.world, self.c, self.unit, self.k = world, c, unit, k

    def fire(self) -> None:
        self.world._closed(self.c, self.unit, self.k)


class Implemented(Step):
    """The leading group's order is carried out (``World._resolved``)."""

    __slots__ = ("world", "c", "unit", "k")

    def __init__(self, world: World, c: Complaint, unit: Unit, k: int) -> None:
        self.world, self.c, self.unit, self.k = world, c, unit, k

    def fire(self) -> None:
        self.world._resolved(self.c, self.unit, self.k)


class HandOver(Step):
    """An escalated or bounced complaint reaches its next unit (``World._hand_over``)."""

    __slots__ = ("world", "c", "unit")

    def __init__(self, world: World, c: Complaint, unit: Unit) -> None:
        self.world, self.c, self.unit = world, c, unit

    def fire(self) -> None:
        self.world._hand_over(self.c, self.unit)
