"""A GitHub Actions workflow for the graph of roots, safe to hand the deploy role.

Jobs: `check` (`tfgen build --check`, `tfgen validate`), `gate` (the policy
gate on an offline plan, SARIF to code scanning) and `affected` (the roots whose
generated files differ from the pull request's base or the push's `before`, and
the roots that read their state: `tfgen plan --affected --list`) need no cloud
credentials. Then per affected root a `plan-<root>` job with the read-only plan
role (pull requests from this repository and pushes to the branch): it saves the
plan (`tfgen plan --out-dir`), uploads it as an artifact and writes the readable
diff to the job summary. On a push to the branch, an `apply-<root>` job with the
apply role, in the GitHub environment named after the root (its required
reviewers are the approval), downloads that artifact and applies exactly it
(`tfgen apply PLANS`), or refuses it when it is stale. On a push, a root's plan
waits for the applies of the roots it needs, so it is made on what they changed.
Only jobs that assume a role may request an OIDC token, only `gate` may write
code-scanning results. Every value a `run:` line uses comes from `env:`, never
pasted into the script. Facts: SchemaStore's github-workflow.json (committed
trimmed, see tools/ci_schemas.py), docs.github.com (OIDC subjects, concurrency,
filter patterns, contexts available per key, job outputs).
"""

from __future__ import annotations

import re

from .ciconfig import CiInputs, dump, header

__all__ = ["ACTIONS", "workflow", "job_id", "filter_pattern"]

PYTHON = "3.12"
# action -> (commit, release). Each commit is the release tag's commit (annotated tags peeled), read from the
# action's own repository (github.com/<owner>/<repo>, `git for-each-ref refs/tags`, snapshot of 2026-12);
# the newest release of the major version named.
ACTIONS = {
    "actions/checkout": ("11d5960a326750d5838078e36cf38b85af677262", "v4.4.0"),
    "actions/setup-python": ("a26af69be951a213d495a4c3e4e4022e16d87065", "v5.6.0"),
    "hashicorp/setup-terraform": ("b9cd54a3c349d3f38e8881555d616ced269862dd", "v3.1.2"),
    "aws-actions/configure-aws-credentials": ("7474bc4690e29a8392af63c5b98e7449536d5c3a", "v4.3.1"),
    "github/codeql-action/upload-sarif": ("dd903d2e4f5405488e5ef1422510ee31c8b32357", "v3.36.2"),
    "actions/upload-artifact": ("ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"),
    "actions/download-artifact": ("d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"),
}
SARIF = "tfgen-check.sarif"
PLANS = "${{ runner.temp }}/tfgen-plans"  # `runner` is a step's context, not a job's
# An environment's approval may wait up to 30 days; the plan must outlive it.
RETENTION_DAYS = 30
# The lifecycle guard's allow names, from repository variables: whoever may change them allows a loss, never
# the pull request that causes it.
ALLOW = {name: f"${{{{ vars.{name} }}}}" for name in ("TFGEN_ALLOW_REPLACE", "TFGEN_ALLOW_DESTROY")}
# GitHub's filter patterns give these characters a meaning; a backslash makes them literal.
_GLOB = re.compile(r"([*?+\[\]!\\])")


def _uses(action: str) -> str:
    return f"{action}@{ACTIONS[action][0]}"


def job_id(kind: str, root: str) -> str:
    """The job id of `kind` (plan, apply) for `root`: letters, digits, `_` and `-` as GitHub requires."""
    return f"{kind}-{root}"


def filter_pattern(path: str) -> str:
    """`path` as a GitHub filter pattern matching exactly it."""
    return _GLOB.sub(r"\\\1", path)


def _literal(text: str) -> str:
    """`text` as a string literal of GitHub's expression language."""
    return "'" + text.replace("'", "''") + "'"


def _setup(inputs: CiInputs, *, role: str | None = None, history: bool = False) -> list[dict]:
    install = ('python -m pip install --require-hashes -r "$TFGEN_REQUIREMENTS"'
               if inputs.install.requirements_file is not None else 'python -m pip install "$TFGEN_INSTALL"')
    checkout: dict = {"persist-credentials": False}
    if history:
        checkout["fetch-depth"] = 0  # --affected reads the base commit's tree
    steps = [
        {"uses": _uses("actions/checkout"), "with": checkout},
        {"uses": _uses("actions/setup-python"), "with": {"python-version": PYTHON}},
        {"name": "Install tfgen (pinned)", "run": install},
    ]
    if role is not None:
        steps += [
            {"uses": _uses("hashicorp/setup-terraform"),
             "with": {"terraform_version": inputs.terraform_version, "terraform_wrapper": False}},
            {"uses": _uses("aws-actions/configure-aws-credentials"),
             "with": {"role-to-assume": f"${{{{ vars.{role} }}}}", "aws-region": "${{ vars.AWS_REGION }}"}},
        ]
    return steps


def _summarized(command: str, verb: str, *, changes: bool = False) -> str:
    """A script that runs `command` (Markdown on stdout, progress on stderr), appends its Markdown to the job
    summary and the log, and keeps its status; `changes`: --detailed-exitcode's 2 is success, and the step's
    output `changes` says whether there were any."""
    script = (f"status=0\n"
              f'{command} >"$RUNNER_TEMP/tfgen-{verb}.md" || status=$?\n'
              f'cat "$RUNNER_TEMP/tfgen-{verb}.md" >>"$GITHUB_STEP_SUMMARY"\n'
              f'cat "$RUNNER_TEMP/tfgen-{verb}.md"\n')
    if changes:
        script += ('if [ "$status" -eq 2 ]; then\n'
                   '  echo "changes=true" >>"$GITHUB_OUTPUT"\n'
                   '  exit 0\n'
                   'fi\n'
                   'echo "changes=false" >>"$GITHUB_OUTPUT"\n')
    return script + 'exit "$status"\n'


_SELECT = """if [ -n "$TFGEN_BASE" ] && git cat-file -e "$TFGEN_BASE^{commit}" 2>/dev/null; then
  tfgen plan "$TFGEN_OUT" --affected "$TFGEN_BASE" --list --format json >"$RUNNER_TEMP/tfgen-affected.json"
else
  echo "no base commit to compare with (a new branch, or history rewritten): every root is planned"
  tfgen plan "$TFGEN_OUT" --list --format json >"$RUNNER_TEMP/tfgen-affected.json"
fi
cat "$RUNNER_TEMP/tfgen-affected.json"
echo "roots=$(jq -c '.roots + .removed' "$RUNNER_TEMP/tfgen-affected.json")" >>"$GITHUB_OUTPUT"
"""


def _jobs(inputs: CiInputs) -> dict[str, dict]:
    read = {"contents": "read"}
    cloud = {"contents": "read", "id-token": "write"}  # id-token: only where a role is assumed
    same_repository = ("(github.event_name == 'push' || "
                       "github.event.pull_request.head.repo.full_name == github.repository)")
    on_branch = f"github.event_name == 'push' && github.ref == {_literal('refs/heads/' + inputs.branch)}"
    # A job that needs a skipped one (a root not affected, an apply on a pull request) still runs.
    went_well = "!cancelled() && !contains(needs.*.result, 'failure')"
    # Alerts land on the spec line that made a resource; a fleet written in Python has none to point at.
    spec_lines = "" if inputs.spec.endswith(".py") else ' --spec "$TFGEN_SPEC"'
    jobs: dict[str, dict] = {
        "check": {
            "name": "build --check, validate",
            "runs-on": "ubuntu-latest",
            "permissions": read,
            "steps": _setup(inputs) + [
                {"name": "Committed output is what the spec produces",
                 "run": 'tfgen build "$TFGEN_SPEC" --out "$TFGEN_OUT" --check'},
                {"name": "Fleet validates", "run": 'tfgen validate "$TFGEN_SPEC"'},
            ],
        },
        "gate": {
            "name": "policy gate",
            "runs-on": "ubuntu-latest",
            # upload-sarif reads the run's metadata (actions: read) and writes code scanning results
            "permissions": {"actions": "read", "contents": "read", "security-events": "write"},
            "steps": _setup(inputs) + [
                {"name": "Policy gate (checkov and tfgen's policies, configuration and offline plan)",
                 "run": f'tfgen check "$TFGEN_OUT" --plan{spec_lines} --format sarif --output {SARIF}'},
                {"name": "Upload SARIF to code scanning",
                 "if": f"always() && hashFiles('{SARIF}') != ''",
                 "uses": _uses("github/codeql-action/upload-sarif"),
                 "with": {"sarif_file": SARIF, "category": "tfgen-check"}},
            ],
        },
        "affected": {
            "name": "roots affected",
            "runs-on": "ubuntu-latest",
            "permissions": read,
            "outputs": {"roots": "${{ steps.select.outputs.roots }}"},
            "env": {"TFGEN_BASE": "${{ github.event.pull_request.base.sha || github.event.before }}"},
            "steps": _setup(inputs, history=True) + [
                {"id": "select", "name": "Roots whose generated files differ from the base, and their readers",
                 "run": _SELECT}],
        },
    }
    for root, needs in inputs.roots.items():
        jobs[job_id("plan", root)] = {
            "name": f"plan {root}",
            "needs": ["check", "gate", "affected", *(job_id("plan", n) for n in needs),
                      *(job_id("apply", n) for n in needs)],
            # a fork's pull request gets no OIDC token; its plans run once a maintainer brings the branch in
            "if": f"{went_well} && {same_repository} && "
                  f"contains(fromJSON(needs.affected.outputs.roots), {_literal(root)})",
            "runs-on": "ubuntu-latest",
            "permissions": cloud,
            # without the state lock, the plan role needs no write (the apply job applies locked)
            "env": {"TFGEN_ROOT": root, "TF_CLI_ARGS_plan": "-lock=false", **ALLOW},
            "outputs": {"changes": "${{ steps.plan.outputs.changes }}"},
            "steps": _setup(inputs, role="TFGEN_PLAN_ROLE_ARN") + [
                {"id": "plan", "name": f"Plan {root}, keep the plan", "env": {"TFGEN_PLANS": PLANS},
                 "run": _summarized('tfgen plan "$TFGEN_OUT" --env "$TFGEN_ROOT" --no-deps --out-dir '
                                    '"$TFGEN_PLANS" --format markdown --detailed-exitcode', "plan", changes=True)},
                {"name": "Upload the plan for the apply job", "uses": _uses("actions/upload-artifact"),
                 "with": {"name": f"tfgen-plan-{root}", "path": PLANS, "if-no-files-found": "error",
                          "retention-days": RETENTION_DAYS}}],
        }
    for root, needs in inputs.roots.items():
        jobs[job_id("apply", root)] = {
            "name": f"apply {root}",
            "needs": [job_id("plan", root), *(job_id("apply", n) for n in needs)],
            "if": f"{went_well} && {on_branch} && needs.{job_id('plan', root)}.outputs.changes == 'true'",
            "runs-on": "ubuntu-latest",
            "environment": root,
            # A group of its own per ref and root, never cancelled: a pull request's run is in another group
            # and cannot cancel it, and two applies of one root never overlap (a stopped apply leaves a lock).
            "concurrency": {"group": f"${{{{ github.workflow }}}}-${{{{ github.ref }}}}-apply-{root}",
                            "cancel-in-progress": False},
            "permissions": cloud,
            "env": {"TFGEN_ROOT": root, **ALLOW},
            "steps": _setup(inputs, role="TFGEN_APPLY_ROLE_ARN") + [
                {"name": "Download the plan the reviewers approve", "uses": _uses("actions/download-artifact"),
                 "with": {"name": f"tfgen-plan-{root}", "path": PLANS}},
                {"name": f"Apply the saved plan of {root}", "env": {"TFGEN_PLANS": PLANS},
                 "run": _summarized('tfgen apply "$TFGEN_PLANS" --auto-approve --format markdown', "apply")}],
        }
    return jobs


def _header(inputs: CiInputs) -> str:
    blocks: list[str | list[str]] = [
        f"Generated by `{inputs.command}` from the build's graph of roots; do not edit. Regenerate it after "
        f"`tfgen build` adds or removes a root, and after upgrading tfgen.",
        [f"tfgen: pip install {inputs.install.pip_arguments()}",
         f"Terraform {inputs.terraform_version}: {inputs.terraform_reason}."],
        ["Repository variables (the *_ROLE_ARN ones: AWS roles that GitHub's OIDC provider may assume):",
         "  TFGEN_PLAN_ROLE_ARN   read-only, for the plan jobs (which plan without the state lock). Trust only",
         f"                        repo:ORG/REPO:pull_request and repo:ORG/REPO:ref:refs/heads/{inputs.branch};",
         "                        see tfgen's examples/ci/plan-role-trust.json and plan-role-policy.json.",
         "  TFGEN_APPLY_ROLE_ARN  for the apply jobs only. Trust only repo:ORG/REPO:environment:<root> of the",
         "                        roots below; see tfgen's examples/ci/apply-role-trust.json.",
         "  AWS_REGION            the region the roles are assumed in.",
         "  TFGEN_ALLOW_REPLACE   optional, empty by default: names (env[/region[/cluster]], space-separated)",
         "  TFGEN_ALLOW_DESTROY   whose EKS clusters, VPCs and KMS keys a plan may replace or destroy. Every",
         "                        plan and apply job guards its plan (tfgen's CHG500-504) and fails on a loss",
         "                        not named here; a pull request cannot name its own. Clear them once applied."],
        f"Create a GitHub environment per root ({', '.join(inputs.roots)}) with required reviewers and "
        f"deployments from {inputs.branch} only: an apply job waits there for approval.",
        f"What is applied is the plan that was approved: on a push to {inputs.branch}, each plan job saves the plan "
        f"of the merged commit (`tfgen plan --out-dir`), uploads it as the artifact tfgen-plan-<root> and shows it "
        f"in its job summary; the apply job of the same run, once approved, downloads that artifact and applies "
        f"exactly it (`tfgen apply PLANS`), never a new plan. Not the pull request's plan: it is of the pull "
        f"request's head, not of the merged commit, and other merges may land in between. When the root's files or "
        f"state changed since the plan (another apply ran), `tfgen apply` refuses the stale plan and applies "
        f"nothing: re-run the workflow to plan again and approve the new plan. A root's plan waits for the applies "
        f"of the roots it needs, so it is made on what they changed.",
        f"Only affected roots are planned and applied: those whose generated files differ from the pull request's "
        f"base (a push: the commit before it) and those that read their state; every root when there is no base to "
        f"compare with. A root removed from the build has no job here: plan its destroy with `tfgen plan "
        f"{inputs.out} --affected <base> --out-dir PLANS` and apply it with `tfgen apply PLANS`.",
        f"Plan artifacts hold every value of the plans, sensitive ones in plain text (Terraform's plan files and "
        f"`show -json` do): whoever can read this repository's Actions artifacts can read them. They are kept "
        f"{RETENTION_DAYS} days, as long as an approval may wait.",
    ]
    if inputs.left_out:
        blocks.append(f"Not run here: {', '.join(inputs.left_out)}. It keeps its state in a local file that a "
                      f"runner does not have: apply it once from a workstation (`tfgen apply {inputs.out} --env "
                      f"{inputs.left_out[0]}`), and pass --include-state once its state is in a backend.")
    return header(*blocks)


def workflow(inputs: CiInputs) -> str:
    """The YAML of a workflow that checks the build, then plans and applies its roots in the graph's order."""
    paths = ["**"] if inputs.out == "." else [filter_pattern(inputs.spec), f"{filter_pattern(inputs.out)}/**"]
    env = {"TFGEN_SPEC": inputs.spec, "TFGEN_OUT": inputs.out}
    if inputs.install.requirements_file is not None:
        env["TFGEN_REQUIREMENTS"] = inputs.install.requirements_file
    else:
        env["TFGEN_INSTALL"] = inputs.install.requirement
    branches = [filter_pattern(inputs.branch)]
    document = {
        "name": "tfgen",
        "on": {"pull_request": {"branches": branches, "paths": paths},
               "push": {"branches": branches, "paths": paths}},
        "permissions": {},
        # One run per ref: a newer push to a pull request cancels its older run; runs of the branch queue.
        "concurrency": {"group": "${{ github.workflow }}-${{ github.ref }}",
                        "cancel-in-progress": "${{ github.event_name == 'pull_request' }}"},
        "defaults": {"run": {"shell": "bash"}},  # bash -eo pipefail: a failed command fails its pipeline
        "env": env,
        "jobs": _jobs(inputs),
    }
    notes = {_uses(action): release for action, (_, release) in ACTIONS.items()}
    return dump(document, _header(inputs), notes=notes)
