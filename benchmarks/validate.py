"""How fast tfgen's network checks run on large environments, next to a naive
pairwise overlap check measured in the same run.

    python benchmarks/validate.py [--sizes 1000 10000 100000] [--repeat 5]

Each environment has n VPCs (spread over every known region, hub-and-spoke:
n - 1 hub links, plus one explicit edge-to-edge link, so n links in all).
Printed per size: the median time of `check_topology` (graph build, overlaps,
links, reachability, quotas), of the whole `validate` (allocation, model
checks and topology), and of the naive O(n^2) pairwise overlap check on
integer intervals (skipped above 10,000 VPCs, where it would take minutes).
Targets: checks under 1 s at 10,000 VPCs; growth no faster than n log n.

    python benchmarks/validate.py --crowd 2000

The worst case for overlap checks instead: a YAML spec of n clusters all on one
CIDR (n(n-1)/2 overlapping pairs), loaded and validated. Printed: the spec's
size, the time and peak memory (RSS) of load + validate, and how many findings
are shown and how many they stand for (`Finding.count`; `tfgen.errors.condense`
caps them per code). Budget (issue #21): load + validate of 2,000 clusters in
at most 2 s; the script prints PASS or FAIL and exits 1 on FAIL.
"""

from __future__ import annotations

import argparse
import ipaddress
import math
import resource
import statistics
import sys
import time
from collections import Counter

import tfgen
from tfgen.model.regions import REGIONS
from tfgen.checks.topology import check_topology


def synthetic_environment(n: int) -> tfgen.Fleet:
    regions = sorted(REGIONS)
    fleet = tfgen.Fleet(project="bench")
    env = fleet.add_environment("bench", account_id="123456789012")
    # /24 VPCs (too small for the default subnet carving, so subnets are given) in 10.0.0.0/8 and 172.16/12.
    blocks = (ipaddress.ip_network((base + (i << 8), 24)) for base in (10 << 24, (172 << 24) | (16 << 16))
              for i in range(1 << 16))
    for i in range(n):
        block = next(blocks)
        subnets = list(block.subnets(new_prefix=28))
        options = dict(cidr=str(block), az_count=1, private_subnets=[str(subnets[0])],
                       public_subnets=[str(subnets[1])])
        if i == 0:
            env.add_hub("us-east-1", name="hub", **options)
        else:
            env.add_cluster(regions[i % len(regions)], f"c{i}", **options)
    env.add_link(f"{regions[1]}/c1", f"{regions[2]}/c2")
    return fleet


def naive_overlaps(fleet: tfgen.Fleet) -> int:
    intervals = []
    for _, cluster in fleet.environment("bench").clusters():
        block = ipaddress.ip_network(cluster.network.cidr)
        intervals.append((int(block.network_address), int(block.broadcast_address)))
    found = 0
    for i, (a_start, a_end) in enumerate(intervals):
        for b_start, b_end in intervals[i + 1:]:
            if a_start <= b_end and b_start <= a_end:
                found += 1
    return found


def median_time(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def crowded_spec(n: int) -> str:
    """A YAML spec of n clusters (a hub and n - 1 edges over every known region) on one CIDR."""
    regions = sorted(REGIONS)
    by_region: dict[str, list[str]] = {}
    for i in range(1, n):
        by_region.setdefault(regions[i % len(regions)], []).append(f"c{i}")
    lines = ["project: bench", "environments:", "  bench:", '    account_id: "123456789012"',
             "    hub: {region: us-east-1, cidr: 10.0.0.0/16}", "    regions:"]
    for region, names in sorted(by_region.items()):
        lines.append(f"      {region}:")
        lines.append("        clusters:")
        lines += [f"          {name}: {{cidr: 10.0.0.0/16}}" for name in names]
    return "\n".join(lines) + "\n"


CROWD_BUDGET = 2.0  # seconds for load + validate of --crowd 2000


def crowd(n: int) -> bool:
    """Load and validate the crowded spec of `n` clusters; whether it kept the budget (scaled to `n`)."""
    text = crowded_spec(n)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    findings = tfgen.validate(tfgen.loads(text, filename="crowd.yaml"))
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    codes = Counter(f.code for f in findings)
    print(f"{n} clusters on one CIDR ({len(text.encode()) / 1024:.0f} KB spec, {n * (n - 1) // 2:,} overlapping "
          f"pairs): load + validate {elapsed:.2f}s, peak RSS {peak / 1024:.0f} MiB "
          f"(+{(peak - before) / 1024:.0f} MiB)")
    print(f"  {len(findings)} findings shown, standing for {sum(f.count for f in findings):,}; most per code: "
          f"{codes.most_common(1)[0][1]} ({', '.join(f'{c} x{k}' for c, k in sorted(codes.items()))})")
    if n != 2000:
        print(f"  (the budget is for 2000 clusters: {CROWD_BUDGET:g} s)")
        return True
    passed = elapsed <= CROWD_BUDGET
    print(f"  budget at most {CROWD_BUDGET:g} s: {'PASS' if passed else 'FAIL'}")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--naive-limit", type=int, default=10000)
    parser.add_argument("--crowd", type=int, metavar="N",
                        help="instead: validate a spec of N clusters all on one CIDR (the worst case for overlaps)")
    args = parser.parse_args()
    if args.crowd:
        sys.exit(0 if crowd(args.crowd) else 1)

    print(f"{'VPCs':>8} {'links':>7} {'topology':>10} {'validate':>10} {'naive pairwise':>15}  per n·log2(n)")
    rows = []
    for n in args.sizes:
        fleet = synthetic_environment(n)
        links = n  # n - 1 hub links + 1 explicit
        repeat = args.repeat if n <= 10000 else max(1, args.repeat // 2)
        topology = median_time(lambda: check_topology(fleet), repeat)
        everything = median_time(lambda: tfgen.validate(fleet), repeat)
        naive = median_time(lambda: naive_overlaps(fleet), 1) if n <= args.naive_limit else None
        per = topology / (n * math.log2(n)) * 1e9
        rows.append((n, topology))
        naive_text = f"{naive:14.2f}s" if naive is not None else f"{'(skipped)':>15}"
        print(f"{n:>8} {links:>7} {topology:9.3f}s {everything:9.3f}s {naive_text}  {per:6.1f} ns")
    for (n1, t1), (n2, t2) in zip(rows, rows[1:]):
        nlogn = (n2 * math.log2(n2)) / (n1 * math.log2(n1))
        print(f"{n1} -> {n2} VPCs: topology time x{t2 / t1:.1f}; n log n predicts x{nlogn:.1f}, n^2 x{(n2 / n1) ** 2:.0f}")
    at_10k = dict(rows).get(10000)
    if at_10k is not None:
        print(f"target under 1 s at 10,000 VPCs: {'met' if at_10k < 1 else 'MISSED'} ({at_10k:.3f}s)")


if __name__ == "__main__":
    main()
