"""The verbs that read a spec and build, compare, migrate, check, draw or upgrade it: build, diff, migrate,
validate, graph, upgrade."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..errors import Finding, FindingsError, Severity
from .common import add_allocations, add_lifecycle, load_spec, print_findings, read_spec


def add_build_verbs(verbs) -> None:
    """build, diff, migrate, validate, graph."""
    b = verbs.add_parser("build", help="check a spec and write one Terraform root module per environment")
    b.add_argument("spec", help="fleet spec (YAML)")
    b.add_argument("--out", default="out", help="output directory (default: out)")
    b.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 when the output directory is stale")
    b.add_argument("--strict", action="store_true", help="overlapping VPCs are errors even when not connected")
    b.add_argument("--allow-layout-change", action="store_true",
                   help="build an environment in another layout than OUT has it (then `tfgen migrate --run`)")
    add_lifecycle(b)
    add_allocations(b)
    b.set_defaults(run=_build)

    d = verbs.add_parser("diff", help="print what building the spec into OUT would change, object by object; "
                                      "write nothing (exit 1 when the build would be refused)")
    d.add_argument("spec", help="fleet spec (YAML)")
    d.add_argument("--out", default="out", help="output directory of the previous build (default: out)")
    d.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    d.add_argument("--strict", action="store_true", help="overlapping VPCs are errors even when not connected")
    add_lifecycle(d)
    add_allocations(d)
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
    add_allocations(m)
    m.set_defaults(run=_migrate)

    v = verbs.add_parser("validate", help="run every spec and network check; write nothing")
    v.add_argument("spec", help="fleet spec (YAML)")
    v.add_argument("--format", choices=("text", "json"), default="text")
    v.add_argument("--strict", action="store_true", help="overlapping VPCs are errors even when not connected")
    add_allocations(v)
    v.set_defaults(run=_validate)

    g = verbs.add_parser("graph", help="draw the network topology (Mermaid, DOT or SVG)")
    g.add_argument("spec", help="fleet spec (YAML)")
    g.add_argument("--env", action="append", metavar="NAME", help="environment to draw (repeatable; default: all)")
    g.add_argument("--format", choices=("mermaid", "dot", "svg"), default="mermaid")
    g.add_argument("--output", help="write to this file instead of standard output")
    g.set_defaults(run=_graph)


def add_upgrade_verb(verbs) -> None:
    """upgrade."""
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
    add_allocations(u)
    u.set_defaults(run=_upgrade)


def _build(args) -> int:
    from ..pipeline import build

    fleet = load_spec(args.spec, args.allocations)
    result = build(fleet, args.out, check=args.check, strict=args.strict,
                   allow_layout_change=args.allow_layout_change, allow_replace=args.allow_replace,
                   allow_destroy=args.allow_destroy, retired=args.retired, spec=args.spec)
    print_findings(result.warnings)
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
    from ..pipeline import diff

    fleet_diff, findings = diff(load_spec(args.spec, args.allocations), args.out, strict=args.strict,
                                allow_replace=args.allow_replace, allow_destroy=args.allow_destroy,
                                retired=args.retired)
    print_findings(findings)
    if args.format == "json":
        print(json.dumps({**fleet_diff.as_dict(), "findings": [f.as_dict() for f in findings]}, indent=2,
                         sort_keys=True))
    else:
        print(fleet_diff.markdown() if args.format == "markdown" else fleet_diff.text(), end="")
    return 1 if any(f.severity is Severity.ERROR for f in findings) else 0


def _migrate(args) -> int:
    from ..migrate import plan_migration
    from ..pipeline import emit_checked

    fleet = load_spec(args.spec, args.allocations)
    if args.execute:
        from ..migrate.run import default_work, run_migration

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
    from ..upgrade.command import upgrade

    return upgrade(args, load_spec(args.spec, args.allocations))


def _environment_of(path: str) -> str:
    """The environment a finding's path is in: `dev/us-east-1/hub` (checks) or `environments.dev.hub` (the spec)."""
    if path.startswith("environments."):
        return path.split(".", 2)[1] if path.count(".") else ""
    return path.split("/", 1)[0]


def _validate(args) -> int:
    from ..pipeline import check_record, prepare

    fleet, findings, partial = read_spec(args.spec, args.allocations)
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
    from ..checks.topology import build_graph
    from ..diagram import to_dot, to_mermaid, to_svg
    from ..pipeline import prepare

    prepared = prepare(load_spec(args.spec))
    if prepared.errors:
        raise FindingsError(prepared.findings)  # a picture of an invalid network would be taken as a valid one
    names = args.env or sorted(prepared.fleet.environments)
    graphs = [build_graph(prepared.fleet.environment(name)) for name in names]
    text = {"mermaid": to_mermaid, "dot": to_dot, "svg": to_svg}[args.format](graphs)
    print_findings(prepared.warnings)
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0
