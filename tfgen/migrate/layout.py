"""What the state of an environment switched between layouts must move: from which root to which, address by
address (which environments a build would switch, and its refusal, VAL137, are `tfgen.checks.layout`).

Switching layouts moves every resource of an environment to another root; the resources keep their
addresses, so nothing needs to be destroyed, but a root that plans without the state of what it now holds
would create it all again. `build` refuses the switch (VAL137) unless `allow_layout_change`; `tfgen migrate`
then prints the plan of moves (`MigrationPlan.format`) and, with `--run`, moves the state
(`tfgen.migrate.run`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..emit import emit_environment
from ..emit.cells import split_environment
from ..model import LAYOUT_CELLS, LAYOUT_ENVIRONMENT, Environment, Fleet
from ..terraform.roots import documents_root

__all__ = ["MigrationPlan", "plan_migration"]


def _resources(documents: dict[str, dict]) -> list[str]:
    """The managed resources of a root's documents, by address."""
    return sorted(address for address, block in documents_root(documents).resources.items()
                  if block.kind == "resource")


@dataclass(frozen=True)
class MigrationPlan:
    """What moving environment `environment`'s state from its `before` layout to its `after` layout moves:
    the roots of each layout (`sources`, `targets`: `{root: documents}`, as the spec emits them)."""

    environment: str
    before: str
    after: str
    sources: dict[str, dict[str, dict]]
    targets: dict[str, dict[str, dict]]

    def moves(self) -> dict[tuple[str, str], list[str]]:
        """`{(old root, new root): addresses}` as the spec places every resource."""
        owner = {address: root for root, documents in self.targets.items() for address in _resources(documents)}
        found: dict[tuple[str, str], list[str]] = {}
        for root, documents in sorted(self.sources.items()):
            for address in _resources(documents):
                found.setdefault((root, owner[address]), []).append(address)
        return found

    def backend(self, root: str, out: str | Path) -> dict:
        """The `terraform` block that reaches `root`'s state and nothing else: the root's own backend as
        emitted (S3), or the local state file a root in `out` keeps by default."""
        index = documents_root({**self.sources, **self.targets}[root])
        s3 = index.backend("s3")
        if s3:
            versions = [b.body["required_version"] for b in index.terraform if "required_version" in b.body]
            return {"backend": {"s3": s3}, **({"required_version": versions[0]} if versions else {})}
        return {"backend": {"local": {"path": str((Path(out) / root / "terraform.tfstate").absolute())}}}

    def format(self, *, spec: str = "SPEC", out: str = "out") -> str:
        """The plan of moves for review, and what `--run` does with it."""
        moves = self.moves()
        count = sum(len(addresses) for addresses in moves.values())
        lines = [f"tfgen migrate: environment {self.environment}, {self.before} layout -> {self.after} layout",
                 "the state of each root:"]
        for role, roots in (("old", self.sources), ("new", self.targets)):
            for root in sorted(roots):
                backend = self.backend(root, out)["backend"]
                s3 = backend.get("s3")
                where = f"s3://{s3['bucket']}/{s3['key']}" if s3 else f"{out}/{root}/terraform.tfstate"
                lines.append(f"  {role}  {root:<{max(map(len, {**self.sources, **self.targets}))}}  {where}")
        lines.append(f"moves {count} resources from {len(self.sources)} root(s) into {len(self.targets)}:")
        for (source, target), addresses in sorted(moves.items()):
            lines.append(f"  {source} -> {target} ({len(addresses)}):")
            lines.extend(f"    {address}" for address in addresses)
        lines += [
            f"`tfgen migrate {spec} --env {self.environment} --out {out} --run` then, with the credentials you "
            f"apply with:",
            f"  1. refuses unless {out} is what {spec} builds (`tfgen build ... --allow-layout-change` first);",
            "  2. pulls the state of every old and new root and keeps a copy of each (the backups);",
            "  3. refuses, changing nothing, when a resource is in no old root's state, in two, or in an old root "
            "but no new one;",
            "  4. writes each new root's state with its resources, reads it back and checks it;",
            "  5. writes the new roots' outputs (`terraform apply -refresh-only`, the roots in order), so a link "
            "root plans;",
            "  6. only then empties the old roots' state, reads it back and checks that it holds nothing.",
            f"Afterwards `tfgen plan {out}` shows no resource changes on every root of {self.environment}.",
        ]
        return "\n".join(lines) + "\n"


def plan_migration(fleet: Fleet, env: Environment) -> MigrationPlan:
    """The plan of moves of `env` from its other layout into the one `fleet` gives it (`fleet` with pool CIDRs
    allocated, as `pipeline.prepare` gives it)."""
    documents = emit_environment(fleet, env)
    whole = {env.name: documents}
    cells = split_environment(fleet, env, documents)
    if fleet.layout_of(env) == LAYOUT_CELLS:
        return MigrationPlan(env.name, LAYOUT_ENVIRONMENT, LAYOUT_CELLS, whole, cells)
    return MigrationPlan(env.name, LAYOUT_CELLS, LAYOUT_ENVIRONMENT, cells, whole)
