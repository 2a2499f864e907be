"""Where the orchestrator runs a root in the sandbox: a copy lowered through the double's passes and
pointed at the local AWS double, in the root's own account there, with local state.

`DoubleWorkspace` is the orchestrator's `Offline` workspace with three differences: the copy goes
through `tfgen.sandbox.prepare` (the double's lowering passes; credentials of the root's account;
stale state of an earlier run removed) into `<scratch>/roots/<root>`, so apply, re-plan and destroy
share one copy and its state (a run without `terraform init` finds the copy its init made); and every
terraform stops as soon as the double is gone. Its options give terraform the sandbox's parallelism,
and destroy does not refresh: the re-plan before it has just refreshed every resource and found
nothing changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..orchestrate.workspace import Offline
from ..terraform.run import SANDBOX_GRACE
from .double import AwsDouble
from .prepare import prepare_root

__all__ = ["DoubleWorkspace"]


class DoubleWorkspace(Offline):
    """The orchestrator's workspace for the sandbox: lowered copies applied to `double`, each root with
    `credentials(root)` (of its account)."""

    grace = SANDBOX_GRACE  # a double that is about to go: little to wait for

    def __init__(self, scratch: Path, *, double: AwsDouble, resolve: Callable[[str, str], str],
                 credentials: Callable[[str], dict[str, str]], terraform: str | None = None,
                 parallelism: int = 20, timeout: float | None = None):
        super().__init__(scratch, terraform=terraform, endpoint=double.endpoint)
        self.roots = Path(scratch) / "roots"
        self.double, self.resolve, self.credentials = double, resolve, credentials
        self.parallelism, self.timeout = parallelism, timeout

    def copy_of(self, root: str, scratch: Path) -> Path:
        return self.roots / root

    def prepare(self, root: str, source: Path, scratch: Path) -> Path:
        copy = self.roots / root
        self.warm_cache()
        self.lowered[root] = prepare_root(source, copy, endpoint=self.double.endpoint, resolve=self.resolve,
                                          credentials=self.credentials(root))
        self.check_copy(root, copy)
        return copy

    def options(self, step: str) -> list[str]:
        if step not in ("plan", "plan-destroy", "apply"):
            return []
        return [f"-parallelism={self.parallelism}", *(["-refresh=false"] if step == "plan-destroy" else [])]

    def broken(self, root: str, command: str) -> str | None:
        if self.double.alive():
            return None
        return (f"the local AWS double (moto_server, pid {self.double.pid}) stopped during `terraform "
                f"{command}` of {root}; terraform was stopped. Run the command again: each run starts a fresh "
                f"double and converges")

    def describe(self) -> str:
        return f"{self.terraform} on lowered copies (provider 3.39, the AWS double at {self.endpoint})"
