"""Whole-CLI `tfgen build` of every example, now and at a baseline commit, in one run.

    python benchmarks/cli_build.py [--baseline 8396bb3] [--runs 7]

The baseline is checked out into a temporary git worktree; each measurement is
a fresh Python process running `tfgen build <example> --out <tmp>` from one
tree or the other (each tree with its own examples), the two alternated run by
run so that the machine's drift hits both alike. Prints the median wall time
of each, and the ratio now/baseline per example. Target (issue #9): within 2x
of the baseline, which predates the GitOps path, the add-ons, the bastion, the
state root and the provider-compatibility check.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = {"multi-region-eks": "out", "mesh": "out/mesh", "transit-gateway": "out/transit-gateway"}
_RUN = "import sys; sys.path.insert(0, sys.argv[1]); from tfgen.cli import main; sys.exit(main(sys.argv[2:]))"


def _once(tree: Path, example: str) -> float:
    out = Path(tempfile.mkdtemp(prefix="tfgen-cli-bench-"))
    spec = out / f"{example}.yaml"
    shutil.copyfile(tree / "examples" / f"{example}.yaml", spec)
    allocations = tree / "examples" / f"{example}.allocations.yaml"
    if allocations.exists():
        shutil.copyfile(allocations, out / allocations.name)
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _RUN, str(tree), "build", str(spec), "--out", str(out / "o")],
                            capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    shutil.rmtree(out, ignore_errors=True)
    if result.returncode != 0:
        sys.exit(f"tfgen build {example} failed in {tree}:\n{result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="8396bb3", help="commit to compare with (default: before issue #8/#9)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="tfgen-baseline-")) / "tree"
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(base), args.baseline],
                   check=True, capture_output=True)
    try:
        print(f"whole-process `tfgen build`, {args.runs} runs each, alternated; baseline {args.baseline}")
        for example in EXAMPLES:
            _once(REPO, example), _once(base, example)  # warm-up: imports and file caches
            now, before = [], []
            for _ in range(args.runs):
                now.append(_once(REPO, example))
                before.append(_once(base, example))
            ratio = statistics.median(n / b for n, b in zip(now, before))
            print(f"{example:18} now {statistics.median(now) * 1000:7.1f} ms   baseline "
                  f"{statistics.median(before) * 1000:7.1f} ms   ratio {ratio:.2f}x (target <= 2x)")
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(base)], capture_output=True)


if __name__ == "__main__":
    main()
