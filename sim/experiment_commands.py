"""``govsim compare``, ``sweep`` and ``warmup``: the commands that run several scenarios, or
look at the start of one run, and write a folder of tables and figures."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sim.cli import (
    UsageError,
    add_run_options,
    add_target_options,
    check_executor,
    check_resources,
    load,
    output_dir,
    target_halfwidths,
)


def add_experiment_parsers(sub: argparse._SubParsersAction) -> None:
    """compare, sweep and warmup: the commands that run several scenarios or look at one run."""
    p = sub.add_parser("compare", help="run scenarios on the same complaints (common random numbers) "
                                       "and compare each to the first")
    p.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="two or more scenario YAML files")
    p.add_argument("--out", metavar="DIR",
                   help="output folder (default: runs/compare-<name>-<name>.../)")
    add_run_options(p)
    add_target_options(p)
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser("sweep", help="run every combination of a few scenario keys")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--vary", action="append", required=True, metavar="KEY=V1,V2,...",
                   help="a key and its values, e.g. process.bounce.probability=0.2,0.4; repeat "
                        "for more keys")
    p.add_argument("--out", metavar="DIR", help="output folder (default: runs/sweep-<name>-<keys varied>/)")
    add_run_options(p)
    p.set_defaults(handler=cmd_sweep)

    p = sub.add_parser("warmup", help="suggest warmup_days (MSER-5) and plot the start of the run")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("--measure", choices=("time-in-system", "backlog"), default="time-in-system",
                   help="daily mean time in system of the day's arrivals, or open backlog")
    p.add_argument("--out", metavar="DIR",
                   help="folder for warmup.png and warmup.csv (default: runs/<name>-warmup/)")
    add_run_options(p)
    p.set_defaults(handler=cmd_warmup)



def cmd_compare(args: argparse.Namespace) -> int:
    from sim.comparison import common_seed, compare

    if len(args.scenarios) < 2:
        raise UsageError("compare: 1 scenario given (expected at least 2)")
    scenarios = common_seed([load(argparse.Namespace(**vars(args), scenario=path))
                             for path in args.scenarios])
    targets = target_halfwidths(args, scenarios[0])
    default = Path("runs") / "-".join(["compare", *(s.name for s in scenarios)])
    out = output_dir(args.out, default, "compare")
    check_resources(args, scenarios)
    check_executor(args)
    result = compare(scenarios, args.replications, jobs=args.jobs, executor=args.executor,
                     scheduler=args.scheduler, out=out, progress=not args.quiet, **targets)
    from sim.figures import compare_figures

    compare_figures(out, result.names)
    if not args.quiet:
        print(result.format())
        if result.plan.sequential:
            print(result.plan.describe())
        print(f"wrote {out}/comparison.csv, its figures and a run folder per scenario")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:

    from sim.sweeps import combinations, default_folder, format_sweep, grid_marker, parse_vary, sweep

    scenario = load(args)
    vary = parse_vary(args.vary)
    combos = combinations(scenario, vary)
    out = output_dir(args.out, default_folder(scenario, vary), "sweep", grid_marker(scenario, combos))
    check_resources(args, [c.scenario for c in combos])
    check_executor(args)
    started = time.perf_counter()
    result = sweep(scenario, vary, out, args.replications, jobs=args.jobs, executor=args.executor,
                   scheduler=args.scheduler, progress=not args.quiet)
    from sim.figures import sweep_figures

    sweep_figures(out, list(vary), result.table)
    if not args.quiet:
        print(format_sweep(result))
        print(f"ran {len(result.ran)} combinations, skipped {len(result.skipped)} already finished; "
              f"wrote {out}/sweep.csv in {time.perf_counter() - started:.1f} s")
    return 0


def cmd_warmup(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from sim.warmup import check_series, warmup

    scenario = load(args)
    out = output_dir(args.out, Path("runs") / f"{scenario.name}-warmup", "warmup")
    check_series(scenario, args.measure)
    check_resources(args, [scenario])
    check_executor(args)
    result = warmup(scenario, args.replications, args.measure, jobs=args.jobs,
                    executor=args.executor, scheduler=args.scheduler, progress=not args.quiet)
    result.save(out)
    print(result.describe())
    if not args.quiet:
        print(f"wrote {out}/warmup.png and {out}/warmup.csv")
    return 0


