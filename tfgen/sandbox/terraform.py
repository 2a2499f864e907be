"""Run one terraform command in a sandbox root, under watch.

The command runs in its own process group with its output in a log file. It
is stopped (SIGINT, then SIGKILL of the whole group, providers included)
when it outlives its timeout, when a watch callback reports a reason to give
up (the AWS double died), or when tfgen is interrupted.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ToolchainError
from ..terraform.toolchain import Toolchain
from .double import die_with_parent

__all__ = ["TerraformResult", "run_terraform", "terraform_errors"]

# Terraform may write state after SIGINT; the double it describes is about to go, so wait little.
_GRACE = 2.0


@dataclass(frozen=True)
class TerraformResult:
    """How a terraform command ended: exit status, duration, log."""

    args: tuple[str, ...]
    returncode: int
    seconds: float
    log: Path

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def errors(self) -> list[str]:
        """Terraform's `Error:` blocks, box drawing removed."""
        return terraform_errors(self.output)


def terraform_errors(output: str) -> list[str]:
    """Every `Error: ...` block of terraform's output, one string each, box drawing removed."""
    blocks: list[list[str]] = []
    current: list[str] | None = None
    for raw in output.splitlines():
        if raw.startswith("╷"):
            current = []
        elif raw.startswith("╵"):
            if current and current[0].startswith("Error: "):
                blocks.append(current)
            current = None
        elif current is not None:
            current.append(raw[2:].rstrip() if raw.startswith("│") else raw.rstrip())
        elif raw.startswith("Error: "):
            blocks.append([raw.rstrip()])
    return ["\n".join(line for line in block if line).strip() for block in blocks]


def _environment(toolchain: Toolchain) -> dict[str, str]:
    # The user's AWS credentials and Terraform settings must not reach the sandbox; logging may.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "TF_")) or key in ("TF_LOG", "TF_LOG_PATH")}
    env.update(toolchain.env)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def run_terraform(
    toolchain: Toolchain,
    root: Path,
    *args: str,
    log: Path,
    timeout: float,
    watch: Callable[[], str | None] | None = None,
) -> TerraformResult:
    """Run `terraform <args>` in `root`; raise ToolchainError on timeout or when `watch` objects."""
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(log, "wb") as out:
        try:
            process = subprocess.Popen(
                [toolchain.terraform, *args], cwd=root, env=_environment(toolchain),
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=die_with_parent,
            )
        except OSError as exc:
            raise ToolchainError(f"cannot run {toolchain.terraform}: {exc}; install tfgen[toolchain]") from None
        try:
            while True:
                try:
                    process.wait(0.2)
                    break
                except subprocess.TimeoutExpired:
                    pass
                reason = watch() if watch else None
                if reason is None and time.monotonic() - started > timeout:
                    reason = f"terraform {args[0]} did not finish within {timeout:.0f} s (log: {log})"
                if reason:
                    _stop(process)
                    raise ToolchainError(reason)
        except BaseException:
            _stop(process)
            raise
    return TerraformResult(tuple(args), process.returncode, time.monotonic() - started, log)


def _stop(process: subprocess.Popen) -> None:
    """Interrupt terraform like Ctrl-C would, then kill what is left of its group."""
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGINT)
        try:
            process.wait(_GRACE)
        except subprocess.TimeoutExpired:
            pass
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
