"""An applied root's outputs: `terraform output -json` run in the root, or a saved copy of it, parsed.

The one place tfgen runs `terraform output` (`tfgen gitops`, the sandbox's verify) and reads its JSON: a
regular file or terraform's stdout of at most MAX_OUTPUTS_BYTES, UTF-8 JSON at most MAX_OUTPUTS_DEPTH deep,
each `{"sensitive", "type", "value"}` unwrapped to its value. What the values must be is the reader's
business (`tfgen.gitops` checks them against the output contract).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from ..errors import TfgenError, ToolchainError
from .roots import parse_json, read_bytes
from .run import TerraformStopped, run_command

__all__ = ["GitOpsError", "MAX_OUTPUTS_BYTES", "MAX_OUTPUTS_DEPTH", "terraform_outputs", "read_outputs",
           "parse_outputs"]

MAX_OUTPUTS_BYTES = 8 * 1024 * 1024
MAX_OUTPUTS_DEPTH = 32


class GitOpsError(TfgenError):
    """The outputs cannot be read (usage: exit 2)."""


def terraform_outputs(root: str | Path, *, terraform: str | None = None, env: dict | None = None,
                      log: Path | None = None, watch: Callable[[], str | None] | None = None,
                      expect_outputs: bool = True) -> dict:
    """`terraform output -json` in `root`, parsed: the one place tfgen runs it (`tfgen gitops`, the sandbox's
    verify). `env`: terraform's environment (default: this one); `log`: where its messages go (default: a
    temporary file); `watch`: a reason to stop it, as `tfgen.terraform.run.run_command` takes.
    `expect_outputs`: a state without outputs means the root was never applied (a cells fan-in root that
    exports nothing is the exception: the sandbox reads every root of an environment)."""
    root = Path(root)
    if not root.is_dir():
        raise GitOpsError(f"{root} is not a directory; give the applied root of an environment (out/<env>)")
    binary = terraform
    if binary is None:
        from .toolchain import find_terraform

        try:
            binary = find_terraform()
        except ToolchainError as exc:
            raise GitOpsError(f"terraform is not on PATH ({exc}); run `terraform output -json > outputs.json` "
                              "where the state is and give it with --outputs") from None
    if not (root / ".terraform").is_dir() and not (root / "terraform.tfstate").is_file():
        raise _not_applied(root, "no .terraform/ or terraform.tfstate in it")
    with tempfile.TemporaryDirectory(prefix="tfgen-output-") as scratch:
        data, log = Path(scratch) / "outputs.json", log or Path(scratch) / "output.log"
        try:
            ran = run_command(binary, root, "output", "-json", "-no-color", env=dict(os.environ if env is None else env),
                              log=log, timeout=120, watch=watch, stdout=data)
        except TerraformStopped as stopped:
            raise GitOpsError(f"`terraform output -json` in {root} was stopped: {stopped.reason}") from None
        except ToolchainError as exc:
            raise GitOpsError(f"cannot run `terraform output -json` in {root}: {exc}") from None
        if ran.returncode:
            raise GitOpsError(f"`terraform output -json` in {root} failed (exit {ran.returncode}):\n"
                              f"{_tail(ran.output)}")
        outputs = parse_outputs(data.read_bytes(), f"`terraform output -json` in {root}")
    if not outputs and expect_outputs:
        raise _not_applied(root, "its state holds no outputs")
    return outputs


def _not_applied(root: Path, why: str) -> GitOpsError:
    return GitOpsError(f"{root} is not applied ({why}): apply first (`tfgen apply {root.parent}`), or pass "
                       "--outputs FILE (a saved `terraform output -json` of the applied root); applied elsewhere, "
                       "run `terraform init` in it first")


def _tail(text: str, limit: int = 1000) -> str:
    """The last whole lines of `text`, at most about `limit` characters: Terraform's error is at its end."""
    kept: list[str] = []
    for line in reversed(text.strip().splitlines()):
        if kept and sum(len(k) + 1 for k in kept) + len(line) > limit:
            break
        kept.insert(0, line)
    return "\n".join(kept)


def read_outputs(path: str | Path) -> dict:
    """A saved `terraform output -json` (or a plain `{name: value}` mapping): a regular file of at most
    MAX_OUTPUTS_BYTES, UTF-8 JSON at most MAX_OUTPUTS_DEPTH deep."""
    try:
        data = read_bytes(path, MAX_OUTPUTS_BYTES)
    except OSError as exc:
        raise GitOpsError(f"cannot read outputs file {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise GitOpsError(f"outputs file {path} {exc}; save `terraform output -json > outputs.json` and give "
                          "that file") from None
    return parse_outputs(data, str(path))


def parse_outputs(data: bytes | str, where: str) -> dict:
    """`{name: value}` of `terraform output -json` text (values unwrapped); GitOpsError when it is not."""
    if isinstance(data, str):
        data = data.encode("utf-8", errors="surrogateescape")
    if len(data) > MAX_OUTPUTS_BYTES:
        raise GitOpsError(f"{where} is larger than {MAX_OUTPUTS_BYTES} bytes; that is no `terraform output -json`")
    try:
        parsed = parse_json(data, max_depth=MAX_OUTPUTS_DEPTH)
    except ValueError as exc:
        line = f" (line {exc.line})" if getattr(exc, "line", None) else ""
        raise GitOpsError(f"{where}{line} {exc}; expected the output of `terraform output -json`") from None
    if not isinstance(parsed, dict):
        raise GitOpsError(f"{where} is not a JSON object of outputs")
    # `terraform output -json` wraps each value as {"sensitive": ..., "type": ..., "value": ...}.
    if parsed and all(isinstance(v, dict) and "value" in v for v in parsed.values()):
        return {name: item["value"] for name, item in parsed.items()}
    return parsed
