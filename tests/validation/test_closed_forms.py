"""The answer sheet itself: sim.queueing against textbook values and against each other."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.queueing import (
    ErlangA,
    Node,
    Station,
    birth_death,
    erlang_b,
    erlang_c,
    feedback_visits,
    jackson,
    periodic_wait,
    priority_waits,
)


def test_erlang_b_and_c_textbook_values():
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang_c(1, 0.7) == pytest.approx(0.7)          # M/M/1: P(wait) = rho


def test_mm1_wait_is_rho_over_mu_minus_lambda():
    s = Station(rate=0.8, service=1.0, servers=1)
    assert s.wait == pytest.approx(0.8 / (1.0 - 0.8))
    assert s.sojourn == pytest.approx(1 / (1.0 - 0.8))


def test_erlang_c_stays_finite_for_many_servers():
    c = erlang_c(500, 480.0)
    assert 0 < c < 1 and math.isfinite(c)


def test_unstable_station_is_refused():
    with pytest.raises(ValueError):
        erlang_c(2, 2.0)


@pytest.mark.parametrize("rate,service,servers", [(0.5, 1.0, 1), (4.2, 0.5, 3), (7.2, 1.0, 8)])
def test_erlang_c_agrees_with_the_birth_death_chain(rate, service, servers):
    p = birth_death(rate, lambda n: min(n, servers) / service)
    n = np.arange(len(p))
    s = Station(rate, service, servers)
    assert p[servers:].sum() == pytest.approx(s.p_wait, rel=1e-9)
    assert np.sum(np.maximum(n - servers, 0) * p) == pytest.approx(s.queue, rel=1e-9)


def test_erlang_a_tends_to_erlang_c_as_patience_grows():
    patient = ErlangA(rate=3.0, service=1.0, servers=4, patience=1e7)
    station = Station(3.0, 1.0, 4)
    assert patient.p_wait == pytest.approx(station.p_wait, rel=1e-4)
    assert patient.wait == pytest.approx(station.wait, rel=1e-4)
    assert patient.abandon == pytest.approx(0.0, abs=1e-6)


def test_erlang_a_with_patience_equal_to_service_is_an_infinite_server_queue():
    """Waiting and being served end at the same rate: the count is Poisson(rate * service)."""
    q = ErlangA(rate=4.4, service=1.0, servers=4, patience=1.0)
    assert q.p_wait == pytest.approx(stats.poisson.sf(3, 4.4), rel=1e-9)


def test_jackson_tandem_is_the_sum_of_stations_and_delays():
    net = jackson(2.0, [Node(1, 0.2, 1), Node(1, 1.0, 3), Node(3, 0.25, None)])
    expected = Station(2.0, 0.2, 1).sojourn + Station(2.0, 1.0, 3).sojourn + 3 * 0.25
    assert net.sojourn == pytest.approx(expected)


def test_feedback_multiplies_the_arrival_rate_by_the_visits():
    visits = feedback_visits(0.5)
    net = jackson(1.0, [Node(visits, 1.0, 3)])
    assert visits == 2.0
    assert net.stations[0].rate == 2.0
    assert net.sojourn == pytest.approx(2 * Station(2.0, 1.0, 3).sojourn)


def test_periodic_wait_is_half_the_period():
    assert periodic_wait(7.0) == 3.5


def test_priority_with_one_class_is_erlang_c():
    assert priority_waits([3.0], 1.0, 4) == [pytest.approx(Station(3.0, 1.0, 4).wait)]


def test_priority_reorders_waits_but_keeps_the_mean_queue():
    """Equal service for all classes: the order of service does not change the total queue."""
    first, second = priority_waits([1.5, 1.5], 1.0, 4)
    assert first < Station(3.0, 1.0, 4).wait < second
    assert 1.5 * first + 1.5 * second == pytest.approx(Station(3.0, 1.0, 4).queue)
