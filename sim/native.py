"""Compiled or plain Python: which engine runs, and the switch to the plain one.

The modules of the event loop (``COMPILED``) are compiled with mypyc when govsim is installed
(setup.py), to C extensions beside their source; Python imports an extension ahead of a
``.py`` file of the same name. The source stays the reference: uncompiled it gives the same
tables, and the tests run both. The plain source runs instead of the extensions

- when ``GOVSIM_PURE_PYTHON`` is set (to anything but ``""`` or ``0``), and
- when a compiled module's source has changed since it was compiled (a researcher editing
  the model): the edit runs, as Python, with a warning to reinstall for speed.

This module imports nothing of govsim's, so setup.py can read ``COMPILED`` from it.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

COMPILED = ("engine", "units", "routing", "draws", "steps", "distributions", "arrivals",
            "residents", "meetings", "model")
"""The modules of ``sim`` that the install compiles: the event loop and everything it calls."""

SOURCES_FILE = "compiled-sources.json"
"""Written by the build beside the modules: the SHA-256 of each source it compiled."""

PACKAGE = Path(__file__).resolve().parent


class _Source(importlib.abc.MetaPathFinder):
    """Finds the ``.py`` source of a compiled module, ahead of its extension."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        package, _, name = fullname.rpartition(".")
        if package != "sim" or name not in COMPILED:
            return None
        return importlib.util.spec_from_file_location(fullname, PACKAGE / f"{name}.py")


def _extensions() -> list[str]:
    """The compiled modules present beside their source."""
    suffixes = importlib.machinery.EXTENSION_SUFFIXES
    return [name for name in COMPILED if any((PACKAGE / f"{name}{s}").exists() for s in suffixes)]


def _stale() -> list[str]:
    """Compiled modules whose source differs from what was compiled (all, if unknown)."""
    try:
        digests = json.loads((PACKAGE / SOURCES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return list(COMPILED)
    return [name for name in COMPILED
            if digests.get(name) != hashlib.sha256((PACKAGE / f"{name}.py").read_bytes()).hexdigest()]


def asked_pure() -> bool:
    """``GOVSIM_PURE_PYTHON`` is set to anything but ``""`` or ``0`` (run, and install, the Python source)."""
    return os.environ.get("GOVSIM_PURE_PYTHON", "") not in ("", "0")


def install() -> None:
    """Run the plain source if asked, or if the extensions are stale (called by ``sim``)."""
    if not _extensions():
        return
    if not asked_pure():
        stale = _stale()
        if not stale:
            return
        warnings.warn(f"govsim: sim/{stale[0]}.py changed since it was compiled; running the Python "
                      "source (slower; `pip install -e .` compiles it again)", stacklevel=2)
    sys.meta_path.insert(0, _Source())


def kind() -> str:
    """``"compiled"`` or ``"python"``: which engine this process runs."""
    from sim import engine
    return "python" if engine.__file__ is None or engine.__file__.endswith(".py") else "compiled"
