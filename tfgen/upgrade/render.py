"""An upgrade plan as text (people, pull requests) and as JSON (programs): the same content in both."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from .planner import CONTROL_PLANE, EXTENDED_HOURLY, HOURS_PER_MONTH, NODES_AND_ADDONS, STANDARD_HOURLY, Step, \
    UpgradePlan

__all__ = ["as_dict", "to_json", "to_text", "describe_step"]

_TITLES = {CONTROL_PLANE: "control planes", NODES_AND_ADDONS: "node groups and add-ons follow", "vpc-cni": "VPC CNI"}


def as_dict(plan: UpgradePlan) -> dict[str, Any]:
    """The plan as JSON-ready data."""
    return {
        "target": plan.target,
        "today": plan.today.isoformat(),
        "calendar": [{"version": v.version, "released": v.released.isoformat(),
                      "standard_end": v.standard_end.isoformat(), "extended_end": v.extended_end.isoformat(),
                      "phase": v.phase(plan.today)} for v in plan.calendar],
        "costs": [{**asdict(c), "extended_from": c.extended_from.isoformat()} for c in plan.costs],
        "prices": {"standard_per_cluster_hour": STANDARD_HOURLY, "extended_per_cluster_hour": EXTENDED_HOURLY,
                   "hours_per_month": HOURS_PER_MONTH},
        "environments": [{
            "name": env.name, "waves": env.waves, "bake": env.bake, "failure_tolerance": env.failure_tolerance,
            "start": {path: {"control_plane": s.control, "node_groups": dict(s.nodes), "skew": s.skew}
                      for path, s in env.start.items()},
            "bake_hours_total": env.bake_total_hours,
            "steps": [_step_dict(s) for s in env.steps],
        } for env in plan.environments],
        "notes": plan.notes,
    }


def _step_dict(step: Step) -> dict[str, Any]:
    return {
        "number": step.number, "kind": step.kind, "wave": step.wave, "clusters": list(step.clusters),
        "control_plane": {"before": step.before, "after": step.after},
        "node_groups": [{"cluster": c, "group": g, "before": b, "after": a} for c, g, b, a in step.nodes],
        "addons": [asdict(a) for a in step.addons], "skew_after": step.skew, "bake": step.bake,
        "notes": list(step.notes),
    }


def to_json(plan: UpgradePlan) -> str:
    return json.dumps(as_dict(plan), indent=2, sort_keys=True) + "\n"


def describe_step(step: Step) -> str:
    """One line naming a step: what moves where."""
    clusters = ", ".join(step.clusters)
    if step.kind == CONTROL_PLANE:
        return (f"{step.environment} step {step.number}, wave {step.wave}: control planes {step.before} -> "
                f"{step.after} on {clusters} (nodes stay on {step.before})")
    if step.kind == NODES_AND_ADDONS:
        return (f"{step.environment} step {step.number}, wave {step.wave}: node groups and add-ons follow the "
                f"control planes to {step.after} on {clusters}")
    return f"{step.environment} step {step.number}, wave {step.wave}: the VPC CNI follows {step.after} on {clusters}"


def _money(value: float) -> str:
    return f"${value:,.2f}"


def to_text(plan: UpgradePlan) -> str:
    """The plan for people: per environment its waves and steps, then the calendar and what stalling costs."""
    lines = [f"Upgrade to Kubernetes {plan.target} (calendar as of {plan.today})", ""]
    for env in plan.environments:
        waves = "; ".join(f"{i + 1}: {', '.join(w)}" for i, w in enumerate(env.waves))
        lines.append(f"{env.name}: waves {waves}; bake {env.bake}; failure tolerance {env.failure_tolerance}")
        if not env.steps:
            lines += [f"  every cluster runs {plan.target}: nothing to do", ""]
            continue
        for step in env.steps:
            lines.append(f"  {step.number:>2}. wave {step.wave} {_TITLES[step.kind]}: {', '.join(step.clusters)}")
            if step.kind == CONTROL_PLANE:
                lines.append(f"      control plane {step.before} -> {step.after}; node groups stay on {step.before}")
            for cluster, group, before, after in step.nodes:
                if before != after:
                    lines.append(f"      node group {cluster}/{group}: {before} -> {after}")
            for move in step.addons:
                if step.kind == CONTROL_PLANE:
                    target = f" ({step.after}: {move.after})" if move.after else ""
                    lines.append(f"      add-on {move.addon}: stays {move.before}{target}: {move.note}")
                else:
                    lines.append(f"      add-on {move.addon}: {move.before} -> {move.after}"
                                 + (f" ({move.note})" if move.note else ""))
            lines.append(f"      node skew after: {step.skew} minor(s) (at most 3; never ahead)")
            if step.bake:
                lines.append(f"      bake {step.bake} before the next step")
            lines += [f"      note: {note}" for note in step.notes]
        hours = env.bake_total_hours
        lines += [f"  {len(env.steps)} steps, each one reviewed pull request (`tfgen upgrade --write`); bakes add up "
                  f"to {hours:g} h ({hours / 24:g} days) at least", ""]
    lines.append("EKS calendar of every version on the way:")
    for v in plan.calendar:
        lines.append(f"  {v.version}: standard support until {v.standard_end}, extended until {v.extended_end} "
                     f"({v.phase(plan.today)} on {plan.today})")
    if plan.costs:
        lines += ["", f"What a stalled fleet pays ({_money(STANDARD_HOURLY)} per cluster-hour in standard support, "
                      f"{_money(EXTENDED_HOURLY)} in extended, {HOURS_PER_MONTH} h a month):"]
        for c in plan.costs:
            since = "since" if c.extended_from <= plan.today else "from"
            standard = c.clusters - c.extended
            who = [f"{c.extended} with `support: extended` billed so"] if c.extended else []
            who += [f"{standard} with `support: standard` upgraded by EKS itself then, outside the waves"] if standard \
                else []
            lines.append(f"  {c.clusters} cluster(s) pass through {c.version}; stalled there {since} "
                         f"{c.extended_from}: {_money(c.extended_month)}/month in extended support instead of "
                         f"{_money(c.standard_month)} ({'; '.join(who)})")
    lines += [f"note: {n}" for n in plan.notes]
    return "\n".join(lines) + "\n"

