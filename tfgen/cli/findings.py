"""The verbs about findings: check (the policy gate over a build), rules and explain (the finding codes)."""

from __future__ import annotations

import sys

from ..errors import TfgenError


def add_check_verb(verbs) -> None:
    """check."""
    from ..gate import FORMATS

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
    from ..gate import check_output, render_report, write_report
    from ..gate.cli import check_list, usage_problem

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


def add_rule_verbs(verbs) -> None:
    """explain and rules."""
    from ..rules import FORMATS, READS

    e = verbs.add_parser("explain", help="say what a finding code means, why it matters and how to fix it")
    e.add_argument("code", metavar="CODE", help="a finding code, e.g. VAL131, NET211, CKV_TFGEN_5")
    e.set_defaults(run=_explain)
    r = verbs.add_parser("rules", help="list every finding code tfgen raises")
    r.add_argument("--format", choices=FORMATS, default="text",
                   help="markdown: the table docs/findings.md is made from (default: text)")
    r.add_argument("--reads", choices=tuple(READS), help="only the rules that read this input")
    r.set_defaults(run=_rules)


def _explain(args) -> int:
    from ..rules import registry
    from ..rules.render import explain, explain_retired

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
    from ..rules import registry
    from ..rules.render import listing

    known = registry()
    retired = list(known.retired.values()) if args.reads is None else []
    sys.stdout.write(listing(known.of(args.reads), retired, args.format))
    return 0
