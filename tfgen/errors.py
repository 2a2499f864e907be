"""Errors and findings.

Hierarchy::

    TfgenError                 base of everything tfgen raises on purpose
    ├── FindingsError          the spec or the fleet has findings (exit 1)
    │   └── SpecError          the spec's shape is wrong (unknown keys, types, YAML)
    ├── StaleOutputError       `build --check`: out/ differs from the spec (exit 1)
    ├── OutputConflictError    out/ holds a file tfgen does not own (exit 2)
    ├── ToolchainError         terraform / provider / AWS double unusable (exit 2)
    └── PolicyError            `tfgen check` cannot run: no roots, bad policy dir, checkov (exit 2)

A `Finding` is one problem with the user's input: a stable code, a severity,
the object it is about, where it was written and how to fix it. Checks collect
every finding and raise once, so a user fixes a spec in one round.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = [
    "Severity",
    "Origin",
    "Finding",
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

    def format(self) -> str:
        where = f"{self.origin}: " if self.origin else ""
        about = f" [{self.path}]" if self.path else ""
        return f"{where}{self.severity.value} {self.code}{about}: {self.message}\n  fix: {self.hint}"

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "path": self.path,
            "file": self.origin.file if self.origin else None,
            "line": self.origin.line if self.origin else None,
            "message": self.message,
            "hint": self.hint,
        }


class TfgenError(Exception):
    """Base class of every error tfgen raises on purpose."""

    exit_code = 2


class FindingsError(TfgenError):
    """The input has findings of severity error; nothing was written."""

    exit_code = 1

    def __init__(self, findings: list[Finding]):
        self.findings = list(findings)
        errors = [f for f in self.findings if f.severity is Severity.ERROR]
        super().__init__(
            f"{len(errors)} error(s) in the fleet; nothing was written:\n"
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
