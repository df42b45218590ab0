"""Compile the event loop's modules with mypyc when the tools are there; plain Python when not.

``pip install -e .`` (or a wheel build) compiles the modules of ``sim.native.COMPILED`` to C
extensions beside their source. If mypyc or a C compiler is missing, or the build fails, the
package installs without them and runs the same source as Python, with the same tables
(slower). ``GOVSIM_PURE_PYTHON=1`` at install time skips the compilation; at run time it
runs the Python source even where compiled modules exist (sim/native.py).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "sim"))
from native import COMPILED, SOURCES_FILE, asked_pure  # noqa: E402  (sim/native.py, without importing sim)

sys.path.pop(0)


def ext_modules() -> list:
    if asked_pure():
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("govsim: mypyc not found, installing the pure-Python engine", file=sys.stderr)
        return []
    paths = [f"sim/{name}.py" for name in COMPILED]
    # what was compiled, so that an edited source runs as Python instead of a stale extension
    digests = {name: hashlib.sha256((ROOT / path).read_bytes()).hexdigest()
               for name, path in zip(COMPILED, paths)}
    (ROOT / "sim" / SOURCES_FILE).write_text(json.dumps(digests, indent=1) + "\n", encoding="utf-8")
    extensions = mypycify(paths, opt_level="3")
    for extension in extensions:
        extension.optional = True         # a failed C build installs the Python engine instead
    return extensions


setup(ext_modules=ext_modules())
