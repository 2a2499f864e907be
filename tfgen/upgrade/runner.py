"""`tfgen apply OUT --waves`: the roots of a cells build applied wave by wave, each wave verified before the next.

The waves are the build's record (`tfgen.derive.waves`, in the manifest), so no
spec is needed. Per environment and wave: the wave's roots are applied (through
the orchestrator, in the graph's order among themselves; the roots they need
from other waves already run: waves are for a fleet that is applied), then
verified: each root plans again and must show no change, and, where AWS
credentials exist, each cluster of the wave reports through the EKS API
(`DescribeCluster`) the version the build gives it, read with its
environment's credentials (the role its providers assume, `tfgen.upgrade.aws`).
Without any credentials a cluster is reported not verified; an AssumeRole
refused fails the environment's clusters of the wave, said once per environment. When more clusters of a
wave fail than the rollout's `failure_tolerance`, the run stops: later waves
are not run. Roots in no wave (links, the fan-in, `_state`) run after every
wave. The bake is the time between the pull requests of an upgrade's steps
(`tfgen upgrade`): this command does not wait it out, it prints it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..orchestrate.graph import RootGraph, UsageError
from ..orchestrate.report import RunReport
from .aws import AccessError, Connect, EnvironmentSessions, default_connect, provider_access

__all__ = ["WaveResult", "WavesReport", "apply_waves"]

Run = Callable[[str, list[str]], RunReport]  # (command, roots) -> the orchestrator's report
Describe = Callable[[str, dict], str]  # (environment, a wave's cluster record) -> the version EKS reports


@dataclass
class WaveResult:
    """One wave of one environment: its roots, what failed (cluster path -> why) and what was not verified."""

    environment: str
    number: int
    roots: list[str]
    failed: dict[str, str] = field(default_factory=dict)
    unverified: list[str] = field(default_factory=list)
    why_unverified: str = ""
    tolerance: int = 0

    @property
    def ok(self) -> bool:
        return len(self.failed) <= self.tolerance


@dataclass
class WavesReport:
    """Every wave run, where the run stopped (if it did), and the roots in no wave."""

    waves: list[WaveResult] = field(default_factory=list)
    stopped: str = ""
    rest: RunReport | None = None
    lines: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.stopped or any(w.failed for w in self.waves):
            return 1
        return self.rest.exit_code if self.rest is not None else 0


def apply_waves(graph: RootGraph, run: Run, *, describe: Describe | None = None,
                log: Callable[[str], None] = print) -> WavesReport:
    """Apply the build of `graph` wave by wave through `run`; `describe` reads a cluster's version from EKS
    (None: the versions are not verified and the report says so; AccessError: see the module)."""
    waves = graph.waves or {}
    if not waves:
        raise UsageError(f"{graph.out}: the build records no rollout waves (the spec writes no `rollout`, or no "
                         f"environment is in the cells layout, where each region is a root). Fix: add `rollout:` "
                         f"to the spec and build again, or apply without --waves")
    report = WavesReport()
    in_waves: set[str] = set()
    for env, record in sorted(waves.items()):
        tolerance = int(record.get("failure_tolerance", 0))
        for number, (roots, clusters) in enumerate(zip(record["waves"], record["clusters"]), start=1):
            roots = [r for r in roots if r in graph.needs]
            in_waves.update(roots)
            wave = WaveResult(env, number, roots, tolerance=tolerance)
            report.waves.append(wave)
            log(f"{env} wave {number}: {', '.join(roots) or 'no root of its own'} "
                f"({', '.join(c['path'] for c in clusters)})")
            _verify(wave, clusters, run, describe, log)
            if not wave.ok:
                report.stopped = (f"{env} wave {number}: {len(wave.failed)} cluster(s) failed, more than the "
                                  f"failure tolerance {tolerance}; later waves were not run")
                log(f"stopped: {report.stopped}")
                return report
            if number < len(record["waves"]):
                log(f"{env} wave {number} verified; its bake ({record.get('bake', '')}) runs before the next "
                    f"wave's change: this command does not wait it out")
    rest = [r for r in graph.order() if r not in in_waves]
    if rest:
        log(f"roots in no wave: {', '.join(rest)}")
        report.rest = run("apply", rest)
    return report


def _verify(wave: WaveResult, clusters: list[dict[str, Any]], run: Run, describe: Describe | None,
            log: Callable[[str], None]) -> None:
    by_root: dict[str, list[str]] = {}
    for cluster in clusters:
        by_root.setdefault(f"{wave.environment}--{cluster['region']}", []).append(cluster["path"])
    if wave.roots:
        applied = run("apply", wave.roots)
        broken = {r.root: r.reason or r.status for r in applied.roots if r.status != "ok"}
        replanned = run("plan", [r for r in wave.roots if r not in broken])
        for result in replanned.roots:
            if result.status not in ("ok", "waiting"):
                broken[result.root] = f"the re-plan failed: {result.reason or result.status}"
            elif result.counts is not None and result.counts.any:
                c = result.counts
                broken[result.root] = (f"the re-plan after the apply is not empty ({c.add} to add, {c.change} to "
                                       f"change, {c.destroy} to destroy)")
        for root, why in broken.items():
            for path in by_root.get(root, [root]):
                wave.failed[path] = why
    denied: dict[str, str] = {}
    for cluster in clusters:
        if cluster["path"] in wave.failed:
            continue
        if describe is None:
            wave.unverified.append(cluster["path"])
            wave.why_unverified = "no AWS credentials"
            continue
        try:
            version = describe(wave.environment, cluster)
        except AccessError as exc:
            if exc.no_credentials:
                wave.unverified.append(cluster["path"])
                wave.why_unverified = str(exc)
            else:
                denied[str(exc)] = ""
                wave.failed[cluster["path"]] = ("not verified: its environment's credentials could not be had "
                                                "(see above)")
            continue
        except Exception as exc:  # botocore's errors: the cluster failed verification, never passed
            wave.failed[cluster["path"]] = f"EKS did not describe it: {type(exc).__name__}: {exc}"
            continue
        if version != cluster["version"]:
            wave.failed[cluster["path"]] = f"EKS reports Kubernetes {version}, the build gives it {cluster['version']}"
    for why in denied:
        log(f"  {why}")
    for path, why in wave.failed.items():
        log(f"  FAILED {path}: {why}")
    if wave.unverified:
        log(f"  not verified through the EKS API: {', '.join(wave.unverified)}: {wave.why_unverified}")


def eks_describe(out: Any, connect: Connect | None = None) -> Describe:
    """`DescribeCluster` of each cluster with its environment's credentials (`tfgen.upgrade.aws`): the role the
    providers of its root assume, in its region; `connect` defaults to boto3's default chain."""
    sessions = EnvironmentSessions(connect if connect is not None else default_connect())

    def describe(environment: str, cluster: dict) -> str:
        access = provider_access(out, f"{environment}--{cluster['region']}", cluster["region"])
        client = sessions.client(environment, access, "eks", cluster["region"])
        version: str = client.describe_cluster(name=cluster["name"])["cluster"]["version"]
        return version

    return describe
