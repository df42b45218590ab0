"""Hostile input, as a new user would try it, through the real process: every case exits 2
with one line on stderr, no traceback, and leaves the folder exactly as it was.

docs/hardening.md lists every case with the test that covers it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from kit import DEMO, ROOT

DEMO_TEXT = DEMO.read_text(encoding="utf-8")


def govsim(*args: str, cwd: Path, timeout: float = 60,
           stdout: int | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "sim", *args], cwd=cwd, env=env, timeout=timeout,
                          stdout=stdout if stdout is not None else subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, check=False)


def listing(root: Path) -> list[tuple[str, int, int]]:
    """Every path under ``root`` with its size and modification time: what 'nothing written' means."""
    out = []
    for dirpath, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = Path(dirpath) / name
            info = path.lstat()
            out.append((str(path.relative_to(root)), info.st_size, info.st_mtime_ns))
    return sorted(out)


def refused(tmp_path: Path, *args: str, phrase: str, timeout: float = 60) -> str:
    """Run govsim in ``tmp_path``; expect exit 2, one line, no traceback, nothing changed."""
    before = listing(tmp_path)
    done = govsim(*args, cwd=tmp_path, timeout=timeout)
    lines = done.stderr.splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1 and lines[0].startswith("govsim: error: "), done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert phrase in lines[0], lines[0]
    assert listing(tmp_path) == before
    return lines[0]


def scenario(tmp_path: Path, text: str, name: str = "s.yaml") -> str:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return name


def demo_with(**changes: object) -> str:
    raw = yaml.safe_load(DEMO_TEXT)
    for dotted, value in changes.items():
        node = raw
        *parents, last = dotted.split(".")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        node[last] = value
    return yaml.safe_dump(raw)


def alias_bomb() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        lines.append(f"{chr(97 + i)}: &{chr(97 + i)} [{', '.join([f'*{chr(96 + i)}'] * 9)}]")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- scenario files
@pytest.mark.parametrize(("text", "phrase"), [
    pytest.param(alias_bomb(), "aliases expand to more than", id="alias-bomb"),
    pytest.param("name: a\nname: b\n", "key 'name' given twice", id="duplicate-top-key"),
    pytest.param(DEMO_TEXT.replace("district:\n", "district:\n  streets: 9\n", 1)
                 if "  streets:" in DEMO_TEXT else "district: {streets: 1, streets: 2}\n",
                 "key 'streets' given twice", id="duplicate-nested-key"),
    pytest.param("name: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than", id="5000-deep"),
    pytest.param(DEMO_TEXT.replace("dist: exponential", "dist: [exponential]", 1),
                 "unknown or missing dist", id="dist-is-a-list"),
    pytest.param(DEMO_TEXT.replace("dist: exponential", "dist: {a: 1}", 1),
                 "unknown or missing dist", id="dist-is-a-mapping"),
    pytest.param("[1, 2]\n", "expected a mapping", id="top-level-list"),
])
def test_hostile_scenario_text(tmp_path, text, phrase):
    refused(tmp_path, "check", scenario(tmp_path, text), phrase=phrase, timeout=30)


def test_non_utf8_scenario(tmp_path):
    (tmp_path / "s.yaml").write_bytes("name: café\n".encode("latin-1"))
    refused(tmp_path, "check", "s.yaml", phrase="line 1: is not UTF-8 text")


def test_fifo_as_scenario_does_not_block(tmp_path):
    os.mkfifo(tmp_path / "fifo.yaml")
    refused(tmp_path, "check", "fifo.yaml", phrase="is not a regular file", timeout=20)


def test_symlink_loop_and_path_through_a_file(tmp_path):
    (tmp_path / "loop1").symlink_to("loop2")
    (tmp_path / "loop2").symlink_to("loop1")
    refused(tmp_path, "check", "loop1", phrase="Too many levels of symbolic links")
    (tmp_path / "file").write_text("")
    refused(tmp_path, "check", "file/s.yaml", phrase="Not a directory")
    refused(tmp_path, "check", ".", phrase="is a folder")


# --------------------------------------------------------------------------- values
@pytest.mark.parametrize(("changes", "phrase"), [
    pytest.param({"levels.grid.resolve": {"dist": "lognormal", "mean": 1.0, "cv": 1e-200}},
                 "too small to compute", id="cv-underflow"),
    pytest.param({"arrivals.overdispersion": 1e-200}, "too small to compute", id="overdispersion-underflow"),
    pytest.param({"district.population_cv": 1e300}, "out of range", id="population-cv-huge"),
    pytest.param({"district.population": 10**15}, "out of range", id="population-huge"),
    pytest.param({"arrivals.surges": [{"start_day": 0, "days": 5, "multiplier": 1e300}]},
                 "out of range", id="surge-multiplier-huge"),
    pytest.param({"categories.0.weight": 1e308}, "out of range", id="weights-overflow"),
    pytest.param({"satisfaction.intercept": 1e300}, "out of range", id="satisfaction-huge"),
    pytest.param({"residents.follow_up_every_days": 1e-6}, "out of range", id="follow-up-tiny"),
    pytest.param({"levels.leadership.meeting_every_days": 1e-9}, "out of range", id="meetings-tiny"),
    pytest.param({"process.bounce.max_rounds": 10**9}, "out of range", id="max-rounds-huge"),
    pytest.param({"district.grids": 10**7}, "out of range", id="grids-huge"),
    pytest.param({"horizon_days": 10**6}, "out of range", id="horizon-huge"),
    pytest.param({"sla_days": [7, 7.0000001]}, "gives two KPIs the same name", id="sla-collision"),
    pytest.param({"name": "a" * 300}, "has 300 characters", id="name-too-long"),
])
def test_values_the_model_cannot_run(tmp_path, changes, phrase):
    name = scenario(tmp_path, demo_with(**changes))
    refused(tmp_path, "run", name, "--out", "o", "--quiet", phrase=phrase)


def test_run_beyond_the_machine_says_the_estimate(tmp_path):
    name = scenario(tmp_path, DEMO_TEXT)
    line = refused(tmp_path, "run", name, "--replications", "1000000000", "--out", "o", phrase="--force")
    assert "events" in line and "GiB" in line
    refused(tmp_path, "run", name, "--set", "district.grids=1000000", "--set", "district.communities=1000000",
            "--set", "district.streets=1000", "--set", "district.population=10000000000",
            "--set", "process.grid_branches=0", "--out", "o", phrase="the run needs")


# --------------------------------------------------------------------------- flags
@pytest.mark.parametrize(("flags", "phrase"), [
    pytest.param(["--set", "categories.\u00b2.weight=1"], "expected a list index",
                 id="set-superscript-index"),
    pytest.param(["--set", "categories.\u0663.weight=1"], "expected a list index", id="set-arabic-index"),
    pytest.param(["--seed", "\u00b2"], "--seed: '\u00b2' is not valid", id="seed-superscript"),
    pytest.param(["--jobs", "100000"], "--jobs: 100000 is out of range", id="jobs-beyond-any-machine"),
    pytest.param(["--jobs", "9" * 5000], "--jobs:", id="jobs-5000-digits"),
    pytest.param(["--out", ""], "--out: '': is empty", id="out-empty"),
    pytest.param(["--out", "x" * 300], "bytes per name", id="out-long-component"),
    pytest.param(["--set", "seed=&a [*a]"], "seed:", id="set-alias"),
])
def test_hostile_flags(tmp_path, flags, phrase):
    name = scenario(tmp_path, DEMO_TEXT)
    refused(tmp_path, "run", name, "--quiet", "--replications", "1", *(["--out", "o"] if "--out" not in flags
                                                                        else []), *flags, phrase=phrase)


# --------------------------------------------------------------------------- output folders
def test_a_folder_of_other_files_is_never_overwritten(tmp_path):
    """Defect: --out into a user's folder overwrote kpis.csv and deleted hidden .*.tmp files."""
    name = scenario(tmp_path, DEMO_TEXT)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "kpis.csv").write_text("my numbers\n")
    (mine / ".notes.tmp").write_text("keep me\n")
    refused(tmp_path, "run", name, "--replications", "1", "--out", "mine", phrase="not a govsim run")
    other = scenario(tmp_path, DEMO_TEXT.replace("name: demo", "name: other"), "other.yaml")
    refused(tmp_path, "compare", name, other, "--replications", "1", "--out", "mine",
            phrase="not a govsim compare")
    refused(tmp_path, "sweep", name, "--vary", "seed=1,2", "--replications", "1", "--out", "mine",
            phrase="not a govsim sweep")
    refused(tmp_path, "warmup", name, "--replications", "1", "--out", "mine", phrase="not a govsim warmup")
    (mine / "validation.csv").write_text("my table\n")
    refused(tmp_path, "validate", "--quick", "--out", "mine/validation.csv", phrase="govsim did not write")


def test_a_run_folder_with_a_user_file_in_it_is_not_replaced(tmp_path):
    name = scenario(tmp_path, DEMO_TEXT)
    assert govsim("run", name, "--replications", "1", "--out", "o", "--quiet", cwd=tmp_path).returncode == 0
    (tmp_path / "o" / "notes.txt").write_text("mine\n")
    refused(tmp_path, "run", name, "--replications", "1", "--out", "o", phrase="not a govsim run")


def test_dangling_symlink_and_paths_through_files(tmp_path):
    name = scenario(tmp_path, DEMO_TEXT)
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    refused(tmp_path, "run", name, "--out", "gone", phrase="symbolic link to nothing")
    refused(tmp_path, "run", name, "--out", name, phrase="is a file")
    refused(tmp_path, "run", name, "--out", f"{name}/sub", phrase="is a file")


@contextlib.contextmanager
def immutable(folder: Path):
    folder.mkdir(exist_ok=True)
    made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"chattr +i is not available here ({made.stderr.decode().strip()}): root "
                    "ignores chmod, so an unwritable folder cannot be made another way")
    try:
        yield folder
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=False)


def test_unwritable_destinations_refuse_before_any_work(tmp_path):
    name = scenario(tmp_path, DEMO_TEXT)
    with immutable(tmp_path / "locked"):
        refused(tmp_path, "run", name, "--out", "locked/run", phrase="cannot write in")
        refused(tmp_path, "run", name, "--out", "locked", phrase="cannot write in")
        refused(tmp_path, "sweep", name, "--vary", "seed=1,2", "--out", "locked/s", phrase="cannot write in")
        refused(tmp_path, "warmup", name, "--out", "locked/w", phrase="cannot write in")
        refused(tmp_path, "validate", "--out", "locked/v.csv", phrase="cannot write in", timeout=20)


def test_a_second_run_into_a_busy_folder_refuses_at_once(tmp_path):
    """Defect: the second run deleted the first one's temporary file; now it names the first."""
    from sim import outdir

    name = scenario(tmp_path, DEMO_TEXT)
    with outdir.claim(tmp_path / "o"):
        line = refused(tmp_path, "run", name, "--out", "o", phrase="being written by another govsim run")
        assert f"(pid {os.getpid()})" in line


# --------------------------------------------------------------------------- other commands
def test_sweep_hostile(tmp_path):
    name = scenario(tmp_path, DEMO_TEXT)
    refused(tmp_path, "sweep", name, "--vary", "seed=1,01", "--out", "s", phrase="are the same scenario")
    refused(tmp_path, "sweep", name, "--vary", "sla_days=[7],[7.0]", "--out", "s",
            phrase="are the same scenario")
    refused(tmp_path, "sweep", name, "--vary", f"description={'x' * 300},b", "--out", "s",
            phrase="folder name of a combination")


def test_a_sweep_folder_belongs_to_one_grid(tmp_path):
    name = scenario(tmp_path, DEMO_TEXT.replace("replications: 4", "replications: 1"))
    first = govsim("sweep", name, "--vary", "seed=1,2", "--replications", "1", "--out", "s", "--quiet",
                   cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    refused(tmp_path, "sweep", name, "--vary", "seed=3,4", "--replications", "1", "--out", "s",
            phrase="holds a different sweep (varying seed=1,2)")


def test_reproduce_with_a_broken_manifest(tmp_path):
    (tmp_path / "m.yaml").write_bytes(b"\xff\xfeentries: []\n")
    refused(tmp_path, "reproduce", "--manifest", "m.yaml", phrase="is not UTF-8 text")
    (tmp_path / "m.yaml").write_text("entries: [\n")
    refused(tmp_path, "reproduce", "--manifest", "m.yaml", phrase="not valid YAML")
    (tmp_path / "m.yaml").write_text("- 1\n")
    refused(tmp_path, "reproduce", "--manifest", "m.yaml", phrase="expected a mapping")
    (tmp_path / "m.yaml").write_text("entries: 3\n")
    line = refused(tmp_path, "reproduce", "--manifest", "m.yaml", phrase="entries: 3 is the wrong type")
    assert "Input should" not in line


def test_warmup_on_a_horizon_too_short_refuses_before_running(tmp_path):
    name = scenario(tmp_path, demo_with(horizon_days=12, warmup_days=0, cooldown_days=5))
    refused(tmp_path, "warmup", name, "--out", "w", phrase="expected at least 10 for MSER-5")


@pytest.mark.parametrize("command", ["check", "run"])
def test_standard_output_on_a_full_disk(tmp_path, command):
    name = scenario(tmp_path, DEMO_TEXT)
    extra = ["--replications", "1", "--out", "o"] if command == "run" else []
    with open("/dev/full", "w") as full:
        done = govsim(command, name, *extra, cwd=tmp_path, stdout=full.fileno())
    assert done.returncode == 2
    assert done.stderr == "govsim: error: standard output: No space left on device (free some space)\n"
