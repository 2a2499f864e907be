"""`tfgen sandbox` of the example end to end, now and at a baseline commit, in one run.

    python benchmarks/sandbox.py [--runs 1] [--baseline ca7ece9] [--target 1.10] [--spec examples/multi-region-eks.yaml]

SPEC is relative to each tree: each commit runs the example as it ships it.

Two figures, each a fresh `python -m tfgen.cli sandbox SPEC --workdir DIR` process as a user runs it
(build, double, every phase of every root, destroy, nothing left):

- both environments of the example (`_state` too), against the baseline commit's sandbox checked out
  in a temporary git worktree, runs alternating so the machine's drift hits both alike; target: at
  most `--target` times the baseline (issue #21: the sandbox on the orchestrator's one scheduler within
  10 % of ca7ece9's units over runs of the orchestrator; issue #16's was 0.65x of 6c5fd63's sequential
  sandbox);
- `--env development` alone (with the `_state` it needs); target: at most 45 s on this machine.

Then where the time went in the last run of now: each root's phases (the progress lines) and, per
resource type, terraform's own `Creation complete after Ns` / `Destruction complete after Ns`
(the longest single resource of each type, and how many there are).
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_CLI = "import sys; sys.path.insert(0, sys.argv[1]); from tfgen.cli import main; sys.exit(main(sys.argv[2:]))"
_DONE = re.compile(r"^(\w+)\.\S+: (Creation|Destruction) complete after (?:(\d+)m)?(\d+)s", re.M)


def _sandbox(tree: Path, spec: Path, workdir: Path, envs: list[str]) -> tuple[float, str]:
    command = [sys.executable, "-c", _CLI, str(tree), "sandbox", str(spec), "--workdir", str(workdir)]
    command += [a for env in envs for a in ("--env", env)]
    started = time.perf_counter()
    # Run from the tree itself: `-c` puts the working directory first on sys.path.
    result = subprocess.run(command, capture_output=True, text=True, cwd=tree)
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):  # 1: a check failed, but every phase ran, so the time counts
        sys.exit(f"{' '.join(command)} failed (exit {result.returncode}):\n{result.stdout[-3000:]}{result.stderr}")
    if result.returncode:
        failed = [line for line in result.stdout.splitlines() if "FAIL" in line]
        print(f"note: {tree.name} {' '.join(envs) or 'all'}: a verification failed, every phase ran: {failed}")
    return elapsed, result.stdout


def _resources(workdir: Path) -> dict[tuple[str, str], list[int]]:
    """(Creation|Destruction, type) -> seconds of each resource, from every terraform log of a kept run."""
    found: dict[tuple[str, str], list[int]] = {}
    for log in workdir.rglob("*.log"):
        for type_, what, minutes, seconds in _DONE.findall(log.read_text(errors="replace")):
            found.setdefault((what, type_), []).append(int(minutes or 0) * 60 + int(seconds))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="runs of each figure (default: 1)")
    parser.add_argument("--baseline", default="ca7ece9", help="the commit to compare with (default: ca7ece9)")
    parser.add_argument("--target", type=float, default=1.10,
                        help="the most now may take, as a ratio to the baseline (default: 1.10)")
    parser.add_argument("--spec", default="examples/multi-region-eks.yaml", help="relative to each tree")
    args = parser.parse_args()

    spec = Path(args.spec)
    work = Path(tempfile.mkdtemp(prefix="tfgen-sandbox-bench-"))
    base = work / "baseline"
    try:
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(base), args.baseline],
                       check=True, capture_output=True)
        trees = {"now": REPO, "baseline": base}
        times: dict[str, list[float]] = {"now": [], "baseline": [], "development": []}
        last, created = "", {}
        for run in range(args.runs):
            for kind, tree in trees.items():
                workdir = work / f"{kind}-{run}"
                elapsed, output = _sandbox(tree, tree / spec, workdir, [])
                times[kind].append(elapsed)
                created[kind] = sum(int(n) for n in re.findall(r"apply +ok .* (\d+) resources created", output))
                if kind == "now":
                    last, resources = output, _resources(workdir)
                shutil.rmtree(workdir, ignore_errors=True)
            elapsed, _ = _sandbox(REPO, REPO / spec, work / f"development-{run}", ["development"])
            times["development"].append(elapsed)
            shutil.rmtree(work / f"development-{run}", ignore_errors=True)
        median = {kind: statistics.median(values) for kind, values in times.items()}
        ratio = median["now"] / median["baseline"]
        print(f"tfgen sandbox {spec.name}; {args.runs} run(s) each, alternated, fresh processes; resources "
              f"created: now {created['now']}, baseline {created['baseline']}")
        print(f"both environments  now {median['now']:6.1f} s  baseline {median['baseline']:6.1f} s "
              f"({args.baseline})  ratio {ratio:.2f}x (target <= {args.target:.2f}x): "
              f"{'met' if ratio <= args.target else 'MISSED'}")
        print(f"--env development  now {median['development']:6.1f} s  ratio to the baseline's both "
              f"{median['development'] / median['baseline']:.2f}x (target <= 45 s): "
              f"{'met' if median['development'] <= 45 else 'MISSED'}")
        print("\nphases of the last run (now):")
        print("\n".join(line for line in last.splitlines() if line.startswith("  ") and " s  " in line))
        print("\nper resource type (terraform's own timings; longest single resource, count):")
        for (what, type_), seconds in sorted(resources.items(), key=lambda kv: -max(kv[1]))[:15]:
            print(f"  {what:<11} {type_:<42} {max(seconds):4d} s  x{len(seconds)}")
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base)], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
