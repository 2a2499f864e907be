"""What the verb groups of `tfgen` share: the parser class, the spec's common options, reading the spec and
printing its findings."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import Finding, FindingsError, Severity, condense

if TYPE_CHECKING:
    from ..model import Fleet


class Parser(argparse.ArgumentParser):
    """`-help` beside `-h`; a usage error names the fix and exits 2."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**kwargs, "add_help": False})
        self.add_argument("-h", "-help", "--help", action="help", help="show this help and exit")

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n  fix: see `{self.prog} --help`\n")


def add_lifecycle(verb) -> None:
    """--allow-replace, --allow-destroy and --retired: what a build may do to existing infrastructure."""
    verb.add_argument("--allow-replace", action="append", default=[], metavar="PATH",
                      help="allow replacing the EKS clusters, VPCs and KMS keys of PATH (env[/region[/cluster]]; "
                           "repeatable)")
    verb.add_argument("--allow-destroy", action="append", default=[], metavar="PATH",
                      help="allow destroying them, or removing the environment or cells root PATH (repeatable)")
    verb.add_argument("--retired", action="append", default=[], metavar="PATH",
                      help="the retirement of PATH was applied elsewhere (e.g. CI): drop what was kept for it")


def add_allocations(verb) -> None:
    """--allocations: where the record of pool-allocated VPC CIDRs is."""
    verb.add_argument("--allocations", metavar="FILE",
                      help="the record of VPC CIDRs allocated from pools (default: <spec>.allocations.yaml beside "
                           "the spec; required to allocate when the spec is read from a pipe)")


def print_findings(findings) -> None:
    """Each finding on standard error."""
    for finding in findings:
        print(finding.format(), file=sys.stderr)


def read_spec(path: str, allocations: str | None = None) -> tuple[Fleet | None, list[Finding], Fleet | None]:
    """The spec's fleet (None with shape errors), its findings, and what could be read
    of it (for grouping findings by environment); with shape errors, the findings also
    hold the value errors of what could be read, so one run shows every problem.
    `allocations` (`--allocations`) replaces the record's place beside the spec."""
    from ..pipeline import validate
    from ..spec import read

    reading = read(path)
    if reading.fleet is not None:
        if allocations is not None:
            reading.fleet.allocations_file = Path(allocations)
        return reading.fleet, [], reading.fleet
    findings = list(reading.findings)
    if reading.partial is not None:
        # A value error where the shape is already wrong only repeats it: on a shape finding's line, or on
        # the line of the mapping that lost the key (VAL129 "no account" beside an unreadable account_id).
        shaped = {f.origin for f in findings} | reading.explained
        findings += [f for f in validate(reading.partial)
                     if f.severity is Severity.ERROR and f.origin not in shaped]
    return None, condense(findings), reading.partial


def load_spec(path: str, allocations: str | None = None) -> Fleet:
    """The spec's fleet; FindingsError with every problem when it cannot be read."""
    fleet, findings, _ = read_spec(path, allocations)
    if fleet is None:
        raise FindingsError(findings)
    return fleet
