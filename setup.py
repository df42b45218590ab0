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
from setuptools.command.build_ext import build_ext

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
    return mypycify(paths, opt_level="3")


class AllOrNothing(build_ext):
    """Build every extension or none. mypyc makes one shared library with the compiled code
    and a small shim per module that loads it; a shim built beside a library that failed to
    build would load the library of an earlier install, old code under new digests. So when
    any extension fails, every extension of the engine is removed (this build's and earlier
    ones) and the package installs as Python."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as error:  # noqa: BLE001  (a compiler's or setuptools' error: fall back)
            print(f"govsim: compiling the engine failed ({error}); installing the pure-Python engine",
                  file=sys.stderr)
            self._remove_all()

    def _remove_all(self) -> None:
        outputs = [Path(self.get_ext_fullpath(ext.name)) for ext in self.extensions]
        if self.inplace or getattr(self, "editable_mode", False):
            outputs += [ROOT / Path(self.get_ext_filename(ext.name)) for ext in self.extensions]
        for path in outputs:
            path.unlink(missing_ok=True)
        (ROOT / "sim" / SOURCES_FILE).unlink(missing_ok=True)


setup(ext_modules=ext_modules(), cmdclass={"build_ext": AllOrNothing})
