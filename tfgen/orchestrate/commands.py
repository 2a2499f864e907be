"""`tfgen plan|apply|destroy`: which roots, the run, saved plans, what is printed and the exit status.

    tfgen plan OUT [--env NAME ... | --affected REF] [--out-dir PLANS] [--detailed-exitcode]
    tfgen apply OUT [--env NAME ... | --affected REF]      plan and apply each root, asking first
    tfgen apply PLANS                                      apply exactly the saved plans, or refuse them
    tfgen destroy OUT [--env NAME ...]

`plan_roots` and `apply_plans` are the same for Python callers (the sandbox's double in the tests): a
graph, the roots, a `Workspace`. Applying saved plans is two runs of the orchestrator: first every root's
`init` and `state pull`, then, only when no plan is stale (its root's files or state moved on since), each
root's `apply` of its plan file. A root whose plan read the state of a root this apply changes the outputs
of is not applied: its plan was made on outputs that are about to change.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, TextIO

from ..terraform.planjson import PlanJson, load_plan
from ..terraform.roots import read_root
from ..terraform.toolchain import remote_states_of, terraform_version
from .affected import Affected, affected, checkout_root
from .graph import RootGraph, UsageError, read_graph
from .guard import PlanGuard, fleet_summary, plan_guard
from .phases import Phase, command_phases, saved_phases
from .report import RootResult, RunReport, format_activity, format_phase, format_report
from .review import cell, diff_markdown, diff_text, fleet_markdown
from .run import Approval, Orchestrator, Review
from .saved import SavedPlans, digest_of, is_saved, read_saved, save_plans
from .terraform import Activity, Counts
from .workspace import InPlace, Offline, Workspace

__all__ = ["Selection", "select", "plan_roots", "apply_plans", "main"]


@dataclass(frozen=True)
class _Graph(RootGraph):
    """The build's graph with the roots removed since --affected's REF, whose files are elsewhere."""

    elsewhere: dict[str, Path] = field(default_factory=dict)

    def path(self, root: str) -> Path:
        return self.elsewhere.get(root) or self.out / root


@dataclass(frozen=True)
class Selection:
    """The roots a command runs, in order; the removed ones (planned for destroy) last; why, for --affected."""

    graph: RootGraph
    roots: list[str]
    removed: list[str] = field(default_factory=list)
    affected: Affected | None = None


def select(graph: RootGraph, command: str, *, env: list[str] | None = None, no_deps: bool = False,
           since: str | None = None, scratch: Path | None = None) -> Selection:
    """The roots of `tfgen <command>`: `env` (with what they need, or need them for destroy) or every root; or
    those `since` (a git revision) affects, exactly (a removed root's files at it are written into `scratch`)."""
    if since is None:
        return Selection(graph, graph.select(env, destroy=command == "destroy", with_needs=not no_deps))
    if command == "destroy":
        raise UsageError("--affected selects what to plan or apply; destroy names its roots with --env")
    found = affected(graph, since)
    elsewhere = {root: checkout_root(graph, found, root, scratch / "removed" / root) for root in found.removed}
    needs = {**graph.needs, **{root: tuple(n for n in found.removed[root] if n in found.removed)
                               for root in found.removed}}
    whole = _Graph(graph.out, needs, graph.waves, elsewhere=elsewhere)
    removed = whole.order(found.removed)[::-1]
    return Selection(whole, graph.order(found.roots), removed, found)


def _phases(selection: Selection, command: str, *, state: bool) -> dict[str, list[Phase]]:
    """The phases of each selected root; a removed root is planned with -destroy once the others are through
    (and the removed roots that needed it at REF)."""
    phases = command_phases(command, selection.graph, selection.roots, state=state)
    last = "apply" if command == "apply" else "show"
    for root in selection.removed:
        after = tuple((r, phases[r][-1].name) for r in selection.roots)
        after += tuple((r, last) for r in selection.removed if root in selection.graph.needs[r])
        steps = [Phase("init", ("init",), after=after, past="destroyed"),
                 Phase("plan", ("plan-destroy",), past="destroyed"), Phase("show", ("show",), past="destroyed")]
        steps.append(Phase("apply", ("apply",), past="destroyed") if command == "apply"
                     else Phase("state", ("state",), past="destroyed") if state else None)
        phases[root] = [s for s in steps if s is not None]
    return phases


def plan_roots(selection: Selection, workspace: Workspace, *, command: str = "plan", out_dir: Path | None = None,
               scratch: Path, parallelism: int = 2, review: Review | None = None,
               approve: Callable[[Approval], bool] | None = None, progress=None,
               activity=None, heartbeat: float = 10.0) -> tuple[RunReport, SavedPlans | None]:
    """Run `command` (plan, apply, destroy) on the selected roots; with `out_dir` (plan), keep the plans there."""
    roots = [*selection.roots, *selection.removed]
    report = Orchestrator(selection.graph, command=command, workspace=workspace, parallelism=parallelism,
                          approve=approve, progress=progress, scratch=scratch, review=review, activity=activity,
                          heartbeat=heartbeat, phases=_phases(selection, command, state=out_dir is not None)
                          ).run(roots)
    saved = None
    if out_dir is not None and report.ok:
        terraform = str(terraform_version(workspace.terraform))
        saved = save_plans(report, out_dir, out=str(selection.graph.out), terraform=terraform,
                           needs={r: selection.graph.needs[r] for r in roots},
                           sources={r: selection.graph.path(r) for r in roots},
                           destroyed=frozenset(selection.removed),
                           offline=isinstance(workspace, Offline) and workspace.endpoint is None)
    return report, saved


def _saved_graph(saved: SavedPlans, out: Path) -> _Graph:
    current = read_graph(out)
    removed = {root for root, entry in saved.roots.items() if entry.destroy}
    needs = {**current.needs, **{root: tuple(n for n in saved.roots[root].needs if n in removed) for root in removed}}
    return _Graph(current.out, needs, current.waves, elsewhere={root: saved.config(root) for root in removed})


def _stale(saved: SavedPlans, graph: RootGraph, checked: RunReport) -> dict[str, str]:
    """Why each checked root's plan no longer fits it: its files, its lock file or its state moved on."""
    why = {}
    built = read_graph(graph.out).needs
    for result in checked.roots:
        entry = saved.roots[result.root]
        if entry.destroy and result.root in built:
            why[result.root] = f"it was planned for destroy as removed, but {graph.out}/{result.root} is back"
        elif digest_of(graph.path(result.root), result.workdir) != entry.digest:
            why[result.root] = (f"its files changed since the plan ({graph.path(result.root)}: its *.tf.json, *.tf "
                                f"or .terraform.lock.hcl)")
        elif result.state != entry.state:
            why[result.root] = f"its state changed since the plan (planned against {entry.state}, now {result.state})"
    return why


def _chained(saved: SavedPlans, graph: RootGraph, reviews: dict[str, PlanJson], roots: list[str]) -> dict[str, str]:
    """The roots whose plan read the state of a root this apply changes the outputs of, and those after them."""
    why: dict[str, str] = {}
    for root in graph.order(roots):
        reads = remote_states_of(read_root(graph.path(root)).documents) if not saved.roots[root].destroy else []
        moving = [r for r in reads if r in reviews and reviews[r].outputs]
        held = [r for r in graph.needs[root] if r in why]
        if moving:
            why[root] = (f"its plan read the outputs of {', '.join(moving)}, which this apply changes: plan "
                         f"{root} again once {'they are' if len(moving) > 1 else 'it is'} applied")
        elif held:
            why[root] = f"it needs {', '.join(held)}, whose plan is not applied now"
    return why


def apply_plans(saved: SavedPlans, workspace: Workspace, *, scratch: Path, parallelism: int = 2,
                init: bool = True, review: Review | None = None, approve: Callable[[Approval], bool] | None = None,
                progress=None, activity=None, heartbeat: float = 10.0, out: Path | None = None) -> RunReport:
    """Apply exactly the plans in `saved`, in order. Nothing is applied when a root's files or state moved on
    since its plan (those roots `stale`), or `review` refuses one (`refused`); a root whose plan read outputs
    this apply changes is left `stale` with what to do. `init` False: an earlier run initialized the
    workspace's roots (an offline copy and its state)."""
    if saved.offline:
        raise UsageError(f"{saved.directory} holds plans of offline copies (`tfgen plan --offline`): lowered, with "
                         f"no credentials, they cannot be applied anywhere. Fix: plan without --offline")
    graph = _saved_graph(saved, out or Path(saved.out))
    order = graph.order(list(saved.roots))
    reviews = {root: load_plan(saved.plan_json(root), root=root) for root in order
               if saved.roots[root].status == "planned"}
    changing = [root for root in order if root in reviews and reviews[root].any]
    results = {root: _unplanned(saved, root, reviews) for root in order}
    workspace.check({root: graph.path(root) for root in changing})
    found = terraform_version(workspace.terraform)
    if changing and str(found) != saved.terraform:
        raise UsageError(f"{saved.directory}: planned with Terraform {saved.terraform}, but the terraform here "
                         f"({workspace.terraform}) is {found}; Terraform applies a plan only with the version that "
                         f"made it. Fix: set TFGEN_TERRAFORM to Terraform {saved.terraform}")
    refused = {root: reason for root in changing if review and (reason := review(root, reviews[root]))}
    check, apply = saved_phases(changing, graph, init=init)
    checked = Orchestrator(graph, command="apply", workspace=workspace, phases=check, parallelism=parallelism,
                           progress=progress, scratch=scratch).run(changing) if changing else None
    if checked is not None and not checked.ok:
        return _refusal(results, checked, {}, refused, saved, workspace)
    stale = _stale(saved, graph, checked) if checked else {}
    if stale or refused:
        return _refusal(results, checked, stale, refused, saved, workspace)
    held = _chained(saved, graph, reviews, changing)
    for root, reason in held.items():
        results[root] = replace(results[root], status="stale", reason=f"not applied: {reason}")
    applying = [root for root in changing if root not in held]
    if approve is not None:
        for root in list(applying):
            if not approve(Approval(root, "apply", [], review=reviews[root])):
                results[root] = replace(results[root], status="cancelled", reason="apply not approved")
                applying.remove(root)
    ran = Orchestrator(graph, command="apply", workspace=workspace, phases={r: apply[r] for r in applying},
                       parallelism=parallelism, progress=progress, scratch=scratch, activity=activity,
                       heartbeat=heartbeat, plan_file=saved.plan).run(applying) if applying else None
    for result in ran.roots if ran else []:
        result.review, result.counts = reviews[result.root], results[result.root].counts
        results[result.root] = result
    return RunReport("apply", str(saved.directory), [results[root] for root in order],
                     interrupted=bool(ran and ran.interrupted), seconds=sum(r.seconds for r in results.values()),
                     workspace=workspace.describe())


def _unplanned(saved: SavedPlans, root: str, reviews: dict[str, PlanJson]) -> RootResult:
    """A root of `saved` before anything runs: planned without changes (ok), or why it has no plan."""
    entry = saved.roots[root]
    result = RootResult(root, list(entry.needs))
    plan = reviews.get(root)
    if plan is None:
        result.status, result.reason = "not run", f"no saved plan ({entry.status}{': ' + entry.reason if entry.reason else ''})"
        return result
    result.review = plan
    result.counts = _counts(plan)
    result.status = "ok"
    return result


def _counts(plan: PlanJson) -> Counts:
    from ..terraform.changes import Action
    from ..terraform.planjson import tally

    counted = tally(plan.changes)
    return Counts(counted[Action.CREATE], counted[Action.UPDATE], counted[Action.DELETE], counted[Action.REPLACE])


def _refusal(results: dict[str, RootResult], checked: RunReport | None, stale: dict[str, str],
             refused: dict[str, str], saved: SavedPlans, workspace: Workspace) -> RunReport:
    """Nothing applied: the roots that could not be checked, are stale or refused, say why; the others that
    changed something say they were not applied."""
    ran = {result.root: result for result in (checked.roots if checked else [])}
    for root, result in ran.items():
        if result.status != "ok":
            results[root] = result
    for root, reason in refused.items():
        results[root] = replace(results[root], status="refused", reason=reason)
    for root, reason in stale.items():
        results[root] = replace(ran.get(root, results[root]), review=results[root].review,
                                counts=results[root].counts, status="stale",
                                reason=f"{reason}; nothing was applied. Fix: plan again (`tfgen plan {saved.out} "
                                       f"--out-dir {saved.directory}`) and review it")
    blocking = sorted({*stale, *refused, *(r.root for r in (checked.roots if checked else []) if r.status != "ok")})
    for root, result in results.items():
        if result.status == "ok" and result.review is not None and result.review.any:
            results[root] = replace(result, status="not run",
                                    reason=f"nothing was applied: the plan of {', '.join(blocking)} cannot be")
    return RunReport("apply", str(saved.directory), list(results.values()),
                     interrupted=bool(checked and checked.interrupted), workspace=workspace.describe())


# -- the command line ------------------------------------------------------------------------------------------


def _emit(stream: TextIO, text: str) -> None:
    """Write, unless the terminal is gone (a SIGHUP): the run still ends, its files removed."""
    try:
        stream.write(text)
        stream.flush()
    except OSError:
        pass


def _changes(report: RunReport) -> bool:
    """Whether applying the plans would change something (a root that waits for others will)."""
    return any(r.status == "waiting" or (r.review is not None and r.review.any) for r in report.roots)


def _exit(report: RunReport, detailed: bool) -> int:
    """Terraform's -detailed-exitcode with `detailed`: 0 no changes, 2 changes present, 1 an error."""
    if report.exit_code or not detailed:
        return report.exit_code
    return 2 if _changes(report) else 0


def _render(args, report: RunReport, *, saved: SavedPlans | None, selection: Selection | None,
            guard: PlanGuard | None = None) -> str:
    planned = guard is not None and any(r.review is not None for r in report.roots)
    fleet = fleet_summary(report, guard.record) if planned else None
    unused = guard.unused(fleet) if planned else []
    if args.format == "json":
        found = report.as_dict()
        if fleet is not None:
            found["fleet"] = fleet.as_dict()
            found["findings"] = [f.as_dict() for f in unused]
        if selection is not None and selection.affected is not None:
            found["affected"] = selection.affected.as_dict()
        if saved is not None:
            found["plans"] = str(saved.directory)
        return json.dumps(found, indent=2, sort_keys=True) + "\n"
    verdict = "interrupted" if report.interrupted else "ok" if report.ok else "FAILED"
    ahead = (f"Apply them with `tfgen apply {saved.directory}`." if saved is not None else "")
    if args.format == "markdown":
        head = f"### tfgen {report.command} `{report.out}`: {verdict}\n\n"
        head += (fleet_markdown(fleet) + "\n") if fleet is not None else ""
        head += "".join(f"> **{f.severity.value} {f.code}**: {cell(f.message)}\n\n" for f in unused)
        kept = f"\nSaved plans: `{saved.directory}`. {ahead}\n" if saved is not None else ""
        return head + diff_markdown(report) + kept
    kept = f"saved plans in {saved.directory}. {ahead}\n" if saved is not None else ""
    if saved is None and getattr(args, "out_dir", None):
        kept = f"no plans saved in {args.out_dir}: the plan did not end ok\n"
    summary = fleet.text() if fleet is not None else ""
    summary += "".join(f.format() + "\n" for f in unused)
    return diff_text(report) + summary + format_report(report) + kept


def _listing(args, selection: Selection) -> str:
    """`--list`: the roots the command would run, in order, and why (with --affected); nothing runs."""
    why = {root: selection.affected.why(root) if selection.affected else "selected"
           for root in [*selection.roots, *selection.removed]}
    if args.format == "json":
        return json.dumps({"roots": selection.roots, "removed": selection.removed, "why": why}, indent=2,
                          sort_keys=True) + "\n"
    return "".join(f"{root}: {reason}\n" for root, reason in why.items())


def _progress(log: TextIO):
    def phase(result) -> None:
        if result.ran:
            _emit(log, format_phase(result) + "\n")

    def running(activity: Activity) -> None:
        _emit(log, format_activity(activity) + "\n")

    return phase, running


def _settle(out, report: RunReport, workspace: Workspace, log: TextIO, command: str) -> None:
    """Record in OUT the retirements this apply or destroy finished (`tfgen.lifecycle.settle`)."""
    from ..lifecycle.settle import settle, state_addresses

    done = [r.root for r in report.roots if r.status == "ok"]
    for line in settle(out, done, lambda root: state_addresses(Path(out) / root, terraform=workspace.terraform,
                                                               env=workspace.env())):
        _emit(log, f"tfgen {command}: {line}\n")


def main(args, approver, *, waves=None) -> int:
    """`tfgen plan|apply|destroy` from parsed arguments; `approver(log)` makes the terminal's approval;
    `waves` runs `apply --waves` on the roots chosen here (the upgrade package's runner, passed in by the CLI)."""
    log = sys.stdout if args.format == "text" else sys.stderr
    if args.command == "apply" and is_saved(args.out):
        return _apply_main(args, log, approver)
    if getattr(args, "out_dir", None) and args.command != "plan":
        raise UsageError("--out-dir keeps the plans of `tfgen plan`; then `tfgen apply PLANS` applies them")
    graph = read_graph(args.out)
    scratch = Path(tempfile.mkdtemp(prefix="tfgen-run-"))
    try:
        selection = select(graph, args.command, env=args.env, no_deps=args.no_deps,
                           since=getattr(args, "affected", None), scratch=scratch)
        if getattr(args, "list", False):
            _emit(sys.stdout, _listing(args, selection))
            return 0
        if selection.affected is not None:
            for root in [*selection.roots, *selection.removed]:
                _emit(log, f"  {root}: {selection.affected.why(root)}\n")
        if not selection.roots and not selection.removed:
            why = (f"no root is affected since {args.affected}" if selection.affected is not None
                   else "no roots to run (_state is destroyed only when named: --env _state)")
            _emit(log, f"tfgen {args.command}: {why} in {args.out}\n")
            return 0
        guard = None if args.command == "destroy" else plan_guard(
            args.out, args.command, allow_replace=args.allow_replace, allow_destroy=args.allow_destroy)
        approve = None
        if args.command != "plan" and not args.auto_approve:
            if not sys.stdin.isatty():
                raise UsageError(f"tfgen {args.command} asks before it changes each root, but there is no terminal "
                                 f"to ask on; nothing was run. Fix: pass --auto-approve (CI), or run it on a terminal")
            approve = approver(log)
        workspace = Offline(scratch, terraform=None) if getattr(args, "offline", False) else InPlace()
        roots = [*selection.roots, *selection.removed]
        workspace.check({root: selection.graph.path(root) for root in roots})
        _emit(log, f"tfgen {args.command} {args.out}: {', '.join(roots)} (parallelism {args.parallelism}); "
                   f"{workspace.describe()}\n")
        phase, running = _progress(log)
        if waves is not None:
            return waves(args, graph, workspace, approve=approve, progress=phase, scratch=scratch, log=log,
                         review=guard)
        out_dir = Path(args.out_dir) if getattr(args, "out_dir", None) else None
        report, saved = plan_roots(selection, workspace, command=args.command, out_dir=out_dir, scratch=scratch,
                                   parallelism=args.parallelism, approve=approve, progress=phase, activity=running,
                                   review=guard)
        if args.command != "plan":
            _settle(args.out, report, workspace, log, args.command)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _emit(sys.stdout, _render(args, report, saved=saved, selection=selection, guard=guard))
    return _exit(report, getattr(args, "detailed_exitcode", False))


def _apply_main(args, log: TextIO, approver) -> int:
    if args.env or args.no_deps or getattr(args, "affected", None) or args.list:
        raise UsageError(f"{args.out} holds saved plans: `tfgen apply PLANS` applies all of them as planned; "
                         f"--env, --no-deps and --affected choose roots when planning")
    saved = read_saved(args.out)
    guard = plan_guard(saved.out, "apply", allow_replace=args.allow_replace, allow_destroy=args.allow_destroy)
    approve = None
    if not args.auto_approve:
        if not sys.stdin.isatty():
            raise UsageError("tfgen apply asks before it applies each saved plan, but there is no terminal to ask "
                             "on; nothing was applied. Fix: pass --auto-approve (CI), or run it on a terminal")
        approve = approver(log)
    scratch = Path(tempfile.mkdtemp(prefix="tfgen-run-"))
    try:
        workspace = InPlace()
        _emit(log, f"tfgen apply {args.out}: the saved plans of {saved.out} ({len(saved.roots)} roots, Terraform "
                   f"{saved.terraform})\n")
        phase, running = _progress(log)
        report = apply_plans(saved, workspace, scratch=scratch, parallelism=args.parallelism, approve=approve,
                             progress=phase, activity=running, review=guard)
        _settle(saved.out, report, workspace, log, "apply")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    _emit(sys.stdout, _render(args, report, saved=None, selection=None, guard=guard))
    return report.exit_code
