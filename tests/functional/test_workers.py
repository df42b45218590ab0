"""Worker processes: never more than the tasks, and none outlives its parent (kill -9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from kit import ROOT

from sim.executors import ordered


def pid_after_a_pause(_: int) -> int:
    time.sleep(0.2)
    return os.getpid()


def test_never_more_workers_than_tasks():
    pids = set(ordered(pid_after_a_pause, [(i,) for i in range(2)], jobs=8, count=2))
    assert len(pids) <= 2


PARENT = """
import os, sys, time
from sim.executors import ordered

def report(i):
    os.write(1, f"{os.getpid()}\\n".encode())     # one write: two workers cannot interleave
    time.sleep(120)
    return i

if __name__ == "__main__":
    for _ in ordered(report, [(i,) for i in range(2)], jobs=2, count=2):
        pass
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:          # a zombie is dead, only not yet reaped
        return f.read().split(") ")[-1][0] != "Z"


def test_workers_die_with_a_killed_parent(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert parent.stdout is not None
    workers: list[int] = []
    while len(workers) < 2 and (line := parent.stdout.readline()):
        workers += [int(word) for word in line.split()]
    assert len(workers) == 2, "the parent ended before its workers started"
    assert all(alive(pid) for pid in workers)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)
