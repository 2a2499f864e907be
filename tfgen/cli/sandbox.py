"""The sandbox verb: apply a fleet (or rehearse a change) on a local AWS double, verify it, tear it down."""

from __future__ import annotations

import json
import sys

from ..errors import TfgenError
from .common import add_allocations, add_lifecycle, load_spec


def add_sandbox_verb(verbs) -> None:
    """sandbox."""
    s = verbs.add_parser("sandbox", help="apply the fleet to a local AWS double, verify it, tear it down")
    s.add_argument("spec", help="fleet spec (YAML)")
    s.add_argument("--env", action="append", metavar="NAME", help="environment to run (repeatable; default: all)")
    s.add_argument("--keep", action="store_true",
                   help="skip destroy; keep the double serving the fleet until Ctrl-C")
    s.add_argument("--format", choices=("text", "json"), default="text", help="report format (default: text)")
    s.add_argument("--workdir", help="scratch directory to use and keep (default: a temporary one)")
    s.add_argument("--from", dest="from_spec", metavar="OLD_SPEC",
                   help="rehearse a change: apply OLD_SPEC, then build, plan and apply the spec over it")
    s.add_argument("--waves", action="store_true",
                   help="with --from: apply the spec over OLD_SPEC wave by wave, as `tfgen apply --waves` does")
    add_lifecycle(s)
    add_allocations(s)
    s.set_defaults(run=_sandbox)


def _sandbox(args) -> int:
    from ..orchestrate import on_signals
    from ..sandbox import Sandbox, format_phase, format_report

    fleet = load_spec(args.spec, args.allocations)
    for name in args.env or []:
        fleet.environment(name)
    log = sys.stdout if args.format == "text" else sys.stderr

    def progress(result):
        print(format_phase(result), file=log, flush=True)

    def interrupt():  # SIGTERM, like Ctrl-C, stops every child before tfgen exits
        raise KeyboardInterrupt

    if args.from_spec:
        return _rehearse(args, fleet, log, progress, interrupt)
    if args.waves:
        raise TfgenError("--waves rehearses a change wave by wave: give --from OLD_SPEC\n"
                         "  fix: `tfgen sandbox NEW_SPEC --from OLD_SPEC --waves`")
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
    from ..orchestrate import on_signals
    from ..sandbox.rehearsal import format_rehearsal, rehearse

    if args.env or args.retired:
        raise TfgenError("--env and --retired do not go with --from: a rehearsal applies every environment of both "
                         "specs\n  fix: drop them")
    old = load_spec(args.from_spec, None)

    def started(sandbox):
        print(f"tfgen sandbox: rehearsing {args.from_spec} -> {args.spec} on the local AWS double "
              f"{sandbox.double.describe()}", file=log, flush=True)

    with on_signals(interrupt):
        report = rehearse(old, fleet, spec=args.spec, old_spec=args.from_spec, workdir=args.workdir,
                          allow_replace=args.allow_replace, allow_destroy=args.allow_destroy, keep=args.keep,
                          waves=args.waves, progress=progress, on_sandbox=started)
    if args.format == "json":
        print(json.dumps(report.as_dict(), indent=2, sort_keys=True))
    else:
        print(format_rehearsal(report), flush=True)
    return 0 if report.ok else 1
