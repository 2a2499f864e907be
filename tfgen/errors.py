"""Errors and findings.

Hierarchy (every subclass of `TfgenError` in tfgen, with the module that defines it
when it is not this one; a test holds this drawing to the code)::

    TfgenError                 base of everything tfgen raises on purpose (exit 2)
    ├── FindingsError          the spec or the fleet has findings (exit 1)
    │   └── SpecError          the spec's shape is wrong (unknown keys, types, YAML)
    ├── StaleOutputError       `build --check`: out/ differs from the spec (exit 1)
    ├── OutputConflictError    out/ holds a file tfgen does not own (exit 2)
    ├── ToolchainError         terraform / provider / AWS double unusable (exit 2)
    │   ├── TerraformStopped   a terraform command stopped before it ended (terraform.run)
    │   ├── _TerraformFailed   terraform failed on a plan's copy, the copy kept (terraform.plan)
    │   └── DoubleStopped      the AWS double died during a sandbox run (sandbox.pipeline)
    ├── PolicyError            `tfgen check` cannot run: no roots, bad policy dir, checkov (exit 2)
    ├── UsageError             plan/apply/destroy/ci cannot run on this input (orchestrate.graph, exit 2)
    ├── PlanJsonError          a plan's `terraform show -json` tfgen cannot read (terraform.planjson, exit 2)
    ├── GitOpsError            `tfgen gitops` cannot read the outputs (terraform.outputs, exit 2)
    ├── OutputsError           the outputs lack what a cluster Secret needs (gitops, exit 1)
    ├── MigrationError         a layout migration refused or stopped, saying what it left (migrate.run, exit 1)
    ├── WriteError             `tfgen upgrade --write` cannot rewrite the spec to the step (upgrade.writer, exit 2)
    └── BootstrapError         the bootstrap's input cannot make a script (bootstrap.errors, exit 1)
        └── ManifestError      a manifest does not validate (bootstrap.errors)

A `Finding` is one problem with the user's input: a stable code, a severity,
the object it is about, where it was written and how to fix it. Checks collect
every finding and raise once, so a user fixes a spec in one round.

`condense` is the one place findings are grouped and capped: findings that
differ only in the object they are about become one finding naming the
others, and no code is shown more than `FINDINGS_PER_CODE` times.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import Iterable

__all__ = [
    "Severity",
    "Origin",
    "Finding",
    "condense",
    "FINDINGS_PER_CODE",
    "OTHERS_SHOWN",
    "TfgenError",
    "FindingsError",
    "SpecError",
    "StaleOutputError",
    "OutputConflictError",
    "ToolchainError",
    "PolicyError",
]


class Severity(str, Enum):
    """How bad a finding is: errors stop a build, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Origin:
    """Where something was written: a spec file and line, or a Python call site."""

    file: str
    line: int | None = None

    def __str__(self) -> str:
        return self.file if self.line is None else f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Finding:
    """One problem found in a spec or fleet."""

    code: str
    message: str
    hint: str
    path: str = ""
    origin: Origin | None = None
    severity: Severity = Severity.ERROR
    # How many findings this one stands for (a group, or the summary of a capped code),
    # and the paths of the first few objects other than `path` that it also applies to.
    count: int = 1
    others: tuple[str, ...] = ()

    def format(self) -> str:
        where = f"{self.origin}: " if self.origin else ""
        about = f" [{self.path}]" if self.path else ""
        text = f"{where}{self.severity.value} {self.code}{about}: {self.message}\n  fix: {self.hint}"
        if self.others:
            more = self.count - 1 - len(self.others)
            text += (f"\n  also: {self.count - 1} more with the same finding: {', '.join(self.others)}"
                     + (f" and {more} more" if more else ""))
        return text

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "path": self.path,
            "file": self.origin.file if self.origin else None,
            "line": self.origin.line if self.origin else None,
            "message": self.message,
            "hint": self.hint,
            "count": self.count,
            "others": list(self.others),
        }


FINDINGS_PER_CODE = 20
OTHERS_SHOWN = 5


def condense(findings: Iterable[Finding], *, limit: int = FINDINGS_PER_CODE) -> list[Finding]:
    """Group and cap `findings`, keeping their order.

    Group: findings of one environment (the first part of the path) with the same
    code, severity, message and hint become the first of them, with `count` and the
    paths of the next `OTHERS_SHOWN` in `others`. Cap: after `limit` findings of a
    code, the rest of that code become one finding saying how many were left out.
    """
    groups: dict[tuple, list[Finding]] = {}
    for f in findings:
        key = (f.code, f.severity, f.message, f.hint, f.path.split("/", 1)[0])
        groups.setdefault(key, []).append(f)
    grouped = []
    for same in groups.values():
        first = same[0]
        if len(same) == 1:
            grouped.append(first)
            continue
        others = tuple(dict.fromkeys(f.path for f in same[1:] if f.path and f.path != first.path))
        grouped.append(replace(first, count=sum(f.count for f in same), others=others[:OTHERS_SHOWN]))
    shown: dict[str, int] = {}
    left_out: dict[str, list[Finding]] = {}
    kept = []
    for f in grouped:
        if shown.get(f.code, 0) < limit:
            shown[f.code] = shown.get(f.code, 0) + 1
            kept.append(f)
        else:
            left_out.setdefault(f.code, []).append(f)
    for code, rest in left_out.items():
        count = sum(f.count for f in rest)
        worst = Severity.ERROR if any(f.severity is Severity.ERROR for f in rest) else Severity.WARNING
        kept.append(Finding(
            code, f"{count} more {code} {worst.value}(s) not shown: tfgen shows the first {limit} of each code",
            f"fix the {code} findings shown (they are likely one mistake repeated) and run again",
            path=rest[0].path, origin=rest[0].origin, severity=worst, count=count))
    return kept


class TfgenError(Exception):
    """Base class of every error tfgen raises on purpose."""

    exit_code = 2


class FindingsError(TfgenError):
    """The input has findings of severity error; nothing was written."""

    exit_code = 1

    def __init__(self, findings: list[Finding]):
        self.findings = list(findings)
        errors = sum(f.count for f in self.findings if f.severity is Severity.ERROR)
        super().__init__(
            f"{errors} error(s) in the fleet; nothing was written:\n"
            + "\n".join(f.format() for f in self.findings)
        )


class SpecError(FindingsError):
    """The spec file is not a well-formed fleet spec; `fleet` is what could be read of it."""

    def __init__(self, findings: list[Finding], fleet=None):
        super().__init__(findings)
        self.fleet = fleet


class StaleOutputError(TfgenError):
    """The committed output differs from what the spec produces; run `tfgen build`."""

    exit_code = 1

    def __init__(self, out: str, changed: list[str]):
        self.changed = list(changed)
        lines = "\n".join(f"  {c}" for c in self.changed)
        super().__init__(
            f"{out} is stale; these files differ from what the spec produces:\n{lines}\n"
            f"  fix: run `tfgen build` without --check and commit the result"
        )


class OutputConflictError(TfgenError):
    """The output directory holds a file tfgen would overwrite but did not write."""


class ToolchainError(TfgenError):
    """Terraform, the AWS provider or the local AWS double cannot be used."""


class PolicyError(TfgenError):
    """The policy gate cannot run: no root modules, a bad policy directory, checkov missing or broken."""
