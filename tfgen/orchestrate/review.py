"""What a reviewer reads of a run: per root the resources to add, change, replace and destroy (from the plan's
JSON, `RootResult.review`), with why; as terminal text or as Markdown for pull-request comments and job
summaries. The most dangerous first: replacements, then destroys, changes, additions.

The fleet's summary and the guard's findings (the lifecycle stage's) come with them from the caller
(`tfgen.orchestrate.commands`), already rendered; JSON is `RunReport.as_dict()` with the same per-root changes.
"""

from __future__ import annotations

import re

from ..lifecycle.summary import FleetDiff
from ..terraform.changes import Action, ResourceChange
from ..terraform.planjson import PlanJson
from .report import RootResult, RunReport

__all__ = ["ORDER", "WORDS", "counts_line", "root_lines", "diff_text", "diff_markdown", "fleet_markdown", "cell"]

ORDER = (Action.REPLACE, Action.DELETE, Action.FORGET, Action.UPDATE, Action.CREATE)
WORDS = {Action.REPLACE: "replace", Action.DELETE: "destroy", Action.FORGET: "forget", Action.UPDATE: "change",
         Action.CREATE: "add"}
_FOLDED = 30  # Markdown: a root with more changes than this shows them folded (<details>)
_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def _sorted(plan: PlanJson) -> list[ResourceChange]:
    return sorted(plan.changed, key=lambda c: (ORDER.index(c.action), c.address))


def counts_line(result: RootResult) -> str:
    """`1 to add, 2 to change, 1 to replace, 0 to destroy` (and what else applying changes), or `no changes`."""
    plan = result.review
    if plan is None:
        return f"{result.status}: {result.reason}" if result.reason else result.status
    if not plan.any:
        return "no changes"
    counted = {action: 0 for action in ORDER}
    for change in plan.changed:
        counted[change.action] += 1
    parts = [f"{counted[Action.CREATE]} to add", f"{counted[Action.UPDATE]} to change",
             f"{counted[Action.REPLACE]} to replace", f"{counted[Action.DELETE]} to destroy"]
    if counted[Action.FORGET]:
        parts.append(f"{counted[Action.FORGET]} to forget (kept, no longer managed)")
    if plan.moved:
        parts.append(f"{len(plan.moved)} moved or imported")
    if plan.outputs:
        parts.append(f"outputs {', '.join(plan.outputs)}")
    return ", ".join(parts)


def root_lines(plan: PlanJson) -> list[str]:
    """One line per resource that changes: action, address, why."""
    changes = _sorted(plan)
    width = max((len(c.address) for c in changes), default=0)
    return [f"{WORDS[c.action]:<8} {c.address:<{width}}  {'; '.join(c.reasons)}".rstrip() for c in changes]


def diff_text(report: RunReport) -> str:
    """Per root that was planned: its counts line, then a line per resource (text for the terminal)."""
    lines = []
    for result in report.roots:
        if result.review is None:
            continue
        lines.append(f"{result.root}: {counts_line(result)}")
        lines += [f"  {line}" for line in root_lines(result.review)]
    return "\n".join(lines) + ("\n" if lines else "")


def cell(text: str) -> str:
    """`text` as the content of a Markdown table cell: no markup of its own, on one line."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def diff_markdown(report: RunReport) -> str:
    """The per-root table and, per root that changes, its resources (folded when long), as Markdown."""
    lines = ["| root | add | change | replace | destroy | result |", "| --- | ---: | ---: | ---: | ---: | --- |"]
    for result in report.roots:
        counts = result.counts
        numbers = ([counts.add, counts.change, counts.replace, counts.destroy] if counts is not None
                   else ["-"] * 4)
        status = "no changes" if result.review is not None and not result.review.any and result.status == "ok" \
            else result.status
        lines.append(f"| {cell(result.root)} | " + " | ".join(str(n) for n in numbers) + f" | {cell(status)} |")
    for result in report.roots:
        if result.status != "ok" and result.reason:
            lines += ["", f"**{cell(result.root)}**: {cell(result.status)}: {cell(result.reason)}"]
            lines += [f"> {cell(error)}" for error in result.errors]
        plan = result.review
        if plan is None or not plan.any:
            continue
        lines += ["", f"#### {cell(result.root)}: {cell(counts_line(result))}", ""]
        changes = _sorted(plan)
        table = ["| action | resource | why |", "| --- | --- | --- |"]
        table += [f"| {'**' + WORDS[c.action] + '**' if c.action in ORDER[:3] else WORDS[c.action]} | "
                  f"{cell(c.address)} | {cell('; '.join(c.reasons))} |" for c in changes]
        if len(changes) > _FOLDED:
            lines += ["<details><summary>" + f"{len(changes)} resources" + "</summary>", "", *table, "",
                      "</details>"]
        else:
            lines += table
    return "\n".join(lines) + "\n"


def fleet_markdown(fleet: FleetDiff) -> str:
    """The fleet summary as a Markdown table, every cell escaped (values come from the plans)."""
    lines = [f"**Fleet diff** against {cell(fleet.against)}", "", "| object | status | why | resources |",
             "| --- | --- | --- | --- |"]
    for o in fleet.objects:
        counts = ", ".join(f"{n} to {a}" for a, n in o.counts.items())
        status = f"**{o.status}**" if o.status.isupper() else str(o.status)
        lines.append(f"| {cell(o.path)} | {status} | {cell('; '.join(o.why))} | {cell(counts)} |")
    if fleet.unchanged:
        lines += ["", f"{fleet.unchanged} object(s) unchanged."]
    lines += [f"Note: {cell(note)}" for note in fleet.notes]
    return "\n".join(lines) + "\n"
