"""Are the tables still the same? Run folders before and after a change, byte for byte.

An optimisation may change how fast the tables are made, never what they say. ``save``
runs a few scenarios through ``python -m sim run`` (with the event log) into a folder kept
as the reference; ``compare`` runs them again into a fresh folder and compares every file
byte for byte, except ``manifest.json``, which records wall seconds and the git commit.
It prints one line per file that differs and exits 1 if any does.

    python benchmarks/same_tables.py save /tmp/tables-before      # before the change
    python benchmarks/same_tables.py compare /tmp/tables-before   # after it
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import ROOT, child_env

# scenario, replications: the demo pair, and one replication of each Shibei process
CASES = (("demo", 2), ("demo-legacy", 2), ("shibei-2019-legacy", 1), ("shibei-2020-whistle", 1))
VOLATILE = {"manifest.json"}


def run_all(out: Path, only: list[str]) -> None:
    """Run every case into ``out/<scenario>``, as a user would, with this checkout's ``sim``."""
    env = child_env()
    for name, replications in CASES:
        if only and name not in only:
            continue
        print(f"same_tables: running {name} x{replications}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "sim", "run", f"scenarios/{name}.yaml", "--replications",
                        str(replications), "--events", "--quiet", "--out", str(out / name)],
                       cwd=ROOT, env=env, check=True)


def differences(before: Path, after: Path) -> list[str]:
    """Files missing on one side or differing in a single byte."""
    names = {p.relative_to(before) for p in before.rglob("*") if p.is_file()}
    names |= {p.relative_to(after) for p in after.rglob("*") if p.is_file()}
    found = []
    for name in sorted(names):
        if name.name in VOLATILE:
            continue
        a, b = before / name, after / name
        if not a.exists() or not b.exists():
            found.append(f"{name}: only {'after' if b.exists() else 'before'}")
        elif a.read_bytes() != b.read_bytes():
            found.append(f"{name}: differs")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("save", "compare"))
    parser.add_argument("folder", type=Path, help="the reference run folders")
    parser.add_argument("--only", action="append", default=[], metavar="SCENARIO",
                        help="just this case (repeatable)")
    args = parser.parse_args()
    if args.action == "save":
        run_all(args.folder, args.only)
        return
    with tempfile.TemporaryDirectory(prefix="govsim-same-") as tmp:
        run_all(Path(tmp), args.only)
        before = args.folder
        found = [f"{name}/{d}" for name in (args.only or [n for n, _ in CASES])
                 for d in differences(before / name, Path(tmp) / name)]
    for line in found:
        print(line)
    verdict = f"{len(found)} files differ" if found else "all tables identical"
    print(f"same_tables: {verdict}", file=sys.stderr)
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
