"""The steps of a complaint's life that the world schedules (sim/engine.py): each holds what
its step needs and calls the world's method for it when its time comes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from sim.engine import Step
from sim.units import Complaint, Unit

if TYPE_CHECKING:
    from sim.model import World

# Steps that have fired, for reuse: a run makes one per piece of staff work and per handover,
# but needs only as many at once as staff are at work and complaints on their way. Shared by
# every world in the process; ``finish`` and ``hand_over`` set every field anew.
FINISHED: Final[list[Finish]] = []
HANDED_OVER: Final[list[HandOver]] = []


def let_go() -> None:
    """Drop the spare steps (they point at the world that last used them): when a run ends."""
    FINISHED.clear()
    HANDED_OVER.clear()


class Finish(Step):
    """A staff member's piece of work ends (``World._finish``)."""

    __slots__ = ("world", "unit", "kind", "c", "action", "k")

    def __init__(self, world: World, unit: Unit, kind: int, c: Complaint | None, action: int,
                 k: int) -> None:
        self.world, self.unit, self.kind, self.c, self.action, self.k = world, unit, kind, c, action, k

    def fire(self) -> None:
        world, c = self.world, self.c
        self.c = None
        FINISHED.append(self)                      # for the next ``finish``: fields copied out
        world._finish(self.unit, self.kind, c, self.action, self.k)


def finish(world: World, unit: Unit, kind: int, c: Complaint | None, action: int, k: int) -> Finish:
    """A ``Finish`` step: one that has fired, set anew, or a new one (a run needs one per piece
    of staff work, and only as many at once as staff are at work)."""
    if not FINISHED:
        return Finish(world, unit, kind, c, action, k)
    step = FINISHED.pop()
    step.world, step.unit, step.kind, step.c, step.action, step.k = world, unit, kind, c, action, k
    return step


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
        HANDED_OVER.append(self)                   # for the next ``hand_over``
        self.world._hand_over(self.c, self.unit)


def hand_over(world: World, c: Complaint, unit: Unit) -> HandOver:
    """A ``HandOver`` step: one that has fired, set anew, or a new one."""
    if not HANDED_OVER:
        return HandOver(world, c, unit)
    step = HANDED_OVER.pop()
    step.world, step.c, step.unit = world, c, unit
    return step
