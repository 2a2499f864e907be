"""What one root costs to plan as a fleet grows, in both layouts: provider processes, peak memory, plan time.

    python benchmarks/plan_scale.py [--regions 5 16 33]

For each size, a hub-and-spoke fleet of one environment with a cluster in each
of the first N regions of tfgen's table is built in the `environment` layout
(one root, N providers) and the `cells` layout (a root per region and per
link). The largest root of each layout is planned offline (lowered to provider
3.39, the offline toolchain): the environment root; in cells, the hub's region
root (the most resources) and a link root (the most providers, two). A link
root reads its regions' state, so its plan gets stand-in state files holding
the outputs those roots export (string values; a plan checks no IDs); that is
the benchmark's only stand-in. While `terraform plan` runs, /proc is sampled
every 50 ms for the RSS of terraform and every process below it (the provider
plugins) and the number of provider processes. Goal: at 33 regions the largest
cells root peaks at no more than a quarter of the environment root's memory,
and stays flat as regions are added.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tfgen  # noqa: E402
from tfgen.emit.cells import EXPORTS_FILE  # noqa: E402
from tfgen.model.regions import REGIONS  # noqa: E402
from tfgen.terraform.run import isolated_environment  # noqa: E402
from tfgen.terraform.toolchain import Toolchain, copy_root, remote_states_of  # noqa: E402

PAGE = os.sysconf("SC_PAGE_SIZE")


def fleet_of(layout: str, count: int) -> tfgen.Fleet:
    fleet = tfgen.Fleet(project="scale", layout=layout)
    env = fleet.add_environment("bench", account_id="111111111111")
    regions = sorted(REGIONS)[:count]
    env.add_hub(regions[0], cidr="10.0.0.0/16")
    for i, region in enumerate(regions[1:], start=1):
        env.add_region(region, cidr=f"10.{i}.0.0/16")
    return fleet


def _tree(root_pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _is_provider(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"terraform-provider-aws" in f.read()
    except OSError:
        return False


def measure(command: list[str], cwd: Path, env: dict) -> dict:
    """Run `command`; its wall time, peak RSS of its process tree and most provider processes at once."""
    peak, providers, done = [0], [0], threading.Event()
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def sample():
        while not done.is_set():
            pids = _tree(process.pid)
            peak[0] = max(peak[0], sum(_rss(p) for p in pids))
            providers[0] = max(providers[0], sum(_is_provider(p) for p in pids))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    seconds = time.monotonic() - started
    done.set()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed in {cwd}:\n{output.decode(errors='replace')[-3000:]}")
    return {"seconds": seconds, "peak_mib": peak[0] / 2**20, "providers": providers[0]}


def stand_in_states(out: Path, root: str, scratch: Path) -> None:
    """State files for the roots `root` reads, holding the outputs they export (a plan reads only those)."""
    documents = {p.name: json.loads(p.read_text()) for p in (out / root).glob("*.tf.json")}
    for source in remote_states_of(documents):
        exports = json.loads((out / source / EXPORTS_FILE).read_text())["output"]
        state = {"version": 4, "terraform_version": "1.0.3", "serial": 1, "lineage": "tfgen-benchmark",
                 "outputs": {name: {"value": f"stand-in-{name}", "type": "string"} for name in exports},
                 "resources": []}
        (scratch / source).mkdir(parents=True, exist_ok=True)
        (scratch / source / "terraform.tfstate").write_text(json.dumps(state))


def plan_root(out: Path, root: str, scratch: Path, toolchain: Toolchain) -> dict:
    copy = scratch / root
    copy_root(out / root, copy)
    stand_in_states(out, root, scratch)
    env = isolated_environment(toolchain)
    subprocess.run([toolchain.terraform, "init", "-input=false", "-no-color"], cwd=copy, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    result = measure([toolchain.terraform, "plan", "-input=false", "-no-color", "-lock=false"], copy, env)
    result["resources"] = sum(len(items) for p in (out / root).glob("*.tf.json")
                              for items in json.loads(p.read_text()).get("resource", {}).values())
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", type=int, nargs="+", default=[5, 16, 33])
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tfgen-plan-scale-"))
    toolchain = Toolchain(work / "toolchain")
    rows = []
    try:
        for count in args.regions:
            for layout in ("environment", "cells"):
                out = work / f"{layout}-{count}"
                tfgen.build(fleet_of(layout, count), out)
                hub = f"bench--{sorted(REGIONS)[0]}"
                second = sorted(REGIONS)[1]
                roots = ["bench"] if layout == "environment" else [hub, f"{hub}--{second}"]
                for root in roots:
                    result = plan_root(out, root, work / f"plans-{layout}-{count}", toolchain)
                    rows.append((count, layout, root, result))
                    print(f"{count:>3} regions  {layout:<11} {root:<36} {result['resources']:>5} resources  "
                          f"{result['providers']:>3} provider processes  peak {result['peak_mib']:7.0f} MiB  "
                          f"plan {result['seconds']:5.1f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    for count in args.regions:
        whole = [r for c, layout, _, r in rows if c == count and layout == "environment"][0]
        cells = max((r for c, layout, _, r in rows if c == count and layout == "cells"), key=lambda r: r["peak_mib"])
        print(f"{count:>3} regions: largest cells root peaks at {cells['peak_mib']:.0f} MiB, "
              f"{cells['peak_mib'] / whole['peak_mib']:.0%} of the environment root's {whole['peak_mib']:.0f} MiB; "
              f"plan {cells['seconds']:.1f} s vs {whole['seconds']:.1f} s")
    largest = max(args.regions)
    whole = [r for c, layout, _, r in rows if c == largest and layout == "environment"][0]
    # flat: the largest cells root's peak at each size, within 25 % of each other
    largest_cells = [max(r["peak_mib"] for c, layout, _, r in rows if c == count and layout == "cells")
                     for count in args.regions]
    met = largest_cells[-1] <= whole["peak_mib"] / 4 and max(largest_cells) <= 1.25 * min(largest_cells)
    print(f"goal (<= 1/4 of the environment root at {largest} regions, flat within 25 %): "
          f"{'met' if met else 'NOT met'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
