"""``govsim report``, ``schema`` and ``events``: commands that turn files into other files.

None of them runs the model: they read a folder that a run, a comparison or a sweep wrote
(or the scenario schema) and write one file an analyst can hand on, an editor can use, or a
process-mining tool can read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.config import ScenarioError


def add_file_parsers(sub: argparse._SubParsersAction) -> None:
    """The sub-commands of this module, on ``govsim``'s parser."""
    from sim.eventlog import FORMATS
    from sim.schema import schema_models

    p = sub.add_parser("report", help="one self-contained HTML page of a run, compare, sweep, "
                                      "calibrate, attribute or sensitivity folder")
    p.add_argument("folder", metavar="DIR", help="the folder a govsim command wrote")
    p.add_argument("--out", metavar="FILE", help="the HTML file (default: DIR/report.html)")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("schema", help="the JSON Schema of scenario (or calibration, sensitivity) files, "
                                      "for editors")
    p.add_argument("kind", nargs="?", default="scenario", choices=tuple(schema_models()),
                   help="which file kind (default: scenario)")
    p.add_argument("--out", metavar="FILE", help="write it here (default: print it)")
    p.set_defaults(handler=cmd_schema)

    p = sub.add_parser("events", help="export a run's event log for process-mining tools")
    p.add_argument("run", metavar="RUN_DIR", help="a run folder made with --events")
    p.add_argument("--format", choices=FORMATS, default="xes", help="xes (default), csv or parquet")
    p.add_argument("--out", metavar="FILE", help="the file (default: RUN_DIR/eventlog.<format>)")
    p.add_argument("--start", default=None, metavar="DATE",
                   help="the date of day 0, for calendar timestamps (default: 2020-01-01)")
    p.set_defaults(handler=cmd_events)


def _out_file(given: str | None) -> Path | None:
    """``--out`` as a file path: not an existing folder."""
    if given is None:
        return None
    out = Path(given)
    if out.is_dir():
        raise ScenarioError("--out", "", f"{out} is a folder (expected a file name)")
    return out


def _folder(given: str, flag: str) -> Path:
    folder = Path(given)
    if not folder.is_dir():
        raise ScenarioError(given, "", f"no such folder (expected {flag})")
    return folder


def cmd_report(args: argparse.Namespace) -> int:
    from sim.report import write_report

    folder = _folder(args.folder, "a folder written by govsim run, compare, sweep, calibrate, "
                                  "attribute or sensitivity")
    out = _out_file(args.out)
    path, kind = write_report(folder, out)
    print(f"wrote {path} ({kind} report)")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from sim import atomic
    from sim.schema import schema_text

    text = schema_text(args.kind)
    out = _out_file(args.out)
    if out is None:
        sys.stdout.write(text)
    else:
        atomic.write_text(out, text)
        print(f"wrote {out}")
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    import pandas as pd

    from sim.eventlog import START, export

    run = _folder(args.run, "a run folder made with --events")
    out = _out_file(args.out)
    start = args.start or START
    try:
        pd.Timestamp(start)
    except ValueError:
        raise ScenarioError("--start", "", f"{start!r} is not a date (expected e.g. 2020-01-01)") from None
    print(f"wrote {export(run, args.format, out, start)}")
    return 0
