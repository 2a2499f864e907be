"""The fast tier's wall time against its budget: `pytest -m "not slow"` within 60 s on an idle 2-core machine.

    python benchmarks/fast_tier.py [--runs N] [--no-bytecode-cache] [-- PYTEST_ARGS...]

Runs the fast tier from the repository root as a developer does (`python -m pytest -q -m "not slow"`, with
pyproject's options: xdist's workers, one per CPU), N times (default 1), and prints each run's wall time and
CPU time (the runs' processes and everything they started), the machine (CPUs, load average before and after:
the budget is for an idle machine, so a load near or above 1 before the run says the figure is pessimistic)
and whether Python writes bytecode. The tier keeps its temporary directories in memory where the machine has a
tmpfs (/dev/shm, see tests/conftest.py); `-- --basetemp DIR` puts them on a disk instead. It measures as a developer's machine runs the tier: bytecode written and
reused (`__pycache__` beside the sources), whatever this shell sets; `--no-bytecode-cache` sets
PYTHONDONTWRITEBYTECODE=1 for the run (every worker and every `python -m tfgen` the tests start compiles tfgen
afresh, as a fresh checkout does once). Prints PASS or FAIL; exit 1 when a run failed or the best run is over
the budget. Arguments after `--` go to pytest (`-- -n0`: one process, for comparison).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUDGET = 60.0


def run_once(extra: list[str], env: dict[str, str]) -> tuple[float, float, list[str], int]:
    """Wall seconds, CPU seconds, pytest's last line (and the tests that failed) and exit status of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "not slow", "-p", "no:cacheprovider",
                             *extra], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    failures = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return wall, cpu, [lines[-1] if lines else result.stderr.strip()[-300:], *failures], result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1, help="how many times to run it (the best counts)")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="compile every module from source in every process (PYTHONDONTWRITEBYTECODE=1)")
    parser.add_argument("pytest_args", nargs="*", help="after --: more pytest arguments")
    args = parser.parse_args()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    if args.no_bytecode_cache:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    bytecode = ("no (--no-bytecode-cache: PYTHONDONTWRITEBYTECODE=1)" if args.no_bytecode_cache
                else "yes, as on a developer's machine")
    load = os.getloadavg()
    print(f"fast tier (pytest -m 'not slow' {' '.join(args.pytest_args)}) on {os.cpu_count()} CPU(s); "
          f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; bytecode written: {bytecode}")
    walls, failed = [], False
    for number in range(1, args.runs + 1):
        wall, cpu, last, status = run_once(args.pytest_args, env)
        walls.append(wall)
        failed |= status != 0
        print(f"  run {number}: {wall:6.1f} s wall, {cpu:6.1f} s CPU  | {last[0]}")
        for failure in last[1:]:
            print(f"    {failure}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    best = min(walls)
    print(f"best {best:.1f} s, budget {BUDGET:.0f} s ({best / BUDGET:.0%} of it): "
          f"{'PASS' if best <= BUDGET and not failed else 'FAIL'}")
    if failed:
        print("FAIL: a run had failing tests")
    return 1 if failed or best > BUDGET else 0


if __name__ == "__main__":
    raise SystemExit(main())
