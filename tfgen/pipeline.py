"""The pipeline in one place: spec -> model -> allocation -> checks -> emit -> checks on the documents ->
lifecycle (against the previous build in OUT) -> write."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .derive.allocation import allocate
from .checks.types import check_types
from .checks.compat import check_compatibility
from .checks.model import check_model
from .checks.gitops_output import check_emitted_gitops
from .checks.ssm import check_ssm_documents
from .checks.layout import check_layout_change, layout_changes
from .emit import emit_documents, environment_roots, render_documents
from .errors import Finding, FindingsError, Severity, StaleOutputError, condense
from .model import Fleet
from .spec.allocations import read_allocations, render_allocations
from .lifecycle.guards import check_root_names
from .lifecycle.stage import run_stage
from .lifecycle.summary import FleetDiff
from .terraform.index import Root
from .terraform.roots import documents_root
from .derive.waves import rollout_record
from .write import Changes, diff_output, read_roots, write_output

__all__ = ["Prepared", "BuildResult", "prepare", "check_record", "validate", "emit_checked", "render", "build",
           "diff"]


@dataclass(frozen=True)
class Prepared:
    """A fleet with pool CIDRs allocated, the allocation record, every finding, and (when
    the model has no errors) its documents `{root: {file: document}}` and the index of each root."""

    fleet: Fleet
    record: dict[str, dict[str, str]]
    findings: list[Finding]
    documents: dict[str, dict[str, dict]] = field(default_factory=dict)
    roots: dict[str, Root] = field(default_factory=dict)
    retired: dict[str, dict[str, str]] = field(default_factory=dict)  # allocation tombstones

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity is Severity.WARNING]


@dataclass(frozen=True)
class BuildResult:
    """What a build did to its output directory, the warnings it passed over, and the fleet diff against the
    previous build there."""

    out: Path
    changes: Changes
    warnings: list[Finding]
    allocations: list[str] = field(default_factory=list)
    diff: FleetDiff | None = None


def prepare(fleet: Fleet, *, strict: bool = False) -> Prepared:
    """Allocate pool CIDRs (keeping recorded ones) and run every check; raises nothing."""
    record_path, wrong_path = _record_path(fleet)
    wrong_types = check_types(fleet) + wrong_path
    if wrong_types:
        return Prepared(fleet, {}, condense(wrong_types))  # allocation and the rules assume the declared types
    recorded = read_allocations(record_path)
    if recorded.broken:
        # Allocating past an unreadable record would move its VPC; every other check would see it moved.
        return Prepared(fleet, {}, condense(recorded.findings))
    allocation = allocate(fleet, recorded)
    findings = recorded.findings + allocation.findings + check_model(allocation.fleet, strict=strict)
    findings += check_root_names(allocation.fleet)
    if any(f.severity is Severity.ERROR for f in findings):
        return Prepared(allocation.fleet, allocation.record, condense(findings))  # the emitters assume no errors
    documents = emit_documents(allocation.fleet)
    roots = {root: documents_root(docs, emitted=True) for root, docs in documents.items()}  # read by every rule
    findings += check_compatibility(allocation.fleet, roots)
    findings += check_ssm_documents(allocation.fleet, roots)
    # the GitOps path as emitted, not as modelled; over the whole environment when it is split into cells
    findings += check_emitted_gitops(allocation.fleet, environment_roots(allocation.fleet, roots))
    return Prepared(allocation.fleet, allocation.record, condense(findings), documents, roots, allocation.retired)


def validate(fleet: Fleet, *, strict: bool = False) -> list[Finding]:
    """Every finding on `fleet` (errors and warnings); raises nothing.

    With `strict`, overlapping VPCs that are not connected are errors, not warnings.
    """
    return prepare(fleet, strict=strict).findings


def emit_checked(fleet: Fleet, *, strict: bool = False) -> tuple[Prepared, dict[str, bytes]]:
    """The prepared fleet and its output files; raises `FindingsError` when any finding is an error."""
    prepared = prepare(fleet, strict=strict)
    if prepared.errors:
        raise FindingsError(prepared.findings)
    return prepared, render_documents(prepared.documents)


def render(fleet: Fleet, *, strict: bool = False) -> tuple[dict[str, bytes], list[Finding]]:
    """The output files of a valid fleet (`{"<env>/<file>": bytes}`) and its warnings.

    Raises `FindingsError` with every finding when any is an error.
    """
    prepared, files = emit_checked(fleet, strict=strict)
    return files, prepared.warnings


def _record_path(fleet: Fleet) -> tuple[Path | None, list[Finding]]:
    """`Fleet.allocations_file` as a Path (a user may assign a str), or the finding that it is not a path."""
    value = fleet.allocations_file
    if value is None or isinstance(value, Path):
        return value, []
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str) and value:
        return Path(value), []
    return None, [Finding(
        "VAL100", f"`allocations_file` must be a path (a str or pathlib.Path), got {type(value).__name__} "
        f"{value!r:.60}", "give `allocations_file` the path of the allocations record, or None",
        path="fleet", origin=fleet.origin())]


def check_record(prepared: Prepared) -> list[Finding]:
    """NET204 for each environment that allocated VPC CIDRs from its pool with nowhere to record them
    (a Python fleet without `allocations_file`, a spec read from a pipe): the next build could move them."""
    if prepared.fleet.allocations_file is not None:
        return []
    return [Finding(
        "NET204", f"VPC CIDRs of environment {env} were allocated from its cidr_pool with no allocations file "
        "to record them in, so the next build could move them",
        "name the record with `--allocations FILE` (`Fleet.allocations_file` in Python; a spec read from a pipe "
        "or /dev/fd has no directory of its own to keep it beside), or give every VPC a cidr",
        path=env, origin=prepared.fleet.environments[env].origin("cidr_pool"))
        for env, entries in sorted(prepared.record.items()) if entries]


def _allocations_file(fleet: Fleet, prepared: Prepared, tombstones: dict[str, dict[str, str]]
                      ) -> tuple[Path | None, bytes | None]:
    path, _ = _record_path(fleet)  # prepare has refused a value that is not a path
    if not any(prepared.record.values()) and not tombstones:
        return (path, render_allocations({})) if path is not None and path.exists() else (None, None)
    refused = check_record(prepared)
    if refused:
        raise FindingsError(refused)
    return path, render_allocations(prepared.record, tombstones)


def build(fleet: Fleet, out: str | Path = "out", *, check: bool = False, strict: bool = False,
          allow_layout_change: bool = False, allow_replace: Iterable[str] = (), allow_destroy: Iterable[str] = (),
          retired: Iterable[str] = (), spec: str = "SPEC") -> BuildResult:
    """Validate, emit and write `fleet` into `out`, and record pool allocations.

    The build in `out` is the baseline: `BuildResult.diff` says, object by object, what applying the new
    output would do to what it made. A change that replaces or destroys an EKS cluster, a VPC or a KMS key,
    or removes an environment or a cells root that has resources, is refused (CHG5xx) unless named in
    `allow_replace` / `allow_destroy` (`environment[/region[/cluster]]`). What the spec no longer has retires
    (providers and roots kept until an apply destroyed it); `retired` names retirements applied elsewhere.
    An environment built in `out` in another layout is refused (VAL137) unless `allow_layout_change`: its
    state must move (`tfgen migrate`) before it plans.

    With `check`, write nothing and raise `StaleOutputError` when `out` or the
    allocations file differ from what the fleet produces. A build that fails
    writes nothing: the output and the allocations record are swapped in
    together (the record first), under a lock on `out`.
    """
    prepared = prepare(fleet, strict=strict)
    if prepared.errors:
        raise FindingsError(prepared.findings)
    waves = rollout_record(prepared.fleet)  # recorded when the spec writes a rollout: `apply --waves`
    out = Path(out)
    previous = read_roots(out)
    if not allow_layout_change:
        switched = check_layout_change(prepared.fleet, previous, spec=spec, out=str(out))
        if switched:
            raise FindingsError(switched)
    moved = [env.name for env, _, _ in layout_changes(prepared.fleet, previous)]
    staged = run_stage(prepared.fleet, prepared.documents, prepared.roots, out, tombstones=prepared.retired,
                       allow_replace=allow_replace, allow_destroy=allow_destroy, retired=retired, moved=moved,
                       refuse=not check, recover=not check)
    files = render_documents(staged.documents)
    record = staged.record.as_dict()
    lock_path, lock = _allocations_file(fleet, prepared, staged.tombstones)
    lock_stale = lock_path is not None and (not lock_path.exists() or lock_path.read_bytes() != lock)
    if check:
        changes = diff_output(files, out, roots=staged.roots, fleet=record, waves=waves)
        stale = changes.stale + ([f"changed {lock_path}"] if lock_stale else [])
        if stale:
            raise StaleOutputError(str(out), stale)
    else:
        changes = write_output(files, out, record=(lock_path, lock) if lock_stale else None, roots=staged.roots,
                               fleet=record, waves=waves)
    return BuildResult(out, changes, prepared.warnings + staged.warnings, [str(lock_path)] if lock_stale else [],
                       staged.diff)


def diff(fleet: Fleet, out: str | Path = "out", *, strict: bool = False, allow_replace: Iterable[str] = (),
         allow_destroy: Iterable[str] = (), retired: Iterable[str] = ()) -> tuple[FleetDiff, list[Finding]]:
    """What building `fleet` into `out` would change, object by object, and the findings the build would stop
    or warn with (guards included); writes nothing."""
    prepared = prepare(fleet, strict=strict)
    if prepared.errors:
        raise FindingsError(prepared.findings)
    moved = [env.name for env, _, _ in layout_changes(prepared.fleet, read_roots(out))]
    staged = run_stage(prepared.fleet, prepared.documents, prepared.roots, out, tombstones=prepared.retired,
                       allow_replace=allow_replace, allow_destroy=allow_destroy, retired=retired, moved=moved,
                       refuse=False)
    return staged.diff, prepared.warnings + staged.findings
