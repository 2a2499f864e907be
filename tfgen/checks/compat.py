"""Does the spec's `aws_provider` range admit only providers that can run the output?

The one check that reads emitted documents rather than the model: which
provider features a fleet needs is decided by the emitters (a fleet with a
bastion uses launch templates, one with IRSA uses OIDC providers, ...), and
asking the documents keeps this check from drifting away from them. It runs
in the pipeline right after emission and before anything is written, and its
findings point at the spec's `aws_provider` (or `terraform_version`) line.
"""

from __future__ import annotations

from typing import Mapping

from ..errors import Finding, Severity
from ..model import Fleet
from ..providers import DEFAULT_RANGE, PROVEN, TERRAFORM_LOCKING, Constraint, feature, uses
from ..terraform.index import Root
from ..terraform.roots import as_root

__all__ = ["check_compatibility", "features_of"]

_NEWEST_MAJOR = max(v.major for v in PROVEN)


def check_compatibility(fleet: Fleet, roots: Mapping[str, Root | dict[str, dict]]) -> list[Finding]:
    """Findings on `fleet`'s version ranges for every root (`{root: index}`, or its documents)."""
    roots = {name: as_root(root) for name, root in roots.items()}
    try:
        aws = Constraint.parse(fleet.aws_provider)
    except ValueError:
        return []  # VAL103 names the malformed constraint
    origin = fleet.origin("aws_provider")
    findings = []
    used: dict[str, list[str]] = {}
    for root, index in sorted(roots.items()):
        for key, addresses in features_of(index).items():
            used.setdefault(key, []).extend(f"{root}/{a}" for a in addresses[:1])
    lowest = aws.lowest
    # Every root's providers carry default_tags (tfgen's standard tags), so `needed` always holds the
    # feature whose minimum is the oldest provider tfgen supports: a range reaching below it lands here.
    needed = [feature(key) for key in used]
    too_new = sorted((f for f in needed if lowest is None or lowest < f.minimum), key=lambda f: f.minimum)
    if too_new:
        worst = too_new[-1]
        admitted = f"provider {lowest}" if lowest else "any provider version"
        listed = "; ".join(f"{f.what} ({f.key}) needs {f.minimum}" + (f" (added {f.since})" if f.after else "")
                           for f in too_new[-3:])
        findings.append(Finding(
            "VAL105", f"aws_provider {fleet.aws_provider!r} admits {admitted}, older than the output needs: "
            f"{listed} (e.g. {used[worst.key][0]})",
            f'raise the lower bound to at least {worst.minimum}, e.g. aws_provider: "{_range_from(worst.minimum)}"',
            origin=origin))
    if aws.admits_major(_NEWEST_MAJOR + 1):
        findings.append(Finding(
            "VAL191", f"aws_provider {fleet.aws_provider!r} admits provider {_NEWEST_MAJOR + 1}.x, which tfgen has "
            f"not checked its output against", f"cap the range below {_NEWEST_MAJOR + 1}.0, e.g. \"{DEFAULT_RANGE}\"",
            origin=origin, severity=Severity.WARNING))
    if not any(aws.admits(v) for v in PROVEN):
        findings.append(Finding(
            "VAL192", f"aws_provider {fleet.aws_provider!r} admits none of the provider versions tfgen proves its "
            f"output against ({', '.join(str(v) for v in PROVEN)})",
            f'use "{DEFAULT_RANGE}"', origin=origin, severity=Severity.WARNING))
    findings += _check_terraform(fleet, roots)
    return findings


def features_of(root: Root | Mapping[str, dict]) -> dict[str, list[str]]:
    """`{feature key: [addresses that use it]}` for every feature of `FEATURES` a root (its index, or its
    documents) uses."""
    root = as_root(root)
    used: dict[str, list[str]] = {}
    for block in root.providers:
        if block.type == "aws" and "default_tags" in block.body:
            used.setdefault("provider.default_tags", []).append(block.address)
    for block in root.resources.values():
        if block.kind == "resource":
            for key in uses(block.type, block.body):
                used.setdefault(key, []).append(block.address)
    return {key: sorted(addresses) for key, addresses in sorted(used.items())}


def _range_from(minimum) -> str:
    """The default range, its lower bound raised to `minimum` when the default admits less."""
    low = Constraint.parse(DEFAULT_RANGE).lowest
    if low is None or not low < minimum:
        return DEFAULT_RANGE
    return f">= {minimum.major}.{minimum.minor}, < {_NEWEST_MAJOR + 1}.0"


def _check_terraform(fleet: Fleet, roots: dict[str, Root]) -> list[Finding]:
    locking = sorted(root for root, index in roots.items() if index.backend("s3").get("use_lockfile"))
    if not locking:
        return []
    try:
        required = Constraint.parse(fleet.required_terraform.replace("v", ""))
    except ValueError:
        return []  # VAL103
    lowest = required.lowest
    if lowest is None or lowest < TERRAFORM_LOCKING:
        return [Finding(
            "VAL193", f"terraform_version {fleet.required_terraform!r} admits Terraform {lowest or 'of any version'}, "
            f"but the S3 backend locks state with use_lockfile (Terraform 1.10+) in {', '.join(locking)}",
            'use terraform_version: ">= 1.10", or give `state.lock_table` to lock with DynamoDB',
            origin=fleet.origin("terraform_version") or fleet.state.origin("backend"))]
    return []

