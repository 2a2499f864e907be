"""Shared fixtures: the example fleet, its built output, and real offline plans."""

from __future__ import annotations

from pathlib import Path

import pytest

import tfgen

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "multi-region-eks.yaml"
# example spec -> its committed output directory
EXAMPLES = {
    EXAMPLE: ROOT / "out",
    ROOT / "examples" / "mesh.yaml": ROOT / "out" / "mesh",
    ROOT / "examples" / "transit-gateway.yaml": ROOT / "out" / "transit-gateway",
    ROOT / "examples" / "cells.yaml": ROOT / "out" / "cells",
}


@pytest.fixture
def example_fleet() -> tfgen.Fleet:
    return tfgen.load(EXAMPLE)


@pytest.fixture(scope="session")
def example_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out")
    tfgen.build(tfgen.load(EXAMPLE), out)
    return out


@pytest.fixture(scope="session")
def toolchain(tmp_path_factory):
    from tfgen.terraform.toolchain import Toolchain

    return Toolchain(tmp_path_factory.mktemp("toolchain"))


@pytest.fixture(scope="session")
def example_plans(example_out, toolchain, tmp_path_factory):
    """A real `terraform plan` of every environment of the example, planned once."""
    from tfgen.testing import plan_root

    work = tmp_path_factory.mktemp("plans")
    return {
        env: plan_root(example_out / env, workdir=work, toolchain=toolchain)
        for env in ("development", "production")
    }


@pytest.fixture(scope="session")
def all_plans(example_plans, toolchain, tmp_path_factory):
    """(spec, environment) -> real plan, for every example (built afresh, not from out/)."""
    from tfgen.testing import plan_root

    plans = {(EXAMPLE, env): plan for env, plan in example_plans.items()}
    for spec in EXAMPLES:
        if spec == EXAMPLE:
            continue
        out = tmp_path_factory.mktemp("built")
        fleet = tfgen.load(spec)
        if fleet.allocations_file.exists():  # build against a copy: tests never write into examples/
            copy = out.parent / f"{out.name}.allocations.yaml"
            copy.write_bytes(fleet.allocations_file.read_bytes())
            fleet.allocations_file = copy
        tfgen.build(fleet, out)
        for env in fleet.environments:
            plans[spec, env] = plan_root(out / env, workdir=tmp_path_factory.mktemp("plan"), toolchain=toolchain)
    return plans


# A hub and one edge whose VPCs come from a pool: the allocation record's smallest case.
POOL_SPEC = """\
project: demo
environments:
  dev:
    account_id: "123456789012"
    cidr_pool: 10.0.0.0/12
    hub: {region: us-east-1}
    regions:
      us-east-2: {}
"""


def write_spec(tmp_path: Path, text: str, name: str = "fleet.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path
