"""What the plan cache of tfgen's pytest plugin saves: examples/platform-repo's tests run twice.

    python benchmarks/testing_cache.py [--all]

Copies examples/platform-repo to a scratch directory (an empty pytest cache), runs its tests there twice with
nothing changed between the runs, and prints each run's wall time and the number of `terraform plan` runs
(the plugin's summary line). The second run must plan nothing: exit 1 when it did or a run failed. By default
only the plan-reading tests run (tests/test_fleet.py), so the times compare planning with reading the cache;
`--all` runs the fast tier (the gate's checkov runs added to both).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "platform-repo"
SUMMARY = re.compile(r"tfgen: (\d+) terraform plan run\(s\), (\d+) plan\(s\) read from the cache")


def run(repo: Path, tests: list[str]) -> tuple[float, int, int]:
    """Seconds, plans run and plans read from the cache of one pytest run."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "not tfgen_sandbox", *tests], cwd=repo,
                            capture_output=True, text=True)
    seconds = time.perf_counter() - started
    counted = SUMMARY.search(result.stdout)
    if result.returncode != 0 or counted is None:
        sys.exit(f"the example's tests failed (exit {result.returncode}):\n{result.stdout[-3000:]}{result.stderr}")
    return seconds, int(counted[1]), int(counted[2])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="run the whole fast tier, not only tests/test_fleet.py")
    args = parser.parse_args()
    tests = [] if args.all else ["tests/test_fleet.py"]
    with tempfile.TemporaryDirectory(prefix="tfgen-bench-") as scratch:
        repo = Path(scratch) / "platform-repo"
        shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns(".pytest_cache", "__pycache__"))
        first = run(repo, tests)
        second = run(repo, tests)
    print(f"examples/platform-repo {' '.join(tests) or '(fast tier)'}, run twice with nothing changed:")
    for name, (seconds, planned, cached) in (("first", first), ("second", second)):
        print(f"  {name:6} run: {seconds:6.1f} s, {planned} terraform plan run(s), {cached} plan(s) from the cache")
    if second[1] != 0:
        print("FAIL: the second run planned again")
        return 1
    print(f"second run planned nothing: {first[0] / second[0]:.1f}x faster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
