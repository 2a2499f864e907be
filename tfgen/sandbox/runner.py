"""The sandbox: a fleet built into a scratch directory, applied to a local AWS double by the orchestrator.

`Sandbox` owns a scratch directory: the fleet is built there by tfgen's own pipeline (with its graph of
roots, recorded in the manifest as `tfgen build` records it), each environment for an account of its own
in the double (`accounts_of`; `_state` keeps moto's default one). A run hands the orchestrator
(`tfgen.orchestrate`, the one scheduler) every root's phases (`tfgen.sandbox.phases`: apply, the unit's
verify while re-planning, destroy) with the workspace that copies each root lowered and pointed at the
double (`tfgen.sandbox.workspace`); the phases' results become the report's entries per unit as they end
(`Entries`). Nothing outside the scratch directory is written. `rebuild` builds another fleet against
the applied one (a change rehearsed: `tfgen.sandbox.rehearsal`), and the next phases run its roots. Each phase is also a method (`init`,
`apply`, `verify`, `replan`, `destroy`: a run of the orchestrator with that phase alone), so tests (and
users) can run them one by one and break things in between.

The sandbox's graph (`Sandbox.graph`) is the build's without the state-backend edges: the build's environments keep their state in the bucket
`_state` creates, so they need it applied first, but the sandbox's copies keep their state locally (the
offline override), so no environment waits for `_state` here, nor `_state`'s destroy for theirs. The
remote-state edges (a cells link root reads its region roots' local state, `../<root>/terraform.tfstate`)
and the role edges (a trust naming a role another root creates, which IAM refuses before it exists) stay.
The manifest in the scratch `out/` is the build's own (`Sandbox.built_graph`), and `run` still takes along
what an environment needs by it (`_state`, as a unit of its own that nothing waits for).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Iterator

from ..emit.cells import cell_roots_of
from ..emit.state import STATE_ROOT
from ..errors import ToolchainError
from ..terraform.outputs import terraform_outputs
from ..model import Fleet
from ..orchestrate import Orchestrator, PhaseResult, RootGraph, read_graph
from ..orchestrate.phases import Watch
from ..pipeline import BuildResult, build, prepare
from ..terraform.roots import read_root
from .double import ACCOUNT, AwsDouble, DoubleStopped
from .expectation import Expectation, expect_environment
from .inventory import RegionInventory, take_inventory
from .phases import ENTRY, PHASES, unit_phases
from .prepare import accounts_of, claim, in_scratch, without_backend_edges
from .quirks import NOT_CHECKED, images_to_resolve
from .report import EnvironmentReport, Entries, Lowering, SandboxReport
from .verdict import judged
from .verify import Check, check_bootstrap_document, check_gitops_secrets, check_nothing_left, verify_environment
from .verify.state import check_state_backend, check_state_gone
from .workspace import DoubleWorkspace

__all__ = ["PHASES", "Sandbox"]

# progress(entry) as a unit's phase ends (`entry.root` is the unit: an environment, or `_state`)
Progress = Callable[[PhaseResult], None]


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
        concurrency: int = 4,
        terraform: str | None = None,
        progress: Progress | None = None,
        accounts: dict[str, str] | None = None,
    ):
        self.fleet = fleet
        self.spec = spec
        self.workdir = Path(workdir).resolve() if workdir else None
        self.port = port
        self.timeout = timeout
        self.parallelism = parallelism  # terraform's -parallelism within a root
        self.concurrency = concurrency  # roots' terraform at once
        self.terraform = terraform
        self.progress = progress
        self.keep_workdir = workdir is not None
        self.double: AwsDouble | None = None
        self.workspace: DoubleWorkspace | None = None
        self.graph: RootGraph | None = None  # the sandbox's graph of roots (no state-backend edges)
        self.built_graph: RootGraph | None = None  # the build's, as its manifest records it
        self.accounts: dict[str, str] = dict(accounts or {})  # environment -> its account in the double
        self.build_seconds = 0.0
        self.prepared: Fleet | None = None
        self.earlier: list[Fleet] = []  # what earlier builds prepared (`rebuild`): retired units' expectations
        self.after_apply: dict[str, Callable[[Callable], list[Check]]] = {}  # unit -> more checks for its verify
        self._expectations: dict[str, Expectation] = {}
        self._expectations_lock = threading.Lock()  # calls of several units run at once
        self._inventories: dict[str, list[RegionInventory]] = {}  # unit -> what its verify found
        self._resolved: dict[tuple[str, str], str] = {}  # (region, parameter) -> value, read once
        self._resolve_lock = threading.Lock()
        self._warming: list[threading.Thread] = []

    # -- lifetime ----------------------------------------------------------------

    def start(self) -> "Sandbox":
        """Build the fleet (and its graph of roots) into the scratch directory and start the AWS double."""
        started = time.monotonic()
        self.accounts = self.accounts or accounts_of(self.fleet)
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="tfgen-sandbox-"))
        claim(self.workdir)
        shutil.rmtree(self.workdir / "out", ignore_errors=True)  # an earlier run's build is no baseline
        self._build(self.fleet)
        self.build_seconds = time.monotonic() - started
        try:
            self.double = AwsDouble(self.workdir / "double", port=self.port).start()
            self.workspace = DoubleWorkspace(
                self.workdir, double=self.double, resolve=self._resolve, terraform=self.terraform,
                credentials=lambda root: self.double.credentials(self.account(self._unit_of(root))),
                parallelism=self.parallelism, timeout=self.timeout)
            self._warm_up({root: read_root(self.workdir / "out" / root).documents for root in self.graph.roots})
        except BaseException:
            self.stop()
            raise
        return self

    def _build(self, fleet: Fleet, **flags) -> BuildResult:
        """Build `fleet` into the scratch `out/` as `tfgen build` does (against the build there, with `flags`):
        each environment for its account in the double, so key policies, trust conditions and ARNs name the
        account the roles are really in (and `tfgen gitops` accepts the applied outputs); pool allocations
        recorded in the scratch directory, never beside the spec."""
        built = self.built_fleet(fleet)
        result = build(built, self.workdir / "out", **flags)
        self.prepared = prepare(built).fleet
        # The manifest keeps the build's graph (`run` takes the roots an environment needs by it); the
        # sandbox orders its phases by it less the state-backend edges (see the module's docstring).
        self.built_graph = read_graph(self.workdir / "out")
        self.graph = without_backend_edges(self.built_graph, self.workdir / "out")
        return result

    def built_fleet(self, fleet: Fleet) -> Fleet:
        """`fleet` as the sandbox builds it: each environment in its account, allocations in the scratch."""
        return in_scratch(fleet, self.accounts, self.workdir)

    def rebuild(self, fleet: Fleet, *, allow_replace=(), allow_destroy=()) -> BuildResult:
        """Build `fleet` against what the scratch `out/` holds and is applied in the double (a change to
        rehearse); the next phases run its roots, each copy keeping the state of the applied one. Raises
        `FindingsError` when the build refuses the change (nothing changes then)."""
        earlier = self.prepared
        result = self._build(fleet, allow_replace=allow_replace, allow_destroy=allow_destroy)
        self.earlier.insert(0, earlier)
        self.fleet = fleet
        with self._expectations_lock:
            self._expectations.clear()
        self.workspace.keep_state = True
        return result

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
        """Keep the double serving until Ctrl-C (or SIGTERM, under `tfgen.orchestrate.on_signals`)."""
        with contextlib.suppress(KeyboardInterrupt):
            if self.double is not None and self.double.process is not None:
                self.double.process.wait()

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
        """The report entry a root belongs to: its environment for a cells root (one an earlier build had, for a
        retiring root), else the root itself."""
        known = [*self.fleet.environments, *(e for f in self.earlier for e in f.environments)]
        return next((env for env in known if root in cell_roots_of([root], env)), root)

    def retiring(self) -> list[str]:
        """The units of the build's retiring roots that are no environment of the fleet (after a `rebuild`)."""
        return sorted({self._unit_of(r) for r in self.graph.roots} - set(self.fleet.environments) - {STATE_ROOT})

    def account(self, environment: str) -> str:
        """The account of the double `environment` (or `_state`) is in."""
        return self.accounts.get(environment, ACCOUNT)

    @property
    def _scratch(self) -> Path:
        if self.workdir is None or self.double is None:
            raise ToolchainError("the sandbox is not started; use `with Sandbox(...)` or call start()")
        return self.workdir

    def client(self, service: str, region: str, environment: str):
        """A boto3 client bound to the double, in the account of `environment` (or `_state`)."""
        return self.double.client(service, region, self.account(environment))

    def _client_of(self, environment: str) -> Callable[[str, str], object]:
        return lambda service, region: self.client(service, region, environment)

    def expectation(self, environment: str) -> Expectation:
        """What `environment` should have in AWS, from the fleet with its pool CIDRs allocated (an environment
        a `rebuild` retired: what it had)."""
        with self._expectations_lock:
            if environment not in self._expectations:
                built = next(f for f in [self.prepared, *self.earlier] if environment in f.environments)
                self._expectations[environment] = expect_environment(built, environment)
            return self._expectations[environment]

    def _resolve(self, region: str, parameter: str) -> str:
        """An SSM parameter of the double (for `resolve:ssm:` images in the copies), read once."""
        with self._resolve_lock:
            if (region, parameter) not in self._resolved:
                with self._api(f"resolving {parameter} in the double's SSM"):
                    self._resolved[region, parameter] = \
                        self.double.client("ssm", region).get_parameter(Name=parameter)["Parameter"]["Value"]
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

    # -- what the sandbox checks ------------------------------------------------------

    def _verify(self, environment: str, watch: Watch | None = None) -> list[Check]:
        """Check through the AWS API that the unit's resources are what the fleet says; then its inventory."""
        client = self._client_of(environment)
        with self._api(f"verify of {environment}"):
            if environment == STATE_ROOT:
                checks = check_state_backend(self.prepared.state, client, left_out=self._left_out(environment))
            elif environment not in self.prepared.environments:  # retired by a rebuild: nothing of it left
                checks = check_nothing_left(self.expectation(environment), client)
            else:
                got: list[dict] = []

                def outputs() -> dict:  # one `terraform output` per root, only when a check needs them
                    if not got:
                        got.append(self.gitops_outputs(environment, watch))
                    return got[0]

                checks = verify_environment(self.expectation(environment), client)
                checks += self._check_gitops_secrets(environment, outputs)
                checks += check_bootstrap_document(self.expectation(environment), client, outputs)
            if environment in self.after_apply:
                checks += self.after_apply[environment](client)
            self._inventories[environment] = self.inventory(environment)
        return checks

    def _nothing_left(self, environment: str) -> list[Check]:
        """After destroy: the API asked for anything of the unit left over."""
        with self._api(f"the check after destroying {environment}"):
            if environment == STATE_ROOT:
                return check_state_gone(self.prepared.state, self._client_of(environment))
            return check_nothing_left(self.expectation(environment), self._client_of(environment))

    def gitops_outputs(self, environment: str, watch: Watch | None = None) -> dict:
        """`terraform output -json` of the applied sandbox root (a cells environment's, merged), values
        unwrapped; `watch(command)`: a reason to stop it (the orchestrator's, for a verify it runs)."""
        outputs = {}
        for root in self.roots_of(environment):
            stop = watch or (lambda command, root=root: self.workspace.broken(root, command))
            outputs.update(terraform_outputs(
                self.root(root), terraform=self.workspace.terraform, env=self.workspace.env(),
                log=self._scratch / "runs" / "logs" / root / "verify" / "output.log", watch=lambda: stop("output"),
                expect_outputs=False))
        return outputs

    def check_gitops_secrets(self, environment: str, outputs: dict | None = None) -> list[Check]:
        """Argo CD's cluster Secrets rendered from the applied root's outputs (or `outputs`), checked
        against the double's EKS and IAM (see `tfgen.sandbox.verify.check_gitops_secrets`)."""
        return self._check_gitops_secrets(
            environment, (lambda: self.gitops_outputs(environment)) if outputs is None else (lambda: outputs))

    def _check_gitops_secrets(self, environment: str, outputs: Callable[[], dict]) -> list[Check]:
        left_out = [a.removeprefix("output.") for a in self._left_out(environment) if a.startswith("output.")]
        return check_gitops_secrets(self.expectation(environment), self._client_of(environment), outputs,
                                    left_out=left_out)

    def inventory(self, environment: str) -> list[RegionInventory]:
        """What the environment has in the double now, per region (`_state` has no VPCs to list)."""
        if environment == STATE_ROOT:
            return []
        with self._api(f"the inventory of {environment}"):
            return take_inventory(self.expectation(environment), self._client_of(environment))

    # -- phases ----------------------------------------------------------------------

    def init(self, environment: str) -> PhaseResult:
        """`terraform init` of a fresh copy of each root of `environment` (or of `_state`)."""
        return self._one(environment, "init")

    def apply(self, environment: str) -> PhaseResult:
        """`terraform apply` of the copies `init` made; on failure, what was created."""
        return self._one(environment, "apply")

    def verify(self, environment: str) -> PhaseResult:
        """Check through the AWS API that the root's resources are what the fleet says."""
        return self._one(environment, "verify")

    def replan(self, environment: str) -> PhaseResult:
        """A second `terraform plan`, refreshing every resource: applying again must change nothing."""
        return self._one(environment, "re-plan")

    def destroy(self, environment: str) -> PhaseResult:
        """`terraform destroy`, then check through the API that nothing is left."""
        return self._one(environment, "destroy")

    def _one(self, environment: str, phase: str) -> PhaseResult:
        entries = self._run(self.roots_of(environment), keep=False, only=phase)
        found = next(iter(entries.values()), [])
        return found[0] if found else PhaseResult(environment, phase, "not run", reason=f"{phase} did not run")

    # -- everything --------------------------------------------------------------------

    def run_environment(self, environment: str, *, keep: bool = False) -> EnvironmentReport:
        """Every phase of one environment (or `_state`) alone, not the roots it needs; stops early when init
        or apply fails."""
        (report,) = self._reports(self._run(self.roots_of(environment), keep=keep))
        return report

    def run(self, environments: list[str] | None = None, *, keep: bool = False) -> SandboxReport:
        """Every phase of every environment (default: all of the fleet's, and what retires) and the roots they
        need (`_state`)."""
        names = environments or [*self.fleet.environments, *self.retiring()]
        for name in names:
            if name not in self.retiring():
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
        report.environments = self._reports(self._run(selected, keep=keep))
        report.elapsed = time.monotonic() - started
        return report

    def _reports(self, entries: dict[str, list[PhaseResult]]) -> list[EnvironmentReport]:
        reports = []
        for unit, phases in entries.items():
            report = EnvironmentReport(unit, phases, lowering=self.lowering(unit), account=self.account(unit),
                                       inventory=self._inventories.get(unit, []))
            apply = report.phase("apply")
            if apply is not None and not apply.ok:  # what the failed apply left standing
                report.inventory = self.inventory(unit)
            reports.append(report)
        return reports

    def _run(self, roots: list[str], *, keep: bool, only: str | None = None) -> dict[str, list[PhaseResult]]:
        """`roots` (grouped in units: an environment, or `_state`) through their phases (`only`: the phases of
        one entry of the report) in one run of the orchestrator; `{unit: its entries}` in graph order.

        Raises DoubleStopped when the double died meanwhile, KeyboardInterrupt when interrupted."""
        units: dict[str, list[str]] = {}
        for root in self.graph.order(roots):
            units.setdefault(self._unit_of(root), []).append(root)
        phases = unit_phases(self.graph, units, keep=keep,
                             verify=lambda unit: lambda watch: self._verify(unit, watch),
                             left=lambda unit: lambda watch: self._nothing_left(unit))
        if only is not None:
            phases = {root: [p for p in steps if ENTRY[p.name] == only] for root, steps in phases.items()}
        entries = Entries(units, {root: [p.name for p in steps] for root, steps in phases.items()})

        def progress(result: PhaseResult) -> None:
            entry = entries.add(judged(result, self.root(result.root), double_alive=self.double.alive()))
            if entry is not None and self.progress is not None:
                self.progress(entry)

        report = Orchestrator(self.graph, command="sandbox", workspace=self.workspace, phases=phases,
                              parallelism=self.concurrency, progress=progress,
                              scratch=self._scratch / "runs").run(list(phases))
        if not self.double.alive():
            reason = next((r.reason for r in report.roots if "local AWS double" in r.reason), "")
            raise DoubleStopped(reason or "the local AWS double (moto_server) stopped during the run; run the "
                                "command again: each run starts a fresh double and converges")
        if report.interrupted:
            raise KeyboardInterrupt
        return {unit: entries.of(unit) for unit in units}
