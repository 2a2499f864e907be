"""The CLI's `tfgen upgrade` and `tfgen apply --waves`: the plan printed, checked and written; the waves run."""

from __future__ import annotations

import json
import sys
from typing import Any, Callable

from ..errors import FindingsError, TfgenError
from ..model import Fleet

__all__ = ["upgrade", "apply_waves"]

_LATE = "VAL403"  # standard support ended and `support: standard`: EKS upgrades the cluster itself


def upgrade(args: Any, fleet: Fleet) -> int:
    """`tfgen upgrade SPEC --to VERSION [--env] [--format] [--check] [--write]` on the fleet read from SPEC."""
    from ..pipeline import prepare
    from .planner import plan_upgrade
    from .render import describe_step, to_json, to_text

    prepared = prepare(fleet)
    # A plan for an invalid fleet would be taken as a valid one; but a cluster past standard support with
    # `support: standard` (VAL403) is what the plan is for: planned, and the plan says what EKS will do.
    late = [f for f in prepared.errors if f.code == _LATE]
    if len(late) < len(prepared.errors):
        raise FindingsError(prepared.findings)
    plan = plan_upgrade(fleet, args.to, environments=args.env)
    chosen = {env.name for env in plan.environments}
    plan.notes += [f"{f.message} ({f.path} and every cluster of its environment on that version): its first "
                   "control-plane step is due now" for f in late if f.path.split("/")[0] in chosen]
    log = sys.stdout if args.format == "text" else sys.stderr
    sys.stdout.write(to_json(plan) if args.format == "json" else to_text(plan))
    steps = [env.steps[0] for env in plan.environments if env.steps]
    if args.check:
        from .insights import check_steps

        report = check_steps(fleet, steps, target=args.to)
        print(report.format(), file=log)
        if report.findings:
            raise FindingsError(report.findings)
    if args.write:
        from .writer import write_steps

        if not steps:
            print(f"{args.spec}: every cluster runs {args.to}; nothing to write", file=log)
            return 0
        write_steps(args.spec, fleet, steps)
        for step in steps:
            print(f"wrote {describe_step(step)}", file=log)
        print(f"next: review the change to {args.spec}, `tfgen build` (its fleet diff shows exactly this step), "
              f"apply it, then run this command again", file=log)
    return 0


def apply_waves(args: Any, graph: Any, workspace: Any, *, approve: Callable | None, progress: Callable,
                scratch: Any, log: Any, review: Any = None) -> int:
    """`tfgen apply OUT --waves`: the recorded waves through the orchestrator (`tfgen.upgrade.runner`); `review`
    is the plan-time guard every apply runs (`tfgen.orchestrate.guard`)."""
    from ..orchestrate import Orchestrator, format_report
    from .runner import apply_waves as run_waves, eks_describe

    if args.env or args.no_deps:
        raise TfgenError("--waves runs every root of the build in the rollout's order\n  fix: leave out --env and "
                         "--no-deps")

    def run(command: str, roots: list[str]):
        report = Orchestrator(graph, command=command, workspace=workspace, parallelism=args.parallelism,
                              approve=approve if command == "apply" else None, progress=progress,
                              scratch=scratch, review=review if command == "apply" else None,
                              ).run(graph.select(roots, with_needs=False))
        print(format_report(report), end="", file=log, flush=True)
        return report

    waves = run_waves(graph, run, describe=eks_describe(graph.out), log=lambda line: print(line, file=log, flush=True))
    if args.format == "json":
        print(json.dumps({"waves": [{"environment": w.environment, "wave": w.number, "roots": w.roots,
                                     "failed": w.failed, "unverified": w.unverified} for w in waves.waves],
                          "stopped": waves.stopped, "exit_code": waves.exit_code}, indent=2, sort_keys=True))
    return waves.exit_code
