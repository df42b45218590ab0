"""The ``govsim`` command: run scenarios, check them, and read the answers on a terminal.

Bad input never shows a traceback: it gets one line naming the file, the key and what was
expected, exit status 2, and nothing is written.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from sim import outdir
from sim.config import Scenario, ScenarioError, load_scenario

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """A flag or argument the user got wrong."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


MAX_JOBS = 1024
"""More worker processes than any one machine has cores."""


def positive_int(flag: str, most: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        shown = text if len(text) <= 20 else text[:20] + "..."
        if not (text.strip().isascii() and text.strip().lstrip("+-").isdigit()):
            raise argparse.ArgumentTypeError(f"{flag}: {shown!r} is not a whole number "
                                             "(expected a whole number >= 1)") from None
        value = int(text) if len(text) < 100 else 10**100
        if value < 1:
            raise argparse.ArgumentTypeError(f"{flag}: {value} is out of range (expected >= 1)")
        if most is not None and value > most:
            raise argparse.ArgumentTypeError(f"{flag}: {shown} is out of range (expected at most {most})")
        return value
    return parse


def seed_value(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"--seed: {text!r} is not valid (expected a whole number >= 0)")
    return int(text)


def add_scenario_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario key by dotted path, e.g. process.bounce.probability=0.3")


def add_run_options(p: argparse.ArgumentParser,
                    jobs: str = "the machine's cores; 1 runs in this process") -> None:
    p.add_argument("--replications", type=positive_int("--replications"), metavar="N",
                   help="replications (default: the scenario's)")
    p.add_argument("--seed", type=seed_value, metavar="S", help="seed (default: the scenario's)")
    p.add_argument("--jobs", type=positive_int("--jobs", MAX_JOBS), metavar="J",
                   help=f"worker processes (default: {jobs})")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local process pool, or a Dask cluster")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler, e.g. tcp://host:8786 (default: $DASK_SCHEDULER_ADDRESS, "
                        "else a local cluster)")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    p.add_argument("--force", action="store_true",
                   help="run even when the estimate says it needs more than a day or this machine's memory")
    add_scenario_options(p)


def add_target_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target-halfwidth", dest="targets", action="append", default=[],
                   metavar="KPI=VALUE",
                   help="add replications until the KPI's 95%% CI half-width is at most VALUE "
                        "(sequential procedure; --replications is then the number to start with, "
                        "default 3)")
    p.add_argument("--max-replications", type=positive_int("--max-replications"), metavar="N",
                   help="with --target-halfwidth: stop at N replications even if the target is "
                        "not met (default 100)")


def build_parser() -> Parser:
    parser = Parser(prog="govsim", description="Simulate how a district handles residents' problems.")
    parser.add_argument("--version", action="version", version=f"govsim {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("run", help="run one scenario's replications and write its tables")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--out", metavar="DIR", help="output folder (default: runs/<name>/)")
    p.add_argument("--events", action="store_true", help="also write events.parquet")
    add_run_options(p)
    add_target_options(p)
    p.set_defaults(handler=cmd_run)
    from sim.experiment_commands import add_experiment_parsers

    add_experiment_parsers(sub)

    p = sub.add_parser("check", help="validate a scenario (or a calibration or sensitivity file) "
                       "and print it with every default filled in")
    p.add_argument("scenario", help="scenario, calibration or sensitivity YAML file")
    add_scenario_options(p)
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("validate", help="check the model against queueing theory (table and CSV)")
    p.add_argument("--quick", action="store_true", help="short runs, as the test suite uses")
    p.add_argument("--out", metavar="CSV",
                   help="table file (default: runs/validation/validation.csv, or validation-quick.csv)")
    p.add_argument("--jobs", type=positive_int("--jobs", MAX_JOBS), metavar="J",
                   help="worker processes (default: the machine's cores; 1 runs in this process)")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("reproduce", help="make the published tables in results/ again and compare")
    p.add_argument("names", nargs="*", metavar="NAME", help="manifest entries (default: all)")
    p.add_argument("--update", action="store_true",
                   help="rewrite the published files instead of comparing (the only way they change)")
    p.add_argument("--full", action="store_true",
                   help="re-make every cell of the entries the manifest samples (as --update does)")
    p.add_argument("--manifest", default="results/manifest.yaml", metavar="PATH",
                   help="the manifest (default: results/manifest.yaml)")
    p.add_argument("--jobs", type=positive_int("--jobs", MAX_JOBS), metavar="J",
                   help="worker processes (default: the machine's cores)")
    p.add_argument("--work", metavar="DIR",
                   help="with --update or --full: keep the runs in DIR, so that an interrupted "
                        "re-make resumes there (default: a temporary folder)")
    p.set_defaults(handler=cmd_reproduce)

    from sim.commands import add_file_parsers
    from sim.study_commands import add_study_parsers

    add_study_parsers(sub)
    add_file_parsers(sub)
    return parser


def cmd_reproduce(args: argparse.Namespace) -> int:
    """Exit 0 when every entry reproduces (or was updated), 1 when one does not."""
    from sim.results import load_manifest, reproduce, select

    select(load_manifest(args.manifest), args.names, args.manifest)   # bad names fail first
    if args.work is not None:
        if not (args.update or args.full):
            raise ScenarioError("--work", args.work, "a kept folder would let a check reuse earlier "
                                "runs (expected it only with --update or --full)")
        outdir.check(args.work, "reproduce", "--work")
    outcomes = reproduce(args.names or None, args.manifest, update=args.update, jobs=args.jobs,
                         report=lambda line: print(line, flush=True), full=args.full, work=args.work)
    failed = [o.entry.name for o in outcomes if not o.ok]
    if failed:
        print(f"{len(failed)} of {len(outcomes)} entries do not reproduce: {', '.join(failed)}")
        return 1
    print(f"{len(outcomes)} entries {'updated' if args.update else 'reproduce'}")
    return 0


def check_executor(args: argparse.Namespace) -> None:
    """A Dask scheduler that cannot be reached is bad input: say so before writing anything."""
    if args.executor == "dask":
        from sim.executors import check_scheduler

        check_scheduler(args.scheduler)


def check_resources(args: argparse.Namespace, scenarios: Sequence[Scenario],
                    replications: int | None = None) -> None:
    """Refuse, before any work, a run beyond this machine (sim/guard.py)."""
    from sim import guard

    count = replications if replications is not None else args.replications
    if getattr(args, "targets", None):
        count = args.max_replications or None
    guard.check(scenarios, count, args.jobs, getattr(args, "events", False), args.force,
                source=getattr(args, "scenario", None) or scenarios[0].name)


def load(args: argparse.Namespace) -> Scenario:
    """The scenario named on the command line, with ``--set`` and ``--seed`` applied."""
    scenario = load_scenario(args.scenario, args.overrides or None)
    if getattr(args, "seed", None) is not None:
        scenario = scenario.with_overrides({"seed": args.seed}, source="--seed")
    return scenario


def output_dir(given: str | None, default: Path, kind: str = "run",
               marker: dict[str, Any] | None = None) -> Path:
    """The folder a command will write, checked before any work (sim/outdir.py)."""
    from sim import outdir

    return outdir.check(default if given is None else given, kind, marker=marker)


def cmd_check(args: argparse.Namespace) -> int:
    """Validate a scenario, or a calibration or sensitivity file with its scenarios."""
    from sim.config import read_mapping
    from sim.study import load_study, study_kind

    raw = read_mapping(args.scenario, "a scenario, calibration or sensitivity YAML file")
    if study_kind(raw) == "scenario":
        write_out(load(args).to_yaml())
        return 0
    if args.overrides or getattr(args, "seed", None) is not None:
        raise UsageError("--set and --seed apply to scenario files, not to a calibration or "
                         "sensitivity file (expected them on its scenarios)")
    write_out(load_study(args.scenario).to_yaml())
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from sim.experiment import write_run

    scenario = load(args)
    targets = target_halfwidths(args, scenario)
    out = output_dir(args.out, Path("runs") / scenario.name)
    check_resources(args, [scenario])
    check_executor(args)
    result = write_run(scenario, out, replications=args.replications, jobs=args.jobs,
                       executor=args.executor, scheduler=args.scheduler, events=args.events,
                       progress=not args.quiet, **targets)
    if not args.quiet:
        print(format_summary(result.summary, scenario.name))
        if result.plan.sequential:
            print(result.plan.describe())
        print(f"wrote {out}/ in {result.manifest['wall_seconds']:.1f} s")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Exit 0 when every measure agrees with theory, 1 when one does not."""
    import time

    from sim import atomic, outdir
    from sim.validation import TABLE_COLUMNS, format_table, run_validation

    size = "quick" if args.quick else "full"
    default = Path("runs/validation") / ("validation-quick.csv" if args.quick else "validation.csv")
    out = outdir.check_file(default if args.out is None else args.out, ",".join(TABLE_COLUMNS))
    started = time.perf_counter()
    table = run_validation(size, jobs=args.jobs)
    atomic.write_csv(out, table)
    print(format_table(table))
    passed = int(table["pass"].sum())
    print(f"{passed} of {len(table)} measures agree with theory ({size} size); "
          f"wrote {out} in {time.perf_counter() - started:.1f} s")
    return 0 if passed == len(table) else 1


def target_halfwidths(args: argparse.Namespace, scenario: Scenario) -> dict[str, Any]:
    """``--target-halfwidth`` and ``--max-replications`` as keyword arguments for a run."""
    from sim.metrics import kpi_names
    from sim.sequential import DEFAULT_CAP, parse_targets

    if not args.targets:
        if args.max_replications is not None:
            raise UsageError("--max-replications: only with --target-halfwidth "
                             "(expected --target-halfwidth KPI=VALUE as well)")
        return {}
    cap = DEFAULT_CAP if args.max_replications is None else args.max_replications
    return {"target_halfwidth": parse_targets(args.targets, kpi_names(scenario)), "max_replications": cap}


def format_summary(summary: object, title: str) -> str:
    """The summary table as aligned text: KPI, mean and 95% interval."""
    import pandas as pd

    assert isinstance(summary, pd.DataFrame)
    lines = [f"{title}: {int(summary['replications'].max())} replications, mean [95% CI]"]
    width = max(len(k) for k in summary["kpi"])
    for row in summary.itertuples():
        if pd.isna(row.mean):
            continue
        ci = "" if pd.isna(row.ci_low) else f"  [{row.ci_low:.4g}, {row.ci_high:.4g}]"
        lines.append(f"  {row.kpi:<{width}}  {row.mean:>10.4g}{ci}")
    return "\n".join(lines)


def _version() -> str:
    from sim import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    stdout, sys.stdout = sys.stdout, NamedStdout(sys.stdout)  # type: ignore[assignment]
    try:
        args = parser.parse_args(argv)
        code = int(args.handler(args))
        write_out("")
        return code
    except UsageError as exc:
        return fail(re.sub(r"^argument (--[\w-]+): (?=\1)", "", str(exc)))
    except ScenarioError as exc:
        return fail(str(exc))
    except OSError as exc:            # a full disk, a folder gone read-only, stdout to /dev/full
        from sim.outdir import describe_oserror

        _discard_stdout()
        return fail(describe_oserror(exc))
    except MemoryError:
        return fail("out of memory (expected a run this machine can hold: fewer replications "
                    "or jobs, or a smaller district)")
    except KeyboardInterrupt:
        print("govsim: interrupted", file=sys.stderr)
        return 130
    finally:
        sys.stdout = stdout


def write_out(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


class NamedStdout:
    """sys.stdout whose write errors (``> /dev/full``) name standard output."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return int(self._call("write", text))

    def flush(self) -> None:
        self._call("flush")

    def _call(self, name: str, *args: Any) -> Any:
        try:
            return getattr(self._stream, name)(*args)
        except OSError as exc:
            exc.filename = exc.filename or "standard output"
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _discard_stdout() -> None:
    """Drop what could not be written, so the interpreter's last flush does not fail again."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def fail(message: str) -> int:
    print(f"govsim: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
