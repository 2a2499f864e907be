"""Policy tests: run the gate as data, assert a check passes or fails, and break a built output on purpose.

    report = gate(out, policies=["policies/"])
    assert_passes(report, "CKV_ACME_1")
    broken = mutate(out, "production", "aws_eks_cluster.us_east_1_hub",
                    {"vpc_config": {"endpoint_public_access": True}})
    assert_fails(gate(broken), "CKV_TFGEN_5", resource="aws_eks_cluster.us_east_1_hub")

A team proves its own checkov policy the way tfgen proves its own: it passes on the real fleet and fails on a
copy with one resource broken. The gate is `tfgen check` (checkov with tfgen's policies, offline); a run is
kept for the process per content of the output and the policy directories, so asking twice scans once.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..gate import FAILED, PASSED, SUPPRESSED, GateReport, GateResult, check_output
from ..terraform.roots import read_root
from .digest import tree_digest

__all__ = ["gate", "assert_passes", "assert_fails", "mutate", "deep_merge"]

_REPORTS: dict[str, GateReport] = {}


def gate(out: str | Path, *, policies: Iterable[str | Path] = (), plan: bool = False) -> GateReport:
    """The gate's results on a built output as data (`GateReport`: `.results`, `.of("failed")`, `.ok`): checkov
    with tfgen's policies and the checkov policy directories in `policies`, offline; `plan` scans plans too."""
    policies = [Path(p) for p in policies]
    key = f"{tree_digest(out)}:{[tree_digest(p) for p in policies]}:{plan}"
    if key not in _REPORTS:
        _REPORTS[key] = check_output(out, policies=list(policies), plan=plan)
    return _REPORTS[key]


def _report(source: GateReport | str | Path, policies: Iterable[str | Path]) -> GateReport:
    return source if isinstance(source, GateReport) else gate(source, policies=policies)


def _about(result: GateResult, check_id: str, resource: str | None) -> bool:
    if result.check_id != check_id:
        return False
    return resource is None or resource in (result.resource, f"{result.environment}/{result.resource}")


def _listed(results: list[GateResult]) -> str:
    return "\n  ".join(f"{r.status}: {r.environment}/{r.resource} ({r.location})" for r in results) or "(none)"


def assert_passes(source: GateReport | str | Path, check_id: str, *, resource: str | None = None,
                  policies: Iterable[str | Path] = ()) -> None:
    """Assert `check_id` ran and failed nowhere (on `resource` when given: an address, or `env/address`).
    `source` is a `GateReport` or a built output, gated with `policies`."""
    report = _report(source, policies)
    results = [r for r in report.results if _about(r, check_id, resource)]
    failed = [r for r in results if r.status == FAILED]
    where = f" on {resource}" if resource else ""
    if not results:
        raise AssertionError(f"{check_id} never ran{where}; is its policy directory given (policies=...) and "
                             "does it support the resource type?")
    if failed:
        raise AssertionError(f"{check_id} fails{where}:\n  {_listed(failed)}")


def assert_fails(source: GateReport | str | Path, check_id: str, *, resource: str | None = None,
                 policies: Iterable[str | Path] = ()) -> None:
    """Assert `check_id` fails (on `resource` when given: an address, or `env/address`) and is not suppressed.
    `source` is a `GateReport` or a built output, gated with `policies`."""
    report = _report(source, policies)
    results = [r for r in report.results if _about(r, check_id, resource)]
    where = f" on {resource}" if resource else ""
    if any(r.status == FAILED for r in results):
        return
    suppressed = [r for r in results if r.status == SUPPRESSED]
    why = (f"it is suppressed ({suppressed[0].reason})" if suppressed else
           "it passes" if any(r.status == PASSED for r in results) else "it never ran")
    raise AssertionError(f"{check_id} does not fail{where}: {why}; results of {check_id}:\n  "
                         + _listed([r for r in report.results if r.check_id == check_id]))


def deep_merge(body: Any, changes: Mapping[str, Any]) -> Any:
    """`body` with `changes` merged in: mappings merged key by key (into a block whether it is held as an
    object or a one-element list), anything else replaced, a key given `None` removed."""
    if isinstance(body, list) and len(body) == 1 and isinstance(body[0], Mapping):
        return [deep_merge(body[0], changes)]
    merged = dict(body) if isinstance(body, Mapping) else {}
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), (Mapping, list)) and (
                isinstance(merged[key], Mapping) or len(merged[key]) == 1):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def mutate(out: str | Path, root: str, address: str, changes: Mapping[str, Any], *,
           into: str | Path | None = None) -> Path:
    """A copy of built output `out` with resource `address` of root `root` changed by `changes` (`deep_merge`);
    returns the copy's directory (`into`, else a new temporary one). `out` itself is never touched."""
    out = Path(out)
    directory = out / root
    if not directory.is_dir():
        raise AssertionError(f"{directory} is no root of {out}; name one of "
                             f"{sorted(p.name for p in out.iterdir() if p.is_dir())}")
    file = read_root(directory).file_of(address)
    if file is None:
        raise AssertionError(f"{directory}: no resource {address}; name a resource the root holds")
    copy = Path(into) if into else Path(tempfile.mkdtemp(prefix="tfgen-mutated-"))
    target = copy / out.name
    shutil.copytree(out, target, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"), dirs_exist_ok=True)
    path = target / root / file
    document = json.loads(path.read_text())
    type_, name = address.split(".", 1)
    blocks = document["resource"][type_]
    blocks[name] = deep_merge(blocks[name], changes)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return target
