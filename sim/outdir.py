"""Output folders: where a command may write, who is writing there, and how a run replaces one.

``govsim run --out results`` must never overwrite an analyst's own ``kpis.csv``, two runs
into one folder must not tear each other's files, and a run that fails after an hour must
leave the old folder as it was. So every command that writes a folder (run, compare, sweep,
warmup, validate) first calls ``check``, before any work: the destination is new, empty,
or a govsim folder of the same kind, its names fit the file system, and it can be written.
While it works a command holds ``claim`` (a lock file beside the folder, naming its pid).
A run folder is built in a hidden sibling and swapped in whole by ``replaced``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sim.config import ScenarioError

NAME_MAX = 255
"""Longest file name (in bytes) on Linux and macOS file systems."""
RESERVED = 32
"""Room a folder's own name leaves for its hidden siblings (``.NAME.govsim-new-XXXXXXXX``)."""
RUN_FILES = frozenset({"scenario.yaml", "manifest.json", "complaints.parquet", "kpis.csv",
                       "summary.csv", "utilization.csv", "events.parquet"})
MARKER = ".govsim.json"
"""Written first into a compare, sweep or warmup folder: its kind (and a sweep's grid)."""


def check(out: str | Path, kind: str, flag: str = "--out", marker: Mapping[str, Any] | None = None) -> Path:
    """``out`` as a Path, if a folder of ``kind`` may be written there; else one line."""
    out = _destination(out, kind, flag, marker)
    _check_unlocked(out, flag)
    return out


def _destination(out: str | Path, kind: str, flag: str, marker: Mapping[str, Any] | None) -> Path:
    """Every rule of ``check`` but the lock (which the caller may hold itself)."""
    if str(out) == "":
        raise ScenarioError(flag, "''", "is empty (expected a folder name)")
    out = Path(out)
    where = str(out)
    _check_names(out, flag)
    if out.is_symlink() and not out.exists():
        raise ScenarioError(flag, where, "is a symbolic link to nothing (expected a folder)")
    ancestor = next((p for p in (out, *out.parents) if p.exists()), Path("."))
    _check_folder(ancestor, flag)
    if out.exists():
        _check_contents(out, kind, flag, marker)
    _check_writable(ancestor, flag, where)
    if out.exists() and kind == "run":
        _check_writable(out.parent, flag, where)     # the old folder is swapped out of its parent
    return out


def check_file(out: str | Path, header: str, flag: str = "--out") -> Path:
    """``out`` as a Path, if a CSV file starting with ``header`` may be (re)written there."""
    if str(out) == "":
        raise ScenarioError(flag, "''", "is empty (expected a file name)")
    out = Path(out)
    _check_names(out, flag)
    if out.is_dir():
        raise ScenarioError(flag, str(out), "is a folder (expected a CSV file name)")
    if (out.exists() or out.is_symlink()) and (not out.is_file() or _first_line(out) != header):
        raise ScenarioError(flag, str(out), "is a file govsim did not write (expected a new "
                            "file name, or a table this command wrote before)")
    ancestor = next((p for p in out.parents if p.exists()), Path("."))
    _check_folder(ancestor, flag)
    _check_writable(ancestor, flag, str(out))
    return out


def _check_folder(ancestor: Path, flag: str) -> None:
    if ancestor.is_dir():
        return
    raise ScenarioError(flag, str(ancestor), "is a file (expected a folder)")


def _first_line(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            return f.readline(4096).decode("utf-8", "replace").rstrip("\r\n")
    except OSError:
        return ""


def _check_names(out: Path, flag: str) -> None:
    for i, part in enumerate(out.parts):
        limit = NAME_MAX - RESERVED if i == len(out.parts) - 1 else NAME_MAX
        size = len(os.fsencode(part))
        if size > limit:
            raise ScenarioError(flag, f"{part[:40]}...", f"a name of {size} bytes "
                                f"(expected at most {limit} bytes per name)")


def _check_contents(out: Path, kind: str, flag: str, marker: Mapping[str, Any] | None) -> None:
    if not out.is_dir():
        raise ScenarioError(flag, str(out), "is a file (expected a folder)")
    try:
        names = set(os.listdir(out))
    except OSError as exc:
        raise ScenarioError(flag, str(out), f"cannot read: {exc.strerror} (expected a folder)") from None
    if not names:
        return
    if kind == "run":
        if not (names <= RUN_FILES and _is_run(out)):
            raise ScenarioError(flag, str(out), "holds files that are not a govsim run "
                                "(expected a new or empty folder, or a run folder to replace)")
        return
    found = read_marker(out)
    if found.get("kind") != kind:
        raise ScenarioError(flag, str(out), f"holds files that are not a govsim {kind} folder "
                            f"(expected a new or empty folder, or a {kind} folder to continue)")
    if marker is not None and {k: found.get(k) for k in marker} != dict(marker):
        raise ScenarioError(flag, str(out), f"holds a different {kind} ({describe(found)}) "
                            f"(expected another folder for {describe(marker)})")


def describe(marker: Mapping[str, Any]) -> str:
    """What a marker says about its folder, in one short phrase."""
    vary = marker.get("vary")
    if isinstance(vary, dict):
        return "varying " + "; ".join(f"{k}={','.join(map(str, v))}" for k, v in vary.items())[:200]
    return str(marker.get("kind", "unknown"))


def _is_run(out: Path) -> bool:
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(manifest, dict) and "scenario_sha256" in manifest
            and manifest.get("kind", "run") == "run")


def read_marker(out: Path) -> dict[str, Any]:
    try:
        found = json.loads((out / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _check_writable(folder: Path, flag: str, where: str) -> None:
    """Try it: root ignores permissions, and an immutable folder refuses even root."""
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".govsim-probe-", dir=folder))
    except OSError as exc:
        raise ScenarioError(flag, where, f"cannot write in {folder}: {exc.strerror} "
                            "(expected a folder this user may write)") from None


def _lock_path(out: Path) -> Path:
    return out.parent / f".{out.name}.lock"


def _check_unlocked(out: Path, flag: str) -> None:
    try:
        fd = os.open(_lock_path(out), os.O_RDONLY)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        raise _busy(out, fd, flag) from None
    finally:
        os.close(fd)


def _busy(out: Path, fd: int, flag: str) -> ScenarioError:
    pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
    return ScenarioError(flag, str(out), f"is being written by another govsim run (pid {pid}) "
                         "(expected a folder no other run is writing; wait for it or choose another)")


@contextlib.contextmanager
def claim(out: Path, flag: str = "--out") -> Iterator[None]:
    """Hold the folder's lock (``.NAME.lock`` beside it, holding this pid) for the block."""
    out.parent.mkdir(parents=True, exist_ok=True)
    path = _lock_path(out)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            error = _busy(out, fd, flag)
            os.close(fd)
            raise error from None
        with contextlib.suppress(FileNotFoundError):
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                break                                # else a finishing run removed it: again
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(fd)


@contextlib.contextmanager
def folder(out: Path, kind: str, marker: Mapping[str, Any] | None = None,
           flag: str = "--out") -> Iterator[Path]:
    """A compare, sweep or warmup folder, locked and marked for the block."""
    with claim(out, flag):
        _destination(out, kind, flag, marker)
        out.mkdir(parents=True, exist_ok=True)
        if read_marker(out).get("kind") != kind:
            from sim import atomic

            atomic.write_text(out / MARKER, json.dumps({"kind": kind, **(marker or {})}) + "\n")
        yield out


@contextlib.contextmanager
def replaced(out: Path, flag: str = "--out") -> Iterator[Path]:
    """A hidden staging folder that becomes ``out`` as a whole when the block ends without an
    error; on an error it goes, and the old folder (if any) is untouched."""
    with claim(out, flag):
        _destination(out, "run", flag, None)
        remove_leftovers(out)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.govsim-new-", dir=out.parent))
        try:
            yield staging
            _swap(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def _swap(staging: Path, out: Path) -> None:
    os.chmod(staging, 0o777 & ~_umask())
    if not out.exists():
        os.rename(staging, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.govsim-old-", dir=out.parent))
    os.rename(out, old / "run")
    try:
        os.rename(staging, out)
    except OSError:
        os.rename(old / "run", out)
        raise
    shutil.rmtree(old, ignore_errors=True)


def remove_leftovers(out: Path) -> None:
    """Staging folders a killed run left beside ``out`` (only govsim's own, by their names)."""
    for left in out.parent.glob(f".{out.name}.govsim-*"):
        if left.is_dir() and not left.is_symlink():
            shutil.rmtree(left, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def describe_oserror(exc: OSError) -> str:
    """An OS error as the one line the CLI prints: the file and what went wrong."""
    where = exc.filename or "output"
    reason = exc.strerror or exc.__class__.__name__
    hint = "free some space" if exc.errno == errno.ENOSPC else "check the path and its permissions"
    return f"{where}: {reason} ({hint})"
