"""The sandbox's phases, in order, for each environment of a fleet.

`Sandbox` owns a scratch directory: the fleet is built there by tfgen's own
pipeline, each environment's root is copied next to override files that
point every aliased provider at the local AWS double, and terraform runs
there. Nothing outside the scratch directory is written. Each phase is a
method returning a `PhaseResult`, so tests (and users) can run them one by
one and break things in between; `run` does them all.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

from ..errors import ToolchainError
from ..model import Fleet
from ..pipeline import emit_checked
from ..providers.lowering import LOWERED_FILE
from ..terraform.toolchain import Toolchain, aliases_of, copy_root
from ..write import write_output
from .double import AwsDouble
from .expectation import Expectation, expect_environment
from .inventory import RegionInventory, take_inventory
from .report import EnvironmentReport, Lowering, PhaseResult, SandboxReport
from .terraform import TerraformResult, run_terraform
from .verify import Check, check_nothing_left, verify_environment

__all__ = ["PHASES", "SANDBOX_OVERRIDE", "UNSUPPORTED", "NOT_CHECKED", "Sandbox", "sandbox_override", "sigterm_as_interrupt"]

PHASES = ("init", "apply", "verify", "re-plan", "destroy")
SANDBOX_OVERRIDE = "tfgen_sandbox_override.tf.json"
MARKER = ".tfgen-sandbox"
_STATE_FILES = ("terraform.tfstate", "terraform.tfstate.backup", ".terraform.tfstate.lock.info")
_CHANGE = re.compile(r"^\s*# (\S+) (?:will be|must be) (.+)$", re.M)
_COUNT = re.compile(r"Resources: (\d+) (?:added|destroyed)")

# progress(environment, phase, None) when a phase starts, (environment, phase, result) when it ends
Progress = Callable[[str, str, PhaseResult | None], None]


# Per resource type: arguments set only in the sandbox, attributes whose drift moto invents, and
# why (listed in the report with everything lowering changed).
_QUIRKS: dict[str, tuple[dict, list[str], str]] = {
    "aws_eks_node_group": ({}, ["remote_access"], "moto gives every node group a default remote_access"),
    "aws_vpc_peering_connection_accepter": (
        {}, ["tags"], "moto shows a cross-region peering's requester tags on its accepter"),
    # moto reports a default transit gateway route table even when it is disabled, and
    # fails (HTTP 500) when the provider disassociates an attachment from it; it also
    # returns no tags for VPC attachments.
    "aws_ec2_transit_gateway_vpc_attachment": (
        {"transit_gateway_default_route_table_association": True,
         "transit_gateway_default_route_table_propagation": True},
        ["transit_gateway_default_route_table_association", "transit_gateway_default_route_table_propagation",
         "tags", "tags_all"],
        "moto fails to disassociate an attachment from the default route table and returns no attachment tags",
    ),
    "aws_ec2_transit_gateway_peering_attachment_accepter": (
        {}, ["tags"], "moto shows the requester's tags on the accepter"),
    # moto drops the attachment of a static route through a peering attachment, so the
    # provider reads it back as a blackhole route and would replace it on every plan.
    "aws_ec2_transit_gateway_route": (
        {}, ["blackhole", "transit_gateway_attachment_id"],
        "moto reads a static route through a peering attachment back as a blackhole"),
    # moto has no MonitorInstances (HTTP 500 NotImplementedError): detailed monitoring stays off.
    # With `associate_public_ip_address` set, provider 3.x sends the subnet, the flag and the
    # security groups as a network interface; moto reads that interface's "false" as true (a public
    # IP) and drops its security groups. Unset, the provider sends SubnetId and SecurityGroupIds
    # and moto follows the private subnet's map_public_ip_on_launch (false), which verify checks.
    # moto also reports an instance's security groups on its network interface only (verify reads them there).
    "aws_instance": ({"monitoring": False, "associate_public_ip_address": None},
                     ["monitoring", "vpc_security_group_ids"],
                     "the local AWS double (moto) has no MonitorInstances API, mishandles the network-interface "
                     "form of RunInstances (the private subnet's default, no public IP, applies) and reports "
                     "security groups on the network interface only"),
}


def quirk_changes(override: dict) -> list[dict]:
    """What `sandbox_override` changed, as `tfgen_lowered.json` lists changes."""
    changes = []
    for type_, blocks in sorted(override.get("resource", {}).items()):
        if type_ not in _QUIRKS:
            continue
        arguments, ignored, reason = _QUIRKS[type_]
        what = "; ".join(filter(None, [
            ", ".join(f"{k} = {json.dumps(v)}" for k, v in arguments.items()),
            f"drift of {', '.join(ignored)} ignored" if ignored else ""]))
        for name in sorted(blocks):
            changes.append({"address": f"{type_}.{name}", "action": "sandbox quirk", "what": what,
                            "reason": reason})
    return changes


# Resource types the double cannot create or read back: left out of the sandbox's copy of each
# root by `copy_root(..., unsupported=...)`, listed in `tfgen_lowered.json` and in the report.
UNSUPPORTED: dict[str, str] = {
    "aws_eks_addon": "the local AWS double (moto) has no EKS add-on API",
    "aws_eks_access_entry": "the local AWS double (moto) has no EKS access entry API",
    "aws_eks_access_policy_association": "the local AWS double (moto) has no EKS access entry API",
    "aws_eks_pod_identity_association": "the local AWS double (moto) has no EKS Pod Identity API",
    # moto sets the key (ModifyEbsDefaultKmsKeyId) but has no GetEbsDefaultKmsKeyId, which the
    # provider calls after every create and refresh. Encryption by default itself is kept.
    "aws_ebs_default_kms_key": "the local AWS double (moto) cannot read the EBS default KMS key back "
                               "(no GetEbsDefaultKmsKeyId)",
}
# What the API checks cannot see, because the double has no such API (reported with every run).
NOT_CHECKED = ("EKS access entries and their access policy associations", "EKS add-ons",
               "EKS Pod Identity associations", "the EBS default KMS key")
_RESOLVE_SSM = "resolve:ssm:"


def sandbox_override(root: Path) -> dict:
    """Resource overrides that work around the local double's quirks (see `_QUIRKS`).

    Without them, moto rejects some of tfgen's settings, and a second plan
    wants changes that real AWS would not report.
    """
    resources: dict[str, dict] = {}
    for path in sorted(root.glob("*.tf.json")):
        if path.name.endswith("_override.tf.json"):
            continue
        for type_, blocks in json.loads(path.read_text()).get("resource", {}).items():
            if type_ in _QUIRKS:
                arguments, ignored, _ = _QUIRKS[type_]
                for name in blocks:
                    resources.setdefault(type_, {})[name] = {**arguments, "lifecycle": {"ignore_changes": ignored}}
    return {"resource": resources} if resources else {}


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM stops tfgen like Ctrl-C does, so every child is stopped."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Sandbox:
    """A fleet built into a scratch directory and applied to a local AWS double."""

    def __init__(
        self,
        fleet: Fleet,
        *,
        spec: str = "",
        workdir: str | Path | None = None,
        port: int = 0,
        timeout: float = 900.0,
        parallelism: int = 20,
        terraform: str | None = None,
        progress: Progress | None = None,
    ):
        self.fleet = fleet
        self.spec = spec
        self.workdir = Path(workdir).resolve() if workdir else None
        self.port = port
        self.timeout = timeout
        self.parallelism = parallelism
        self.terraform = terraform
        self.progress = progress
        self.keep_workdir = workdir is not None
        self.double: AwsDouble | None = None
        self.toolchain: Toolchain | None = None
        self.build_seconds = 0.0
        self.prepared: Fleet | None = None
        self._expectations: dict[str, Expectation] = {}

    # -- lifetime ----------------------------------------------------------------

    def start(self) -> "Sandbox":
        """Build the fleet into the scratch directory and start the AWS double."""
        started = time.monotonic()
        # Built as `tfgen build` would, minus the allocations file: nothing outside the scratch directory.
        prepared, files = emit_checked(self.fleet)
        self.prepared = prepared.fleet
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="tfgen-sandbox-"))
        _claim(self.workdir)
        write_output(files, self.workdir / "out")
        self.build_seconds = time.monotonic() - started
        try:
            self.toolchain = Toolchain(self.workdir / "toolchain", terraform=self.terraform)
            self.double = AwsDouble(self.workdir / "double", port=self.port).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the double; remove the scratch directory unless it was given or kept."""
        if self.double is not None:
            self.double.stop()
        if self.workdir is not None and not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def hold(self) -> None:
        """Keep the double serving until Ctrl-C or SIGTERM."""
        with contextlib.suppress(KeyboardInterrupt):
            while self.double is not None and self.double.alive():
                time.sleep(0.5)

    # -- helpers -------------------------------------------------------------------

    def root(self, environment: str) -> Path:
        """The scratch copy of an environment's root module, where terraform runs."""
        return self._scratch / "roots" / environment

    @property
    def _scratch(self) -> Path:
        if self.workdir is None or self.double is None:
            raise ToolchainError("the sandbox is not started; use `with Sandbox(...)` or call start()")
        return self.workdir

    def client(self, service: str, region: str):
        """A boto3 client bound to the AWS double."""
        return self.double.client(service, region)

    def expectation(self, environment: str) -> Expectation:
        """What `environment` should have in AWS, from the fleet with its pool CIDRs allocated."""
        if environment not in self._expectations:
            self._expectations[environment] = expect_environment(self.prepared, environment)
        return self._expectations[environment]

    def _prepare(self, environment: str) -> Path:
        """Fresh copy of the root with overrides for this double; stale state removed."""
        root = self.root(environment)
        root.mkdir(parents=True, exist_ok=True)
        # State from an earlier run names resources of a double that no longer exists.
        for stale in [*root.glob("*.tf.json"), *(root / name for name in _STATE_FILES)]:
            stale.unlink(missing_ok=True)
        copy_root(self._scratch / "out" / environment, root, endpoint=self.double.endpoint,
                  unsupported=UNSUPPORTED)
        override = sandbox_override(root)
        resolved = self._resolve_images(root) + quirk_changes(override)
        if resolved:
            lowered_file = root / LOWERED_FILE
            lowered = json.loads(lowered_file.read_text())
            lowered["changes"] = sorted(lowered["changes"] + resolved, key=lambda c: (c["address"], c["what"]))
            lowered_file.write_text(json.dumps(lowered, indent=2, sort_keys=True) + "\n")
        if override:
            (root / SANDBOX_OVERRIDE).write_text(json.dumps(override, indent=2, sort_keys=True) + "\n")
        return root

    def _resolve_images(self, root: Path) -> list[dict]:
        """Instances whose AMI is a launch template's `resolve:ssm:` parameter get the AMI id itself,
        read from the double's SSM (moto ships AWS's public AMI parameters but does not resolve
        `resolve:ssm:` in RunInstances), and the template is left out: moto copies the template's
        own tags into its data, so provider 3.x would plan a new template version after every
        apply (Terraform 1.0's ignore_changes does not hide it). Returns the changes, as
        `tfgen_lowered.json` lists them."""
        regions = aliases_of(root)
        files = {p: json.loads(p.read_text()) for p in sorted(root.glob("*.tf.json"))
                 if not p.name.endswith("_override.tf.json")}
        templates = {f"aws_launch_template.{name}": (path, body) for path, d in files.items()
                     for name, body in d.get("resource", {}).get("aws_launch_template", {}).items()}
        changes, edited = [], set()
        for path, document in files.items():
            for name, body in document.get("resource", {}).get("aws_instance", {}).items():
                ami = str(body.get("ami", ""))
                template = next((t for t in templates if "${" + t + ".image_id}" == ami), None)
                image = str(templates[template][1].get("image_id", "")) if template else ""
                if not image.startswith(_RESOLVE_SSM):
                    continue
                parameter = image[len(_RESOLVE_SSM):]
                region = regions.get(str(body.get("provider", "")).removeprefix("aws."), "")
                with self._api(f"resolving {parameter} in the double's SSM"):
                    value = self.client("ssm", region).get_parameter(Name=parameter)["Parameter"]["Value"]
                body["ami"] = value
                edited.add(path)
                template_path = templates[template][0]
                blocks = files[template_path]["resource"]["aws_launch_template"]
                blocks.pop(template.split(".", 1)[1], None)
                if not blocks:
                    del files[template_path]["resource"]["aws_launch_template"]
                edited.add(template_path)
                changes.append({"address": f"aws_instance.{name}", "action": "rewritten",
                                "what": f"ami = {value} ({parameter} in the double's SSM)",
                                "reason": "the local AWS double (moto) does not resolve resolve:ssm: image ids"})
                changes.append({"address": template, "action": "left out", "what": "aws_launch_template",
                                "reason": "the local AWS double (moto) copies a launch template's own tags "
                                          "into its data, so every plan would want a new version"})
        for path in edited:
            path.write_text(json.dumps(files[path], indent=2, sort_keys=True) + "\n")
        return changes

    def lowering(self, environment: str) -> Lowering | None:
        """What the sandbox's copy of the root leaves out or rewrites, and what it cannot check."""
        path = self.root(environment) / LOWERED_FILE
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return Lowering(data["target"], data["changes"], list(NOT_CHECKED))

    def _terraform(self, environment: str, phase: str, *args: str) -> TerraformResult:
        pid = self.double.pid

        def watch() -> str | None:
            if self.double.alive():
                return None
            return (f"the local AWS double (moto_server, pid {pid}) stopped during `terraform {args[0]}` "
                    f"of {environment}; terraform was stopped. Run the command again: each run starts "
                    f"a fresh double and converges")

        return run_terraform(self.toolchain, self.root(environment), *args,
                             log=self.root(environment) / "logs" / f"{phase}.log",
                             timeout=self.timeout, watch=watch)

    def _phase(self, environment: str, phase: str, body: Callable[[], PhaseResult]) -> PhaseResult:
        if self.progress:
            self.progress(environment, phase, None)
        started = time.monotonic()
        with self._api(f"{phase} of {environment}"):
            result = body()
        result.seconds = time.monotonic() - started
        if self.progress:
            self.progress(environment, phase, result)
        return result

    def _failed(self, environment: str, phase: str, result: TerraformResult, what: str) -> PhaseResult:
        errors = result.errors() or [result.output.strip()[-2000:]]
        return PhaseResult(environment, phase, False, 0.0,
                           f"terraform {what} failed (exit {result.returncode}; log: {result.log})", errors)

    # -- phases ----------------------------------------------------------------------

    def init(self, environment: str) -> PhaseResult:
        """`terraform init` of a fresh copy of the environment's root."""
        def body() -> PhaseResult:
            self._prepare(environment)
            result = self._terraform(environment, "init", "init", "-input=false", "-no-color")
            if result.returncode:
                return self._failed(environment, "init", result, "init")
            return PhaseResult(environment, "init", True, 0.0, "AWS provider from the local mirror")
        return self._phase(environment, "init", body)

    def apply(self, environment: str) -> PhaseResult:
        """`terraform apply`; on failure, Terraform's errors and what exists."""
        def body() -> PhaseResult:
            result = self._terraform(environment, "apply", "apply", "-auto-approve", "-input=false",
                                     "-no-color", f"-parallelism={self.parallelism}")
            if result.returncode == 0:
                count = _COUNT.search(result.output)
                return PhaseResult(environment, "apply", True, 0.0,
                                   f"{count.group(1) if count else '?'} resources created")
            failed = self._failed(environment, "apply", result, "apply")
            failed.details.append(self._created(environment))
            return failed
        return self._phase(environment, "apply", body)

    def _created(self, environment: str) -> str:
        result = self._terraform(environment, "state-list", "state", "list")
        addresses = result.output.split() if result.returncode == 0 else []
        if not addresses:
            return "no resource was created before the failure"
        counts: dict[str, int] = {}
        for address in addresses:
            counts[address.split(".")[0]] = counts.get(address.split(".")[0], 0) + 1
        listed = ", ".join(f"{n} {t}" for t, n in sorted(counts.items()))
        return f"created before the failure ({len(addresses)}): {listed}"

    def verify(self, environment: str) -> PhaseResult:
        """Check through the AWS API that the environment is what the fleet says."""
        def body() -> PhaseResult:
            checks = verify_environment(self.expectation(environment), self.client)
            checks += self.check_gitops_secrets(environment)
            failed = sum(1 for c in checks if not c.ok)
            return PhaseResult(environment, "verify", not failed, 0.0,
                               f"{len(checks) - failed}/{len(checks)} checks passed", checks=checks)
        return self._phase(environment, "verify", body)

    def gitops_outputs(self, environment: str) -> dict:
        """`terraform output -json` of the applied sandbox root, values unwrapped."""
        from ..gitops import _parse

        result = self._terraform(environment, "output", "output", "-json", "-no-color")
        if result.returncode:
            raise ToolchainError(f"terraform output failed in the sandbox root (log: {result.log})")
        text = result.output
        return _parse(text[text.find("{"):] if "{" in text else text, f"terraform output of {environment}")

    def check_gitops_secrets(self, environment: str, outputs: dict | None = None) -> list[Check]:
        """Render Argo CD's cluster Secrets from the applied root's outputs (as `tfgen gitops` does)
        and check each edge's server and role against the double's EKS and IAM."""
        from ..gitops import OutputsError, render

        expected = self.expectation(environment)
        if expected.gitops is None:
            return []
        lowering = self.lowering(environment)
        dropped = [c["address"].removeprefix("output.") for c in (lowering.changes if lowering else [])
                   if c["address"].startswith("output.")]
        note = f" (lowering left out output field(s) {', '.join(dropped)})" if dropped else ""
        try:
            # The double is one account (moto's default): its roles are there, not in the spec's account.
            from moto.core import DEFAULT_ACCOUNT_ID

            rendered = render(self.gitops_outputs(environment) if outputs is None else outputs,
                              account=DEFAULT_ACCOUNT_ID)
        except OutputsError as exc:
            return [Check("gitops secret", environment, False, f"tfgen gitops cannot render: {exc}{note}")]
        secrets = {s["stringData"]["name"]: s for s in rendered.secrets}
        checks = []
        for edge in expected.gitops.edges:
            secret = secrets.pop(edge.name, None)
            if secret is None:
                checks.append(Check("gitops secret", edge.label, False, f"no Secret for {edge.name}{note}"))
                continue
            config = json.loads(secret["stringData"]["config"])
            server, role = secret["stringData"]["server"], config["awsAuthConfig"]["roleARN"]
            info = self.client("eks", edge.region).describe_cluster(name=edge.name)["cluster"]
            endpoint, ca = info.get("endpoint"), info.get("certificateAuthority", {}).get("data")
            arn = self.client("iam", edge.region).get_role(RoleName=edge.deployer_role)["Role"]["Arn"]
            ok = server == endpoint and role == arn and config["tlsClientConfig"]["caData"] == ca
            checks.append(Check("gitops secret", edge.label, ok,
                                f"server {server}" + ("" if server == endpoint else f" != endpoint {endpoint}")
                                + f"; roleARN {role}" + ("" if role == arn else f" != deployer role {arn}")
                                + ("" if config["tlsClientConfig"]["caData"] == ca else "; caData is not the cluster's CA")
                                + note))
        for name in secrets:
            checks.append(Check("gitops secret", name, False, "a Secret for a cluster Argo CD should not manage"))
        return checks

    def replan(self, environment: str) -> PhaseResult:
        """A second `terraform plan`: applying again must change nothing."""
        def body() -> PhaseResult:
            result = self._terraform(environment, "re-plan", "plan", "-detailed-exitcode", "-input=false",
                                     "-no-color", "-lock=false", f"-parallelism={self.parallelism}")
            if result.returncode == 0:
                return PhaseResult(environment, "re-plan", True, 0.0, "no changes")
            if result.returncode == 2:
                changes = [f"{address} {action}" for address, action in _CHANGE.findall(result.output)]
                return PhaseResult(environment, "re-plan", False, 0.0,
                                   f"not idempotent: {len(changes)} change(s) after apply (log: {result.log})",
                                   changes)
            return self._failed(environment, "re-plan", result, "plan")
        return self._phase(environment, "re-plan", body)

    def destroy(self, environment: str) -> PhaseResult:
        """`terraform destroy`, then check through the API that nothing is left."""
        def body() -> PhaseResult:
            # The re-plan has just refreshed every resource; refreshing again only costs time.
            result = self._terraform(environment, "destroy", "destroy", "-auto-approve", "-input=false",
                                     "-no-color", "-refresh=false", f"-parallelism={self.parallelism}")
            if result.returncode:
                return self._failed(environment, "destroy", result, "destroy")
            count = _COUNT.search(result.output)
            checks = check_nothing_left(self.expectation(environment), self.client)
            left = [c for c in checks if not c.ok]
            summary = (f"{count.group(1) if count else '?'} resources destroyed; "
                       + ("nothing left" if not left else f"{len(left)} kind(s) left over"))
            return PhaseResult(environment, "destroy", not left, 0.0, summary, checks=checks)
        return self._phase(environment, "destroy", body)

    def inventory(self, environment: str) -> list[RegionInventory]:
        """What the environment has in the double now, per region."""
        with self._api(f"the inventory of {environment}"):
            return take_inventory(self.expectation(environment), self.client)

    @contextlib.contextmanager
    def _api(self, during: str) -> Iterator[None]:
        """AWS API errors from the double as a ToolchainError that says what was going on."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except (BotoCoreError, ClientError) as exc:
            state = "is running" if self.double.alive() else "has stopped"
            raise ToolchainError(
                f"the local AWS double ({state}) failed a request during {during}: {exc}; "
                f"its log is {self.double.log}"
            ) from None

    # -- everything --------------------------------------------------------------------

    def run_environment(self, environment: str, *, keep: bool = False) -> EnvironmentReport:
        """Every phase of one environment; stops early when init or apply fails."""
        report = EnvironmentReport(environment)
        for phase in (self.init, self.apply):
            report.phases.append(phase(environment))
            if phase == self.init:
                report.lowering = self.lowering(environment)
            if not report.phases[-1].ok:
                if phase == self.apply:
                    report.inventory = self.inventory(environment)
                return report
        report.phases.append(self.verify(environment))
        report.inventory = self.inventory(environment)
        report.phases.append(self.replan(environment))
        if not keep:
            report.phases.append(self.destroy(environment))
        return report

    def run(self, environments: list[str] | None = None, *, keep: bool = False) -> SandboxReport:
        """Every phase of every environment (default: all of the fleet's, in order)."""
        names = environments or list(self.fleet.environments)
        for name in names:
            self.fleet.environment(name)
        if self.double is None:
            raise ToolchainError("the sandbox is not started; use `with Sandbox(...)` or call start()")
        if keep:
            self.keep_workdir = True
        report = SandboxReport(self.spec, self.workdir, self.double.describe(), self.build_seconds,
                               kept=keep, double_pid=self.double.pid)
        for name in names:
            report.environments.append(self.run_environment(name, keep=keep))
        return report


def _claim(workdir: Path) -> None:
    """Use `workdir` as scratch only when it is new, empty or an earlier sandbox's."""
    if workdir.exists() and any(workdir.iterdir()) and not (workdir / MARKER).exists():
        raise ToolchainError(
            f"{workdir} is not empty and is not a tfgen sandbox scratch directory; "
            "give a new or empty directory to --workdir"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text("scratch directory of `tfgen sandbox`; safe to delete\n")
