"""The queueing-theory suite, run exactly as ``govsim validate --quick`` runs it.

One module-wide run of the command writes the table; each case is then a test of its own,
so a failure names the case and shows its rows. Tolerances are the table's: the theory must
lie inside the simultaneous 99% interval over replications (see docs/validation.md).
"""

from __future__ import annotations

import pandas as pd
import pytest

from sim import validation
from sim.cli import main
from sim.validation import CASES, TABLE_COLUMNS, Meetings, MMc, Size, run_validation

pytestmark = pytest.mark.slow   # long: run with the full tier (CI), skip with -m 'not slow'


@pytest.fixture(scope="module")
def validate_run(tmp_path_factory) -> tuple[int, pd.DataFrame]:
    out = tmp_path_factory.mktemp("validation") / "validation.csv"
    status = main(["validate", "--quick", "--jobs", "1", "--out", str(out)])
    return status, pd.read_csv(out)


@pytest.fixture(scope="module")
def table(validate_run) -> pd.DataFrame:
    return validate_run[1]


def test_the_table_has_the_documented_columns_and_every_case(table):
    assert tuple(table.columns) == TABLE_COLUMNS
    assert set(table["case"]) == {case.name for case in CASES}


@pytest.mark.parametrize("case", [case.name for case in CASES])
def test_case_agrees_with_theory(table, case):
    rows = table[table["case"] == case]
    assert len(rows) > 0
    failed = rows[~rows["pass"]]
    assert failed.empty, "theory outside the interval:\n" + failed.to_string(index=False)


def test_littles_law_is_checked_wherever_only_complaints_queue(table):
    little = table[table["measure"].str.startswith("littles_law")]
    assert set(little["case"]) == {case.name for case in CASES if case.checks_little}
    per_level = {case.name for case in CASES if case.per_level_little}
    assert per_level <= set(little.loc[little["measure"] != "littles_law_total", "case"])


def test_the_command_exits_0_only_when_every_measure_passes(validate_run):
    status, table = validate_run
    assert status == (0 if table["pass"].all() else 1)


def test_the_intervals_are_informative(table):
    """A pass must not come from a useless interval: each theory row's interval is within
    half of the theory value, even at the quick size."""
    theory_rows = table[~table["measure"].str.startswith("littles_law")]
    half_width = (theory_rows["ci_high"] - theory_rows["ci_low"]) / 2
    assert (half_width <= 0.5 * theory_rows["theory"].abs()).all()


@pytest.mark.parametrize("argv", [["--out", "{tmp}"], ["--jobs", "0"], ["--size", "big"]])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, argv):
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(["validate", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("govsim: error: ") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_the_table_does_not_depend_on_jobs():
    size = Size("tiny", replications=4, horizon_days=600.0, warmup_days=100.0, cooldown_days=50.0)
    cases = [MMc(rate=0.5, service=1.0, servers=1), Meetings()]
    pd.testing.assert_frame_equal(run_validation(size, jobs=1, cases=cases),
                                  run_validation(size, jobs=2, cases=cases))


def test_littles_law_is_paired_so_a_five_percent_accounting_error_fails():
    """Per replication, L / (lambda W): a unit that over-counts its queue by 5% fails, while the
    true accounting passes within the stated edge-effect tolerance."""
    rows = validation.samples([MMc(rate=4.2, service=0.5, servers=3)], "quick")
    little = [row for row in rows if row[1].startswith("littles_law")]
    assert little and validation.table(little)["pass"].all()
    off = [(case, name, values * 1.05, theory) for case, name, values, theory in little]
    assert not validation.table(off)["pass"].any()


def test_lead_time_adds_to_the_sojourn_not_to_the_wait_or_utilisation(table):
    """The M/M/c case with a fixed lead of 2 days has the theory of the same queue without
    it, except that complaints close 2 days later."""
    plain, lead = (table[table["case"] == name].set_index("measure")["theory"]
                   for name in ("mmc-c3-rho70", "mmc-c3-rho70-lead2"))
    assert lead["days_to_close_mean"] == pytest.approx(plain["days_to_close_mean"] + 2.0)
    for measure in ("wait_days_mean", "p_wait", "utilization_department"):
        assert lead[measure] == pytest.approx(plain[measure])
