"""Plan a generated root with real Terraform and ask it questions (public as `tfgen.testing`).

For tfgen's own tests and for a platform repo's::

    from tfgen.testing import plan_root

    plan = plan_root("out/development", workdir=tmp_path)      # offline toolchain
    assert plan.region_of("aws_vpc.us_east_2_edge") == "us-east-2"
    for route in plan.peering_routes("us_east_1_hub__us_east_2_edge"):
        ...

`plan_root` copies the root into `workdir`, adds the offline override (dummy
credentials, local backend) there, and runs `terraform init` and `plan`
through tftest; the root itself is never touched. Pass `terraform=` to use
your own binary and `offline=False` to plan with your real credentials and
backend instead.

Regions are read the way Terraform resolves them: a resource's
`provider_config_key` in the plan's configuration, then that provider's
`region` expression. Peering routes are read from configuration references,
because the ids they point at are unknown until apply.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..errors import ToolchainError
from .toolchain import Toolchain, copy_root, terraform_failure

__all__ = ["PlannedResource", "Route", "Peering", "Plan", "plan_root"]


@dataclass(frozen=True)
class PlannedResource:
    """A resource of a plan: where it is configured and what it will be."""

    address: str
    type: str
    name: str
    provider_key: str
    region: str | None
    values: dict[str, Any]
    expressions: dict[str, Any]

    def references(self, argument: str) -> list[str]:
        """Resource addresses that `argument` refers to (`aws_vpc.x`, not `aws_vpc.x.id`)."""
        expression = self.expressions.get(argument) or {}
        return sorted({_resource_address(r) for r in expression.get("references", [])})

    def constant(self, argument: str) -> Any:
        """A literal argument value (None when it is computed)."""
        return (self.expressions.get(argument) or {}).get("constant_value")


@dataclass(frozen=True)
class Route:
    """An `aws_route` and where it sends traffic."""

    address: str
    region: str | None
    route_table: str
    destination: str | None
    target: str | None


@dataclass(frozen=True)
class Peering:
    """A VPC peering: requester and accepter resources and the VPCs they join."""

    name: str
    requester: PlannedResource
    accepter: PlannedResource | None

    @property
    def requester_vpc(self) -> str:
        return self.requester.references("vpc_id")[0]

    @property
    def accepter_vpc(self) -> str:
        return self.requester.references("peer_vpc_id")[0]


def _resource_address(reference: str) -> str:
    parts = reference.split(".")
    return ".".join(parts[:2]) if parts[0] != "data" else ".".join(parts[:3])


class Plan:
    """A `terraform show -json` plan, with questions a fleet test asks."""

    def __init__(self, raw: dict, *, seconds: float | None = None, lowered=None):
        self.raw = raw
        self.seconds = seconds
        self.lowered = lowered  # what the offline copy left out (tfgen.terraform.lowering.Lowered), or None
        configuration = raw.get("configuration", {})
        providers = configuration.get("provider_config", {})
        self.provider_regions: dict[str, str | None] = {
            key: (conf.get("expressions", {}).get("region") or {}).get("constant_value")
            for key, conf in providers.items()
        }
        planned = {r["address"]: r for r in _walk(raw.get("planned_values", {}).get("root_module", {}))}
        self.resources: dict[str, PlannedResource] = {}
        for conf in configuration.get("root_module", {}).get("resources", []):
            if conf.get("mode") != "managed":
                continue
            key = conf.get("provider_config_key", "")
            self.resources[conf["address"]] = PlannedResource(
                address=conf["address"],
                type=conf["type"],
                name=conf["name"],
                provider_key=key,
                region=self.provider_regions.get(key),
                values=planned.get(conf["address"], {}).get("values", {}),
                expressions=conf.get("expressions", {}),
            )
        self.changes: dict[str, list[str]] = {
            c["address"]: c["change"]["actions"] for c in raw.get("resource_changes", [])
        }

    # -- regions ---------------------------------------------------------------

    def region_of(self, address: str) -> str | None:
        """The region a resource is created in, from its provider configuration."""
        return self.resource(address).region

    def resources_in_region(self, region: str) -> list[PlannedResource]:
        """Every resource whose provider is configured for `region`."""
        return [r for r in self.resources.values() if r.region == region]

    def resource(self, address: str) -> PlannedResource:
        try:
            return self.resources[address]
        except KeyError:
            raise KeyError(f"no resource {address} in the plan") from None

    def of_type(self, type_: str) -> list[PlannedResource]:
        return [r for r in self.resources.values() if r.type == type_]

    def counts(self) -> dict[str, int]:
        """Number of planned resources per type."""
        counts: dict[str, int] = {}
        for r in self.resources.values():
            counts[r.type] = counts.get(r.type, 0) + 1
        return dict(sorted(counts.items()))

    # -- network questions ------------------------------------------------------

    def vpc_of(self, resource: PlannedResource) -> str | None:
        """The VPC address a route table, subnet or gateway belongs to."""
        refs = resource.references("vpc_id")
        return refs[0] if refs else None

    def route_tables_of(self, vpc: str) -> list[str]:
        """Addresses of the route tables in VPC `vpc` (an `aws_vpc.x` address)."""
        return sorted(r.address for r in self.of_type("aws_route_table") if self.vpc_of(r) == vpc)

    def routes(self) -> list[Route]:
        routes = []
        for r in self.of_type("aws_route"):
            tables = r.references("route_table_id")
            targets = [t for arg in ("gateway_id", "nat_gateway_id", "vpc_peering_connection_id",
                                     "transit_gateway_id") for t in r.references(arg)]
            routes.append(Route(
                address=r.address,
                region=r.region,
                route_table=tables[0] if tables else "",
                destination=r.constant("destination_cidr_block") or r.values.get("destination_cidr_block"),
                target=targets[0] if targets else None,
            ))
        return routes

    def peerings(self) -> dict[str, Peering]:
        """Every peering by name, with its accepter when there is one."""
        accepters = {}
        for a in self.of_type("aws_vpc_peering_connection_accepter"):
            for ref in a.references("vpc_peering_connection_id"):
                accepters[ref] = a
        return {
            r.name: Peering(r.name, r, accepters.get(r.address))
            for r in self.of_type("aws_vpc_peering_connection")
        }

    def peering_routes(self, name: str) -> list[Route]:
        """Routes whose target is peering `name` (through its connection or its accepter)."""
        targets = {f"aws_vpc_peering_connection.{name}", f"aws_vpc_peering_connection_accepter.{name}"}
        return [route for route in self.routes() if route.target in targets]


def _walk(module: dict) -> Iterator[dict]:
    yield from module.get("resources", [])
    for child in module.get("child_modules", []):
        yield from _walk(child)


@contextlib.contextmanager
def _tftest_quiet():
    """tftest logs a failed command's raw output as CRITICAL; the ToolchainError raised says it, formatted."""
    logger = logging.getLogger("tftest")
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


class _TerraformFailed(ToolchainError):
    """Terraform itself failed on the copy (the copy is kept for the `rerun:` command)."""


def plan_root(
    root: str | Path,
    *,
    workdir: str | Path | None = None,
    toolchain: Toolchain | None = None,
    terraform: str | None = None,
    offline: bool = True,
) -> Plan:
    """`terraform init` + `plan` of a generated root, on a copy; returns the `Plan`.

    `offline` (default) uses tfgen's toolchain (Terraform 1.0.3, AWS provider
    3.39.0 from a local mirror, dummy credentials, local backend). With
    `offline=False` the root is planned as it is, with `terraform` (or the one
    on PATH) and whatever credentials and backend your environment provides.
    Without `workdir`, the copy is made in a temporary directory that is removed
    once the plan is read (kept after a Terraform failure, for its `rerun:` command).
    """
    given = root
    root = Path(root).resolve()  # relative paths are the caller's; terraform runs elsewhere
    if not root.is_dir():
        raise ToolchainError(f"{given} is not a directory; give a root module that `tfgen build` wrote")
    if workdir:
        return _plan_copy(root, given, Path(workdir).resolve(), toolchain, terraform, offline)
    # Without a workdir the copy, provider and .terraform (the provider alone is large) go when the plan is read;
    # after a Terraform failure they stay, so the `rerun:` command the error prints still works.
    scratch = Path(tempfile.mkdtemp(prefix="tfgen-plan-"))
    try:
        plan = _plan_copy(root, given, scratch, toolchain, terraform, offline)
    except _TerraformFailed:
        raise
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    shutil.rmtree(scratch, ignore_errors=True)
    return plan


def _plan_copy(root: Path, given, scratch: Path, toolchain: Toolchain | None, terraform: str | None,
               offline: bool) -> Plan:
    import time

    import tftest

    copy = scratch / root.name
    env: dict[str, str] = {}
    lowered = None
    if offline:
        toolchain = toolchain or Toolchain(scratch / ".toolchain", terraform=terraform)
        binary = toolchain.terraform
        env = toolchain.env
        lowered = copy_root(root, copy)
    else:
        binary = terraform or shutil.which("terraform") or ""
        if not binary:
            raise ToolchainError("no terraform on PATH; pass terraform= or use offline=True")
        if copy.exists():
            shutil.rmtree(copy)
        shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    test = tftest.TerraformTest(str(copy), binary=binary, env=env)
    started = time.perf_counter()
    try:
        with _tftest_quiet():
            test.setup()
            # tftest's plan(output=True) leaves its plan file in the system temp directory; this one is the copy's.
            plan_file = copy / "tfgen.tfplan"
            test.execute_command("plan", "-input=false", "-no-color", f"-out={plan_file}")
            raw = json.loads(test.execute_command("show", "-no-color", "-json", str(plan_file)).out)
    except tftest.TerraformTestError as exc:
        raise _TerraformFailed(str(terraform_failure(exc, root=given, copy=copy, env=env))) from None
    # Everything the Plan keeps is read now: it never needs the copy afterwards.
    return Plan(raw, seconds=time.perf_counter() - started, lowered=lowered)
