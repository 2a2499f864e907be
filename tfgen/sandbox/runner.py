"""The sandbox's phases, in order, for the roots of a fleet: the orchestrator pointed at the local double.

`Sandbox` owns a scratch directory: the fleet is built there by tfgen's own
pipeline (with its graph of roots, recorded in the manifest as `tfgen build`
records it), and the orchestrator (`tfgen.orchestrate`) applies, re-plans and
destroys the roots in the order of the sandbox's graph, independent roots at
once, each on a copy lowered through the double's passes and pointed at the
local AWS double (`tfgen.sandbox.workspace`). While a root is re-planned it is
verified through the API. Nothing outside the scratch directory is written.
Each phase is a method returning a `PhaseResult`, so tests (and users) can run
them one by one and break things in between; `run` does them all, each unit
(an environment, or `_state`) through its own pipeline, units at once
(`tfgen.sandbox.pipeline`).

The sandbox's graph (`Sandbox.graph`) is the build's without the state-backend
edges (`root_graph(documents, backend=False)`): the build's environments keep
their state in the bucket `_state` creates, so they need it applied first, but
the sandbox's copies keep their state locally (the offline override), so no
environment waits for `_state` here, nor `_state`'s destroy for theirs. The
remote-state edges (a cells link root reads its region roots' local state,
`../<root>/terraform.tfstate`) and the role edges (a trust naming a role
another root creates, which IAM refuses before it exists) stay. The manifest
in the scratch `out/` is the build's own (`Sandbox.built_graph`), and `run`
still takes along what an environment needs by it (`_state`, as a unit of its
own that nothing waits for).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Callable, Iterator

from ..emit import root_graph
from ..emit.cells import cell_roots_of
from ..emit.state import STATE_ROOT
from ..errors import ToolchainError
from ..model import Fleet
from ..orchestrate import RootGraph, read_graph
from ..pipeline import emit_checked
from ..write import write_output
from .double import ACCOUNT, AwsDouble
from .expectation import Expectation, expect_environment
from .inventory import RegionInventory, take_inventory
from .prepare import claim, in_account
from .quirks import NOT_CHECKED, images_to_resolve
from .report import EnvironmentReport, Lowering, PhaseResult, SandboxReport
from .outcome import failed, joined
from .pipeline import Pipelines, account_settings
from .rounds import RootRuns
from .terraform import TerraformResult, run_terraform
from .verify import Check, check_bootstrap_document, check_gitops_secrets, check_nothing_left, verify_environment
from .verify.state import check_state_backend, check_state_gone
from .workspace import DoubleWorkspace

__all__ = ["PHASES", "Sandbox", "sigterm_as_interrupt", "in_account"]

PHASES = ("init", "apply", "verify", "re-plan", "destroy")

# progress(environment, phase, None) when a phase starts, (environment, phase, result) when it ends
Progress = Callable[[str, str, PhaseResult | None], None]


def _once(fetch: Callable[[], dict]) -> Callable[[], dict]:
    """`fetch`, called at most once (when it returns): later calls get the same value."""
    got: list[dict] = []

    def once() -> dict:
        if not got:
            got.append(fetch())
        return got[0]
    return once


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


class Sandbox(RootRuns):
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
        concurrency: int = 4,
        terraform: str | None = None,
        progress: Progress | None = None,
    ):
        self.fleet = fleet
        self.spec = spec
        self.workdir = Path(workdir).resolve() if workdir else None
        self.port = port
        self.timeout = timeout
        self.parallelism = parallelism  # terraform's -parallelism within a root
        self.concurrency = concurrency  # independent roots at once
        self.terraform = terraform
        self.progress = progress
        self.keep_workdir = workdir is not None
        self.double: AwsDouble | None = None
        self.workspace: DoubleWorkspace | None = None
        self.graph: RootGraph | None = None  # the sandbox's graph of roots (no state-backend edges)
        self.built_graph: RootGraph | None = None  # the build's, as its manifest records it
        self.build_seconds = 0.0
        self.prepared: Fleet | None = None
        self._expectations: dict[str, Expectation] = {}
        self._settings: dict[str, set[tuple[str, str]]] = {}  # root -> account-wide settings it sets
        self._progress_lock = threading.Lock()  # progress and expectations come from several threads at once
        self._expectations_lock = threading.Lock()
        # runs of the orchestrator going (`RootRuns`), the roots they share, and a stop for all of them
        self._runs: list = []
        self._runs_lock = threading.Lock()
        self._stopping = threading.Event()
        self._slots: threading.Semaphore | None = None
        self._resolved: dict[tuple[str, str], str] = {}  # (region, parameter) -> value, read once
        self._resolve_lock = threading.Lock()
        self._warming: list[threading.Thread] = []

    # -- lifetime ----------------------------------------------------------------

    def start(self) -> "Sandbox":
        """Build the fleet (and its graph of roots) into the scratch directory and start the AWS double."""
        started = time.monotonic()
        # Built as `tfgen build` would, minus the allocations file: nothing outside the scratch directory;
        # for the double's one account, so key policies, trust conditions and ARNs name the account the
        # roles are really in (and `tfgen gitops` accepts the applied outputs).
        prepared, files = emit_checked(in_account(self.fleet, ACCOUNT))
        self.prepared = prepared.fleet
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="tfgen-sandbox-"))
        claim(self.workdir)
        write_output(files, self.workdir / "out", roots=root_graph(prepared.documents))
        # The manifest keeps the build's graph (`run` takes the roots an environment needs by it); the
        # sandbox orders its runs by its own (see the module's docstring).
        self.built_graph = read_graph(self.workdir / "out")
        local = root_graph(prepared.documents, backend=False)
        self.graph = replace(self.built_graph, needs={root: tuple(needs) for root, needs in local.items()})
        self._settings = {root: account_settings(documents) for root, documents in prepared.documents.items()}
        self.build_seconds = time.monotonic() - started
        try:
            self.double = AwsDouble(self.workdir / "double", port=self.port).start()
            self.workspace = DoubleWorkspace(self.workdir, double=self.double, resolve=self._resolve,
                                             terraform=self.terraform, parallelism=self.parallelism,
                                             timeout=self.timeout)
            self._warm_up(prepared.documents)
        except BaseException:
            self.stop()
            raise
        return self

    def _warm_up(self, documents: dict[str, dict[str, dict]]) -> None:
        """At once, before any root needs them: the plugin cache (the provider unpacked from the mirror,
        `warm_cache`) and the `resolve:ssm:` images the copies ask the double for (moto's SSM loads its
        public parameters first). Every root's copy waits for both; a failure here is left for the copy's
        own prepare or init to report."""
        wanted = sorted({image for docs in documents.values() for image in images_to_resolve(docs)})

        def resolve() -> None:
            for region, parameter in wanted:
                with contextlib.suppress(Exception):
                    self._resolve(region, parameter)

        def warm() -> None:
            with contextlib.suppress(Exception):
                self.workspace.warm_cache()

        self._warming = [threading.Thread(target=job, name=f"tfgen-sandbox-{job.__name__}", daemon=True)
                         for job in (warm, resolve)]
        for thread in self._warming:
            thread.start()

    def stop(self) -> None:
        """Stop the double; remove the scratch directory unless it was given or kept."""
        for thread in self._warming:
            thread.join()
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

    @property
    def toolchain(self):
        """The offline toolchain terraform runs with (the workspace's)."""
        return self.workspace.toolchain if self.workspace else None

    def root(self, environment: str) -> Path:
        """The scratch copy of a root module (an environment's, one cells root, `_state`), where terraform runs."""
        return self._scratch / "roots" / environment

    def roots_of(self, environment: str) -> list[str]:
        """The roots of `environment` (or of `_state`) in the graph's order: itself, or its cells roots (the
        hub's region, the other regions, the links). Their copies are siblings, so a link root reads its
        regions' local state (`../<root>/terraform.tfstate`, the offline override)."""
        cells = cell_roots_of(self.graph.roots, environment)
        return self.graph.order(cells) if cells else [environment]

    def _unit_of(self, root: str) -> str:
        """The report entry a root belongs to: its environment for a cells root, else the root itself."""
        return next((env for env in self.fleet.environments if root in cell_roots_of([root], env)), root)

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
        with self._expectations_lock:
            if environment not in self._expectations:
                self._expectations[environment] = expect_environment(self.prepared, environment)
            return self._expectations[environment]

    def _resolve(self, region: str, parameter: str) -> str:
        """An SSM parameter of the double (for `resolve:ssm:` images in the copies), read once."""
        with self._resolve_lock:
            if (region, parameter) not in self._resolved:
                with self._api(f"resolving {parameter} in the double's SSM"):
                    self._resolved[region, parameter] = \
                        self.client("ssm", region).get_parameter(Name=parameter)["Parameter"]["Value"]
            return self._resolved[region, parameter]

    def lowering(self, environment: str) -> Lowering | None:
        """What the sandbox's copy of the root leaves out or rewrites, and what it cannot check."""
        lowered = [self.workspace.lowered[r] for r in self.roots_of(environment) if r in self.workspace.lowered]
        if not lowered:
            return None
        # What the copy leaves out of `_state` (the ownership controls on 3.39) is listed with its changes.
        not_checked = [] if environment == STATE_ROOT else list(NOT_CHECKED)
        return Lowering(lowered[0].target, [asdict(c) for one in lowered for c in one.changes], not_checked)

    def _left_out(self, environment: str) -> set[str]:
        lowering = self.lowering(environment)
        return {c["address"] for c in lowering.changes if c["action"] == "left out"} if lowering else set()

    def _terraform(self, environment: str, phase: str, *args: str) -> TerraformResult:
        def watch() -> str | None:
            return self.workspace.broken(environment, args[0]) or ("interrupted" if self._stopping.is_set() else None)

        return run_terraform(self.toolchain, self.root(environment), *args,
                             log=self.root(environment) / "logs" / f"{phase}.log", timeout=self.timeout, watch=watch)

    def _report(self, result: PhaseResult) -> PhaseResult:
        if self.progress:
            with self._progress_lock:
                self.progress(result.environment, result.phase, result)
        return result

    def _phase(self, environment: str, phase: str, body: Callable[[], PhaseResult]) -> PhaseResult:
        if self.progress:
            with self._progress_lock:
                self.progress(environment, phase, None)
        started = time.monotonic()
        with self._api(f"{phase} of {environment}"):
            result = body()
        result.seconds = time.monotonic() - started
        return self._report(result)

    # -- phases ----------------------------------------------------------------------

    def init(self, environment: str) -> PhaseResult:
        """`terraform init` of a fresh copy of each root of `environment` (or of `_state`)."""
        def body() -> PhaseResult:
            workspace = self.workspace.view(fresh=True)
            for root in self.roots_of(environment):
                workspace.prepare(root, self.graph.path(root), self._scratch)
                result = self._terraform(root, "init", "init", "-input=false", "-no-color")
                if result.returncode:
                    return failed(environment, "init", result.log, "init", 0.0)
            return PhaseResult(environment, "init", True, 0.0, "AWS provider from the local mirror")
        return self._phase(environment, "init", body)

    def apply(self, environment: str) -> PhaseResult:
        """`terraform apply` of the copies `init` made (through the orchestrator); on failure, what exists."""
        done = self._apply(self.roots_of(environment), fresh=False)
        return joined(environment, "apply", [p for root in done for p in done[root] if p.phase == "apply"]
                       or [p for root in done for p in done[root]])

    def verify(self, environment: str) -> PhaseResult:
        """Check through the AWS API that the root's resources are what the fleet says."""
        def body() -> PhaseResult:
            if environment == STATE_ROOT:
                checks = check_state_backend(self.prepared.state, self.client, left_out=self._left_out(environment))
            else:
                outputs = _once(lambda: self.gitops_outputs(environment))  # one `terraform output` for both
                checks = verify_environment(self.expectation(environment), self.client)
                checks += self._check_gitops_secrets(environment, outputs)
                checks += check_bootstrap_document(self.expectation(environment), self.client, outputs)
            failed = sum(1 for c in checks if not c.ok)
            return PhaseResult(environment, "verify", not failed, 0.0,
                               f"{len(checks) - failed}/{len(checks)} checks passed", checks=checks)
        return self._phase(environment, "verify", body)

    def gitops_outputs(self, environment: str) -> dict:
        """`terraform output -json` of the applied sandbox root, values unwrapped."""
        from ..gitops import _parse

        outputs = {}
        for root in self.roots_of(environment):  # a cells environment's outputs are spread over its roots
            result = self._terraform(root, "output", "output", "-json", "-no-color")
            if result.returncode:
                raise ToolchainError(f"terraform output failed in the sandbox root (log: {result.log})")
            text = result.output
            outputs.update(_parse(text[text.find("{"):] if "{" in text else text, f"terraform output of {root}"))
        return outputs

    def check_gitops_secrets(self, environment: str, outputs: dict | None = None) -> list[Check]:
        """Argo CD's cluster Secrets rendered from the applied root's outputs (or `outputs`), checked
        against the double's EKS and IAM (see `tfgen.sandbox.verify.check_gitops_secrets`)."""
        return self._check_gitops_secrets(
            environment, (lambda: self.gitops_outputs(environment)) if outputs is None else (lambda: outputs))

    def _check_gitops_secrets(self, environment: str, outputs: Callable[[], dict]) -> list[Check]:
        left_out = [a.removeprefix("output.") for a in self._left_out(environment) if a.startswith("output.")]
        return check_gitops_secrets(self.expectation(environment), self.client, outputs, left_out=left_out)

    def replan(self, environment: str) -> PhaseResult:
        """A second `terraform plan`, refreshing every resource: applying again must change nothing."""
        return joined(environment, "re-plan", list(self._replan(self.roots_of(environment)).values()))

    def destroy(self, environment: str) -> PhaseResult:
        """`terraform destroy` (through the orchestrator), then check through the API that nothing is left."""
        return self._nothing_left(environment, list(self._destroy(self.roots_of(environment)).values()))

    def _nothing_left(self, environment: str, destroyed: list[PhaseResult]) -> PhaseResult:
        """The destroy of `environment`'s roots, then the API asked for anything of it left over."""
        result = joined(environment, "destroy", destroyed)
        if result.ok:
            with self._api(f"the check after destroying {environment}"):
                result.checks = (check_state_gone(self.prepared.state, self.client) if environment == STATE_ROOT
                                 else check_nothing_left(self.expectation(environment), self.client))
            left = [c for c in result.checks if not c.ok]
            result.ok = not left
            result.summary += "; " + ("nothing left" if not left else f"{len(left)} kind(s) left over")
        return self._report(result)

    def inventory(self, environment: str) -> list[RegionInventory]:
        """What the environment has in the double now, per region (`_state` has no VPCs to list)."""
        if environment == STATE_ROOT:
            return []
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
        """Every phase of one environment (or `_state`) alone, not the roots it needs; stops early when init
        or apply fails."""
        return self._run(self.roots_of(environment), keep=keep)[0]

    def _run(self, roots: list[str], *, keep: bool) -> list[EnvironmentReport]:
        """Each unit of `roots` (an environment, or `_state`) through apply, verify with re-plan, destroy
        unless `keep`, on its own, units at once (`tfgen.sandbox.pipeline`); the reports in graph order."""
        units: dict[str, list[str]] = {}
        for root in self._ordered(roots):
            units.setdefault(self._unit_of(root), []).append(root)
        self._stopping.clear()
        self._slots = threading.BoundedSemaphore(self.concurrency)
        try:
            return Pipelines(self, units, keep=keep, settings=self._settings).run()
        finally:  # every thread of the run has ended
            self._slots = None
            self._stopping.clear()

    def run(self, environments: list[str] | None = None, *, keep: bool = False) -> SandboxReport:
        """Every phase of every environment (default: all of the fleet's) and the roots they need (`_state`)."""
        names = environments or list(self.fleet.environments)
        for name in names:
            self.fleet.environment(name)
        if self.double is None:
            raise ToolchainError("the sandbox is not started; use `with Sandbox(...)` or call start()")
        if keep:
            self.keep_workdir = True
        report = SandboxReport(self.spec, self.workdir, self.double.describe(), self.build_seconds,
                               kept=keep, double_pid=self.double.pid)
        started = time.monotonic()
        # The roots the built environments need (`_state`, for its S3 backend) come along, each its own unit.
        selected = self.built_graph.select([r for name in names for r in self.roots_of(name)])
        report.environments = self._run(self.graph.order(selected), keep=keep)
        report.elapsed = time.monotonic() - started
        return report
