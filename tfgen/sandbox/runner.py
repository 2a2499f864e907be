"""The sandbox's phases, in order, for each environment of a fleet.

`Sandbox` owns a scratch directory: the fleet is built there by tfgen's own
pipeline, each environment's root is copied there lowered through the
double's passes with an override that points every aliased provider at the
local AWS double (`tfgen.sandbox.prepare`), and terraform runs there.
Nothing outside the scratch directory is written. Each phase is a method
returning a `PhaseResult`, so tests (and users) can run them one by one and
break things in between; `run` does them all.
"""

from __future__ import annotations

import contextlib
import copy
import re
import shutil
import signal
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Iterator

from ..errors import ToolchainError
from ..model import Fleet
from ..emit import root_graph
from ..emit.cells import cell_roots_of
from ..pipeline import emit_checked
from ..providers.lowering import Lowered
from ..terraform.toolchain import Toolchain
from ..write import write_output
from .double import ACCOUNT, AwsDouble
from .expectation import Expectation, expect_environment
from .inventory import RegionInventory, take_inventory
from .prepare import claim, prepare_root
from .quirks import NOT_CHECKED
from .report import EnvironmentReport, Lowering, PhaseResult, SandboxReport
from .terraform import TerraformResult, run_terraform
from .verify import Check, check_bootstrap_document, check_gitops_secrets, check_nothing_left, verify_environment

__all__ = ["PHASES", "Sandbox", "sigterm_as_interrupt"]

PHASES = ("init", "apply", "verify", "re-plan", "destroy")
_CHANGE = re.compile(r"^\s*# (\S+) (?:will be|must be) (.+)$", re.M)
_COUNT = re.compile(r"Resources: (\d+) (?:added|destroyed)")

# progress(environment, phase, None) when a phase starts, (environment, phase, result) when it ends
Progress = Callable[[str, str, PhaseResult | None], None]


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
        self._lowered: dict[str, Lowered] = {}
        self._graph: dict[str, list[str]] = {}

    # -- lifetime ----------------------------------------------------------------

    def start(self) -> "Sandbox":
        """Build the fleet into the scratch directory and start the AWS double."""
        started = time.monotonic()
        # Built as `tfgen build` would, minus the allocations file: nothing outside the scratch directory;
        # for the double's one account, so key policies, trust conditions and ARNs name the account the
        # roles are really in (and `tfgen gitops` accepts the applied outputs).
        prepared, files = emit_checked(in_account(self.fleet, ACCOUNT))
        self.prepared = prepared.fleet
        self._graph = root_graph(prepared.documents)
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="tfgen-sandbox-"))
        claim(self.workdir)
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
        """The scratch copy of an environment's root module (or of one cells root), where terraform runs."""
        return self._scratch / "roots" / environment

    def roots_of(self, environment: str) -> list[str]:
        """The roots of `environment` in the order they apply: itself, or its cells roots by the build's graph
        (the hub's region, the other regions, the links). Their copies are siblings, so a link root reads its
        regions' local state (`../<root>/terraform.tfstate`, the offline override)."""
        cells = cell_roots_of(self._graph, environment)
        if not cells:
            return [environment]
        depth: dict[str, int] = {}

        def of(root: str) -> int:
            if root not in depth:
                depth[root] = 1 + max((of(n) for n in self._graph.get(root, ()) if n in cells), default=-1)
            return depth[root]

        return sorted(cells, key=lambda r: (of(r), r))

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

    def _prepare(self, environment: str) -> None:
        """A fresh copy of the root for this double (see `tfgen.sandbox.prepare`); its lowering kept."""
        def resolve(region: str, parameter: str) -> str:
            with self._api(f"resolving {parameter} in the double's SSM"):
                return self.client("ssm", region).get_parameter(Name=parameter)["Parameter"]["Value"]

        for root in self.roots_of(environment):
            self._lowered[root] = prepare_root(self._scratch / "out" / root, self.root(root),
                                               endpoint=self.double.endpoint, resolve=resolve)

    def lowering(self, environment: str) -> Lowering | None:
        """What the sandbox's copy of the root leaves out or rewrites, and what it cannot check."""
        lowered = [self._lowered[r] for r in self.roots_of(environment) if r in self._lowered]
        if not lowered:
            return None
        return Lowering(lowered[0].target, [asdict(c) for one in lowered for c in one.changes], list(NOT_CHECKED))

    def _terraform(self, environment: str, phase: str, *args: str, reverse: bool = False) -> TerraformResult:
        """`terraform ARGS` in each root of `environment` in order (`reverse`: destroy's) until one fails; with
        several roots (cells), one result over their joined logs: the first failure's status, else 2 when a
        `-detailed-exitcode` plan of any root has changes, else 0."""
        roots = self.roots_of(environment)
        if len(roots) == 1:
            return self._terraform_in(roots[0], phase, *args)
        results = []
        for root in roots[::-1] if reverse else roots:
            results.append(self._terraform_in(root, phase, *args))
            if results[-1].returncode not in (0, 2) or (results[-1].returncode == 2 and "-detailed-exitcode" not in args):
                break
        log = self._scratch / "logs" / environment / f"{phase}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("".join(f"# {r.log.parent.parent.name}\n{r.output}\n" for r in results))
        code = next((r.returncode for r in results if r.returncode not in (0, 2)),
                    2 if any(r.returncode == 2 for r in results) else 0)
        return TerraformResult(results[-1].args, code, sum(r.seconds for r in results), log)

    def _terraform_in(self, environment: str, phase: str, *args: str) -> TerraformResult:
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
                return PhaseResult(environment, "apply", True, 0.0, f"{_count(result.output)} resources created")
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
            checks += check_bootstrap_document(self.expectation(environment), self.client,
                                               lambda: self.gitops_outputs(environment))
            failed = sum(1 for c in checks if not c.ok)
            return PhaseResult(environment, "verify", not failed, 0.0,
                               f"{len(checks) - failed}/{len(checks)} checks passed", checks=checks)
        return self._phase(environment, "verify", body)

    def gitops_outputs(self, environment: str) -> dict:
        """`terraform output -json` of the applied sandbox root, values unwrapped."""
        from ..gitops import _parse

        outputs = {}
        for root in self.roots_of(environment):  # a cells environment's outputs are spread over its roots
            result = self._terraform_in(root, "output", "output", "-json", "-no-color")
            if result.returncode:
                raise ToolchainError(f"terraform output failed in the sandbox root (log: {result.log})")
            text = result.output
            outputs.update(_parse(text[text.find("{"):] if "{" in text else text, f"terraform output of {root}"))
        return outputs

    def check_gitops_secrets(self, environment: str, outputs: dict | None = None) -> list[Check]:
        """Argo CD's cluster Secrets rendered from the applied root's outputs (or `outputs`), checked
        against the double's EKS and IAM (see `tfgen.sandbox.verify.check_gitops_secrets`)."""
        lowering = self.lowering(environment)
        left_out = [c["address"].removeprefix("output.") for c in (lowering.changes if lowering else [])
                    if c["address"].startswith("output.")]
        return check_gitops_secrets(
            self.expectation(environment), self.client,
            (lambda: self.gitops_outputs(environment)) if outputs is None else (lambda: outputs), left_out=left_out)

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
                                     "-no-color", "-refresh=false", f"-parallelism={self.parallelism}", reverse=True)
            if result.returncode:
                return self._failed(environment, "destroy", result, "destroy")
            count = _count(result.output)
            checks = check_nothing_left(self.expectation(environment), self.client)
            left = [c for c in checks if not c.ok]
            summary = (f"{count} resources destroyed; "
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


def _count(output: str) -> str:
    """Resources added (or destroyed) over every root of a run's log."""
    found = _COUNT.findall(output)
    return str(sum(int(n) for n in found)) if found else "?"


def in_account(fleet: Fleet, account: str) -> Fleet:
    """A copy of `fleet` whose every environment deploys to `account` (an `assume_role` moves with it)."""
    fleet = copy.deepcopy(fleet)
    for env in fleet.environments.values():
        if env.assume_role and env.assume_role.count(":") >= 5:
            parts = env.assume_role.split(":")
            env.assume_role = ":".join(parts[:4] + [account] + parts[5:])
        env.account_id = account
    return fleet
