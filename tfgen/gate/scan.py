"""Running checkov (and tfgen's module rules) over roots and plans, offline."""

from __future__ import annotations

import contextlib
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Callable, Iterable

from ..errors import Origin, PolicyError
from ..terraform.index import Root
from ..terraform.roots import read_root, root_directories
from .environments import environments
from .locate import Locator
from .plans import plan_roots
from .results import (
    CONFIGURATION_ONLY,
    FAILED,
    PASSED,
    READ_CHECK,
    SCHEMA_CHECK,
    SUPPRESSED,
    GateReport,
    GateResult,
    Suppression,
    shown,
)
from .runner import run_checkov
from .waivers import UNWAIVABLE, apply_waivers, find_waivers, load_suppressions, load_waivers


def policy_dir() -> Path:
    """The directory of the policies tfgen ships (the installed `tfgen.policies`)."""
    return Path(str(resources.files("tfgen.policies")))


def find_roots(out: str | Path) -> dict[str, Path]:
    """`{environment: directory}` of every root module (a directory with `*.tf.json`) under `out`
    (links are not followed, `.terraform/` is not entered: `tfgen.terraform.roots.root_directories`)."""
    out = Path(out)
    if not out.is_dir():
        raise PolicyError(f"{out} is not a directory; run `tfgen build` first or name the output directory")
    try:
        directories = root_directories(out)
    except ValueError as exc:
        raise PolicyError(f"{exc}; name the output directory of `tfgen build`, not a larger tree") from None
    roots = {}
    for directory in directories:
        name = directory.relative_to(out).as_posix()
        roots[name if name != "." else out.resolve().name] = directory
    if not roots:
        raise PolicyError(f"{out} holds no *.tf.json root modules; run `tfgen build SPEC --out {out}` first")
    return roots


# -- the gate ---------------------------------------------------------------------


def check_output(
    out: str | Path,
    *,
    plan: bool = False,
    policies: list[str | Path] = (),
    workdir: str | Path | None = None,
    checks: Iterable[str] = (),
    skip_checks: Iterable[str] = (),
    waivers: str | Path | None = None,
    spec: str | Path | None = None,
) -> GateReport:
    """Scan every root module under `out` with checkov and tfgen's policies; with `plan`, plan and scan too.

    Every root is read first by `tfgen.terraform.roots`; a root with a file it cannot read (a link, FIFO or
    device, too large, too deep, not UTF-8, not Terraform JSON) gets one READ_CHECK failure per such file and
    is neither given to checkov nor planned. checkov scans a copy of what was read, so it never opens
    anything the reader refused. Scratch files (copies, plans) live in `workdir` or a temporary
    directory removed afterwards.

    `checks` and `skip_checks` (ids or comma lists, as checkov's `--check`/`--skip-check`) choose the checks;
    `waivers` names a waivers file (default: `tfgen-waivers.toml` found beside `spec` or OUT, see
    `tfgen.gate.waivers`); `spec`, the YAML spec OUT was built from, gives each result the spec line that
    produced its resource (`tfgen.gate.sources`)."""
    from .catalog import TFGEN_RULE, gate_checks, select

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
    waivers_file = find_waivers(out, spec, waivers)
    checks, skip_checks = list(checks), list(skip_checks)
    known = gate_checks(directories) if checks or skip_checks or waivers_file else {}
    only, skip = select(known, checks, skip_checks) if known else (set(), set())
    user_waivers, problems = load_waivers(waivers_file, set(known)) if waivers_file else ([], [])
    origin = _spec_origins(spec)

    report = GateReport(roots=roots, waivers=shown(waivers_file) if waivers_file else "")
    trees = {env: read_root(root) for env, root in roots.items()}
    for env, tree in trees.items():
        _note_unreadable_files(report, env, tree)
    locators = {env: Locator(tree) for env, tree in trees.items() if not tree.problems}
    by_checkov = {c for c in known if known[c].source != TFGEN_RULE}
    scan = _Selection(only=tuple(sorted(only & by_checkov)), skip=tuple(sorted(skip & by_checkov)),
                      none=bool(only) and not only & by_checkov)
    with contextlib.ExitStack() as stack:
        scratch = Path(workdir) if workdir else Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="tfgen-check-")))
        if locators:
            _scan_roots(report, locators, scratch, plan, directories, suppressions, scan)
    _scan_modules(report, locators, suppressions)
    _scan_ssm(report, locators, suppressions)
    _scan_gitops(report, locators, suppressions)
    _scan_schemas(report, locators, suppressions)
    report.results = [r for r in report.results if r.check_id in UNWAIVABLE
                      or (r.check_id not in skip and (not only or r.check_id in only))] + problems
    if waivers_file:
        from ..checks.platform import today

        apply_waivers(report, user_waivers, today(), (only or set(known)) - skip)
    if origin is not None:
        report.results = [_with_origin(r, origin) for r in report.results]
    # checkov may load a policy module once per registry; a result counts once.
    # A total order: two results of one check on one resource (the GitOps path's per-edge verdicts) differ
    # in their name, and a set's order changes from run to run.
    report.results = sorted(set(report.results), key=lambda r: (r.environment, r.framework, r.status,
                                                                r.check_id, r.resource, r.file, r.line or 0,
                                                                r.check_name, r.reason))
    report.unscanned = sorted(set(report.unscanned))
    report.seconds = time.perf_counter() - started
    return report


@dataclass(frozen=True)
class _Selection:
    """What checkov is asked to run: `--check` ids, `--skip-check` ids, or nothing at all (`none`)."""

    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    none: bool = False


def _spec_origins(spec: str | Path | None) -> Callable[[str, str], Origin | None] | None:
    if spec is None:
        return None
    from .sources import spec_origins

    if not Path(spec).is_file():
        raise PolicyError(f"spec {spec} does not exist; name the YAML spec OUT was built from, or leave out --spec")
    if Path(spec).suffix not in (".yaml", ".yml"):
        raise PolicyError(f"--spec takes the YAML spec OUT was built from, not {spec}; a Python-defined fleet has no "
                          "spec lines: leave out --spec (findings point at the generated files)")
    return spec_origins(spec)


def _with_origin(result: GateResult, origin: Callable[[str, str], Origin | None]) -> GateResult:
    if not result.environment or result.resource.startswith(("provider.", "terraform.")):
        return result
    found = origin(result.environment, result.resource)
    if found is None:
        return result
    return replace(result, spec_file=shown(Path(found.file)), spec_line=found.line)


def _note_unreadable_files(report: GateReport, env: str, tree: Root) -> None:
    for problem in tree.problems:
        path = Path(problem.file)
        report.results.append(GateResult(
            check_id=READ_CHECK, check_name=f"{problem.message}; fix: {problem.fix} (root not scanned)",
            status=FAILED, environment=env, resource=path.name, file=shown(path), line=problem.line,
            framework="tfgen"))


def _copies(locators: dict[str, Locator], scratch: Path) -> dict[Path, str]:
    """`{copy directory: environment}`: what the reader read of each root, for checkov to scan."""
    copies = {}
    for env, locator in locators.items():
        copy = scratch / "scan" / env.replace("/", "__")
        copy.mkdir(parents=True, exist_ok=True)
        for name, text in locator.root.texts.items():
            # A file of settings only (`terraform.tf.json`: versions, backend) has nothing to scan, and checkov's
            # terraform_json parser rejects its scalar settings: it is not given to checkov at all.
            if set(locator.root.documents.get(name, {})) - {"terraform"}:
                (copy / name).write_text(text, encoding="utf-8")
        copies[copy.resolve()] = env
    return copies


def _scan_roots(report: GateReport, locators: dict[str, Locator], scratch: Path, plan: bool,
                directories: list[Path], suppressions: list[Suppression], selection: _Selection) -> None:
    if selection.none:
        return  # `--check` chose only rules tfgen runs itself
    copies = _copies(locators, scratch)
    originals = {env: report.roots[env].resolve() for env in locators}
    with ThreadPoolExecutor(max_workers=1) as pool:
        # checkov's start-up is most of a scan: let it run while Terraform plans.
        scan = pool.submit(_timed, run_checkov, list(copies), framework="terraform_json", policies=directories,
                           only=selection.only, skip=selection.skip)
        plans = plan_roots(report, {env: report.roots[env] for env in locators}, scratch) if plan else {}
        raw, seconds = scan.result()
    report.checkov_seconds += seconds

    def original(name: str) -> tuple[str | None, Path]:
        path = Path(name).resolve()
        env = copies.get(path.parent)
        return env, (originals[env] / path.name if env else path)

    for item in raw:
        for error in item.get("results", {}).get("parsing_errors", []) or []:
            env, path = original(error)
            _note_unreadable(report, path, locators[env].root if env else None, suppressions)
        for status, key in ((PASSED, "passed_checks"), (FAILED, "failed_checks")):
            for record in item.get("results", {}).get(key, []) or []:
                env, path = original(record.get("file_abs_path") or "")
                if env is not None:
                    report.results.append(_result(record, status, env, path, locators[env], "terraform_json",
                                                  suppressions))
    if plans:
        _scan_plans(report, plans, report.roots, locators, directories, suppressions, selection)


def _note_unreadable(report: GateReport, path: Path, tree: Root | None, suppressions: list[Suppression]) -> None:
    # A waiver names a file; it holds only while the file really has nothing to scan,
    # so a resource added to a waived file cannot slip past the gate.
    waiver = next((s for s in suppressions if s.path and path.name == s.path), None)
    where = shown(path)
    only_settings = tree is not None and set(tree.documents.get(path.name, {"?": 0})) <= {"terraform"}
    if waiver and only_settings:
        report.unscanned.append((where, waiver.reason))
    elif where not in report.errors:
        report.errors.append(where)


def _result(record: dict, status: str, env: str, path: Path, locator: Locator, framework: str,
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
        file=shown(path),
        line=line,
        framework=framework,
        reason=reason,
        guideline=str(record.get("guideline") or ""),
    )


def _timed(function, *args, **kwargs):
    clock = time.perf_counter()
    return function(*args, **kwargs), time.perf_counter() - clock


def _scan_plans(report: GateReport, plans: dict[Path, str], roots: dict[str, Path],
                locators: dict[str, Locator], directories: list[Path], suppressions: list[Suppression],
                selection: _Selection) -> None:
    raw, seconds = _timed(run_checkov, list(plans), framework="terraform_plan", policies=directories,
                          skip=tuple(sorted(set(CONFIGURATION_ONLY) | set(selection.skip))), only=selection.only)
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



def _scan_schemas(report: GateReport, locators: dict[str, Locator], suppressions: list[Suppression]) -> None:
    """TFGEN_SCHEMA: every root against the argument schema of each AWS provider version its range admits
    (tfgen.terraform.schema_check): one result per root and version, or one per problem."""
    from ..errors import TfgenError
    from ..terraform.schema_check import check_root_for_range, declared_range

    for env, locator in locators.items():
        root = report.roots[env]
        settings = root / "terraform.tf.json"
        if declared_range(locator.root) is None:
            continue  # a root that pins no AWS provider range names no schema to hold it to
        try:
            found = check_root_for_range(locator.root)
        except TfgenError as exc:
            record = {"check_id": SCHEMA_CHECK, "check_name": f"no AWS provider schema to check against: {exc}",
                      "resource": "terraform.required_providers.aws"}
            report.results.append(_result(record, FAILED, env, settings, locator, "tfgen", suppressions,
                                          located=(settings, 1)))
            continue
        for version, problems in found.items():
            name = f"arguments match the hashicorp/aws {version} schema"
            if not problems:
                record = {"check_id": SCHEMA_CHECK, "check_name": name, "resource": f"provider hashicorp/aws {version}"}
                report.results.append(_result(record, PASSED, env, settings, locator, "tfgen", suppressions,
                                              located=(settings, 1)))
            for problem in problems:
                path, line = locator.addresses.get(problem.address, (root / problem.file, 1))
                record = {"check_id": SCHEMA_CHECK, "check_name": f"{name}: {problem.argument or problem.address}: "
                          f"{problem.message}", "resource": problem.address}
                report.results.append(_result(record, FAILED, env, path, locator, "tfgen", suppressions,
                                              located=(path, line)))


def _scan_modules(report: GateReport, locators: dict[str, Locator], suppressions: list[Suppression]) -> None:
    """The whole-module rules of policies/tfgen_module_rules.py (TFGEN_*), reported like checkov's."""
    from ..policies import tfgen_module_rules

    for _, index, where in environments(locators):
        owner = {address: where(block.file)[0] for address, block in index.resources.items()}
        for rule, address, passed in tfgen_module_rules.evaluate(index):
            env = owner.get(address, where("")[0])
            path, line = locators[env].addresses.get(address, (report.roots[env], None))
            record = {"check_id": rule, "check_name": tfgen_module_rules.RULES[rule], "resource": address}
            report.results.append(_result(record, PASSED if passed else FAILED, env, path, locators[env], "tfgen",
                                          suppressions, located=(path, line)))


def _scan_ssm(report: GateReport, locators: dict[str, Locator], suppressions: list[Suppression]) -> None:
    """VAL444 on each root: an SSM document fits SSM's 64 KB once applied (tfgen.checks.ssm, as build runs it);
    it fails where build refuses (every reference at its shortest value past the limit)."""
    from ..checks import ssm
    from ..errors import Severity

    for env, locator in locators.items():
        for size in ssm.document_sizes(locator.root):
            failed = size.severity is Severity.ERROR
            path, line = locator.addresses.get(size.address, (report.roots[env], None))
            record = {"check_id": ssm.CODE, "check_name": size.message(env) if failed else ssm.TITLE,
                      "resource": size.address}
            report.results.append(_result(record, FAILED if failed else PASSED, env, path, locator, "tfgen",
                                          suppressions, located=(path, line)))


def _scan_gitops(report: GateReport, locators: dict[str, Locator], suppressions: list[Suppression]) -> None:
    """NET300-NET307: each environment's GitOps path, checked on its documents (tfgen.checks.gitops_output)."""
    from ..checks.gitops_output import evaluate

    for name, index, where in environments(locators):
        for verdict in evaluate(name, index):
            env, file = where(verdict.place.file)
            locator = locators[env]
            path = report.roots[env].resolve() / file
            record = {"check_id": verdict.code, "check_name": verdict.summary, "resource": verdict.place.address}
            report.results.append(_result(record, PASSED if verdict.holds else FAILED, env, path, locator, "tfgen",
                                          suppressions, located=(path, locator.line_in(path, *verdict.place.block))))
