"""The pipeline in one place: spec -> model -> checks -> emit -> write."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .checks import check_fleet
from .emit import emit_fleet
from .errors import Finding, FindingsError, Severity, StaleOutputError
from .model import Fleet
from .write import Changes, diff_output, write_output

__all__ = ["BuildResult", "validate", "render", "build"]


@dataclass(frozen=True)
class BuildResult:
    """What a build did to its output directory, and the warnings it passed over."""

    out: Path
    changes: Changes
    warnings: list[Finding]


def validate(fleet: Fleet) -> list[Finding]:
    """Every finding on `fleet` (errors and warnings); raises nothing."""
    return check_fleet(fleet)


def render(fleet: Fleet) -> tuple[dict[str, bytes], list[Finding]]:
    """The output files of a valid fleet (`{"<env>/<file>": bytes}`) and its warnings.

    Raises `FindingsError` with every finding when any is an error.
    """
    findings = validate(fleet)
    if any(f.severity is Severity.ERROR for f in findings):
        raise FindingsError(findings)
    return emit_fleet(fleet), findings


def build(fleet: Fleet, out: str | Path = "out", *, check: bool = False) -> BuildResult:
    """Validate, emit and write `fleet` into `out`.

    With `check`, write nothing and raise `StaleOutputError` when `out` differs
    from what the fleet produces. A build that fails writes nothing.
    """
    files, warnings = render(fleet)
    out = Path(out)
    if check:
        changes = diff_output(files, out)
        if changes.stale:
            raise StaleOutputError(str(out), changes.stale)
    else:
        changes = write_output(files, out)
    return BuildResult(out, changes, warnings)
