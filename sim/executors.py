"""Where replications run: in this process, in a local process pool, or on a Dask cluster.

Whatever runs them, results come back in the order the tasks were given, like a queue at a
counter where whoever is served first still waits for the ticket before them. So a run's
tables never depend on how many workers there were or which one was fastest. Only a window
of tasks is in flight at a time: a slow replication holds back at most that many finished
ones in memory, however many replications the run has.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, Protocol

Executor = Literal["local", "dask"]
EXECUTORS: tuple[str, ...] = ("local", "dask")


class Future(Protocol):
    def result(self) -> Any: ...

    def cancel(self) -> bool: ...


Submit = Callable[..., Future]


def default_jobs() -> int:
    """The machine's cores: the CLI's default number of worker processes."""
    return os.cpu_count() or 1


MAX_WORKERS = 1024
"""Worker processes at most, however many tasks: more than any machine has cores."""
PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Pool initializer: the kernel kills this worker when the process that started it dies
    (even by kill -9), so no orphan keeps computing (Linux; elsewhere a watcher thread)."""
    import signal

    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError):
        _watch_parent(parent)
        return
    if os.getppid() != parent:          # the parent died before prctl took effect
        os._exit(1)


def _watch_parent(parent: int) -> None:
    import threading
    import time

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="govsim-parent-watch", daemon=True).start()


def _dask_client() -> Any:
    """dask.distributed.Client, or one line saying how to install the optional extra."""
    try:
        from dask.distributed import Client
    except ImportError:
        from sim.config import ScenarioError

        raise ScenarioError("--executor", "dask", "needs Dask, an optional extra "
                            "(expected it installed: pip install 'govsim[dask]')") from None
    return Client


def check_scheduler(scheduler: str | None, timeout: float = 10.0) -> None:
    """Fail early, before any file is written, when the Dask scheduler cannot be reached."""
    from sim.config import ScenarioError

    Client = _dask_client()

    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if not address:
        return
    flag = "--scheduler" if scheduler else "DASK_SCHEDULER_ADDRESS"
    try:
        Client(address, timeout=f"{timeout}s").close()
    except (OSError, ValueError, TimeoutError) as exc:
        raise ScenarioError(flag, address, f"cannot connect: {exc} "
                            "(expected the address of a running Dask scheduler, tcp://HOST:PORT)") from None


def ordered(function: Callable[..., Any], tasks: Iterable[tuple[Any, ...]], jobs: int | None = 1,
            executor: Executor = "local", scheduler: str | None = None,
            window: int | None = None, count: int | None = None) -> Generator[Any, None, None]:
    """``function(*task)`` for each task, yielded in task order, at most ``window`` in flight.

    ``tasks`` is consumed lazily, so a caller that stops early (enough replications) stops
    the submissions too; the tasks still in flight are cancelled or left to finish. With
    ``count`` (how many tasks there are at most), no more workers start than there are tasks.
    """
    if executor not in EXECUTORS:
        raise ValueError(f"executor {executor!r} is not one of {', '.join(EXECUTORS)}")
    workers = max(1, min(jobs or default_jobs(), count if count is not None else MAX_WORKERS))
    if executor == "local" and workers == 1:
        return (function(*task) for task in tasks)
    return _windowed(function, tasks, workers, executor, scheduler, window)


def _windowed(function: Callable[..., Any], tasks: Iterable[tuple[Any, ...]], workers: int,
              executor: Executor, scheduler: str | None, window: int | None) -> Generator[Any, None, None]:
    opener = _dask if executor == "dask" else _pool
    with opener(workers, scheduler) as (submit, capacity):
        size = window or 2 * capacity
        pending: deque[Future] = deque()
        source = iter(tasks)
        try:
            while True:
                while len(pending) < size and (task := next(source, None)) is not None:
                    pending.append(submit(function, *task))
                if not pending:
                    return
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


@contextmanager
def _pool(workers: int, _scheduler: str | None) -> Iterator[tuple[Submit, int]]:
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),))
    try:
        yield pool.submit, workers
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _dask(workers: int, scheduler: str | None) -> Iterator[tuple[Submit, int]]:
    """A client of the given scheduler, of $DASK_SCHEDULER_ADDRESS, or of a LocalCluster."""
    from dask.distributed import Client, LocalCluster

    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    cluster = None if address else LocalCluster(n_workers=workers, threads_per_worker=1,
                                                processes=True, dashboard_address=None)
    client = Client(address or cluster)
    try:
        capacity = max(1, sum(client.nthreads().values()))

        def submit(function: Callable[..., Any], *args: Any) -> Future:
            return client.submit(function, *args, pure=False)

        yield submit, capacity
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
