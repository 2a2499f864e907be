"""A change rehearsed on the double: `tfgen sandbox NEW_SPEC --from OLD_SPEC`.

OLD is applied (init, apply, verify, re-plan) as `tfgen sandbox` applies a spec. NEW is then built against
that build as `tfgen build` builds it against the committed output (`Sandbox.rebuild`): the fleet diff and
the guards' findings are the ones a user would see, `--allow-replace`/`--allow-destroy` pass through, and a
refused change stops there, before anything is applied (the rehearsal fails). Otherwise every root of NEW, retiring
roots too, is planned and applied over OLD's state, verified (what NEW has; what it no longer has is gone: its
VPCs, peerings, clusters, keys; the edge was deregistered before its cluster was destroyed), re-planned
(empty), its retirements recorded as applied (`tfgen.lifecycle.settle`), and everything destroyed.
`Rehearsal` chains several changes over one apply of OLD (each step builds against the one before).

`--waves` (`Rehearsal.step_waves`) applies NEW as `tfgen apply OUT --waves` does, through the same wave
runner (`tfgen.upgrade.runner`): the rollout's waves of roots in order, each re-planned (empty) and its
clusters read back through the double's EKS API before the next wave, then the roots in no wave, then every
environment verified. In both, a version update the double cannot make (a control plane's, a node group's)
is held at the applied version in what is applied (`hold_versions`, reported as held), so the rest of an
upgrade step (a node group replaced, the waves' order) is applied around it.

What the double cannot do is listed as not proven, never passed: EKS version updates, node group updates
and tags, a replaced node group's create-first order, add-ons, the bootstrap association's run.
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from ..emit.state import STATE_ROOT
from ..errors import Finding, FindingsError, Severity
from ..lifecycle.settle import settle, state_addresses
from ..lifecycle.summary import FleetDiff
from ..model import Fleet
from ..orchestrate import Orchestrator, PhaseResult
from ..pipeline import diff as preview
from ..terraform.changes import Action
from ..upgrade.runner import WavesReport, apply_waves
from .expectation import Expectation, expect_environment
from .prepare import accounts_of
from .report import SandboxReport, format_phase, format_report
from .runner import Sandbox
from .verify import Check, check_nothing_left
from .verify.lookup import GONE

__all__ = ["GAPS", "Rehearsal", "RehearsalReport", "rehearse", "not_proven", "hold_versions", "format_rehearsal"]

# What the double cannot show: (resource type, action, argument or "" for any) -> what is not proven.
GAPS: dict[tuple[str, str, str], str] = {
    ("aws_eks_cluster", "update", "version"): "the control plane's version update (moto has no "
                                              "UpdateClusterVersion)",
    ("aws_eks_node_group", "update", ""): "managed node group updates and their tags (moto has no "
                                          "UpdateNodegroupConfig, UpdateNodegroupVersion or node group tagging)",
    ("aws_eks_node_group", "replace", ""): "that a replaced node group runs before the old one goes (provider 3.39 "
                                           "has no node_group_name_prefix: the double replaces it destroy-first)",
    ("aws_eks_addon", "update", ""): "EKS add-on updates (moto has no EKS add-ons; the sandbox leaves them out)",
    ("aws_eks_access_entry", "delete", ""): "that the access entries of removed clusters are gone (moto has no "
                                            "EKS access entry API; the sandbox leaves them out)",
    ("aws_ssm_association", "replace", ""): "the bootstrap's run on the bastion, which registers and deregisters "
                                            "edges (moto has no SSM associations; the order is checked on the SSM "
                                            "document)",
}


@dataclass
class RehearsalReport:
    """OLD applied, NEW's diff and findings against it, NEW applied over it, the destroy, what is not proven."""

    before: SandboxReport | None  # None: refused before OLD was applied, or a later step of a chain
    diff: FleetDiff | None = None
    findings: list[Finding] = field(default_factory=list)
    after: SandboxReport | None = None
    destroyed: list[PhaseResult] = field(default_factory=list)
    not_proven: list[str] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    refused: bool = False
    waves: WavesReport | None = None  # NEW applied wave by wave (`step_waves`): then `after` stays None
    verified: list[PhaseResult] = field(default_factory=list)  # each environment verified after the waves
    held: list[str] = field(default_factory=list)  # version updates applied at the old version (`hold_versions`)
    wave_lines: list[str] = field(default_factory=list)  # what the wave runner said, in order

    @property
    def ok(self) -> bool:
        if (self.before is not None and not self.before.ok) or self.refused or not all(p.ok for p in self.destroyed):
            return False
        if self.waves is not None:
            return self.waves.exit_code == 0 and all(p.ok for p in self.verified)
        return self.after is not None and self.after.ok

    def as_dict(self) -> dict:
        from .report import phase_dict

        return {"ok": self.ok, "refused": self.refused, "before": self.before.as_dict() if self.before else None,
                "diff": self.diff.as_dict() if self.diff else None,
                "findings": [f.as_dict() for f in self.findings],
                "after": self.after.as_dict() if self.after else None,
                "destroyed": [phase_dict(p) for p in self.destroyed],
                "settled": self.settled, "not_proven": self.not_proven, "held": self.held,
                "waves": None if self.waves is None else {
                    "lines": self.wave_lines, "stopped": self.waves.stopped,
                    "waves": [{"environment": w.environment, "wave": w.number, "roots": w.roots, "failed": w.failed,
                               "unverified": w.unverified} for w in self.waves.waves]},
                "verified": [phase_dict(p) for p in self.verified]}


def not_proven(diff: FleetDiff) -> list[str]:
    """What of `diff` the double cannot show: `GAPS` of the resources it changes."""
    found = []
    for obj in diff.objects:
        for change in obj.changes:
            if change.action is Action.NO_OP:
                continue
            paths = {r.split(":", 1)[0] for r in change.reasons}
            for (type_, action, argument), gap in GAPS.items():
                if change.type == type_ and change.action.value == action and (not argument or argument in paths):
                    entry = f"{gap}: {obj.path}"
                    if entry not in found:
                        found.append(entry)
    return found


def hold_versions(applied: Fleet, new: Fleet) -> tuple[Fleet, list[str]]:
    """`new` with every version update the double cannot make (a control plane's, a node group's) held at the
    version `applied` runs, and what was held (`env/region/cluster[/group]: before -> after`)."""
    carried, held = copy.deepcopy(new), []
    for name, env in carried.environments.items():
        if name not in applied.environments:
            continue
        running = {(r.name, c.name): c for r, c in applied.environment(name).clusters()}
        for region, cluster in env.clusters():
            old = running.get((region.name, cluster.name))
            if old is None:
                continue
            path = f"{name}/{region.name}/{cluster.name}"
            for group in cluster.node_groups.values():
                was = old.node_groups.get(group.name)
                before = (was.version or old.kubernetes_version) if was else None
                after = group.version or cluster.kubernetes_version
                if before is not None and before != after:
                    held.append(f"{path}/{group.name}: node group {before} -> {after}")
                    group.version = before
            if cluster.kubernetes_version != old.kubernetes_version:
                held.append(f"{path}: control plane {old.kubernetes_version} -> {cluster.kubernetes_version}")
                cluster.kubernetes_version = old.kubernetes_version
    return carried, held


def _union(*fleets: Fleet) -> Fleet:
    """The last fleet with the earlier ones' environments it lacks: one account per environment name across
    every build."""
    every = copy.copy(fleets[-1])
    every.environments = {name: env for fleet in fleets for name, env in fleet.environments.items()}
    return every


def _retired_checks(old: Expectation, new: Expectation | None) -> Callable[[Callable], list[Check]] | None:
    """Checks that what `old` had and `new` lacks is gone: its VPCs, subnets, clusters, keys, roles (the
    after-destroy checks, on those clusters), and every peering with one end in them."""
    keys = {c.key for c in new.clusters} if new else set()
    gone = tuple(c for c in old.clusters if c.key not in keys)
    if not gone:
        return None
    shared = {c.region for c in new.clusters} if new else set()  # regions that keep clusters: tags tell nothing
    kept = tuple(c.name for c in new.clusters) if new else ()

    def aliases(region: str) -> tuple[str, ...]:  # a region that stays keeps its own (the EBS key's)
        stems = tuple(f"alias/{c.name}-" for c in gone if c.region == region)
        return tuple(a for a in old.kms_aliases.get(region, ()) if region not in shared or a.startswith(stems))

    restricted = replace(old, clusters=gone, peerings=(), transit_gateways=(), bastion=None, gitops=None,
                         bootstrap=None, kms_aliases={r: aliases(r) for r in {c.region for c in gone}})
    cidrs = {c.cidr for c in gone}

    def checks(client) -> list[Check]:
        found = [c for c in check_nothing_left(restricted, client, keep=kept)
                 if c.subject.split()[0] not in shared or c.subject.endswith(("EKS clusters", "KMS aliases"))]
        for region in sorted({c.region for c in gone}):
            vpcs = [v["VpcId"] for v in client("ec2", region).describe_vpcs()["Vpcs"] if v["CidrBlock"] in cidrs]
            found.append(Check("retired", f"{region} VPCs of {', '.join(sorted(cidrs))}", not vpcs,
                               f"still there: {', '.join(vpcs)}" if vpcs else "none"))
        for region in sorted({c.region for c in old.clusters}):
            left = [p["VpcPeeringConnectionId"] for p in client("ec2", region).describe_vpc_peering_connections()
                    ["VpcPeeringConnections"] if p["Status"]["Code"] not in GONE
                    and {p["RequesterVpcInfo"].get("CidrBlock"), p["AccepterVpcInfo"].get("CidrBlock")} & cidrs]
            found.append(Check("retired", f"{region} peerings with {', '.join(sorted(cidrs))}", not left,
                               f"still there: {', '.join(left)}" if left else "none"))
        return [replace(c, kind="retired") for c in found]
    return checks


_DESTROYING = re.compile(r"^(\S+): Destroying\.\.\.", re.MULTILINE)
_CREATED = re.compile(r"^(\S+): (?:Creation|Modifications) complete", re.MULTILINE)


def deregistered_first(log: Path, removed: Iterable[str], document: str) -> Check:
    """From an apply's log: the hub's bootstrap document (what registers the edges) was made again before the
    first resource of a removed cluster was destroyed."""
    text = log.read_text(errors="replace") if log.is_file() else ""
    created = next((m.start() for m in _CREATED.finditer(text) if m.group(1) == document), None)
    destroying = [m.start() for m in _DESTROYING.finditer(text)
                  if m.group(1).split(".")[0] == "aws_eks_cluster" and m.group(1).split(".", 1)[1] in set(removed)]
    ok = created is not None and (not destroying or created < min(destroying))
    detail = ("no removed cluster was destroyed" if not destroying else
              f"{document} made {'before' if ok else 'after (or not before)'} the removed cluster was destroyed")
    return Check("deregistration", document, ok, detail + f" (log: {log})")


class Rehearsal:
    """A double that applies OLD and then, step by step, each later spec over what the one before left (a chain
    of changes rehearsed on one apply of OLD). `rehearse` is one step; tests chain several."""

    def __init__(self, old: Fleet, *later: Fleet, spec: str = "", workdir: str | Path | None = None,
                 progress: Callable[[PhaseResult], None] | None = None, **options):
        # one account per environment name across every spec of the chain (a renamed environment its own)
        self.sandbox = Sandbox(old, spec=spec, workdir=workdir, progress=progress,
                               accounts=accounts_of(_union(old, *later)), **options)

    def __enter__(self) -> "Rehearsal":
        self.sandbox.start()
        self._keep_workdir = self.sandbox.keep_workdir
        return self

    def __exit__(self, *exc) -> None:
        self.sandbox.stop()

    def preview(self, new: Fleet, *, allow_replace: Iterable[str] = (), allow_destroy: Iterable[str] = ()
                ) -> tuple[FleetDiff, list[Finding]]:
        """NEW's fleet diff and findings against what the sandbox built last (writes nothing)."""
        return preview(self.sandbox.built_fleet(new), self.sandbox.workdir / "out", allow_replace=allow_replace,
                       allow_destroy=allow_destroy)

    def apply_old(self) -> SandboxReport:
        """OLD's run, every environment left applied."""
        return replace(self.sandbox.run(keep=True), kept=False)

    def _rebuild(self, new: Fleet, *, allow_replace: Iterable[str], allow_destroy: Iterable[str]
                 ) -> "RehearsalReport":
        """NEW's diff, findings and not-proven list, and NEW (its versions held where the double cannot update
        them) built over the applied build; `refused` when the build refuses it (nothing built then)."""
        report = RehearsalReport(None)
        report.diff, report.findings = self.preview(new, allow_replace=allow_replace, allow_destroy=allow_destroy)
        report.not_proven = not_proven(report.diff)
        carried, report.held = hold_versions(self.sandbox.fleet, new)
        try:
            self.sandbox.rebuild(carried, allow_replace=allow_replace, allow_destroy=allow_destroy)
        except FindingsError as refused:
            report.refused, report.findings = True, refused.findings
        return report

    def step(self, new: Fleet, *, spec: str = "", allow_replace: Iterable[str] = (),
             allow_destroy: Iterable[str] = ()) -> "RehearsalReport":
        """Build `new` against the applied build, and (unless the build refuses it) apply it over it, verify,
        re-plan and record the retirements it finished; everything stays applied (`destroy` ends the chain)."""
        sandbox = self.sandbox
        report = self._rebuild(new, allow_replace=allow_replace, allow_destroy=allow_destroy)
        if report.refused:
            return report
        old_fleet = sandbox.earlier[0]
        sandbox.after_apply.clear()
        for name in new.environments:
            if name in old_fleet.environments:
                extra = _retired_checks(expect_environment(old_fleet, name), sandbox.expectation(name))
                if extra is not None:
                    sandbox.after_apply[name] = extra
        report.after = replace(sandbox.run(keep=True), spec=spec, kept=False)
        _order_checks(sandbox, report, old_fleet)
        done = [e.name for e in report.after.environments if e.ok]
        roots = [r for unit in done for r in sandbox.roots_of(unit)]
        report.settled = settle(sandbox.workdir / "out", roots, lambda root: state_addresses(
            sandbox.root(root), terraform=sandbox.workspace.terraform, env=sandbox.workspace.env()))
        return report

    def step_waves(self, new: Fleet, *, allow_replace: Iterable[str] = (), allow_destroy: Iterable[str] = (),
                   log: Callable[[str], None] | None = None) -> "RehearsalReport":
        """Build `new` (its versions held where the double cannot update them) against the applied build and
        apply it wave by wave through `tfgen apply --waves`'s runner; then verify every environment. The diff,
        findings and not-proven list are `new`'s own; everything stays applied (`destroy` ends the chain)."""
        sandbox = self.sandbox
        report = self._rebuild(new, allow_replace=allow_replace, allow_destroy=allow_destroy)
        if report.refused:
            return report
        runs = itertools.count(1)

        def run(command: str, roots: list[str]):
            scratch = sandbox.workdir / "runs" / "waves" / f"{next(runs):02d}-{command}"
            return Orchestrator(sandbox.graph, command=command, workspace=sandbox.workspace,
                                parallelism=sandbox.concurrency, progress=sandbox.progress, scratch=scratch
                                ).run(sandbox.graph.select(roots, with_needs=False))

        def describe(environment: str, cluster: dict) -> str:
            eks = sandbox.client("eks", cluster["region"], environment)
            version: str = eks.describe_cluster(name=cluster["name"])["cluster"]["version"]
            return version

        def say(line: str) -> None:
            report.wave_lines.append(line)
            if log is not None:
                log(line)

        report.waves = apply_waves(sandbox.graph, run, describe=describe, log=say)
        if not report.waves.stopped:
            report.verified = [sandbox.verify(name) for name in new.environments]
        return report

    def destroy(self) -> list[PhaseResult]:
        """Destroy whatever the last step left (its environments and what still retires), `_state` last."""
        sandbox = self.sandbox
        return _destroy(sandbox, [*sandbox.fleet.environments, *sandbox.retiring()])

    def hold(self) -> None:
        """Keep the double (and the scratch directory) until Ctrl-C."""
        self.sandbox.keep_workdir = True
        self.sandbox.hold()


def rehearse(old: Fleet, new: Fleet, *, spec: str = "", old_spec: str = "", workdir: str | Path | None = None,
             allow_replace: Iterable[str] = (), allow_destroy: Iterable[str] = (), keep: bool = False,
             waves: bool = False, progress: Callable[[PhaseResult], None] | None = None, on_sandbox=None,
             log: Callable[[str], None] | None = None, **options) -> RehearsalReport:
    """Rehearse the change from `old` to `new` on a fresh double (see the module's docstring); `waves`: apply
    `new` wave by wave (`Rehearsal.step_waves`, whose lines go to `log`). A change the build refuses is refused
    before anything is applied. `on_sandbox` is called with the started sandbox (the CLI prints where it is);
    `options` go to `Sandbox`."""
    with Rehearsal(old, new, spec=old_spec, workdir=workdir, progress=progress, **options) as rehearsal:
        sandbox = rehearsal.sandbox
        if on_sandbox is not None:
            on_sandbox(sandbox)
        diff, findings = rehearsal.preview(new, allow_replace=allow_replace, allow_destroy=allow_destroy)
        if any(f.severity is Severity.ERROR for f in findings):
            return RehearsalReport(None, diff, findings, refused=True, not_proven=not_proven(diff))
        before = rehearsal.apply_old()
        if not before.ok:
            return RehearsalReport(before, diff, findings, destroyed=rehearsal.destroy())
        if waves:
            report = rehearsal.step_waves(new, allow_replace=allow_replace, allow_destroy=allow_destroy, log=log)
        else:
            report = rehearsal.step(new, spec=spec, allow_replace=allow_replace, allow_destroy=allow_destroy)
        report.before = before
        if report.refused or not keep:
            report.destroyed = rehearsal.destroy()
        if keep and not report.refused:
            if report.after is not None:
                report.after = replace(report.after, kept=True)
            rehearsal.hold()
        else:
            sandbox.keep_workdir = rehearsal._keep_workdir
    return report


def _order_checks(sandbox: Sandbox, report: RehearsalReport, old_fleet: Fleet) -> None:
    """The deregistration order, per environment that lost a cluster and has a bootstrap document."""
    for env in report.after.environments:
        if env.name not in old_fleet.environments or env.name not in sandbox.fleet.environments:
            continue
        old = expect_environment(old_fleet, env.name)
        new = sandbox.expectation(env.name)
        removed = {c.key for c in old.clusters} - {c.key for c in new.clusters}
        if not removed or new.bootstrap is None:
            continue
        hub = next(c for c in new.clusters if c.role == "hub")
        roots = sandbox.roots_of(env.name)
        root = next((r for r in roots if (sandbox.root(r) / "bootstrap.tf.json").is_file()), roots[0])
        log = sandbox.workdir / "runs" / "logs" / root / "apply" / "apply.log"
        check = deregistered_first(log, removed, f"aws_ssm_document.{hub.key}_bootstrap")
        verify = env.phase("verify")
        if verify is not None:
            verify.checks.append(check)
            if not check.ok:
                verify.status, verify.reason = "failed", "an edge was destroyed before it was deregistered"


def _destroy(sandbox: Sandbox, units: list[str]) -> list[PhaseResult]:
    units = [u for u in units if u != STATE_ROOT] + ([STATE_ROOT] if STATE_ROOT in sandbox.graph.needs else [])
    return [sandbox.destroy(unit) for unit in units]


def format_rehearsal(report: RehearsalReport) -> str:
    """The rehearsal as text: OLD's run, NEW's diff and findings, NEW's run, the destroy, what is not proven."""
    lines = ["before (the applied spec):", format_report(report.before), ""] if report.before else []
    if report.diff is not None:
        lines.append(report.diff.text().rstrip())
    lines += [f.format() for f in report.findings]
    if report.refused:
        lines.append("the build refused the change (nothing of it was applied); each finding's fix says how to "
                     "make it (with --allow-replace/--allow-destroy where a flag allows it)")
    if report.after is not None:
        lines += ["", "after (the change applied over it):", format_report(report.after)]
    if report.waves is not None:
        lines += ["", "after (the change applied wave by wave, as `tfgen apply --waves` applies it):",
                  *report.wave_lines, *[format_phase(p) for p in report.verified]]
    if report.held:
        lines += ["", "held at the applied version on the double (it cannot update them):"] + \
                 [f"  {h}" for h in report.held]
    lines += [line for line in report.settled]
    if report.destroyed:
        lines += ["", "destroy:"] + [format_phase(p) for p in report.destroyed]
    if report.not_proven:
        lines += ["", "not proven (the double cannot show it):"] + [f"  {gap}" for gap in report.not_proven]
    lines.append(f"rehearsal {'passed' if report.ok else 'FAILED'}")
    return "\n".join(lines)
