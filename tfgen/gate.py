"""The policy gate: checkov plus tfgen's policies over generated root modules.

`check_output` finds every root module under an output directory, scans them
in one checkov run (framework `terraform_json`) with tfgen's policies
(`tfgen.policies`, the repository's `policies/`) and any user policy
directories, optionally plans each root offline and scans the plan JSON
(framework `terraform_plan`), applies the reviewed suppressions, and returns a
`GateReport` that renders as text, JSON, SARIF or JUnit XML.

checkov runs as a child process, fully offline: platform downloads and the
update check are off, and every HTTP(S) request goes to a closed local port,
so the result is the same with or without a network.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from xml.etree import ElementTree

from .errors import PolicyError

__all__ = [
    "FORMATS",
    "CONFIGURATION_ONLY",
    "Suppression",
    "GateResult",
    "GateReport",
    "policy_dir",
    "find_roots",
    "load_suppressions",
    "check_output",
    "run_checkov",
    "render_report",
    "write_report",
]

FORMATS = ("text", "json", "sarif", "junitxml")
PASSED, FAILED, SUPPRESSED = "passed", "failed", "suppressed"
OVERRIDE_SUFFIX = "_override.tf.json"
# Any request checkov tries goes here and fails at once: nothing reaches a vendor API.
_NO_NETWORK = "http://127.0.0.1:9"
_CHECKOV_TIMEOUT = 900
# Policies about how the configuration is written; a plan JSON has resolved providers away.
CONFIGURATION_ONLY = {
    "CKV_TFGEN_1": "provider blocks are resolved away in a plan; checked on the configuration",
    "CKV_TFGEN_3": "a plan does not keep the provider argument as written; checked on the configuration",
}


@dataclass(frozen=True)
class Suppression:
    """A reviewed waiver: a check id on resources matching a pattern, or a file checkov cannot read."""

    reason: str
    check_id: str = ""
    resources: tuple[str, ...] = ("*",)
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


def policy_dir() -> Path:
    """The directory of the policies tfgen ships (the installed `tfgen.policies`)."""
    return Path(str(resources.files("tfgen.policies")))


def find_roots(out: str | Path) -> dict[str, Path]:
    """`{environment: directory}` of every root module (a directory with `*.tf.json`) under `out`."""
    out = Path(out)
    if not out.is_dir():
        raise PolicyError(f"{out} is not a directory; run `tfgen build` first or name the output directory")
    roots = {}
    for directory in sorted({p.parent for p in out.rglob("*.tf.json")}):
        if ".terraform" in directory.parts:
            continue
        if any(not p.name.endswith(OVERRIDE_SUFFIX) for p in directory.glob("*.tf.json")):
            name = directory.relative_to(out).as_posix()
            roots[name if name != "." else out.resolve().name] = directory
    if not roots:
        raise PolicyError(f"{out} holds no *.tf.json root modules; run `tfgen build SPEC --out {out}` first")
    return roots


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
                                 resources=tuple(entry.get("resources", ["*"])), source=str(path)))
    for entry in data.get("file", []):
        if not entry.get("path") or not str(entry.get("reason", "")).strip():
            raise PolicyError(f"{path}: every [[file]] needs a `path` and a one-line `reason`")
        found.append(Suppression(reason=entry["reason"], path=entry["path"], source=str(path)))
    return found


# -- running checkov -------------------------------------------------------------


def _checkov_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("BC_", "PRISMA_", "CKV_", "CHECKOV_")) and k.lower() not in
           ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env.update({
        "BC_SKIP_MAPPING": "TRUE",
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE",
        "CHECKOV_EXPERIMENTAL_TERRAFORM_MANAGED_MODULES": "FALSE",
        "HTTP_PROXY": _NO_NETWORK,
        "HTTPS_PROXY": _NO_NETWORK,
        "http_proxy": _NO_NETWORK,
        "https_proxy": _NO_NETWORK,
        "NO_PROXY": "",
        "PYTHONWARNINGS": "ignore",
        "LOG_LEVEL": "ERROR",
    })
    return env


def run_checkov(targets: list[Path], *, framework: str, policies: list[Path],
                skip: tuple[str, ...] = ()) -> list[dict]:
    """checkov's JSON reports for `targets` (directories, or plan files for terraform_plan)."""
    try:
        import checkov  # noqa: F401
    except ImportError:
        raise PolicyError("checkov is not installed; install tfgen[policy]") from None
    # `--directory=DIR` (not `-d DIR`): checkov then reads no .checkov.yaml from the scanned
    # directory, and the clean working and home directories hold none either, so no stray
    # config file can skip checks behind the gate's back.
    flag = "--file" if framework == "terraform_plan" else "--directory"
    command = [sys.executable, "-m", "checkov.main", "--framework", framework, "--skip-download",
               "--output", "json", "--compact"]
    command += [f"{flag}={Path(target).resolve()}" for target in targets]
    command += [f"--external-checks-dir={Path(directory).resolve()}" for directory in policies]
    if skip:
        command += ["--skip-check", ",".join(skip)]
    with tempfile.TemporaryDirectory(prefix="tfgen-checkov-") as clean:
        env = _checkov_env()
        env.update({"HOME": clean, "XDG_CACHE_HOME": clean, "XDG_CONFIG_HOME": clean})
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=clean,
                                  timeout=_CHECKOV_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise PolicyError(f"checkov did not finish in {_CHECKOV_TIMEOUT} s; scan fewer roots at once") from None
    if done.returncode not in (0, 1):
        raise PolicyError(f"checkov failed (exit {done.returncode}): {_tail(done.stderr)}")
    reports = _json_documents(done.stdout)
    if not reports:
        raise PolicyError(f"checkov printed no JSON report: {_tail(done.stderr or done.stdout)}")
    return [r for r in reports if "results" in r or "summary" in r]


def _json_documents(text: str) -> list[dict]:
    """checkov prints one JSON document per scanned directory, back to back."""
    decoder, found, position = json.JSONDecoder(), [], 0
    text = text.strip()
    while position < len(text):
        try:
            document, position = decoder.raw_decode(text, position)
        except ValueError:
            break
        found.extend(document if isinstance(document, list) else [document])
        while position < len(text) and text[position].isspace():
            position += 1
    return found


def _tail(text: str, lines: int = 8) -> str:
    return "\n".join(text.strip().splitlines()[-lines:]) or "no output"


# -- where resources are ----------------------------------------------------------

_KEY = re.compile(r'^(\s*)"([^"]+)"\s*:\s*[\[{]')


class _Locator:
    """Finds `type.name` addresses in a root's pretty-printed `*.tf.json` files."""

    def __init__(self, root: Path):
        self.lines: dict[Path, list[str]] = {
            p: p.read_text(errors="replace").splitlines()
            for p in sorted(root.resolve().glob("*.tf.json")) if not p.name.endswith(OVERRIDE_SUFFIX)
        }
        self.addresses: dict[str, tuple[Path, int]] = {}
        for path, lines in self.lines.items():
            try:
                document = json.loads("\n".join(lines))
            except ValueError:
                continue
            for block in ("resource", "data"):
                for type_, items in (document.get(block) or {}).items():
                    for name in items if isinstance(items, dict) else {}:
                        prefix = "data." if block == "data" else ""
                        self.addresses[f"{prefix}{type_}.{name}"] = (path, self.line_of(lines, type_, name))

    @staticmethod
    def line_of(lines: list[str], type_: str, name: str) -> int | None:
        type_line = None
        for number, line in enumerate(lines, 1):
            match = _KEY.match(line)
            if not match:
                continue
            if match.group(2) == type_:
                type_line = number
            elif match.group(2) == name and type_line is not None:
                return number
        return type_line

    def alias_at(self, path: Path, line: int) -> str | None:
        """The `alias` of the provider block starting at `line`."""
        lines = self.lines.get(path, [])
        for text in lines[line - 1: line + 30]:
            match = re.match(r'^\s*"alias"\s*:\s*"([^"]+)"', text)
            if match:
                return match.group(1)
            if text.strip().startswith("}"):
                return None
        return None

    def type_at(self, path: Path, line: int) -> str | None:
        """The resource type whose block encloses `line` (checkov reports Python-check results as `resource.<name>`)."""
        lines = self.lines.get(path, [])
        if not 0 < line <= len(lines):
            return None
        match = _KEY.match(lines[line - 1])
        indent = len(match.group(1)) if match else len(lines[line - 1]) - len(lines[line - 1].lstrip())
        for number in range(line - 1, 0, -1):
            outer = _KEY.match(lines[number - 1])
            if outer and len(outer.group(1)) < indent:
                return outer.group(2)
        return None


# -- the gate ---------------------------------------------------------------------


def check_output(
    out: str | Path,
    *,
    plan: bool = False,
    policies: list[str | Path] = (),
    workdir: str | Path | None = None,
) -> GateReport:
    """Scan every root module under `out` with checkov and tfgen's policies; with `plan`, plan and scan too."""
    started = time.perf_counter()
    roots = find_roots(out)
    directories = [policy_dir()]
    for extra in policies:
        extra = Path(extra)
        if not extra.is_dir():
            raise PolicyError(f"policy directory {extra} does not exist; name a directory of checkov checks")
        if not (extra / "__init__.py").is_file() and any(extra.glob("*.py")):
            raise PolicyError(f"{extra} holds Python checks but no __init__.py; checkov loads none without it")
        directories.append(extra)
    suppressions = load_suppressions(policy_dir() / "suppressions.toml")
    for extra in directories[1:]:
        if (extra / "suppressions.toml").is_file():
            suppressions += load_suppressions(extra / "suppressions.toml")

    report = GateReport(roots=roots)
    locators = {env: _Locator(root) for env, root in roots.items()}
    by_dir = {root.resolve(): env for env, root in roots.items()}

    with ThreadPoolExecutor(max_workers=1) as pool:
        # checkov's start-up is most of a scan (about 3 s): let it run while Terraform plans.
        scan = pool.submit(_timed, run_checkov, list(roots.values()), framework="terraform_json",
                           policies=directories)
        plans = _plan_roots(report, roots, workdir) if plan else {}
        raw, seconds = scan.result()
    report.checkov_seconds += seconds
    for item in raw:
        for error in item.get("results", {}).get("parsing_errors", []) or []:
            _note_unreadable(report, Path(error), suppressions)
        for status, key in ((PASSED, "passed_checks"), (FAILED, "failed_checks")):
            for record in item.get("results", {}).get(key, []) or []:
                path = Path(record.get("file_abs_path") or "").resolve()
                env = by_dir.get(path.parent)
                if env is None:
                    continue
                report.results.append(_result(record, status, env, path, locators[env], "terraform_json",
                                              suppressions))

    if plans:
        _scan_plans(report, plans, roots, locators, directories, suppressions)
    _scan_modules(report, locators, suppressions)
    # checkov may load a policy module once per registry; a result counts once.
    report.results = sorted(set(report.results), key=lambda r: (r.environment, r.framework, r.status,
                                                                r.check_id, r.resource, r.file, r.line or 0))
    report.unscanned = sorted(set(report.unscanned))
    report.seconds = time.perf_counter() - started
    return report


def _only_settings(path: Path) -> bool:
    """Whether a file holds nothing but the `terraform` settings block (no resources to scan)."""
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and set(document) <= {"terraform"}


def _note_unreadable(report: GateReport, path: Path, suppressions: list[Suppression]) -> None:
    # A waiver names a file; it holds only while the file really has nothing to scan,
    # so a resource added to a waived file cannot slip past the gate.
    waiver = next((s for s in suppressions if s.path and path.name == s.path), None)
    shown = _shown(path)
    if waiver and _only_settings(path):
        report.unscanned.append((shown, waiver.reason))
    elif shown not in report.errors:
        report.errors.append(shown)


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


def _result(record: dict, status: str, env: str, path: Path, locator: _Locator, framework: str,
            suppressions: list[Suppression], *, located: tuple[Path, int | None] | None = None) -> GateResult:
    resource = str(record.get("resource", ""))
    line_range = record.get("file_line_range") or [0, 0]
    line = int(line_range[0]) if line_range and line_range[0] else None
    if located:
        path, line = located
    if resource.startswith("resource.") and line:
        type_ = locator.type_at(path, line)
        if type_:
            resource = f"{type_}.{resource.split('.', 1)[1]}"
    elif resource.startswith("provider.") and line:
        alias = locator.alias_at(path, line)
        if alias:
            resource = f"{resource}.{alias}"
    check_id = str(record.get("check_id", ""))
    reason = ""
    if status == FAILED:
        waiver = next((s for s in suppressions if s.covers(check_id, resource)), None)
        if waiver:
            status, reason = SUPPRESSED, waiver.reason
    return GateResult(
        check_id=check_id,
        check_name=str(record.get("check_name", "")),
        status=status,
        environment=env,
        resource=resource,
        file=_shown(path),
        line=line,
        framework=framework,
        reason=reason,
        guideline=str(record.get("guideline") or ""),
    )


def _timed(function, *args, **kwargs):
    clock = time.perf_counter()
    return function(*args, **kwargs), time.perf_counter() - clock


def _plan_roots(report: GateReport, roots: dict[str, Path], workdir) -> dict[Path, str]:
    """Plan every root offline (one after another: Terraform's plugin cache is not safe
    for concurrent use); `{plan JSON file: environment}`."""
    from .testing import plan_root
    from .toolchain import Toolchain

    scratch = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="tfgen-check-"))
    clock = time.perf_counter()
    toolchain = Toolchain(scratch / ".toolchain")
    plans: dict[Path, str] = {}
    for env, root in roots.items():
        planned = plan_root(root, workdir=scratch / "plans" / env, toolchain=toolchain)
        target = scratch / f"{env.replace('/', '__')}.tfplan.json"
        target.write_text(json.dumps(planned.raw))
        plans[target.resolve()] = env
    report.plan_seconds = time.perf_counter() - clock
    return plans


def _scan_plans(report: GateReport, plans: dict[Path, str], roots: dict[str, Path],
                locators: dict[str, _Locator], directories: list[Path], suppressions: list[Suppression]) -> None:
    raw, seconds = _timed(run_checkov, list(plans), framework="terraform_plan", policies=directories,
                          skip=tuple(sorted(CONFIGURATION_ONLY)))
    report.checkov_seconds += seconds
    for item in raw:
        for status, key in ((PASSED, "passed_checks"), (FAILED, "failed_checks")):
            for record in item.get("results", {}).get(key, []) or []:
                env = plans.get(Path(record.get("file_abs_path") or "").resolve())
                if env is None:
                    continue
                address = str(record.get("resource", ""))
                path, line = locators[env].addresses.get(address, (roots[env], None))
                report.results.append(_result(record, status, env, path, locators[env], "terraform_plan",
                                              suppressions, located=(path, line)))


def _scan_modules(report: GateReport, locators: dict[str, _Locator], suppressions: list[Suppression]) -> None:
    """The whole-module rules of policies/tfgen_module_rules.py (TFGEN_*), reported like checkov's."""
    from .policies import tfgen_module_rules

    for env, locator in locators.items():
        documents = {}
        for path, lines in locator.lines.items():
            try:
                documents[path] = json.loads("\n".join(lines))
            except ValueError:
                continue
        for rule, address, passed in tfgen_module_rules.evaluate(list(documents.values())):
            path, line = locator.addresses.get(address, (None, None))
            if address.startswith("output."):
                name = address.split(".", 1)[1]
                path = next((p for p, d in documents.items() if name in (d.get("output") or {})), None)
                line = locator.line_of(locator.lines[path], "output", name) if path else None
            record = {"check_id": rule, "check_name": tfgen_module_rules.RULES[rule], "resource": address}
            report.results.append(_result(record, PASSED if passed else FAILED, env, path or report.roots[env],
                                          locator, "tfgen", suppressions, located=(path or report.roots[env], line)))


# -- rendering ----------------------------------------------------------------------


def render_report(report: GateReport, fmt: str = "text") -> str:
    """The report as `text`, `json`, `sarif` (2.1.0) or `junitxml`."""
    if fmt not in FORMATS:
        raise PolicyError(f"unknown format {fmt!r}; use one of: {', '.join(FORMATS)}")
    return {"text": _text, "json": _json, "sarif": _sarif, "junitxml": _junit}[fmt](report)


def _text(report: GateReport) -> str:
    lines = []
    for env, root in report.roots.items():
        passed, failed, waived = (report.of(s, env) for s in (PASSED, FAILED, SUPPRESSED))
        verdict = "FAILED" if failed else "passed"
        lines.append(f"{env} ({_shown(root)}): {verdict}: {len(passed)} passed, {len(failed)} failed, "
                     f"{len(waived)} suppressed")
        for r in failed:
            lines.append(f"  FAILED {r.check_id} {r.resource} at {r.location} [{r.framework}]: {r.check_name}")
        by_check: dict[tuple[str, str], list[GateResult]] = {}
        for r in waived:
            by_check.setdefault((r.check_id, r.reason), []).append(r)
        for (check_id, reason), items in sorted(by_check.items()):
            resources = sorted({r.resource for r in items})
            lines.append(f"  suppressed {check_id} on {len(resources)} resource(s) ({', '.join(resources)}): {reason}")
    for file, reason in report.unscanned:
        lines.append(f"not scanned: {file}: {reason}")
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
    environments = {}
    for env, root in report.roots.items():
        environments[env] = {
            "root": _shown(root),
            **{status: len(report.of(status, env)) for status in (PASSED, FAILED, SUPPRESSED)},
            "results": [_result_dict(r) for r in report.results if r.environment == env],
        }
    return json.dumps({
        "ok": report.ok,
        "summary": {status: len(report.of(status)) for status in (PASSED, FAILED, SUPPRESSED)},
        "environments": environments,
        "not_scanned": [{"file": f, "reason": r} for f, r in report.unscanned],
        "errors": report.errors,
        "seconds": round(report.seconds, 3),
        "checkov_seconds": round(report.checkov_seconds, 3),
        "plan_seconds": round(report.plan_seconds, 3),
    }, indent=2, sort_keys=True) + "\n"


def _result_dict(r: GateResult) -> dict:
    return {"check_id": r.check_id, "check_name": r.check_name, "status": r.status, "resource": r.resource,
            "file": r.file, "line": r.line, "framework": r.framework, "reason": r.reason}


def _sarif(report: GateReport) -> str:
    from . import __version__

    shown = [r for r in report.results if r.status != PASSED]
    rule_ids = sorted({r.check_id for r in report.results})
    names = {r.check_id: r.check_name for r in report.results}
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
        region = {"startLine": r.line} if r.line else {}
        # Relative paths resolve against the checkout on code-scanning dashboards; others need a file URI.
        uri = Path(r.file).as_uri() if Path(r.file).is_absolute() else r.file
        location = {"physicalLocation": {"artifactLocation": {"uri": uri}, **({"region": region} if region else {})},
                    "logicalLocations": [{"name": r.resource, "fullyQualifiedName": f"{r.environment}/{r.resource}"}]}
        result = {
            "ruleId": r.check_id,
            "ruleIndex": index[r.check_id],
            "level": "error",
            "message": {"text": f"{r.check_name} ({r.resource}, {r.environment}, {r.framework})"},
            "locations": [location],
        }
        if r.status == SUPPRESSED:
            result["suppressions"] = [{"kind": "external", "justification": r.reason}]
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


def _junit(report: GateReport) -> str:
    suites = ElementTree.Element("testsuites", name="tfgen check")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for env in report.roots:
        items = [r for r in report.results if r.environment == env]
        counts = {"tests": len(items), "failures": len(report.of(FAILED, env)),
                  "skipped": len(report.of(SUPPRESSED, env))}
        suite = ElementTree.SubElement(suites, "testsuite", name=env, errors="0", time="0",
                                       **{k: str(v) for k, v in counts.items()})
        for r in items:
            case = ElementTree.SubElement(suite, "testcase", classname=f"{env}.{r.check_id}",
                                          name=f"{r.check_id} {r.resource} [{r.framework}]",
                                          file=r.file, **({"line": str(r.line)} if r.line else {}))
            if r.status == FAILED:
                failure = ElementTree.SubElement(case, "failure", message=r.check_name, type=r.check_id)
                failure.text = f"{r.resource} at {r.location}"
            elif r.status == SUPPRESSED:
                ElementTree.SubElement(case, "skipped", message=f"suppressed: {r.reason}")
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


