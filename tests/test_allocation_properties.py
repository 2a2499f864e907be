"""Property tests: pool allocation never overlaps and never moves a VPC; the
overlap check agrees with a brute-force pairwise comparison."""

from __future__ import annotations

import ipaddress
import random

from hypothesis import given, settings
from hypothesis import strategies as st

import tfgen
from tfgen.derive.allocation import allocate
from tfgen.model.regions import REGIONS
from tfgen.checks.topology import check_topology

REGION_NAMES = sorted(REGIONS)


def _fleet(names: list[tuple[str, str]], explicit: dict[str, str], pool="10.0.0.0/8", prefix=20) -> tfgen.Fleet:
    fleet = tfgen.Fleet(project="prop")
    env = fleet.add_environment("dev", cidr_pool=pool, vpc_prefix=prefix)
    env.add_hub("us-east-1", cidr=explicit.get("us-east-1/hub"))
    for region, cluster in names:
        env.add_cluster(region, cluster, cidr=explicit.get(f"{region}/{cluster}"))
    return fleet


def _cidrs(fleet):
    return {f"{r.name}/{c.name}": c.network.cidr for r, c in fleet.environment("dev").clusters()}


clusters = st.lists(
    st.tuples(st.sampled_from(REGION_NAMES), st.sampled_from(["edge", "batch", "gpu", "web"])),
    min_size=1, max_size=25, unique=True,
).filter(lambda names: ("us-east-1", "hub") not in names)


@settings(max_examples=150, deadline=None)
@given(names=clusters, more=clusters, seed=st.integers(0, 2**32 - 1), pins=st.integers(0, 5))
def test_allocation_is_disjoint_and_stable_under_insertion_and_reordering(names, more, seed, pins):
    rng = random.Random(seed)
    explicit = {f"{r}/{c}": f"10.{rng.randrange(256)}.{rng.randrange(16) * 16}.0/20"
                for r, c in rng.sample(names, min(pins, len(names)))}
    first = allocate(_fleet(names, explicit), {})
    taken = _cidrs(first.fleet)
    blocks = [ipaddress.ip_network(c) for c in taken.values()]
    explicit_blocks = {k: ipaddress.ip_network(v) for k, v in explicit.items()}
    allocated = [ipaddress.ip_network(c) for k, c in taken.items() if k not in explicit]
    for i, a in enumerate(allocated):
        assert a.subnet_of(ipaddress.ip_network("10.0.0.0/8"))
        for b in allocated[i + 1:]:
            assert not a.overlaps(b), f"{a} overlaps {b}"
        for b in explicit_blocks.values():
            assert not a.overlaps(b), f"allocated {a} overlaps explicit {b}"
    assert len(blocks) == len(taken)

    grown = names + [n for n in more if n not in names]
    rng.shuffle(grown)
    second = allocate(_fleet(grown, explicit), first.record)
    after = _cidrs(second.fleet)
    for name, cidr in taken.items():
        assert after[name] == cidr, f"{name} moved from {cidr} to {after[name]}"
    new = [ipaddress.ip_network(c) for k, c in after.items() if k not in explicit]
    for i, a in enumerate(new):
        for b in new[i + 1:]:
            assert not a.overlaps(b), f"{a} overlaps {b} after insertion"


@settings(max_examples=150, deadline=None)
@given(count=st.integers(2, 30), seed=st.integers(0, 2**32 - 1), mode=st.sampled_from(["mesh", "hub-and-spoke"]))
def test_overlap_check_agrees_with_pairwise_comparison(count, seed, mode):
    rng = random.Random(seed)
    cidrs = []
    for _ in range(count):
        prefix = rng.randint(16, 24)
        base = rng.randrange(0, 1 << 12) << 20  # inside 10.0.0.0/8 after masking below
        address = (10 << 24) | (base & 0x00FFFFFF)
        cidrs.append(ipaddress.ip_network((address, prefix), strict=False))
    fleet = tfgen.Fleet(project="prop")
    env = fleet.add_environment("dev", connectivity=mode)
    regions = REGION_NAMES[:count]
    env.add_hub(regions[0], cidr=str(cidrs[0]))
    for region, cidr in zip(regions[1:], cidrs[1:]):
        env.add_region(region, cidr=str(cidr))

    found = set()
    for f in check_topology(fleet):
        if f.code in ("NET211", "NET212", "NET213"):
            found.add((f.code, frozenset([w for w in f.message.split() if w.startswith("dev/")][:2])))
    expected = set()
    nodes = [f"dev/{regions[0]}/hub"] + [f"dev/{r}/edge" for r in regions[1:]]
    for i in range(count):
        for j in range(i + 1, count):
            if cidrs[i].overlaps(cidrs[j]):
                connected = mode == "mesh" or i == 0
                code = "NET211" if connected else "NET213"  # every edge shares the hub as a peer
                expected.add((code, frozenset((nodes[i], nodes[j]))))
    found = {(code, frozenset(n.rstrip(",;:") for n in pair)) for code, pair in found}
    assert found == expected
