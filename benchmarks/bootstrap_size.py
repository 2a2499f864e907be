"""The GitOps bootstrap's SSM document does not grow with the fleet: its size at 2, 33 and 500 edges per hub.

    python benchmarks/bootstrap_size.py [--edges 2,33,500]

Each fleet: one environment, a hub in us-east-1 and N edges spread over every other region tfgen knows
(transit gateway connectivity: a hub VPC's route tables hold at most 50 peering routes by default, so a
hub-and-spoke fleet of 500 edges is refused by NET232 before anything is emitted). Each is built by tfgen's
pipeline (every check, VAL444 included). Prints, per fleet, the document's content as emitted and once
applied (every Terraform reference at a typical value, as VAL444 measures it), the registration object's
content (where the edges' Secrets went), the time the build took, and PASS when the applied document sizes
differ by less than 10 % and none is past SSM's 64 KB.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
import time

import tfgen
import tfgen.pipeline
from tfgen.checks.ssm import SSM_DOCUMENT_LIMIT, resolved_sizes
from tfgen.model.regions import REGIONS

TOLERANCE = 0.10


def fleet_of(edges: int) -> tfgen.Fleet:
    fleet = tfgen.Fleet(project="scale")
    env = fleet.add_environment("dev", account_id="123456789012", connectivity="transit-gateway",
                                access=tfgen.Access(admins=["arn:aws:iam::123456789012:role/platform-admin"]),
                                gitops=tfgen.GitOps(repo=tfgen.GitOpsRepo(url="https://github.com/org/fleet.git")))
    env.add_hub("us-east-1", cidr="10.0.0.0/16")
    regions = sorted(r for r in REGIONS if r != "us-east-1")
    blocks = ipaddress.ip_network("10.0.0.0/7").subnets(new_prefix=16)
    next(blocks)  # the hub's
    for i in range(edges):
        env.add_cluster(regions[i % len(regions)], f"edge-{i:03d}", cidr=str(next(blocks)))
    return fleet


def measure(edges: int) -> dict:
    started = time.perf_counter()
    prepared = tfgen.pipeline.prepare(fleet_of(edges))
    seconds = time.perf_counter() - started
    if prepared.errors:
        sys.exit(f"{edges} edges do not build: " + "; ".join(f.format() for f in prepared.errors[:3]))
    resources = prepared.documents["dev"]["bootstrap.tf.json"]["resource"]
    (document,) = resources["aws_ssm_document"].values()
    (data,) = resources["aws_s3_object"].values()
    least, typical, _ = resolved_sizes(document["content"])
    return {"edges": edges, "emitted": len(document["content"].encode()), "least": least, "typical": typical,
            "data": len(data["content"].encode()), "seconds": seconds,
            "val444": [f.code for f in prepared.findings if f.code == "VAL444"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", default="2,33,500", help="edges per hub, comma-separated")
    args = parser.parse_args(argv)
    rows = [measure(int(n)) for n in args.edges.split(",")]
    print(f"{'edges':>6} {'document':>9} {'applied':>9} {'at least':>9} {'registration data':>18} {'build':>8}")
    for row in rows:
        print(f"{row['edges']:>6} {row['emitted']:>8}B {row['typical']:>8}B {row['least']:>8}B "
              f"{row['data']:>17}B {row['seconds']:>7.1f}s" + (f"  {', '.join(row['val444'])}" if row['val444'] else ""))
    sizes = [row["typical"] for row in rows]
    spread = max(sizes) / min(sizes) - 1
    fits = max(sizes) <= SSM_DOCUMENT_LIMIT and not any(row["val444"] for row in rows)
    verdict = "PASS" if spread < TOLERANCE and fits else "FAIL"
    print(f"{verdict}: the applied document differs by {spread:.2%} across {', '.join(str(r['edges']) for r in rows)} "
          f"edges (target under {TOLERANCE:.0%}); largest {max(sizes)} B of SSM's {SSM_DOCUMENT_LIMIT} B")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
