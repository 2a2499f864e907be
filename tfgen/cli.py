"""`tfgen` on the command line. Exit status: 0 ok, 1 findings, stale output or failed verification, 2 usage."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from typing import TYPE_CHECKING

from ._version import __version__
from .errors import Finding, FindingsError, Severity, TfgenError, condense

if TYPE_CHECKING:
    from .model import Fleet

# Each verb imports what it needs when it runs: `tfgen check` never loads the network
# checks (networkx), `tfgen build` never loads the policy gate or the sandbox.

__all__ = ["main", "run"]


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **{**kwargs, "add_help": False})
        self.add_argument("-h", "-help", "--help", action="help", help="show this help and exit")

    def error(self, message: str):
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n  fix: see `{self.prog} --help`\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tfgen", description="Multi-region EKS fleets as checked Terraform JSON.")
    parser.add_argument("--version", action="version", version=f"tfgen {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)

    b = verbs.add_parser("build", help="check a spec and write one Terraform root module per environment")
    b.add_argument("spec", help="fleet spec (YAML)")
    b.add_argument("--out", default="out", help="output directory (default: out)")
    b.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 when the output directory is stale")
    b.add_argument("--strict", action="store_true", help="overlapping VPCs are errors even when not connected")
    b.add_argument("--allow-layout-change", action="store_true",
                   help="build an environment in another layout than OUT has it (then `tfgen migrate --run`)")
    _add_lifecycle(b)
    _add_allocations(b)
    b.set_defaults(run=_build)

    d = verbs.add_parser("diff", help="print what building the spec into OUT would change, object by object; "
                                      "write nothing (exit 1 when the build would be refused)")
    d.add_argument("spec", help="fleet spec (YAML)")
    d.add_argument("--out", default="out", help="output directory of the previous build (default: out)")
    d.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    d.add_argument("--strict", action="store_true", help="overlapping VPCs are errors even when not connected")
    _add_lifecycle(d)
    _add_allocations(d)
    d.set_defaults(run=_diff)

    m = verbs.add_parser("migrate", help="move an environment's state to its new layout (without --run: the plan)")
    m.add_argument("spec", help="fleet spec (YAML)")
    m.add_argument("--env", required=True, metavar="NAME", help="the environment whose layout changed")
    m.add_argument("--out", default="out", help="output directory (default: out)")
    m.add_argument("--run", dest="execute", action="store_true",
                   help="move the state (terraform with your credentials); without it, print the plan of moves")
    m.add_argument("--work", metavar="DIR",
                   help="where backups of every state, the states written and logs go (default: "
                        "tfgen-migrate-<env>-<time> here; it holds state: keep it out of version control)")
    _add_allocations(m)
    m.set_defaults(run=_migrate)

    v = verbs.add_parser("validate", help="run every spec and network check; write nothing")
    v.add_argument("spec", help="fleet spec (YAML)")
    v.add_argument("--format", choices=("text", "json"), default="text")
    v.add_argument("--strict", action="store_true", help="overlapping VPCs are errors even when not connected")
    _add_allocations(v)
    v.set_defaults(run=_validate)

    g = verbs.add_parser("graph", help="draw the network topology (Mermaid, DOT or SVG)")
    g.add_argument("spec", help="fleet spec (YAML)")
    g.add_argument("--env", action="append", metavar="NAME", help="environment to draw (repeatable; default: all)")
    g.add_argument("--format", choices=("mermaid", "dot", "svg"), default="mermaid")
    g.add_argument("--output", help="write to this file instead of standard output")
    g.set_defaults(run=_graph)
    _add_check_verb(verbs)

    s = verbs.add_parser("sandbox", help="apply the fleet to a local AWS double, verify it, tear it down")
    s.add_argument("spec", help="fleet spec (YAML)")
    s.add_argument("--env", action="append", metavar="NAME", help="environment to run (repeatable; default: all)")
    s.add_argument("--keep", action="store_true",
                   help="skip destroy; keep the double serving the fleet until Ctrl-C")
    s.add_argument("--format", choices=("text", "json"), default="text", help="report format (default: text)")
    s.add_argument("--workdir", help="scratch directory to use and keep (default: a temporary one)")
    s.add_argument("--from", dest="from_spec", metavar="OLD_SPEC",
                   help="rehearse a change: apply OLD_SPEC, then build, plan and apply the spec over it")
    _add_lifecycle(s)
    _add_allocations(s)
    s.set_defaults(run=_sandbox)

    o = verbs.add_parser("gitops", help="render Argo CD's cluster Secrets for the edges of an applied environment")
    o.add_argument("root", metavar="OUT/ENV", help="the applied root of an environment (terraform output runs there)")
    o.add_argument("--outputs", metavar="FILE", help="a saved `terraform output -json` instead of running terraform")
    o.add_argument("--format", choices=("yaml", "json"), default="yaml",
                   help="yaml: the Secrets as multi-document YAML; json: Secrets and Helm values (default: yaml)")
    o.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    o.add_argument("--values", metavar="FILE",
                   help="also write the Helm values of the hub's Argo CD (its identity) to FILE as YAML")
    o.set_defaults(run=_gitops)
    u = verbs.add_parser("upgrade", help="plan a Kubernetes upgrade of the fleet in waves (--write: the next step)")
    u.add_argument("spec", help="fleet spec (YAML)")
    u.add_argument("--to", required=True, metavar="VERSION", help="the Kubernetes version to reach, e.g. 1.36")
    u.add_argument("--env", action="append", metavar="NAME", help="environment to plan (repeatable; default: all)")
    u.add_argument("--format", choices=("text", "json"), default="text",
                   help="json: the plan for programs, messages on stderr (default: text)")
    u.add_argument("--write", action="store_true",
                   help="rewrite the spec to the next step of each environment (comments and order kept)")
    u.add_argument("--check", action="store_true",
                   help="read EKS upgrade insights of the next step's clusters (AWS credentials); refuse on ERROR")
    _add_allocations(u)
    u.set_defaults(run=_upgrade)
    _add_run_verbs(verbs)
    _add_rule_verbs(verbs)
    _add_tool_verbs(verbs)
    return parser


def _add_lifecycle(verb) -> None:
    verb.add_argument("--allow-replace", action="append", default=[], metavar="PATH",
                      help="allow replacing the EKS clusters, VPCs and KMS keys of PATH (env[/region[/cluster]]; "
                           "repeatable)")
    verb.add_argument("--allow-destroy", action="append", default=[], metavar="PATH",
                      help="allow destroying them, or removing the environment or cells root PATH (repeatable)")
    verb.add_argument("--retired", action="append", default=[], metavar="PATH",
                      help="the retirement of PATH was applied elsewhere (e.g. CI): drop what was kept for it")


def _add_allocations(verb) -> None:
    verb.add_argument("--allocations", metavar="FILE",
                      help="the record of VPC CIDRs allocated from pools (default: <spec>.allocations.yaml beside "
                           "the spec; required to allocate when the spec is read from a pipe)")


_RUN_HELP = {
    "plan": "plan roots of a build in dependency order (or offline); --out-dir keeps the plans for `tfgen apply`",
    "apply": "plan and apply roots of a build in dependency order, or apply exactly the plans in PLANS",
    "destroy": "destroy every root of a build in reverse dependency order (_state only when named)",
}


def _add_run_verbs(verbs) -> None:
    for command, text in _RUN_HELP.items():
        r = verbs.add_parser(command, help=text)
        r.add_argument("out", metavar="PLANS" if command == "apply" else "OUT",
                       help="output directory of `tfgen build`" + (", or saved plans (`tfgen plan --out-dir`)"
                                                                   if command == "apply" else ""))
        choose = r.add_mutually_exclusive_group()
        choose.add_argument("--env", action="append", metavar="NAME",
                            help="root to run (repeatable; default: all), with the roots it needs"
                                 + (" (destroy: with the roots that need it)" if command == "destroy" else ""))
        if command != "destroy":
            choose.add_argument("--affected", metavar="REF",
                                help="exactly the roots whose generated files differ from the git revision REF, "
                                     "the roots that read their state, and roots removed since (planned for "
                                     "destroy)")
        r.add_argument("--no-deps", action="store_true",
                       help="run exactly the named roots, not their dependencies (CI jobs that order them)")
        if command != "destroy":
            r.add_argument("--allow-replace", action="append", metavar="PATH",
                           help="a plan may replace the EKS clusters, VPCs and KMS keys of PATH "
                                "(env[/region[/cluster]]; repeatable; also $TFGEN_ALLOW_REPLACE)")
            r.add_argument("--allow-destroy", action="append", metavar="PATH",
                           help="a plan may destroy them, or the removed environment or root PATH (repeatable; "
                                "also $TFGEN_ALLOW_DESTROY)")
        r.add_argument("--parallelism", type=int, default=2, metavar="N",
                       help="independent roots to run at once (default: 2)")
        r.add_argument("--list", action="store_true", help="print the roots it would run, and why; run nothing")
        r.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                       help="json: the report on stdout; markdown: the diff for a pull request or job summary; "
                            "progress on stderr for both (default: text)")
        if command == "plan":
            r.add_argument("--offline", action="store_true",
                           help="plan lowered copies with the offline toolchain: no credentials, no network")
            r.add_argument("--out-dir", metavar="PLANS",
                           help="keep each root's plan, its JSON and what it was made from in PLANS")
            r.add_argument("--detailed-exitcode", action="store_true",
                           help="as terraform's: 0 no changes, 2 changes present, 1 an error")
        else:
            r.add_argument("--auto-approve", action="store_true",
                           help="apply each root's plan without asking (needed without a terminal)")
        if command == "apply":
            r.add_argument("--waves", action="store_true",
                           help="apply the cells roots wave by wave as the spec's rollout orders them, verifying "
                                "each wave (re-plan empty; with credentials, the EKS version) before the next")
        r.set_defaults(run=_orchestrate, command=command)

    c = verbs.add_parser("ci", help="write a CI configuration that runs the graph of roots")
    engines = c.add_subparsers(dest="engine", required=True, parser_class=_Parser)
    for engine, text in (("atlantis", "an atlantis.yaml (version 3), one project per root"),
                         ("github-actions", "a GitHub Actions workflow: checks, then plan and apply per root")):
        e = engines.add_parser(engine, help=text)
        e.add_argument("out", metavar="OUT", help="output directory of `tfgen build`, as the repository has it")
        e.add_argument("--spec", required=True, help="the fleet spec OUT is built from (for build --check)")
        if engine == "github-actions":
            e.add_argument("--branch", default="main", help="the branch whose pushes apply (default: main)")
        e.add_argument("--install", metavar="REQUIREMENT",
                       help="how CI installs tfgen, pinned: NAME==VERSION, git+https://HOST/ORG/REPO@<40-hex "
                            "commit>, or '-r FILE' (installed with --require-hashes) (default: "
                            "tfgen-fleet[toolchain,policy]==this version)")
        e.add_argument("--terraform-version", metavar="VERSION",
                       help="the Terraform CI runs (default: the lowest every root's required_version admits)")
        e.add_argument("--include-state", action="store_true",
                       help="also run the _state root (only once its state is kept in a backend, not locally)")
        e.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
        e.set_defaults(run=_ci)


def _add_rule_verbs(verbs) -> None:
    from .rules import FORMATS, READS

    e = verbs.add_parser("explain", help="say what a finding code means, why it matters and how to fix it")
    e.add_argument("code", metavar="CODE", help="a finding code, e.g. VAL131, NET211, CKV_TFGEN_5")
    e.set_defaults(run=_explain)
    r = verbs.add_parser("rules", help="list every finding code tfgen raises")
    r.add_argument("--format", choices=FORMATS, default="text",
                   help="markdown: the table docs/findings.md is made from (default: text)")
    r.add_argument("--reads", choices=tuple(READS), help="only the rules that read this input")
    r.set_defaults(run=_rules)


def _explain(args) -> int:
    from .rules import registry
    from .rules.render import explain, explain_retired

    known = registry()
    code = args.code.strip().upper()
    if code in known.rules:
        sys.stdout.write(explain(known.rules[code]))
    elif code in known.retired:
        retired = known.retired[code]
        sys.stdout.write(explain_retired(retired, known.rules.get(retired.successor)))
    else:
        close = known.close_to(code)
        guess = f"; did you mean {' or '.join(close)}?" if close else ""
        raise TfgenError(f"no finding code {args.code!r}{guess}\n  fix: `tfgen rules` lists every code")
    return 0


def _rules(args) -> int:
    from .rules import registry
    from .rules.render import listing

    known = registry()
    retired = list(known.retired.values()) if args.reads is None else []
    sys.stdout.write(listing(known.of(args.reads), retired, args.format))
    return 0


def _add_tool_verbs(verbs) -> None:
    from .completion import SHELLS

    s = verbs.add_parser("schema", help="print the spec's JSON Schema (for editors: yaml-language-server)")
    s.set_defaults(run=_schema)
    c = verbs.add_parser("completion", help="print the shell completion script for bash, zsh or fish")
    c.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    c.set_defaults(run=_completion)
    h = verbs.add_parser("help", help="show the help of tfgen or of a verb (tfgen help build)")
    h.add_argument("topic", nargs="*", choices=_Topics(sorted(verbs.choices)), metavar="VERB",
                   help="the verb (and for ci, the engine) to explain")
    h.set_defaults(run=_help)


class _Topics(tuple):
    """The verbs `tfgen help` completes to; any word passes the parser, `_help` says which are wrong."""

    def __contains__(self, word: object) -> bool:
        return True


def _schema(args) -> int:
    from .spec.schema import shipped

    sys.stdout.write(shipped())
    return 0


def _completion(args) -> int:
    from .completion import render

    sys.stdout.write(render(args.shell, _parser()))
    return 0


def _help(args) -> int:
    import difflib

    parser = _parser()
    for word in args.topic:
        verbs = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
        if verbs is None or word not in verbs.choices:
            known = sorted(verbs.choices) if verbs is not None else []
            close = difflib.get_close_matches(word, known, n=1)
            guess = f"did you mean `{' '.join(args.topic[:args.topic.index(word)] + close)}`? " if close else ""
            raise TfgenError(f"no help on {' '.join(args.topic)!r}\n  fix: {guess}`tfgen help` lists the verbs")
        parser = verbs.choices[word]
    parser.print_help()
    return 0


def _orchestrate(args) -> int:
    from .orchestrate.commands import main as run_verb
    from .orchestrate.prompt import approver

    return run_verb(args, approver)


def _ci(args) -> int:
    from .orchestrate import read_graph
    from .orchestrate.ci import render_ci

    text = render_ci(args.engine, read_graph(args.out), out=args.out, spec=args.spec,
                     include_state=args.include_state, branch=getattr(args, "branch", "main"),
                     install=args.install, terraform=args.terraform_version)
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _add_check_verb(verbs) -> None:
    from .gate import FORMATS

    c = verbs.add_parser("check", help="policy gate: scan root modules with checkov and tfgen's policies")
    c.add_argument("out", nargs="?", help="output directory of `tfgen build` (every root module under it is scanned)")
    c.add_argument("--plan", action="store_true", help="also plan each root offline and scan the plan JSON")
    c.add_argument("--policies", action="append", default=[], metavar="DIR",
                   help="a directory of your own checkov checks (repeatable)")
    c.add_argument("--format", choices=FORMATS, default="text", help="report format (default: text)")
    c.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    c.add_argument("--check", action="append", default=[], metavar="ID[,ID...]", dest="checks",
                   help="run only these checks (repeatable; `--list` names them)")
    c.add_argument("--skip-check", action="append", default=[], metavar="ID[,ID...]", dest="skip_checks",
                   help="run every check but these (repeatable)")
    c.add_argument("--soft-fail", action="store_true", help="report findings but exit 0")
    c.add_argument("--compact", action="store_true", help="text: one line per finding, no titles or reasons")
    c.add_argument("--list", action="store_true", help="list every check the gate runs (id, source, title) and exit")
    c.add_argument("--waivers", metavar="FILE", help="the waivers file (default: tfgen-waivers.toml beside the spec "
                   "or OUT)")
    c.add_argument("--spec", metavar="SPEC", help="the YAML spec OUT was built from: findings point at its lines")
    c.set_defaults(run=_check)


def _check(args) -> int:
    from .gate import check_output, render_report, write_report
    from .gate.cli import check_list, usage_problem

    problem = usage_problem(args)
    if problem:
        print(f"tfgen check: {problem}", file=sys.stderr)
        return 2
    if args.list:
        return check_list(args)
    report = check_output(args.out, plan=args.plan, policies=args.policies, checks=args.checks,
                          skip_checks=args.skip_checks, waivers=args.waivers, spec=args.spec)
    write_report(render_report(report, args.format, compact=args.compact), args.output)
    if args.output and args.format != "text":
        print(render_report(report, "text", compact=args.compact), end="")  # the CI log shows what failed
    elif args.format != "text":
        verdict = "passed" if report.ok else "FAILED"
        print(f"tfgen check: {verdict}: {len(report.of('failed'))} failed, {len(report.of('suppressed'))} "
              f"suppressed, {len(report.of('passed'))} passed", file=sys.stderr)
    return 0 if args.soft_fail and report.exit_code == 1 else report.exit_code


def _print_findings(findings) -> None:
    for finding in findings:
        print(finding.format(), file=sys.stderr)


def _read(path: str, allocations: str | None = None) -> tuple[Fleet | None, list[Finding], Fleet | None]:
    """The spec's fleet (None with shape errors), its findings, and what could be read
    of it (for grouping findings by environment); with shape errors, the findings also
    hold the value errors of what could be read, so one run shows every problem.
    `allocations` (`--allocations`) replaces the record's place beside the spec."""
    from .pipeline import validate
    from .spec import read

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


def _load(path: str, allocations: str | None = None) -> Fleet:
    fleet, findings, _ = _read(path, allocations)
    if fleet is None:
        raise FindingsError(findings)
    return fleet


def _build(args) -> int:
    from .pipeline import build

    fleet = _load(args.spec, args.allocations)
    result = build(fleet, args.out, check=args.check, strict=args.strict,
                   allow_layout_change=args.allow_layout_change, allow_replace=args.allow_replace,
                   allow_destroy=args.allow_destroy, retired=args.retired, spec=args.spec)
    _print_findings(result.warnings)
    changes = result.changes
    for path in changes.foreign:
        print(f"tfgen: warning: {args.out}/{path} is not tfgen's, but Terraform loads it with that root "
              f"module\n  fix: move it out, or keep it on purpose (an extension of the root)", file=sys.stderr)
    if args.check:
        print(f"{args.out} is up to date ({len(changes.unchanged)} files)")
        return 0
    if result.diff is not None:
        print(result.diff.text(), end="")
    summary = f"{len(changes.added)} added, {len(changes.changed)} changed, {len(changes.removed)} removed"
    roots = sorted({Path(path).parent.as_posix() for path in changes.added + changes.changed + changes.unchanged
                    if path.endswith(".tf.json")})
    print(f"built {', '.join(f'{args.out}/{r}' for r in roots)}: {summary}")
    for path in result.allocations:
        print(f"recorded new VPC CIDR allocations in {path}; commit it with the spec")
    return 0


def _diff(args) -> int:
    from .pipeline import diff

    fleet_diff, findings = diff(_load(args.spec, args.allocations), args.out, strict=args.strict,
                                allow_replace=args.allow_replace, allow_destroy=args.allow_destroy,
                                retired=args.retired)
    _print_findings(findings)
    if args.format == "json":
        print(json.dumps({**fleet_diff.as_dict(), "findings": [f.as_dict() for f in findings]}, indent=2,
                         sort_keys=True))
    else:
        print(fleet_diff.markdown() if args.format == "markdown" else fleet_diff.text(), end="")
    return 1 if any(f.severity is Severity.ERROR for f in findings) else 0


def _migrate(args) -> int:
    from .migrate import plan_migration
    from .pipeline import emit_checked

    fleet = _load(args.spec, args.allocations)
    if args.execute:
        from .migrate.run import default_work, run_migration

        work = Path(args.work) if args.work else default_work(args.env)
        result = run_migration(fleet, args.env, args.out, work=work, spec=args.spec,
                               progress=lambda line: print(line, file=sys.stderr, flush=True))
        sys.stdout.write(result.format(out=args.out))
        return 0
    prepared, _ = emit_checked(fleet)
    plan = plan_migration(prepared.fleet, prepared.fleet.environment(args.env))
    sys.stdout.write(plan.format(spec=args.spec, out=args.out))
    return 0


def _upgrade(args) -> int:
    from .upgrade.command import upgrade

    return upgrade(args, _load(args.spec, args.allocations))


def _environment_of(path: str) -> str:
    """The environment a finding's path is in: `dev/us-east-1/hub` (checks) or `environments.dev.hub` (the spec)."""
    if path.startswith("environments."):
        return path.split(".", 2)[1] if path.count(".") else ""
    return path.split("/", 1)[0]


def _validate(args) -> int:
    from .pipeline import check_record, prepare

    fleet, findings, partial = _read(args.spec, args.allocations)
    if fleet is not None:
        prepared = prepare(fleet, strict=args.strict)
        findings = prepared.findings + check_record(prepared)  # what `build` would refuse
    envs = sorted({str(e) for e in getattr(partial, "environments", None) or ()})
    grouped: dict[str, list[Finding]] = {e: [] for e in envs}
    general: list[Finding] = []
    for f in findings:
        env = _environment_of(f.path)
        (grouped[env] if env in grouped else general).append(f)
    errors = sum(f.count for f in findings if f.severity is Severity.ERROR)
    warnings = sum(f.count for f in findings) - errors
    if args.format == "json":
        print(json.dumps({
            "spec": args.spec, "ok": errors == 0, "errors": errors, "warnings": warnings,
            "fleet": [f.as_dict() for f in general],
            "environments": {e: [f.as_dict() for f in fs] for e, fs in grouped.items()},
        }, indent=2, sort_keys=True))
    else:
        for f in general:
            print(f.format())
        for env, fs in grouped.items():
            print(f"{env}: " + ("ok" if not fs else f"{sum(f.count for f in fs)} finding(s)"))
            for f in fs:
                print("  " + f.format().replace("\n", "\n  "))
        print(f"{args.spec}: {errors} error(s), {warnings} warning(s)")
    return 1 if errors else 0


def _graph(args) -> int:
    from .checks.topology import build_graph
    from .diagram import to_dot, to_mermaid, to_svg
    from .pipeline import prepare

    prepared = prepare(_load(args.spec))
    if prepared.errors:
        raise FindingsError(prepared.findings)  # a picture of an invalid network would be taken as a valid one
    names = args.env or sorted(prepared.fleet.environments)
    graphs = [build_graph(prepared.fleet.environment(name)) for name in names]
    text = {"mermaid": to_mermaid, "dot": to_dot, "svg": to_svg}[args.format](graphs)
    _print_findings(prepared.warnings)
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _sandbox(args) -> int:
    from .orchestrate import on_signals
    from .sandbox import Sandbox, format_phase, format_report

    fleet = _load(args.spec, args.allocations)
    for name in args.env or []:
        fleet.environment(name)
    log = sys.stdout if args.format == "text" else sys.stderr

    def progress(result):
        print(format_phase(result), file=log, flush=True)

    def interrupt():  # SIGTERM, like Ctrl-C, stops every child before tfgen exits
        raise KeyboardInterrupt

    if args.from_spec:
        return _rehearse(args, fleet, log, progress, interrupt)
    if args.allow_replace or args.allow_destroy or args.retired:
        raise TfgenError("--allow-replace, --allow-destroy and --retired rehearse a change: give --from OLD_SPEC\n"
                         "  fix: `tfgen sandbox NEW_SPEC --from OLD_SPEC --allow-destroy ...`")

    with on_signals(interrupt), Sandbox(fleet, spec=args.spec, workdir=args.workdir, progress=progress) as sandbox:
        units = [*fleet.environments, *(["_state"] if "_state" in sandbox.graph.needs else [])]
        accounts = ", ".join(f"{unit} {sandbox.account(unit)}" for unit in units)
        print(f"tfgen sandbox: {args.spec}, local AWS double {sandbox.double.describe()}; accounts: {accounts}",
              file=log, flush=True)
        report = sandbox.run(args.env, keep=args.keep)
        if args.format == "json":
            print(json.dumps(report.as_dict(), indent=2, sort_keys=True))
        else:
            print(format_report(report), flush=True)
        if args.keep:
            print(f"the fleet stays up at {sandbox.double.endpoint}; scratch in {sandbox.workdir}; press Ctrl-C to "
                  f"stop the double. Each environment is in its own account; to look at one, export its keys:",
                  file=log)
            for unit in units:
                keys = sandbox.double.credentials(sandbox.account(unit))
                print(f"  {unit}: " + " ".join(f"{name.upper()}={value}" for name, value in keys.items()), file=log)
            log.flush()
            sandbox.hold()
    return 0 if report.ok else 1


def _rehearse(args, fleet, log, progress, interrupt) -> int:
    from .orchestrate import on_signals
    from .sandbox.rehearsal import format_rehearsal, rehearse

    if args.env or args.retired:
        raise TfgenError("--env and --retired do not go with --from: a rehearsal applies every environment of both "
                         "specs\n  fix: drop them")
    old = _load(args.from_spec, None)

    def started(sandbox):
        print(f"tfgen sandbox: rehearsing {args.from_spec} -> {args.spec} on the local AWS double "
              f"{sandbox.double.describe()}", file=log, flush=True)

    with on_signals(interrupt):
        report = rehearse(old, fleet, spec=args.spec, old_spec=args.from_spec, workdir=args.workdir,
                          allow_replace=args.allow_replace, allow_destroy=args.allow_destroy, keep=args.keep,
                          progress=progress, on_sandbox=started)
    if args.format == "json":
        print(json.dumps(report.as_dict(), indent=2, sort_keys=True))
    else:
        print(format_rehearsal(report), flush=True)
    return 0 if report.ok else 1


def _gitops(args) -> int:
    from .gitops import GitOpsError, read_outputs, render, terraform_outputs, to_yaml

    if args.outputs:
        outputs = read_outputs(args.outputs)
    else:
        if not Path(args.root).is_dir():
            raise GitOpsError(f"{args.root} is not a directory; give the applied root of an environment (out/<env>)")
        outputs = terraform_outputs(args.root)
    rendered = render(outputs)
    text = (json.dumps(rendered.as_dict(), indent=2, sort_keys=True) + "\n" if args.format == "json"
            else to_yaml(rendered.documents()))
    if args.values:
        Path(args.values).write_text(to_yaml([rendered.values]).removeprefix("---\n"))
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


# Verbs whose standard output is for programs (scripts, YAML, JSON, diagrams): never coloured.
_MACHINE_OUTPUT = {"gitops", "ci", "migrate", "graph", "schema", "completion"}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    from .colour import painting

    args = _parser().parse_args(argv)
    human = args.verb not in _MACHINE_OUTPUT and getattr(args, "format", "text") == "text"
    with painting(stdout=human):
        return _run(args)


def _run(args) -> int:
    try:
        return args.run(args)
    except FindingsError as exc:
        _print_findings(exc.findings)
        errors = sum(f.count for f in exc.findings if f.severity is Severity.ERROR)
        print(f"tfgen: {errors} error(s); nothing was written", file=sys.stderr)
        return exc.exit_code
    except TfgenError as exc:
        print(f"tfgen: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"tfgen: {where}{exc.strerror or exc}\n  fix: check that the path exists and is writable",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tfgen: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """The `tfgen` command: `main`, and its status as the process's exit status."""
    sys.exit(main())


if __name__ == "__main__":
    run()
