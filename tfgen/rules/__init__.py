"""The rule registry: every finding code tfgen raises, declared once.

Each code has one entry (`Rule`): a one-line title, what the rule reads (`READS`),
its severity, the fix, and a paragraph on why it matters. The entries are data,
one TOML file per family beside this module (`FAMILIES`), read with `tomllib` the
first time `registry()` is called: `tfgen explain`, `tfgen rules` and the tests
read them, a build never does. Codes tfgen no longer raises stay answerable
(`Retired`, in `retired.toml`): a CI log from an older release still explains.

Nothing here imports more of tfgen than `tfgen.errors`; the CLI's parser imports this
module for `READS` and `FORMATS`, so what only reading needs is imported when reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..errors import Severity

__all__ = ["READS", "FORMATS", "FAMILIES", "CODE", "Rule", "Retired", "Registry", "registry"]

# What a rule reads.
READS = {
    "spec": "the spec's text as it is read (and the allocations file beside it)",
    "model": "the fleet the spec or Python code makes, before anything is emitted",
    "emitted": "the documents a build emits, before anything is written",
    "output": "the Terraform JSON of a built output directory (what tfgen check reads; a build reads the last one)",
    "plan": "the plan of a built root (tfgen check --plan)",
}
# How `tfgen rules` lists them.
FORMATS = ("text", "json", "markdown")
# The families: the TOML file each is kept in, and its heading, in the order `tfgen rules` lists them.
FAMILIES = {
    "spec": "The spec's shape",
    "values": "The fleet's values",
    "platform": "What runs on the clusters",
    "network": "The network",
    "gitops": "The GitOps path, on emitted documents",
    "gate": "The policy gate (tfgen check)",
    "upgrades": "Upgrades EKS accepts (against the previous build or a real plan)",
}
# What a finding code looks like, in every family.
CODE = re.compile(r"(?:SPEC|VAL|NET|CHG)\d{3}|TFGEN_(?:\d+|READ|SCHEMA)|CKV2?_TFGEN_\d+")

_KEYS = {"title", "reads", "severity", "severity_when", "fix", "explanation", "source"}
_REQUIRED = _KEYS - {"severity_when", "source"}


@dataclass(frozen=True)
class Rule:
    """One finding code: what it checks, on what input, how bad, how to fix it and why it matters."""

    code: str
    family: str
    title: str
    reads: tuple[str, ...]
    severities: tuple[Severity, ...]
    fix: str
    explanation: str
    severity_when: str = ""
    source: str = ""

    @property
    def severity(self) -> str:
        """`error`, `warning`, or `error or warning` for a code that fires at both."""
        return " or ".join(s.value for s in self.severities)

    def as_dict(self) -> dict:
        return {"code": self.code, "title": self.title, "reads": list(self.reads),
                "severity": [s.value for s in self.severities], "severity_when": self.severity_when,
                "fix": self.fix, "explanation": self.explanation, "source": self.source}


@dataclass(frozen=True)
class Retired:
    """A code tfgen raised once and no longer does: what took its place (if anything) and why."""

    code: str
    why: str
    successor: str = ""


@dataclass(frozen=True)
class Registry:
    """Every rule by code (in listing order), and the retired codes."""

    rules: dict[str, Rule]
    retired: dict[str, Retired]

    def of(self, reads: str | None = None) -> list[Rule]:
        """The rules in listing order; with `reads`, those that read that input."""
        return [r for r in self.rules.values() if reads is None or reads in r.reads]

    def close_to(self, code: str) -> list[str]:
        """Up to three known codes (current or retired) that look like `code`, most alike first."""
        import difflib

        return difflib.get_close_matches(code, [*self.rules, *self.retired], n=3, cutoff=0.6)


@lru_cache(maxsize=1)
def registry() -> Registry:
    """The registry, read from the package's TOML files once per process."""
    rules: dict[str, Rule] = {}
    for family in FAMILIES:
        for code, entry in _read(f"{family}.toml").items():
            if code in rules:
                raise ValueError(f"tfgen/rules/{family}.toml: [{code}] is declared twice")
            rules[code] = _rule(family, code, entry)
    retired = {}
    for code, entry in _read("retired.toml").items():
        if code in rules or not CODE.fullmatch(code) or set(entry) - {"why", "successor"} or "why" not in entry:
            raise ValueError(f"tfgen/rules/retired.toml: [{code}] must be a code no rule has, with `why` "
                             "(and `successor`)")
        if entry.get("successor") and entry["successor"] not in rules:
            raise ValueError(f"tfgen/rules/retired.toml: [{code}] names a successor no rule has")
        retired[code] = Retired(code, " ".join(entry["why"].split()), entry.get("successor", ""))
    order = list(FAMILIES)
    return Registry(dict(sorted(rules.items(), key=lambda item: (order.index(item[1].family), _number(item[0])))),
                    retired)


def _read(name: str) -> dict:
    import tomllib
    from importlib import resources

    return tomllib.loads(resources.files(__name__).joinpath(name).read_text(encoding="utf-8"))


def _number(code: str) -> tuple[int, str]:
    """Within a family, by number (the gate's CKV_, CKV2_ and TFGEN_ ids share one numbering), named ids last."""
    number = re.search(r"\d+$", code)
    return (int(number.group()) if number else 1 << 30), code


def _rule(family: str, code: str, entry: dict) -> Rule:
    def bad(problem: str) -> ValueError:
        return ValueError(f"tfgen/rules/{family}.toml: [{code}] {problem}")

    if not CODE.fullmatch(code):
        raise bad("is not a finding code")
    if set(entry) - _KEYS or _REQUIRED - set(entry):
        raise bad(f"needs {', '.join(sorted(_REQUIRED))} (and may have severity_when, source), "
                  f"has {', '.join(sorted(entry))}")
    reads = tuple(entry["reads"])
    if not reads or set(reads) - set(READS):
        raise bad(f"reads must list some of {', '.join(READS)}")
    given = entry["severity"]
    severities = tuple(Severity(s) for s in ([given] if isinstance(given, str) else given))
    if len(severities) != len(set(severities)) or bool(entry.get("severity_when")) != (len(severities) == 2):
        raise bad("has one severity, or both with `severity_when` saying when each")
    for key in ("title", "fix"):
        if "\n" in entry[key].strip():
            raise bad(f"{key} must be one line")
    return Rule(code=code, family=family, title=entry["title"].strip(), reads=reads, severities=severities,
                fix=entry["fix"].strip(), explanation=" ".join(entry["explanation"].split()),
                severity_when=entry.get("severity_when", "").strip(), source=entry.get("source", "").strip())
