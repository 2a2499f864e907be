"""Waivers: tfgen's reviewed suppressions (`policies/suppressions.toml`) and the user's `tfgen-waivers.toml`.

A user's waiver names a check, the roots and resources it applies to (names or globs), a reason and
optionally an expiry date. It needs no policy directory and no edit of a generated file (checkov's
inline `checkov:skip` comments cannot live in `*.tf.json`, which `tfgen build` rewrites). A waived
result stays in every report as suppressed, with its reason and the waiver's file:line. The file's own
problems are findings of the gate: a waiver past its date (TFGEN_17), one that matches nothing
(TFGEN_18), one that cannot be read (TFGEN_19).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import replace
from datetime import date
from pathlib import Path

from ..errors import PolicyError
from .results import FAILED, READ_CHECK, SUPPRESSED, GateReport, GateResult, Suppression, shown

__all__ = ["WAIVERS_FILE", "EXPIRED", "UNUSED", "UNREADABLE", "load_suppressions", "find_waivers", "load_waivers",
           "apply_waivers"]

WAIVERS_FILE = "tfgen-waivers.toml"
EXPIRED, UNUSED, UNREADABLE = "TFGEN_17", "TFGEN_18", "TFGEN_19"
# Not waivable: a file the reader refused was never scanned, and the waivers' own findings.
UNWAIVABLE = {READ_CHECK, EXPIRED, UNUSED, UNREADABLE}
_KEYS = {"check", "root", "resource", "reason", "expires"}
_EXAMPLE = ('[[waiver]]\ncheck = "CKV_AWS_144"\nroot = "production"\nresource = "aws_s3_bucket.logs"\n'
            'reason = "why this check cannot hold here"\nexpires = 2027-06-30')


def load_suppressions(path: str | Path) -> list[Suppression]:
    """The waivers of a `suppressions.toml` (see policies/suppressions.toml)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read suppressions ({exc}); fix the file or remove it") from None
    found = []
    for entry in data.get("check", []):
        if not entry.get("id") or not str(entry.get("reason", "")).strip():
            raise PolicyError(f"{path}: every [[check]] needs an `id` and a one-line `reason`")
        found.append(Suppression(reason=entry["reason"], check_id=entry["id"],
                                 resources=_waived_resources(path, entry), source=str(path)))
    for entry in data.get("file", []):
        if not entry.get("path") or not str(entry.get("reason", "")).strip():
            raise PolicyError(f"{path}: every [[file]] needs a `path` and a one-line `reason`")
        found.append(Suppression(reason=entry["reason"], path=entry["path"], source=str(path)))
    return found


# A waiver pattern starts with a literal resource type (`aws_eip.*`), so it can never
# cover every resource: `*`, `*.*` or `aws_*` would waive a check on all of them.
_WAIVABLE = re.compile(r"[a-z][a-z0-9_]*\.\S+")


def _pattern_problem(pattern: object) -> str | None:
    if not isinstance(pattern, str) or not _WAIVABLE.fullmatch(pattern):
        return (f"is waived on {pattern!r}, which does not start with a resource type and could match every "
                "resource")
    return None


def _waived_resources(path: Path, entry: dict) -> tuple[str, ...]:
    resources = entry.get("resources")
    example = 'resources = ["aws_eip.*"]'
    if not isinstance(resources, list) or not resources:
        raise PolicyError(f"{path}: [[check]] {entry['id']} names no `resources`, which would waive it on every "
                          f"resource; list the resources it is waived on, e.g. {example}")
    for pattern in resources:
        problem = _pattern_problem(pattern)
        if problem:
            raise PolicyError(f"{path}: [[check]] {entry['id']} {problem}; name the type, e.g. {example}")
    return tuple(resources)


# -- the user's waivers ---------------------------------------------------------------------------------


def find_waivers(out: str | Path, spec: str | Path | None = None, given: str | Path | None = None) -> Path | None:
    """The waivers file of a run: `given` (`--waivers`, which must exist), else `tfgen-waivers.toml` beside the
    spec, else in OUT or a directory above it, up to the working directory (or OUT's parent, outside it)."""
    if given is not None:
        given = Path(given)
        if not given.is_file():
            raise PolicyError(f"waivers file {given} does not exist; name an existing file or leave out --waivers")
        return given
    if spec is not None and (Path(spec).parent / WAIVERS_FILE).is_file():
        return Path(spec).parent / WAIVERS_FILE
    here, cwd = Path(out).resolve(), Path.cwd().resolve()
    for directory in [here, *here.parents]:
        if (directory / WAIVERS_FILE).is_file():
            return directory / WAIVERS_FILE
        if directory == cwd or (cwd not in here.parents and directory == here.parent):
            break
    return None


def load_waivers(path: Path, known: set[str]) -> tuple[list[Suppression], list[GateResult]]:
    """The usable waivers of `path` and a TFGEN_19 finding for each one that is not (and for an unreadable file).

    `known` is every check id the gate runs: a waiver of another id is refused with the closest ids."""
    where = shown(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        return [], [_problem(where, None, "?", f"cannot be read ({exc})", "fix the file or remove it")]
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"line (\d+)", str(exc))
        return [], [_problem(where, int(at.group(1)) if at else None, "?", f"is not TOML ({exc})",
                             "fix the syntax; each waiver is a [[waiver]] table")]
    lines = [n for n, text_line in enumerate(text.splitlines(), 1) if re.match(r"\s*\[\[\s*waiver\s*\]\]", text_line)]
    entries = data.get("waiver", [])
    problems: list[GateResult] = []
    if set(data) - {"waiver"} or not isinstance(entries, list):
        problems.append(_problem(where, 1, "?", f"holds {', '.join(sorted(set(data) - {'waiver'})) or 'waiver'} "
                                 "where only [[waiver]] tables belong", f"write each waiver as:\n{_EXAMPLE}"))
        entries = entries if isinstance(entries, list) else []
    waivers: list[Suppression] = []
    for index, entry in enumerate(entries):
        line = lines[index] if index < len(lines) and len(lines) == len(entries) else None
        waiver, problem = _waiver(entry, where, line, known)
        if problem is not None:
            problems.append(problem)
        elif waiver is not None:
            waivers.append(waiver)
    return waivers, problems


def _waiver(entry: object, where: str, line: int | None, known: set[str]) -> tuple[Suppression | None, GateResult | None]:
    if not isinstance(entry, dict):
        return None, _problem(where, line, "?", "is not a table", f"write each waiver as:\n{_EXAMPLE}")
    check = entry.get("check")
    name = check if isinstance(check, str) and check else "?"

    def bad(message: str, fix: str) -> tuple[None, GateResult]:
        return None, _problem(where, line, name, message, fix)

    if set(entry) - _KEYS:
        unknown = sorted(set(entry) - _KEYS)
        closest = [difflib.get_close_matches(k, sorted(_KEYS), n=1) for k in unknown]
        hint = "; ".join(f"{k!r}: did you mean {c[0]!r}?" for k, c in zip(unknown, closest) if c)
        return bad(f"has unknown keys {', '.join(unknown)}", hint or f"use only {', '.join(sorted(_KEYS))}")
    if name == "?":
        return bad("names no `check`", 'name the check id it waives, e.g. check = "CKV_AWS_144" (tfgen check --list)')
    if name in UNWAIVABLE:
        return bad(f"waives {name}, which cannot be waived", "fix what the finding names instead")
    if name not in known:
        close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
        return bad(f"waives {name}, which the gate does not run",
                   (f"did you mean {' or '.join(close)}? " if close else "") + "`tfgen check --list` lists every id")
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        return bad("gives no `reason`", "say in `reason` why the check cannot hold here; a reviewer reads it")
    resource = entry.get("resource")
    resources = [resource] if isinstance(resource, str) else resource
    if not isinstance(resources, list) or not resources:
        return bad("names no `resource`, which would waive it on every resource",
                   'name the address or a glob of one type, e.g. resource = "aws_s3_bucket.logs"')
    for pattern in resources:
        problem = _pattern_problem(pattern)
        if problem:
            return bad(problem, 'name the address or a glob of one type, e.g. resource = "aws_s3_bucket.logs"')
    root = entry.get("root", "*")
    roots = [root] if isinstance(root, str) else root
    if not isinstance(roots, list) or not roots or not all(isinstance(r, str) and r for r in roots):
        return bad("has a `root` that is not a root name or glob", 'name the root, e.g. root = "production"')
    expires = entry.get("expires")
    if isinstance(expires, str):
        try:
            expires = date.fromisoformat(expires)
        except ValueError:
            pass
    if expires is not None and (not isinstance(expires, date) or hasattr(expires, "hour")):
        return bad(f"expires on {expires!r}, which is not a date", "write the date as expires = 2027-06-30")
    return Suppression(reason=" ".join(reason.split()), check_id=name, resources=tuple(resources),
                       roots=tuple(roots), source=where, line=line, expires=expires), None


def _problem(where: str, line: int | None, check: str, message: str, fix: str) -> GateResult:
    return GateResult(check_id=UNREADABLE, check_name=f"waiver {check} {message}; fix: {fix}", status=FAILED,
                      environment="", resource=f"waiver.{check}", file=where, line=line, framework="tfgen")


def apply_waivers(report: GateReport, waivers: list[Suppression], today: date, ran: set[str]) -> None:
    """Mark the failures each live waiver covers as suppressed (reason and waiver kept); add TFGEN_17 for a
    waiver past its date (which waives nothing) and TFGEN_18 for one that matches no failure of a check that
    ran in a root it names."""
    used: set[Suppression] = set()
    live = [w for w in waivers if w.expires is None or w.expires >= today]
    results = []
    for result in report.results:
        if result.status == FAILED and result.check_id not in UNWAIVABLE:
            waiver = next((w for w in live if w.covers(result.check_id, result.resource, result.environment)), None)
            if waiver is not None:
                used.add(waiver)
                result = replace(result, status=SUPPRESSED, reason=waiver.reason, waiver=waiver.at)
        results.append(result)
    for waiver in waivers:
        resource = f"waiver.{waiver.check_id}"
        if waiver not in live:
            results.append(GateResult(
                check_id=EXPIRED, status=FAILED, environment="", resource=resource, file=waiver.source,
                line=waiver.line, framework="tfgen",
                check_name=f"waiver {waiver.check_id} on {', '.join(waiver.resources)} expired on {waiver.expires} "
                           f"and waives nothing; fix: fix the findings it covered, or renew it with a new date "
                           f"and the reason it still holds"))
        elif waiver not in used and waiver.check_id in ran and any(
                waiver.in_root(root) for root in report.roots):
            results.append(GateResult(
                check_id=UNUSED, status=FAILED, environment="", resource=resource, file=waiver.source,
                line=waiver.line, framework="tfgen",
                check_name=f"waiver {waiver.check_id} on {', '.join(waiver.resources)} in root "
                           f"{', '.join(waiver.roots)} matches no failure; fix: remove it (the check passes "
                           f"there now), or correct its root and resource"))
    report.results = results
