"""Every check the gate runs, with its id, title and source, and the selection `--check`/`--skip-check` make.

Sources: `checkov` (its built-in Terraform checks), `tfgen policy` (checkov checks tfgen ships in
`tfgen.policies`), `tfgen rule` (rules `tfgen check` runs itself, titled by the rule registry in
tfgen/rules/), and `policies DIR` (a user's `--policies` directory).
"""

from __future__ import annotations

import difflib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import PolicyError
from .runner import checkov_checks

__all__ = ["CHECKOV", "TFGEN_POLICY", "TFGEN_RULE", "Check", "gate_checks", "tfgen_rules", "select", "render_list"]

CHECKOV, TFGEN_POLICY, TFGEN_RULE = "checkov", "tfgen policy", "tfgen rule"


@dataclass(frozen=True)
class Check:
    """One check of the gate: its id, a one-line title, and where it comes from."""

    id: str
    title: str
    source: str


def tfgen_rules() -> dict[str, str]:
    """`{code: title}` of the rules `tfgen check` runs itself, outside checkov (the registry's gate and GitOps
    families on a built output, the SSM size rule, and the waivers' own findings)."""
    from ..checks.ssm import CODE as SSM
    from ..rules import registry

    from .waivers import EXPIRED, UNREADABLE, UNUSED

    rules = registry().rules
    found = {code: rule.title for code, rule in rules.items()
             if rule.family in ("gate", "gitops") and "output" in rule.reads and not code.startswith("CKV")}
    for code in (SSM, EXPIRED, UNUSED, UNREADABLE):
        found[code] = rules[code].title
    return found


def gate_checks(policies: list[Path]) -> dict[str, Check]:
    """Every check a run with the policy directories `policies` (tfgen's first) runs, by id, sorted."""
    shipped, *users = [Path(p).resolve() for p in policies]
    found = {}
    for check_id, (title, path) in checkov_checks([shipped, *users]).items():
        source = CHECKOV
        if Path(path).resolve().parent == shipped:
            source = TFGEN_POLICY
        for user in users:
            if Path(path).resolve().is_relative_to(user):
                source = f"policies {user}"
        found[check_id] = Check(check_id, title, source)
    for code, title in tfgen_rules().items():
        found[code] = Check(code, title, TFGEN_RULE)
    return dict(sorted(found.items()))


def select(known: dict[str, Check], only: list[str], skip: list[str]) -> tuple[set[str], set[str]]:
    """The ids of `--check` and `--skip-check` (each a list of ids or comma lists), every one known to the gate;
    an unknown id is a usage error naming the closest ones."""
    chosen, problems = [], []
    for flag, given in (("--check", only), ("--skip-check", skip)):
        ids = {part.strip() for value in given for part in value.split(",") if part.strip()}
        hints = []
        for check_id in sorted(ids - set(known)):
            close = difflib.get_close_matches(check_id.upper(), list(known), n=3, cutoff=0.6)
            hints.append(f"{check_id}" + (f" (did you mean {' or '.join(close)}?)" if close else ""))
        if hints:
            problems.append(f"{flag} names checks the gate does not run: {', '.join(hints)}")
        chosen.append(ids)
    if problems:
        raise PolicyError("; ".join(problems) + "; fix: `tfgen check --list` lists every id")
    return chosen[0], chosen[1]


def render_list(checks: dict[str, Check], fmt: str) -> str:
    """The list of `tfgen check --list`: a line per check (`text`) or `json`."""
    if fmt == "json":
        return json.dumps({"checks": [asdict(c) for c in checks.values()]}, indent=2) + "\n"
    if fmt != "text":
        raise PolicyError(f"--list prints text or json, not {fmt}; fix: use --format text or --format json")
    width = max(len(c.id) for c in checks.values())
    lines = [f"{c.id:<{width}}  {c.source:<12}  {c.title}" for c in checks.values()]
    counts: dict[str, int] = {}
    for c in checks.values():
        counts[c.source] = counts.get(c.source, 0) + 1
    lines.append(f"{len(checks)} checks: " + ", ".join(f"{n} {source}" for source, n in sorted(counts.items())))
    return "\n".join(lines) + "\n"
