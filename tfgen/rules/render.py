"""The registry as people read it: one entry (`tfgen explain`), or the list as text, JSON or Markdown (`tfgen rules`)."""

from __future__ import annotations

import json
import textwrap

from . import FAMILIES, READS, Retired, Rule

__all__ = ["explain", "explain_retired", "listing"]

_WIDTH = 100


def explain(rule: Rule) -> str:
    """Everything the registry says about one code."""
    severity = rule.severity + (f" ({rule.severity_when})" if rule.severity_when else "")
    reads = [("reads" if i == 0 else "", f"{name}: {READS[name]}") for i, name in enumerate(rule.reads)]
    fields = [("severity", severity), *reads, ("fix", rule.fix)]
    lines = [f"{rule.code}: {rule.title}", ""]
    lines += [_field(label, text) for label, text in fields]
    lines += ["", _fill(rule.explanation)]
    if rule.source:
        lines += ["", _field("source", rule.source)]
    return "\n".join(lines) + "\n"


def explain_retired(retired: Retired, successor: Rule | None) -> str:
    """What became of a code tfgen no longer raises, then its successor's entry."""
    now = f"; it is now {retired.successor}" if retired.successor else ""
    text = f"{retired.code}: retired{now}\n\n{_fill(retired.why)}\n"
    return text + ("\n" + explain(successor) if successor else "")


def listing(rules: list[Rule], retired: list[Retired], fmt: str) -> str:
    """`rules`, then the `retired` codes, as `fmt`: text, json or markdown."""
    if fmt == "json":
        return json.dumps({"rules": [r.as_dict() for r in rules],
                           "retired": [{"code": r.code, "successor": r.successor, "why": r.why} for r in retired]},
                          indent=2, sort_keys=True) + "\n"
    if fmt == "markdown":
        return _markdown(rules, retired)
    width = max((len(r.code) for r in rules), default=0) + 2
    lines = [f"{r.code:<{width}}{r.severity:<18}{','.join(r.reads):<16}{r.title}" for r in rules]
    if retired:
        lines += ["", "retired: " + ", ".join(_retired_name(r) for r in retired)]
    return "\n".join(lines + [f"{len(rules)} rule(s); `tfgen explain CODE` says why each matters"]) + "\n"


def _fill(text: str, **indents) -> str:
    # Names, paths and ARNs stay whole: a line may run long rather than split `user-created` or an ARN.
    return textwrap.fill(text, _WIDTH, break_long_words=False, break_on_hyphens=False, **indents)


def _field(label: str, text: str) -> str:
    return _fill(text, initial_indent=f"{label:<15}", subsequent_indent=" " * 15)


def _retired_name(retired: Retired) -> str:
    return retired.code + (f" (now {retired.successor})" if retired.successor else "")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _markdown(rules: list[Rule], retired: list[Retired]) -> str:
    lines = []
    for family, heading in FAMILIES.items():
        members = [r for r in rules if r.family == family]
        if not members:
            continue
        lines += [f"**{heading}**", "", "| code | severity | reads | finds | fix |", "| --- | --- | --- | --- | --- |"]
        lines += [f"| `{r.code}` | {r.severity} | {', '.join(r.reads)} | {_cell(r.title)} | {_cell(r.fix)} |"
                  for r in members]
        lines.append("")
    if retired:
        lines.append("Retired codes, which `tfgen explain` still answers: "
                     + ", ".join(f"`{r.code}`" + (f" (now `{r.successor}`)" if r.successor else "") for r in retired)
                     + ".")
    return "\n".join(lines).rstrip("\n") + "\n"
