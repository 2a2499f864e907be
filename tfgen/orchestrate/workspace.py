"""Where and with what a root's terraform runs: in the root itself, or on an offline copy.

`InPlace` runs in `OUT/<root>` with the user's terraform, environment,
credentials and backend (terraform writes `.terraform/` and the lock file there,
nothing else lands in OUT). `Offline` runs on a copy lowered to the offline
provider with tfgen's toolchain (`copy_root`, `offline_override`): no
credentials, no network, local state in the copy; it keeps each copy's
`Lowered` record (`lowered`). A caller can subclass either and override
`prepare` (the sandbox points the copy at its AWS double), `workdir` (where a
root prepared by an earlier run is, for a run without `terraform init`), `env`,
`options` (more arguments for a terraform command) or `broken` (a reason to
stop every terraform).

Before a run, `check` makes sure the terraform answers `terraform version -json` in a version the
roots admit (`InPlace` picks one: TFGEN_TERRAFORM, else PATH, else the `toolchain` extra; an offline
copy's lowered `required_version` is checked as the copy is made).

A root that reads other roots' state (a cells link root) can only plan once
they are applied: `unapplied` names those whose state the workspace does not
have (an offline copy has the state of what was applied in the same scratch
directory, nothing else), and the run reports the root as `waiting`.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from pathlib import Path
from typing import Mapping

from ..errors import ToolchainError
from ..terraform.lowering import Lowered
from ..terraform.run import isolated_environment, run_command
from ..terraform.toolchain import (OVERRIDE_FILE, PROVIDER_VERSION, Terraform, Toolchain, check_terraform,
                                   choose_terraform, copy_root, remote_states_of, required_versions,
                                   terraform_version)

__all__ = ["Workspace", "InPlace", "Offline"]


class Workspace:
    """How a run prepares each root and runs terraform: the binary, its environment, the grace after Ctrl-C."""

    terraform: str
    grace: float = 60.0  # seconds terraform gets after SIGINT to write state and release its lock
    timeout: float | None = None  # seconds one terraform command may take (None: no limit)

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    def check(self, roots: Mapping[str, Path]) -> None:
        """Before a run of `roots` (`{root: its files' directory}`): `ToolchainError` unless the terraform
        answers `terraform version -json` (a stand-in that prints nothing is not terraform)."""
        terraform_version(self.terraform)

    def options(self, step: str) -> list[str]:
        """More terraform arguments for `step` (`tfgen.orchestrate.terraform.STEPS`), before any plan file."""
        return []

    def broken(self, root: str, command: str) -> str | None:
        """Why every running terraform (here `command` of `root`) must stop now (what it talks to is gone),
        or None."""
        return None

    def prepare(self, root: str, source: Path, scratch: Path) -> Path:
        """The directory terraform runs in for `root` (whose files are in `source`), made for a run that
        initializes it (`terraform init`)."""
        raise NotImplementedError

    def workdir(self, root: str, source: Path, scratch: Path) -> Path:
        """The directory an earlier run prepared and initialized for `root`, for a run without `init`."""
        return self.prepare(root, source, scratch)

    def describe(self) -> str:
        raise NotImplementedError

    def unapplied(self, root: str, source: Path, scratch: Path) -> list[str]:
        """The roots whose state `root` reads and this workspace has not applied (InPlace cannot tell: none)."""
        return []


class InPlace(Workspace):
    """terraform in the generated root, with the user's credentials and backend."""

    def __init__(self, *, terraform: str | None = None):
        self.given = terraform
        self.terraform = terraform or ""  # chosen by `check`, for the roots it runs
        self.found: Terraform | None = None

    def check(self, roots: Mapping[str, Path]) -> None:
        required = required_versions(roots)
        self.found = (check_terraform(self.given, "terraform=", required) if self.given
                      else choose_terraform(required))
        self.terraform = self.found.path

    def env(self) -> dict[str, str]:
        return {**os.environ, "TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}

    def prepare(self, root: str, source: Path, scratch: Path) -> Path:
        return source.resolve()

    def describe(self) -> str:
        return f"{self.found or self.terraform}, in each root with your credentials and backend"


class Offline(Workspace):
    """terraform on a lowered copy with the offline toolchain (`endpoint`: every service at a local AWS double)."""

    grace = 10.0  # only a local state file in a scratch copy is at stake

    def __init__(self, scratch: Path, *, terraform: str | None = None, endpoint: str | None = None):
        self.toolchain = Toolchain(Path(scratch) / "toolchain", terraform=terraform)
        self.terraform = self.toolchain.terraform
        self.endpoint = endpoint
        self.lowered: dict[str, Lowered] = {}  # root -> what its copy leaves out or rewrites
        self._warm = threading.Lock()
        self._warmed = threading.Event()  # an object, so a shallow copy of the workspace shares it

    def env(self) -> dict[str, str]:
        return isolated_environment(self.toolchain)

    def copy_of(self, root: str, scratch: Path) -> Path:
        """Where `root`'s copy is (its state beside it): copies are siblings, as link roots read them."""
        return scratch / "roots" / root

    def workdir(self, root: str, source: Path, scratch: Path) -> Path:
        copy = self.copy_of(root, scratch)
        if not (copy / OVERRIDE_FILE).is_file():
            raise ToolchainError(f"{root} has no copy in {copy.parent} yet; run a phase with its `terraform init` "
                                 f"first")
        return copy

    def prepare(self, root: str, source: Path, scratch: Path) -> Path:
        dest = self.copy_of(root, scratch)
        if dest.exists():
            shutil.rmtree(dest)
        self.warm_cache()
        try:
            self.lowered[root] = copy_root(source, dest, endpoint=self.endpoint)
        except OSError as exc:
            raise ToolchainError(f"cannot copy {source} to {dest}: {exc.strerror or exc}") from None
        self.check_copy(root, dest)
        return dest

    def check_copy(self, root: str, copy: Path) -> None:
        """`ToolchainError` unless the terraform admits the `required_version` of `root`'s lowered copy."""
        check_terraform(self.terraform, "the offline toolchain", required_versions({root: copy}))

    def warm_cache(self) -> None:
        """Install the provider into the toolchain's plugin cache once, before any root's init: terraform's
        plugin cache is not safe for concurrent installs, and roots run at once."""
        with self._warm:
            if self._warmed.is_set():
                return
            warm = self.toolchain.workdir / "warm"
            warm.mkdir(parents=True, exist_ok=True)
            (warm / "main.tf.json").write_text(json.dumps({"terraform": {"required_providers": {
                "aws": {"source": "hashicorp/aws", "version": PROVIDER_VERSION}}}}))
            # A failure here is the root's own init's to report, with its log.
            run_command(self.terraform, warm, "init", "-input=false", "-no-color", env=self.env(),
                        log=warm / "init.log")
            self._warmed.set()

    def unapplied(self, root: str, source: Path, scratch: Path) -> list[str]:
        from ..terraform.roots import read_root

        documents = read_root(source).documents  # a file it cannot read: copy_root names it when preparing
        return [name for name in remote_states_of(documents)
                if not (self.copy_of(name, scratch) / "terraform.tfstate").is_file()]

    def describe(self) -> str:
        target = f"the AWS double at {self.endpoint}" if self.endpoint else "no credentials, no network"
        return f"{self.terraform} on lowered copies (provider 3.39, {target})"
