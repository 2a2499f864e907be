"""The plan of a fleet's Kubernetes upgrade: steps from what the spec says now to the target, inside EKS's rules.

The plan is computed from the spec's current state, so after each step is
written (`tfgen upgrade --write`), built and applied, the same command plans the
rest. Per environment (its `rollout`, `tfgen.model.rollout`), one minor at a
time across the whole environment, wave by wave:

1. `control-plane`: the wave's clusters go up one minor; their node groups are
   pinned to the old minor and their add-ons to the old minor's versions, so
   EKS can still roll the control planes back (it rolls back neither nodes nor
   add-ons) while the wave bakes;
2. `nodes-and-addons`, after the bake: the pins go, nodes and add-ons (but the
   VPC CNI) follow the control plane;
3. `vpc-cni`: the VPC CNI follows, in a step of its own (EKS moves it one
   add-on minor per update; the table moves it at most one per Kubernetes minor).

A step held back (pins of a written step) is finished before any control plane
moves again, so the node skew never exceeds one minor. Add-on versions come
from tfgen's table (`tfgen.model.addons`); where it has a gap the add-on stays
where it is, and the plan says so. The calendar is `tfgen.model.kubernetes`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from ..checks.platform import today as calendar_today
from ..errors import Finding, FindingsError, condense
from ..lifecycle.versions import minor
from ..model import ADDONS, SUPPORT_EXTENDED, Environment, Fleet
from ..model.addons import REGENERATE, table_version
from ..model.kubernetes import EKS_VERSIONS, EksVersion, lookup
from ..model.rollout import DEFAULT_BAKE, ROLLBACK_WINDOW_HOURS, bake_hours, resolve_waves

__all__ = ["STEP_KINDS", "CONTROL_PLANE", "NODES_AND_ADDONS", "VPC_CNI", "ClusterState", "AddonMove", "Step",
           "Cost", "EnvironmentPlan", "UpgradePlan", "plan_upgrade", "read_state", "apply_step", "moves",
           "STANDARD_HOURLY", "EXTENDED_HOURLY", "HOURS_PER_MONTH"]

CONTROL_PLANE = "control-plane"
NODES_AND_ADDONS = "nodes-and-addons"
VPC_CNI = "vpc-cni"
STEP_KINDS = (CONTROL_PLANE, NODES_AND_ADDONS, VPC_CNI)
# EKS pricing: a cluster-hour in standard support, and in extended support; AWS bills a month as 730 hours.
STANDARD_HOURLY = 0.10
EXTENDED_HOURLY = 0.60
HOURS_PER_MONTH = 730
_CNI = "vpc-cni"


@dataclass(frozen=True)
class ClusterState:
    """What one cluster runs as the spec says: its control plane, each node group's version, the add-ons held
    at the previous minor's versions (pins of a written step) and the add-ons the user pinned."""

    path: str  # region/cluster
    control: str
    nodes: tuple[tuple[str, str], ...]  # (node group, version), by name
    held: frozenset[str] = frozenset()
    pinned: tuple[tuple[str, str, str], ...] = ()  # (add-on, version, "cluster" or "environment")
    support: str = "standard"
    hub: bool = False

    @property
    def skew(self) -> int:
        """How many minors the oldest node group is behind the control plane."""
        control = minor(self.control)
        lows = [minor(v) for _, v in self.nodes]
        if control is None or not lows or any(v is None for v in lows):
            return 0
        return max(control[1] - v[1] for v in lows if v is not None)

    @property
    def nodes_held(self) -> bool:
        return any(minor(v) != minor(self.control) for _, v in self.nodes)

    def pinned_addons(self) -> set[str]:
        return {name for name, _, _ in self.pinned}


@dataclass(frozen=True)
class AddonMove:
    """One add-on of a step: from `before` to `after` (None: no version in tfgen's table), and why."""

    addon: str
    before: str | None
    after: str | None
    note: str = ""


@dataclass(frozen=True)
class Step:
    """One reviewed change: a kind of `STEP_KINDS` on the clusters of one wave of one environment."""

    number: int
    environment: str
    kind: str
    wave: int  # 1-based
    clusters: tuple[str, ...]  # region/cluster
    before: str  # the control planes' minor before the step
    after: str  # and after it
    nodes: tuple[tuple[str, str, str, str], ...]  # (cluster, group, version before, after)
    addons: tuple[AddonMove, ...]
    skew: int  # the largest node skew in the environment after the step
    bake: str | None  # the wait after this step before the next (control-plane steps)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cost:
    """What the clusters passing through `version` pay per month if the fleet stalls there in extended support."""

    version: str
    extended_from: date
    clusters: int
    extended: int  # of them, `support: extended`: billed
    standard_month: float
    extended_month: float


@dataclass
class EnvironmentPlan:
    """The upgrade of one environment: its waves, bake and tolerance, where it starts and the steps."""

    name: str
    waves: list[list[str]]
    bake: str
    failure_tolerance: int
    start: dict[str, ClusterState]
    steps: list[Step] = field(default_factory=list)

    @property
    def bake_total_hours(self) -> float:
        return sum(bake_hours(s.bake) or 0 for s in self.steps if s.bake)


@dataclass
class UpgradePlan:
    """The whole plan: the target, the date it was made on, each environment's steps, the calendar of every
    version on the way and what stalling costs."""

    target: str
    today: date
    environments: list[EnvironmentPlan]
    calendar: list[EksVersion]
    costs: list[Cost]
    notes: list[str] = field(default_factory=list)

    @property
    def steps(self) -> list[Step]:
        return [s for env in self.environments for s in env.steps]


def _next_minor(version: str) -> str:
    major, low = minor(version) or (1, 0)
    return f"{major}.{low + 1}"


def _previous_minor(version: str) -> str | None:
    found = minor(version)
    return f"{found[0]}.{found[1] - 1}" if found and found[1] > 0 else None


def moves(addon: str, before: str, after: str) -> bool:
    """Whether tfgen's table moves `addon` between the two minors (both rows known and different)."""
    old, new = table_version(addon, before), table_version(addon, after)
    return old is not None and new is not None and old != new


def read_state(env: Environment, region: str, cluster) -> ClusterState:
    """The state of one cluster as its spec says it; cluster-level add-on pins at the previous minor's table
    version, where the table moves the add-on, are a written step's holds."""
    control = cluster.kubernetes_version
    previous = _previous_minor(control)
    held, pinned = set(), []
    for name in ADDONS:
        own = cluster.addons.get(name)
        if own is not None and own.version:
            if previous and own.version == table_version(name, previous) and moves(name, previous, control):
                held.add(name)
            else:
                pinned.append((name, own.version, "cluster"))
        elif env.addons.get(name) is not None and env.addons[name].version:
            pinned.append((name, env.addons[name].version, "environment"))
    nodes = tuple(sorted((g.name, g.version or control) for g in cluster.node_groups.values()))
    return ClusterState(f"{region}/{cluster.name}", control, nodes, frozenset(held), tuple(pinned),
                        cluster.support, cluster.is_hub)


def apply_step(state: dict[str, ClusterState], step: Step) -> dict[str, ClusterState]:
    """The states after `step`."""
    after = dict(state)
    for path in step.clusters:
        s = state[path]
        if step.kind == CONTROL_PLANE:
            held = {a for a in ADDONS if a not in s.pinned_addons() and moves(a, s.control, step.after)}
            after[path] = replace(s, control=step.after, held=frozenset(held))
        elif step.kind == NODES_AND_ADDONS:
            after[path] = replace(s, nodes=tuple((g, s.control) for g, _ in s.nodes), held=s.held & {_CNI})
        else:
            after[path] = replace(s, held=s.held - {_CNI})
    return after


def _next_step(env: EnvironmentPlan, state: dict[str, ClusterState], target: str, number: int) -> Step | None:
    for i, wave in enumerate(env.waves):
        waiting = [p for p in wave if state[p].nodes_held or state[p].held - {_CNI}]
        if waiting:
            return _make(env, state, NODES_AND_ADDONS, i, waiting, number)
        cni = [p for p in wave if _CNI in state[p].held]
        if cni:
            return _make(env, state, VPC_CNI, i, cni, number)
    below = [minor(s.control) for s in state.values() if (minor(s.control) or (0, 0)) < (minor(target) or (0, 0))]
    if not below:
        return None
    low = min(v for v in below if v is not None)
    for i, wave in enumerate(env.waves):
        members = [p for p in wave if minor(state[p].control) == low]
        if members:
            return _make(env, state, CONTROL_PLANE, i, members, number)
    return None


def _make(env: EnvironmentPlan, state: dict[str, ClusterState], kind: str, wave: int, members: list[str],
          number: int) -> Step:
    first = state[members[0]]
    before = first.control
    after = _next_minor(before) if kind == CONTROL_PLANE else before
    nodes, addons, notes = [], {}, []
    previous = _previous_minor(before)
    for path in members:
        s = state[path]
        if kind == CONTROL_PLANE:
            nodes += [(path, g, v, v) for g, v in s.nodes]
            for a in ADDONS:
                if a in s.pinned_addons():
                    version = next(v for n, v, _ in s.pinned if n == a)
                    addons[a] = AddonMove(a, version, version, "pinned in the spec: does not follow; check it "
                                          f"supports {after} (aws eks describe-addon-versions)")
                elif moves(a, before, after):
                    addons[a] = AddonMove(a, table_version(a, before), table_version(a, after),
                                          f"held at the {before} version until the bake ends")
                elif table_version(a, after) is None:
                    addons[a] = AddonMove(a, table_version(a, before), None,
                                          f"none in tfgen's table for {after}: stays where it is unless pinned "
                                          "(VAL423)")
        elif kind == NODES_AND_ADDONS:
            nodes += [(path, g, v, s.control) for g, v in s.nodes if minor(v) != minor(s.control)]
            for a in sorted(s.held - {_CNI}):
                addons[a] = AddonMove(a, table_version(a, previous or before), table_version(a, s.control))
        else:
            old, new = table_version(_CNI, previous or before), table_version(_CNI, s.control)
            span = _addon_minors(old, new)
            note = ("one add-on minor per update, as EKS requires" if span <= 1 else
                    f"{span} add-on minors: EKS refuses more than one per update, so pin each minor on the way "
                    "(addons.vpc-cni.version, aws eks describe-addon-versions) in a build of its own (CHG533)")
            addons[_CNI] = AddonMove(_CNI, old, new, note)
    hours = bake_hours(env.bake)
    bake = env.bake if kind == CONTROL_PLANE else None
    wave_name = f"wave {wave + 1}"
    if kind == CONTROL_PLANE:
        if not hours:
            notes.append(f"no bake: the nodes follow at once, and once they run {after} EKS can no longer roll "
                         f"{wave_name}'s control planes back to {before}")
        elif hours > ROLLBACK_WINDOW_HOURS:
            notes.append(f"the bake ({env.bake}) outlasts EKS's 7-day rollback window: roll {wave_name} back to "
                         f"{before} within its first 7 days if at all")
        else:
            notes.append(f"rollback stays possible: EKS can roll {wave_name}'s control planes back to {before} "
                         f"within 7 days, as long as their nodes and add-ons stay on {before} (this step pins them)")
    elif kind == NODES_AND_ADDONS:
        notes.append(f"after this step EKS can no longer roll {wave_name}'s control planes back to {previous}: "
                     "node groups and add-ons are not rolled back")
    step = Step(number, env.name, kind, wave + 1, tuple(members), before, after, tuple(nodes),
                tuple(addons[a] for a in ADDONS if a in addons), 0, bake, tuple(notes))
    skew = max((s.skew for s in apply_step(state, step).values()), default=0)
    return replace(step, skew=skew)


def _addon_minors(before: str | None, after: str | None) -> int:
    """How many add-on minors `v1.20.5-eksbuild.1` -> `v1.21.1-eksbuild.1` moves (1 where unknown)."""
    old, new = (re.fullmatch(r"v(\d+)\.(\d+)\.\d+-eksbuild\.\d+", v or "") for v in (before, after))
    if old is None or new is None or old[1] != new[1]:
        return 1
    return abs(int(new[2]) - int(old[2]))


def _refusals(envs: list[Environment], target: str, today: date) -> list[Finding]:
    entry = lookup(target)
    known = ", ".join(EKS_VERSIONS)
    if entry is None:
        return [Finding("CHG570", f"EKS does not offer Kubernetes {target!r} (tfgen's calendar knows {known})",
                        f"upgrade to one of {known}")]
    if entry.released > today:
        return [Finding("CHG570", f"Kubernetes {target} comes to EKS on {entry.released}, after {today}",
                        "upgrade to a version EKS offers today")]
    if entry.phase(today) == "ended":
        return [Finding("CHG570", f"Kubernetes {target} left EKS extended support on {entry.extended_end}: EKS "
                        "creates and keeps no cluster of it", "upgrade to a version EKS still supports")]
    findings = []
    for env in envs:
        for region, cluster in env.clusters():
            if (minor(cluster.kubernetes_version) or (0, 0)) > (minor(target) or (0, 0)):
                findings.append(Finding(
                    "CHG571", f"the cluster runs Kubernetes {cluster.kubernetes_version}, above the target {target}: "
                    "EKS cannot downgrade a control plane",
                    f"upgrade to {cluster.kubernetes_version} or later, or leave this environment out (--env)",
                    path=f"{env.name}/{region.name}/{cluster.name}", origin=cluster.origin("kubernetes_version")))
    return findings


def _costs(envs: list[EnvironmentPlan], target: str, today: date) -> list[Cost]:
    costs = []
    for entry in sorted(EKS_VERSIONS.values(), key=lambda v: minor(v.version) or (0, 0)):
        v = minor(entry.version)
        passing = [s for env in envs for s in env.start.values()
                   if (minor(s.control) or (0, 0)) <= (v or (0, 0)) < (minor(target) or (0, 0))]
        if not passing:
            continue
        n = len(passing)
        costs.append(Cost(entry.version, entry.standard_end + timedelta(days=1), n,
                          sum(1 for s in passing if s.support == SUPPORT_EXTENDED),
                          round(n * STANDARD_HOURLY * HOURS_PER_MONTH, 2),
                          round(n * EXTENDED_HOURLY * HOURS_PER_MONTH, 2)))
    return costs


def plan_upgrade(fleet: Fleet, to: str, *, environments: list[str] | None = None,
                 today: date | None = None) -> UpgradePlan:
    """The plan taking every cluster of `environments` (default: all) to Kubernetes `to`; `today` (default:
    `TFGEN_TODAY` or the system date) dates the calendar. Raises FindingsError (CHG570, CHG571) for a target
    EKS does not offer or one below a cluster's version."""
    today = today or calendar_today()
    envs = [fleet.environment(name) for name in environments] if environments else list(fleet.environments.values())
    refused = _refusals(envs, to, today)
    if refused:
        raise FindingsError(condense(refused))
    plans = []
    for env in envs:
        rollout = fleet.rollout_of(env)
        start = {f"{r.name}/{c.name}": read_state(env, r.name, c) for r, c in env.clusters()}
        plan = EnvironmentPlan(env.name, resolve_waves(env, rollout), rollout.bake if rollout else DEFAULT_BAKE,
                               rollout.failure_tolerance if rollout else 0, start)
        state = start
        for number in range(1, 10_000):
            step = _next_step(plan, state, to, number)
            if step is None:
                break
            plan.steps.append(step)
            state = apply_step(state, step)
        plans.append(plan)
    gaps = sorted({(v, a) for p in plans for st in p.steps for a in ADDONS
                   for v in [st.after] if st.kind == CONTROL_PLANE and table_version(a, v) is None})
    notes = [f"tfgen's add-on table has no {v} version of {', '.join(a for w, a in gaps if w == v)}: those add-ons "
             f"stay where they are through the {v} steps; pin them (addons.<name>.version) or regenerate the "
             f"table ({REGENERATE}) before the first {v} step" for v in sorted({v for v, _ in gaps})]
    lowest = min((minor(s.control) for p in plans for s in p.start.values()), default=minor(to))
    calendar = [v for v in EKS_VERSIONS.values() if (lowest or (0, 0)) <= (minor(v.version) or (0, 0))
                <= (minor(to) or (0, 0))]
    return UpgradePlan(to, today, plans, calendar, _costs(plans, to, today), notes)
