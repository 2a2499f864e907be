"""The gate report as text, JSON, SARIF 2.1.0 or JUnit XML."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from xml.etree import ElementTree

from ..errors import PolicyError
from .._version import __version__
from .results import (
    CONFIGURATION_ONLY,
    FAILED,
    FORMATS,
    PASSED,
    RULE_DESCRIPTIONS,
    SUPPRESSED,
    GateReport,
    GateResult,
    shown,
)

# -- rendering ----------------------------------------------------------------------


def render_report(report: GateReport, fmt: str = "text", *, compact: bool = False) -> str:
    """The report as `text`, `json`, `sarif` (2.1.0) or `junitxml`; `compact` text is one line per finding,
    without check titles and reasons (checkov's `--compact`)."""
    if fmt not in FORMATS:
        raise PolicyError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    if fmt == "text":
        return _text(report, compact)
    return {"json": _json, "sarif": _sarif, "junitxml": _junit}[fmt](report)


def _failure(r: GateResult, compact: bool) -> str:
    where = f"{r.spec_location} ({r.location})" if r.spec_location else r.location
    if compact:
        return f"  FAILED {r.check_id} {r.resource} at {r.spec_location or r.location}"
    return f"  FAILED {r.check_id} {r.resource} at {where} [{r.framework}]: {r.check_name}"


def _text(report: GateReport, compact: bool = False) -> str:
    lines = []
    for env, root in report.roots.items():
        passed, failed, waived = (report.of(s, env) for s in (PASSED, FAILED, SUPPRESSED))
        verdict = "FAILED" if failed else "passed"
        lines.append(f"{env} ({shown(root)}): {verdict}: {len(passed)} passed, {len(failed)} failed, "
                     f"{len(waived)} suppressed")
        lines += [_failure(r, compact) for r in failed]
        for r in waived:
            if r.waiver:  # the user's: one line each, with the waiver that says why
                lines.append(f"  waived {r.check_id} {r.resource} by {r.waiver}" + ("" if compact else f": {r.reason}"))
        by_check: dict[tuple[str, str], list[GateResult]] = {}
        for r in waived:
            if not r.waiver:
                by_check.setdefault((r.check_id, r.reason), []).append(r)
        for (check_id, reason), items in sorted(by_check.items()):
            resources = sorted({r.resource for r in items})
            lines.append(f"  suppressed {check_id} on {len(resources)} resource(s)"
                         + ("" if compact else f" ({', '.join(resources)}): {reason}"))
    if report.waivers:
        problems = report.of(FAILED, "")
        lines.append(f"waivers ({report.waivers}): {'FAILED' if problems else 'passed'}: "
                     f"{len([r for r in report.results if r.waiver])} waived, {len(problems)} failed")
        lines += [_failure(r, compact) for r in problems]
    for file, reason in report.unscanned:
        lines.append(f"not scanned: {file}: {reason}")
    for env, lowered in sorted(report.lowered.items()):
        lines.append(f"plan of {env} {lowered.summary()}; those are checked by TFGEN_SCHEMA, not by the plan")
    if report.plan_seconds:
        for check_id, reason in sorted(CONFIGURATION_ONLY.items()):
            lines.append(f"not run on plans: {check_id}: {reason}")
    for file in report.errors:
        lines.append(f"ERROR {file}: checkov could not parse it; fix the file or list it in suppressions.toml")
    total_failed = len(report.of(FAILED))
    lines.append(
        f"tfgen check: {'FAILED' if not report.ok else 'passed'}: {len(report.of(PASSED))} passed, "
        f"{total_failed} failed, {len(report.of(SUPPRESSED))} suppressed in {len(report.roots)} root(s) "
        f"({report.seconds:.1f} s, checkov {report.checkov_seconds:.1f} s"
        + (f", plans {report.plan_seconds:.1f} s" if report.plan_seconds else "") + ")"
    )
    return "\n".join(lines) + "\n"


def _json(report: GateReport) -> str:
    environments: dict[str, dict] = {}
    for env, root in report.roots.items():
        environments[env] = {
            "root": shown(root),
            **{status: len(report.of(status, env)) for status in (PASSED, FAILED, SUPPRESSED)},
            "results": [_result_dict(r) for r in report.results if r.environment == env],
        }
    return json.dumps({
        "ok": report.ok,
        "summary": {status: len(report.of(status)) for status in (PASSED, FAILED, SUPPRESSED)},
        "environments": environments,
        "not_scanned": [{"file": f, "reason": r} for f, r in report.unscanned],
        "waivers": {"file": report.waivers or None,
                    "results": [_result_dict(r) for r in report.results if not r.environment]},
        "errors": report.errors,
        "seconds": round(report.seconds, 3),
        "checkov_seconds": round(report.checkov_seconds, 3),
        "plan_seconds": round(report.plan_seconds, 3),
        "lowered": {env: lowered.as_dict() for env, lowered in sorted(report.lowered.items())},
    }, indent=2, sort_keys=True) + "\n"


def _result_dict(r: GateResult) -> dict:
    return {"check_id": r.check_id, "check_name": r.check_name, "status": r.status, "resource": r.resource,
            "file": r.file, "line": r.line, "framework": r.framework, "reason": r.reason, "waiver": r.waiver or None,
            "spec": {"file": r.spec_file, "line": r.spec_line} if r.spec_file else None}


def _sarif(report: GateReport) -> str:
    shown = [r for r in report.results if r.status != PASSED]
    rule_ids = sorted({r.check_id for r in report.results})
    # One description per rule, whatever order the results come in: tfgen's table, else the first name.
    names = dict(RULE_DESCRIPTIONS)
    for r in sorted(report.results, key=lambda r: r.check_name):
        names.setdefault(r.check_id, r.check_name)
    guides = {r.check_id: r.guideline for r in report.results if r.guideline}
    rules = []
    for rule_id in rule_ids:
        rule = {"id": rule_id, "name": rule_id, "shortDescription": {"text": names[rule_id] or rule_id},
                "defaultConfiguration": {"level": "error"}}
        if rule_id in guides:
            rule["helpUri"] = guides[rule_id]
        rules.append(rule)
    index = {rule_id: i for i, rule_id in enumerate(rule_ids)}
    results = []
    for r in shown:
        generated = _physical(r.file, r.line)
        # Alerts land where the user edits: the spec line that produced the resource, the generated file beside.
        primary = _physical(r.spec_file, r.spec_line) if r.spec_file else generated
        location = {"physicalLocation": primary,
                    "logicalLocations": [{"name": r.resource,
                                          "fullyQualifiedName": f"{r.environment or 'waivers'}/{r.resource}"}]}
        result = {
            "ruleId": r.check_id,
            "ruleIndex": index[r.check_id],
            "level": "error",
            "message": {"text": f"{r.check_name} ({r.resource}, {r.environment or 'waivers'}, {r.framework})"},
            "locations": [location],
        }
        if r.spec_file:
            result["relatedLocations"] = [{"id": 1, "physicalLocation": generated,
                                           "message": {"text": f"generated {r.resource}"}}]
        if r.status == SUPPRESSED:
            suppression = {"kind": "external", "justification": r.reason}
            if r.waiver:
                file, _, line = r.waiver.rpartition(":")
                suppression["location"] = {"physicalLocation": _physical(file, int(line)) if line.isdigit()
                                           else _physical(r.waiver, None)}
            result["suppressions"] = [suppression]
        results.append(result)
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "tfgen check", "version": __version__, "rules": rules}},
            "results": results,
        }],
    }
    return json.dumps(sarif, indent=2, sort_keys=True) + "\n"


def _physical(file: str, line: int | None) -> dict:
    # Relative paths resolve against the checkout on code-scanning dashboards; others need a file URI.
    uri = Path(file).as_uri() if Path(file).is_absolute() else file
    return {"artifactLocation": {"uri": uri}, **({"region": {"startLine": line}} if line else {})}


def _junit(report: GateReport) -> str:
    suites = ElementTree.Element("testsuites", name="tfgen check")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for env in [*report.roots, *([""] if report.waivers else [])]:
        items = [r for r in report.results if r.environment == env]
        counts = {"tests": len(items), "failures": len(report.of(FAILED, env)),
                  "skipped": len(report.of(SUPPRESSED, env))}
        suite = ElementTree.SubElement(suites, "testsuite", name=env or f"waivers {report.waivers}", errors="0", time="0",
                                       **{k: str(v) for k, v in counts.items()})
        for r in items:
            case = ElementTree.SubElement(suite, "testcase", classname=f"{env or 'waivers'}.{r.check_id}",
                                          name=f"{r.check_id} {r.resource} [{r.framework}]",
                                          file=r.file, **({"line": str(r.line)} if r.line else {}))
            if r.status == FAILED:
                failure = ElementTree.SubElement(case, "failure", message=r.check_name, type=r.check_id)
                failure.text = f"{r.resource} at {r.location}"
            elif r.status == SUPPRESSED:
                waived = f"waived by {r.waiver}" if r.waiver else "suppressed"
                ElementTree.SubElement(case, "skipped", message=f"{waived}: {r.reason}")
        for key in totals:
            totals[key] += counts[key]
    for key, count in totals.items():
        suites.set(key, str(count))
    ElementTree.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"


def write_report(text: str, output: str | Path | None) -> None:
    """Print the report, or write it to `output`."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text)
    except OSError as exc:
        raise PolicyError(f"cannot write {output}: {exc.strerror}; choose a writable path") from None
