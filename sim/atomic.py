"""Atomic file writes: a crash leaves the old file or the new one, never half of one.

Each file is written to a hidden temporary name in the same folder, flushed to disk, and
renamed over the final name (a rename within one file system is atomic on POSIX).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pandas as pd


def _file_mode() -> int:
    """0o666 less the process umask: the mode an ordinary ``open`` would give."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


FILE_MODE = _file_mode()


def write_atomic(path: str | Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write(file)`` on a temporary file, then move it to ``path``."""
    with open_atomic(path) as f:
        write(f)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    return write_atomic(path, lambda f: f.write(text.encode("utf-8")))


def csv_text(frame: pd.DataFrame) -> str:
    """CSV with a fixed float format (10 significant digits), so equal tables are equal files."""
    return frame.to_csv(index=False, float_format="%.10g", lineterminator="\n")


def write_csv(path: str | Path, frame: pd.DataFrame) -> Path:
    return write_text(path, csv_text(frame))


@contextmanager
def open_atomic(path: str | Path) -> Iterator[IO[bytes]]:
    """A file written over a long time (a run's complaints, as replications arrive) that
    appears under ``path`` only when the block ends without an error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

