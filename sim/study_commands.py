"""``govsim attribute``, ``calibrate`` and ``sensitivity``: the commands that explore many
scenarios at once. Each checks its input, builds a design (combinations, particles, design
points) and hands it to its module, which runs it through the experiment layer.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli import (
    UsageError,
    add_run_options,
    check_executor,
    load,
    output_dir,
    positive_int,
)


def add_study_parsers(sub: argparse._SubParsersAction) -> None:
    """The sub-commands of this module, on ``govsim``'s parser."""
    p = sub.add_parser("attribute", help="split the reform's paired effect into its elements "
                                         "(Shapley values over every combination)")
    p.add_argument("base", metavar="BASE", help="scenario YAML file before the reform")
    p.add_argument("reform", metavar="REFORM", help="scenario YAML file after the reform")
    p.add_argument("--elements", metavar="FILE",
                   help="YAML file grouping the differing keys into elements, {name: [key, ...]} "
                        "(default: one element per differing key)")
    p.add_argument("--permutations", type=positive_int("--permutations"), metavar="N",
                   help="above 10 elements: sample N antithetic pairs of orders (default 32)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: runs/attribute-<base>-<reform>/)")
    add_run_options(p)
    p.set_defaults(handler=cmd_attribute)

    p = sub.add_parser("calibrate", help="fit scenarios' unknown numbers to published figures "
                                         "(ABC-SMC), with uncertainty")
    p.add_argument("spec", help="calibration YAML file")
    p.add_argument("--out", metavar="DIR", help="output folder (default: runs/calibrate-<name>/)")
    p.add_argument("--resume", action="store_true",
                   help="continue the calibration in DIR from its last finished generation (interrupted, "
                        "or finished and given more method.generations)")
    add_run_options(p, jobs="1; any number with the local executor gives the same posterior")
    p.set_defaults(handler=cmd_calibrate)

    p = sub.add_parser("sensitivity", help="global sensitivity (Morris or Sobol, SALib) of a study "
                       "file's outputs to its parameters")
    p.add_argument("spec", help="sensitivity YAML file (scenarios, parameters, outputs)")
    p.add_argument("--method", choices=("morris", "sobol"), help="design (default: the file's)")
    p.add_argument("--budget", type=positive_int("--budget"), metavar="N",
                   help="Morris trajectories or Sobol base samples, a power of two (default: the file's)")
    p.add_argument("--out", metavar="DIR", help="output folder (default: runs/sensitivity-<name>/)")
    p.add_argument("--replications", type=positive_int("--replications"), metavar="N",
                   help="replications per scenario and design point (default: the file's)")
    p.add_argument("--jobs", type=positive_int("--jobs"), metavar="J",
                   help="worker processes (default: the machine's cores; 1 runs in this process)")
    p.add_argument("--executor", choices=("local", "dask"), default="local",
                   help="local process pool, or a Dask cluster")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    p.set_defaults(handler=cmd_sensitivity)


def cmd_attribute(args: argparse.Namespace) -> int:
    from sim.attribution import attribute, format_attribution
    from sim.comparison import common_seed
    from sim.elements import PERMUTATION_PAIRS, design

    base, reform = common_seed([load(argparse.Namespace(**vars(args), scenario=path))
                                for path in (args.base, args.reform)], source=args.reform)
    pairs = args.permutations or PERMUTATION_PAIRS
    design(base, reform, args.elements, pairs, source=args.reform)        # bad input fails first
    from sim.attribution import folder_marker

    out = output_dir(args.out, Path("runs") / f"attribute-{base.name}-{reform.name}", "attribute",
                     folder_marker(base, reform))
    check_executor(args)
    result = attribute(base, reform, args.elements, args.replications, out, jobs=args.jobs,
                       executor=args.executor, scheduler=args.scheduler, progress=not args.quiet,
                       pairs=pairs)
    if not args.quiet:
        print(format_attribution(result))
        print(f"ran {result.ran} combinations, skipped {result.skipped} already finished; "
              f"wrote {out}/attribution.csv")
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from sim.sensitivity import check_method, format_table, sensitivity
    from sim.study import SensitivityFile, load_study

    study = load_study(args.spec, "sensitivity")
    assert isinstance(study.spec, SensitivityFile)
    changes = {k: v for k, v in (("method", args.method), ("budget", args.budget)) if v is not None}
    method = study.spec.method.model_copy(update=changes)
    check_method(method, "--budget" if args.budget else study.source, "" if args.budget else "method.budget")
    out = output_dir(args.out, Path("runs") / f"sensitivity-{study.spec.name}", "sensitivity",
                     {"study": study.spec.name})
    check_executor(args)
    result = sensitivity(study, out, method, args.replications, jobs=args.jobs, executor=args.executor,
                         scheduler=args.scheduler, progress=not args.quiet)
    if not args.quiet:
        print(format_table(result.table))
        print(f"ran {result.ran} design points, skipped {result.skipped} already finished; wrote "
              f"{out}/sensitivity.csv in {result.manifest['wall_seconds']:.1f} s")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from sim.calibrate import FINGERPRINT, calibrate, main_report, require_pyabc
    from sim.study import load_study

    for flag in ("replications", "seed"):
        if getattr(args, flag) is not None:
            raise UsageError(f"--{flag}: not for calibrate (expected method.{flag} in the file)")
    if args.overrides:
        raise UsageError("--set: not for calibrate (expected the values in the scenario files)")
    require_pyabc()
    study = load_study(args.spec, "calibration")
    given = Path(args.out) if args.out else Path("runs") / f"calibrate-{study.spec.name}"
    # a calibration folder is checked by calibrate itself (resume, or refuse its history)
    out = given if (given / FINGERPRINT).is_file() else output_dir(str(given), given)
    check_executor(args)
    result = calibrate(study, out, jobs=args.jobs or 1, executor=args.executor,
                       scheduler=args.scheduler, resume=args.resume, report=main_report(args.quiet))
    if not args.quiet:
        print(result.summary.to_string(index=False))
        print(result.predictive.to_string(index=False))
        print(f"wrote {out}/ in {result.manifest['wall_seconds']:.1f} s "
              f"({result.manifest['simulations']} simulations)")
    return 0
