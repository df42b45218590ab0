"""The residents behind the complaints: their patience, their follow-up calls, their reopens.

Mrs Wang calls the grid again every two weeks while her drain stays blocked; after two
months she gives up. If the office closes her complaint but the drain blocks again a week
later, she reports it again at the same office (a reopen), for as long as her patience
lasts. Patience is a deadline fixed at arrival: the world checks it whenever the complaint
would move on, so a withdrawal costs no event of its own and ends exactly at the deadline.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

from sim.draws import DRAW_REOPEN, ComplaintDraws
from sim.engine import Clock, Step
from sim.units import CLOSED, REOPENING, Complaint

if TYPE_CHECKING:
    from sim.model import World


class Residents:
    """Follow-up calls and reopens; the world's ``_follow_up`` and ``_reopened`` are their
    doors (direct calls, compiled)."""

    __slots__ = ("_clock", "_every", "_horizon", "_draws", "_world", "_calls", "_due", "_booked",
                 "_call_back_step")

    def __init__(self, clock: Clock, every: float | None, horizon: float,
                 draws: ComplaintDraws, world: World) -> None:
        self._clock, self._every, self._horizon, self._draws = clock, every, horizon, draws
        self._world = world
        self._calls: deque[Complaint] = deque()    # follow-up calls, due in order,
        self._due: deque[float] = deque()          # and the day each is due
        self._booked = False
        self._call_back_step = CallBack(self)        # one at a time: reused

    def remind(self, c: Complaint) -> None:
        """Book the resident's next call, ``follow_up_every_days`` from now, if they will
        still be waiting then.

        Calls are due in the order they are booked (every resident waits the same interval),
        so one FIFO holds them and one scheduled event, for the earliest, serves them all;
        residents whose complaint closed meanwhile are dropped without an event."""
        if self._every is None:
            return
        due = self._clock.now + self._every
        if due < self._horizon and due < c.deadline:
            self._calls.append(c)
            self._due.append(due)
            self._wake()

    def _wake(self) -> None:
        if self._calls and not self._booked:
            self._booked = True
            self._clock.at(self._due[0] - self._clock.now, self._call_back_step)

    def _call_back(self) -> None:
        """Residents due now contact their entry unit again; then wait for the next one due.
        A resident whose complaint was closed unfixed does not call: they think it is done,
        until they find the problem back (``reopen``)."""
        calls, due, now = self._calls, self._due, self._clock.now
        self._booked = False
        while calls and due[0] <= now:
            c = calls.popleft()
            due.popleft()
            if c.state != CLOSED and c.state != REOPENING and not _fixed(c, now):
                c.contacts += 1
                self._world._follow_up(c)
                self.remind(c)
        while calls and (calls[0].state >= REOPENING or _fixed(calls[0], now)):
            calls.popleft()
            due.popleft()
        self._wake()

    def clear(self) -> None:
        """Forget the calls still due (a finished replication's)."""
        self._calls.clear()
        self._due.clear()

    def reopen(self, c: Complaint) -> None:
        """A closure that did not fix the problem: the resident finds out and reports it
        again after ``reopen_after_days`` (their own draw for this reopen)."""
        c.state = REOPENING
        delay = self._draws.draw(DRAW_REOPEN, 0, c.reopens - 1, c.id)
        self._clock.at(delay, FoundOut(self, c))

    def _found_out(self, c: Complaint) -> None:
        self._world._reopened(c)
        if c.state != CLOSED:
            self.remind(c)


def _fixed(c: Complaint, now: float) -> bool:
    """The complaint's fix has held and its lead time has ended by ``now``: closed, though
    the world books such a closure without an event (``World._resolved``)."""
    return c.closure_booked() and c.closed_day <= now


class CallBack(Step):
    """The earliest booked follow-up call is due (``Residents._call_back``)."""

    __slots__ = ("residents",)

    def __init__(self, residents: Residents) -> None:
        self.residents = residents

    def fire(self) -> None:
        self.residents._call_back()


class FoundOut(Step):
    """A resident finds the problem back and reports it again (``Residents._found_out``)."""

    __slots__ = ("residents", "c")

    def __init__(self, residents: Residents, c: Complaint) -> None:
        self.residents, self.c = residents, c

    def fire(self) -> None:
        self.residents._found_out(self.c)
