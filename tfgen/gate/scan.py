"""Running checkov (and tfgen's module rules) over roots and plans, offline."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path

from ..errors import PolicyError
from ..terraform.index import Root
from ..terraform.roots import read_root, root_directories
from .environments import environments
from .locate import Locator
from .plans import plan_roots
from .results import (
    _CHECKOV_TIMEOUT,
    _NO_NETWORK,
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


def _waived_resources(path: Path, entry: dict) -> tuple[str, ...]:
    resources = entry.get("resources")
    example = 'resources = ["aws_eip.*"]'
    if not isinstance(resources, list) or not resources:
        raise PolicyError(f"{path}: [[check]] {entry['id']} names no `resources`, which would waive it on every "
                          f"resource; list the resources it is waived on, e.g. {example}")
    for pattern in resources:
        if not isinstance(pattern, str) or not _WAIVABLE.fullmatch(pattern):
            raise PolicyError(f"{path}: [[check]] {entry['id']} is waived on {pattern!r}, which does not start with "
                              f"a resource type and could match every resource; name the type, e.g. {example}")
    return tuple(resources)


# -- running checkov -------------------------------------------------------------

# Credentials never reach checkov: `--policies` directories are Python that it runs.
_SECRET_PREFIXES = ("AWS_", "ACTIONS_", "GITLAB_", "GITHUB_TOKEN", "GH_TOKEN", "CI_JOB_", "CI_REGISTRY_",
                    "AZURE_", "ARM_", "GOOGLE_", "VAULT_", "TF_TOKEN_", "TFE_", "BC_", "PRISMA_", "CKV_", "CHECKOV_")
_SECRET_SUFFIXES = ("_TOKEN", "_SECRET", "_PASSWORD", "_CREDENTIALS", "_API_KEY", "_ACCESS_KEY", "_PRIVATE_KEY")


def _credential(name: str) -> bool:
    upper = name.upper()
    return upper.startswith(_SECRET_PREFIXES) or upper.endswith(_SECRET_SUFFIXES)


def _checkov_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not _credential(k) and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
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
        raise PolicyError("checkov is not installed; install tfgen-fleet[policy]") from None
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


# -- the gate ---------------------------------------------------------------------


def check_output(
    out: str | Path,
    *,
    plan: bool = False,
    policies: list[str | Path] = (),
    workdir: str | Path | None = None,
) -> GateReport:
    """Scan every root module under `out` with checkov and tfgen's policies; with `plan`, plan and scan too.

    Every root is read first by `tfgen.terraform.roots`; a root with a file it cannot read (a link, FIFO or
    device, too large, too deep, not UTF-8, not Terraform JSON) gets one READ_CHECK failure per such file and
    is neither given to checkov nor planned. checkov scans a copy of what was read, so it never opens
    anything the reader refused. Scratch files (copies, plans) live in `workdir` or a temporary
    directory removed afterwards."""
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
    trees = {env: read_root(root) for env, root in roots.items()}
    for env, tree in trees.items():
        _note_unreadable_files(report, env, tree)
    locators = {env: Locator(tree) for env, tree in trees.items() if not tree.problems}
    with contextlib.ExitStack() as stack:
        scratch = Path(workdir) if workdir else Path(stack.enter_context(
            tempfile.TemporaryDirectory(prefix="tfgen-check-")))
        if locators:
            _scan_roots(report, locators, scratch, plan, directories, suppressions)
    _scan_modules(report, locators, suppressions)
    _scan_ssm(report, locators, suppressions)
    _scan_gitops(report, locators, suppressions)
    _scan_schemas(report, locators, suppressions)
    # checkov may load a policy module once per registry; a result counts once.
    # A total order: two results of one check on one resource (the GitOps path's per-edge verdicts) differ
    # in their name, and a set's order changes from run to run.
    report.results = sorted(set(report.results), key=lambda r: (r.environment, r.framework, r.status,
                                                                r.check_id, r.resource, r.file, r.line or 0,
                                                                r.check_name, r.reason))
    report.unscanned = sorted(set(report.unscanned))
    report.seconds = time.perf_counter() - started
    return report



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
            (copy / name).write_text(text, encoding="utf-8")
        copies[copy.resolve()] = env
    return copies


def _scan_roots(report: GateReport, locators: dict[str, Locator], scratch: Path, plan: bool,
                directories: list[Path], suppressions: list[Suppression]) -> None:
    copies = _copies(locators, scratch)
    originals = {env: report.roots[env].resolve() for env in locators}
    with ThreadPoolExecutor(max_workers=1) as pool:
        # checkov's start-up is most of a scan: let it run while Terraform plans.
        scan = pool.submit(_timed, run_checkov, list(copies), framework="terraform_json", policies=directories)
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
        _scan_plans(report, plans, report.roots, locators, directories, suppressions)


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
                locators: dict[str, Locator], directories: list[Path], suppressions: list[Suppression]) -> None:
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
