"""The verbs over a build's roots: plan, apply and destroy them in dependency order, write the CI that runs them
(ci), render Argo CD's Secrets from an applied root (gitops)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .common import Parser

_RUN_HELP = {
    "plan": "plan roots of a build in dependency order (or offline); --out-dir keeps the plans for `tfgen apply`",
    "apply": "plan and apply roots of a build in dependency order, or apply exactly the plans in PLANS",
    "destroy": "destroy every root of a build in reverse dependency order (_state only when named)",
}


def add_run_verbs(verbs) -> None:
    """plan, apply, destroy and ci."""
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
    engines = c.add_subparsers(dest="engine", required=True, parser_class=Parser)
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


def add_gitops_verb(verbs) -> None:
    """gitops."""
    o = verbs.add_parser("gitops", help="render Argo CD's cluster Secrets for the edges of an applied environment")
    o.add_argument("root", metavar="OUT/ENV", help="the applied root of an environment (terraform output runs there)")
    o.add_argument("--outputs", metavar="FILE", help="a saved `terraform output -json` instead of running terraform")
    o.add_argument("--format", choices=("yaml", "json"), default="yaml",
                   help="yaml: the Secrets as multi-document YAML; json: Secrets and Helm values (default: yaml)")
    o.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    o.add_argument("--values", metavar="FILE",
                   help="also write the Helm values of the hub's Argo CD (its identity) to FILE as YAML")
    o.set_defaults(run=_gitops)


def _orchestrate(args) -> int:
    from ..orchestrate.commands import main as run_verb
    from ..orchestrate.prompt import approver

    if getattr(args, "waves", False):
        from ..upgrade.command import apply_waves

        return run_verb(args, approver, waves=apply_waves)
    return run_verb(args, approver)


def _ci(args) -> int:
    from ..orchestrate import read_graph
    from ..orchestrate.ci import render_ci

    text = render_ci(args.engine, read_graph(args.out), out=args.out, spec=args.spec,
                     include_state=args.include_state, branch=getattr(args, "branch", "main"),
                     install=args.install, terraform=args.terraform_version)
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _gitops(args) -> int:
    from ..gitops import GitOpsError, read_outputs, render, terraform_outputs, to_yaml

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
