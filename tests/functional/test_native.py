"""The compiled engine and its Python source give the same tables, byte for byte.

The install compiles the event loop's modules (setup.py, sim/native.py); the source stays the
reference. Each case runs once as the package runs by default and once with
``GOVSIM_PURE_PYTHON=1``, through the command line, and every file but the manifest must be
identical. CI sets ``GOVSIM_REQUIRE_COMPILED=1`` so that a build that silently fell back to
Python fails here instead of passing both sides as Python.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from kit import ROOT, SCENARIOS

CASES = [("demo", "2"), ("demo-legacy", "2")]


def _kind(pure: bool) -> str:
    env = {**os.environ, "GOVSIM_PURE_PYTHON": "1" if pure else ""}
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", "import sim.native as n; print(n.kind())"],
                         env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return out.stdout.strip()


COMPILED = _kind(pure=False) == "compiled"


def test_the_switch_runs_the_python_source():
    assert _kind(pure=True) == "python"


def test_ci_runs_the_compiled_engine():
    if os.environ.get("GOVSIM_REQUIRE_COMPILED") in (None, "", "0"):
        pytest.skip("GOVSIM_REQUIRE_COMPILED not set")
    assert COMPILED, "the install did not compile the engine (see the pip install output)"


def _run(scenario: str, replications: str, out: Path, pure: bool) -> dict[str, bytes]:
    env = {**os.environ, "GOVSIM_PURE_PYTHON": "1" if pure else ""}
    subprocess.run([sys.executable, "-m", "sim", "run", str(SCENARIOS / f"{scenario}.yaml"),
                    "--replications", replications, "--events", "--quiet", "--out", str(out)],
                   env=env, check=True, cwd=ROOT)
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "manifest.json"}


@pytest.mark.skipif(not COMPILED, reason="the engine is not compiled here: both sides would be Python")
@pytest.mark.parametrize(("scenario", "replications"), CASES)
def test_compiled_and_python_tables_are_identical(tmp_path, scenario, replications):
    compiled = _run(scenario, replications, tmp_path / "compiled", pure=False)
    python = _run(scenario, replications, tmp_path / "python", pure=True)
    assert compiled.keys() == python.keys()
    assert [name for name in compiled if compiled[name] != python[name]] == []
    assert len(compiled) >= 4
