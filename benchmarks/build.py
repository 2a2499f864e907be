"""How fast tfgen turns a fleet into files, next to a plain-json.dump floor.

    python benchmarks/build.py [--environments 3] [--regions 30] [--repeat 7]

Synthetic fleet: N environments x M regions (hub in us-east-1, one edge in each
other region). Prints the median wall time of tfgen's model -> files path
(checks, emit, render, write) and of the floor: the same documents, already
built as dicts, written with `json.dump`, and their ratio. Budget: under 2 s
for 3 x 30 (the whole-CLI budget against the floor is `cli_build.py`'s).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import tfgen
from tfgen.emit import emit_environment
from tfgen.model.regions import REGIONS


def synthetic_fleet(environments: int, regions: int) -> tfgen.Fleet:
    names = ["us-east-1"] + [r for r in REGIONS if r != "us-east-1"]
    if regions > len(names):
        sys.exit(f"at most {len(names)} regions are known")
    fleet = tfgen.Fleet(project="bench", tags={"Owner": "platform"})
    for e in range(environments):
        env = fleet.add_environment(f"env{e}", account_id=f"{e + 1:012d}")
        env.add_hub("us-east-1", cidr=f"10.{e * 40}.0.0/16")
        for i, region in enumerate(names[1:regions], start=1):
            env.add_region(region, cidr=f"10.{e * 40 + i}.0.0/16")
    return fleet


def tfgen_path(fleet: tfgen.Fleet, out: Path) -> None:
    tfgen.build(fleet, out)


def floor_path(documents: dict[str, dict[str, dict]], out: Path) -> None:
    for env, files in documents.items():
        (out / env).mkdir(parents=True, exist_ok=True)
        for name, doc in files.items():
            with open(out / env / name, "w") as handle:
                json.dump(doc, handle)


def _median(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        out = Path(tempfile.mkdtemp(prefix="tfgen-bench-"))
        started = time.perf_counter()
        run(out)
        times.append(time.perf_counter() - started)
        shutil.rmtree(out)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--environments", type=int, default=3)
    parser.add_argument("--regions", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    fleet = synthetic_fleet(args.environments, args.regions)
    documents = {env.name: emit_environment(fleet, env) for env in fleet.environments.values()}
    resources = sum(
        len(items) for files in documents.values() for doc in files.values()
        for items in doc.get("resource", {}).values()
    )
    tfgen_s = _median(lambda out: tfgen_path(fleet, out), args.repeat)
    floor_s = _median(lambda out: floor_path(documents, out), args.repeat)

    tracemalloc.start()
    out = Path(tempfile.mkdtemp(prefix="tfgen-bench-"))
    tfgen_path(fleet, out)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    shutil.rmtree(out)

    ratio = tfgen_s / floor_s
    print(f"fleet: {args.environments} environments x {args.regions} regions, {resources} resources")
    print(f"tfgen model->files  median {tfgen_s * 1000:8.1f} ms  (checks, emit, render, write)")
    print(f"floor json.dump     median {floor_s * 1000:8.1f} ms  (same dicts, prebuilt)")
    print(f"ratio {ratio:.2f}x; tfgen peak Python memory {peak / 2**20:.1f} MiB")
    print(f"budget under 2 s: {'PASS' if tfgen_s < 2 else 'FAIL'}")


if __name__ == "__main__":
    main()
