"""What a gate run finds: results, suppressions, the report, and the format names."""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from . import FORMATS  # noqa: F401  (re-exported: the formats are defined with the package)
PASSED, FAILED, SUPPRESSED = "passed", "failed", "suppressed"
# Any request checkov tries goes here and fails at once: nothing reaches a vendor API.
_NO_NETWORK = "http://127.0.0.1:9"
_CHECKOV_TIMEOUT = 900
# Policies about how the configuration is written; a plan JSON has resolved providers away.
CONFIGURATION_ONLY = {
    "CKV_TFGEN_1": "provider blocks are resolved away in a plan; checked on the configuration",
    "CKV_TFGEN_3": "a plan does not keep the provider argument as written; checked on the configuration",
    "CKV_TFGEN_12": "provider blocks are resolved away in a plan, where CKV_TFGEN_8 reads the same tags in tags_all",
}

# tfgen's own checks whose results each carry their own message: what the check is, per check id
# (a SARIF rule's description must not be whichever result came last).
SCHEMA_CHECK = "TFGEN_SCHEMA"
READ_CHECK = "TFGEN_READ"
RULE_DESCRIPTIONS = {
    SCHEMA_CHECK: "arguments match the hashicorp/aws provider schemas the root's version range admits",
    READ_CHECK: "every *.tf.json of the root is a regular UTF-8 Terraform JSON file within tfgen's size and "
                "depth bounds (tfgen.terraform.roots)",
}


@dataclass(frozen=True)
class Suppression:
    """A reviewed waiver: a check id on resources matching a pattern, or a file checkov cannot read."""

    reason: str
    check_id: str = ""
    resources: tuple[str, ...] = ()
    path: str = ""
    source: str = ""

    def covers(self, check_id: str, resource: str) -> bool:
        """Whether this waiver applies to `check_id` failing on `resource`."""
        return self.check_id == check_id and any(fnmatch.fnmatchcase(resource, p) for p in self.resources)


@dataclass(frozen=True)
class GateResult:
    """One check on one resource: passed, failed or suppressed, and where."""

    check_id: str
    check_name: str
    status: str
    environment: str
    resource: str
    file: str
    line: int | None
    framework: str
    reason: str = ""
    guideline: str = ""

    @property
    def location(self) -> str:
        """`file:line`, or the file when the line is unknown."""
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass
class GateReport:
    """Every result of a gate run, per environment, with timings."""

    roots: dict[str, Path]
    results: list[GateResult] = field(default_factory=list)
    unscanned: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    errors: list[str] = field(default_factory=list)  # files checkov could not read, unexpectedly
    seconds: float = 0.0
    checkov_seconds: float = 0.0
    plan_seconds: float = 0.0
    lowered: dict = field(default_factory=dict)  # environment -> tfgen.terraform.lowering.Lowered of its planned copy

    def of(self, status: str, environment: str | None = None) -> list[GateResult]:
        """Results with `status` ("passed", "failed", "suppressed"), of one environment or all."""
        return [r for r in self.results if r.status == status and environment in (None, r.environment)]

    @property
    def ok(self) -> bool:
        """No failure and no file checkov could not read (other than the waived ones)."""
        return not self.of(FAILED) and not self.errors

    @property
    def exit_code(self) -> int:
        """0 when the gate passes, 1 otherwise."""
        return 0 if self.ok else 1


def shown(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    return _shown(str(path), os.getcwd())


@lru_cache(maxsize=1024)
def _shown(path: str, cwd: str) -> str:
    # One gate run asks this for each of its results, and results share a few files.
    try:
        return Path(path).resolve().relative_to(Path(cwd).resolve()).as_posix()
    except ValueError:
        return path
