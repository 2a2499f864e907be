"""Where the orchestrator runs a root in the sandbox: a copy lowered through the double's passes and
pointed at the local AWS double, with local state.

`DoubleWorkspace` is the orchestrator's `Offline` workspace with three differences: the copy goes
through `tfgen.sandbox.prepare` (the double's lowering passes; stale state of an earlier run
removed) into `<scratch>/roots/<root>`, whatever scratch a run of the orchestrator keeps its plans
and logs in, so apply, re-plan and destroy share one copy and its state; a root already applied
(`fresh = False`: re-plan, destroy) keeps its copy, initialized by its apply (so `terraform init`
is not run again); and every terraform stops as soon as the double is gone. Its options give
terraform the sandbox's parallelism, and destroy does not refresh: the re-plan before it has just
refreshed every resource and found nothing changed.

Runs of the orchestrator at once (the sandbox's units, each at its own phase) each get their own
`view(fresh=...)`: a shallow copy that shares the toolchain, the warm plugin cache and `lowered`.
"""

from __future__ import annotations

from copy import copy as shallow_copy
from pathlib import Path
from typing import Callable

from ..errors import ToolchainError
from ..orchestrate.workspace import Offline
from ..terraform.run import SANDBOX_GRACE
from ..terraform.toolchain import OVERRIDE_FILE
from .double import AwsDouble
from .prepare import prepare_root

__all__ = ["DoubleWorkspace"]


class DoubleWorkspace(Offline):
    """The orchestrator's workspace for the sandbox: lowered copies applied to `double`."""

    grace = SANDBOX_GRACE  # a double that is about to go: little to wait for

    def __init__(self, scratch: Path, *, double: AwsDouble, resolve: Callable[[str, str], str],
                 terraform: str | None = None, parallelism: int = 20, timeout: float | None = None):
        super().__init__(scratch, terraform=terraform, endpoint=double.endpoint)
        self.roots = Path(scratch) / "roots"
        self.double, self.resolve = double, resolve
        self.parallelism, self.timeout = parallelism, timeout
        self.fresh = True  # apply: a fresh copy; re-plan, destroy: the applied one

    def view(self, *, fresh: bool) -> "DoubleWorkspace":
        """This workspace for one run of the orchestrator: `fresh` (apply: a fresh copy) or not (re-plan,
        destroy: the applied one); everything else shared."""
        view = shallow_copy(self)
        view.fresh = fresh
        return view

    def copy_of(self, root: str, scratch: Path) -> Path:
        return self.roots / root

    def initialized(self, root: str, workdir: Path) -> bool:
        """An applied copy (not `fresh`) is initialized: its apply ran `terraform init` there."""
        return (not self.fresh and (workdir / ".terraform.lock.hcl").is_file()
                and (workdir / ".terraform" / "providers").is_dir())

    def prepare(self, root: str, source: Path, scratch: Path) -> Path:
        copy = self.roots / root
        if not self.fresh:
            if not (copy / OVERRIDE_FILE).is_file():
                raise ToolchainError(f"{root} has no copy in this sandbox yet ({copy}); run its init first")
            return copy
        self.warm_cache()
        self.lowered[root] = prepare_root(source, copy, endpoint=self.double.endpoint, resolve=self.resolve)
        return copy

    def options(self, phase: str, command: str) -> list[str]:
        if phase not in ("plan", "apply"):
            return []
        refresh = ["-refresh=false"] if phase == "plan" and command == "destroy" else []
        return [f"-parallelism={self.parallelism}", *refresh]

    def broken(self, root: str, phase: str) -> str | None:
        if self.double.alive():
            return None
        return (f"the local AWS double (moto_server, pid {self.double.pid}) stopped during `terraform "
                f"{phase}` of {root}; terraform was stopped. Run the command again: each run starts a fresh "
                f"double and converges")

    def describe(self) -> str:
        return f"{self.terraform} on lowered copies (provider 3.39, the AWS double at {self.endpoint})"
