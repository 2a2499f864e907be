"""Run one terraform command under watch.

The command runs in its own process group (so a Ctrl-C at the terminal does not
reach it twice: Terraform takes a second interrupt as "stop now, whatever the
state") with its output in a log file. It is stopped when it outlives its
timeout or when a watch callback gives a reason (tfgen was interrupted, the AWS
double died): one SIGINT to the group, so Terraform finishes what it is doing,
writes its state and releases its lock, then after `grace` seconds SIGKILL of
whatever is left of the group, providers included. While it runs, `lines` is given
each line terraform writes to the log as it comes (for progress).
"""

from __future__ import annotations

import ctypes
import functools
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import ToolchainError
from .toolchain import Toolchain

__all__ = ["TerraformResult", "TerraformStopped", "run_command", "terraform_errors",
           "isolated_environment", "die_with_parent"]

# A sandbox's terraform describes a double that is about to go: wait little after SIGINT.
SANDBOX_GRACE = 2.0
_PR_SET_PDEATHSIG = 1


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


class TerraformStopped(ToolchainError):
    """A terraform command was stopped before it ended (timeout, interrupt); `result` is how it ended."""

    def __init__(self, reason: str, result: TerraformResult):
        super().__init__(reason)
        self.reason = reason
        self.result = result


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


def isolated_environment(toolchain: Toolchain) -> dict[str, str]:
    """The environment of an offline run: the toolchain's settings, none of the user's AWS or Terraform ones."""
    # The user's AWS credentials and Terraform settings must not reach an offline copy; logging may.
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AWS_", "TF_")) or key in ("TF_LOG", "TF_LOG_PATH")}
    env.update(toolchain.env)
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


def die_with_parent() -> None:
    """In a child before exec: ask Linux to SIGTERM it when its parent exits (no orphans)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass


@functools.cache
def _setpriv() -> str | None:
    """setpriv(1) when it can set the parent-death signal (util-linux 2.33+), on Linux only."""
    found = shutil.which("setpriv") if sys.platform.startswith("linux") else None
    try:
        if found and subprocess.run([found, "--pdeathsig", "TERM", "--", "true"], capture_output=True,
                                    timeout=10).returncode == 0:
            return found
    except (OSError, subprocess.SubprocessError):
        pass
    return None


def _spawn_args(argv: list[str], env: dict[str, str]) -> tuple[list[str], Callable[[], None] | None]:
    """`argv` and the preexec_fn that make the child die with tfgen. A preexec_fn makes Python copy the whole
    tfgen process for every command instead of a vfork, so setpriv sets the signal as it execs the binary
    when it can; a binary not found is left to Popen, whose error names it."""
    name, setpriv = argv[0], _setpriv()
    binary = shutil.which(name, path=os.pathsep.join(os.get_exec_path(env))) \
        if setpriv and (os.path.isabs(name) or os.sep not in name) else None
    if setpriv and binary and os.path.isabs(binary):
        return [setpriv, "--pdeathsig", "TERM", "--", binary, *argv[1:]], None
    return argv, die_with_parent


def run_command(
    terraform: str,
    root: Path,
    *args: str,
    env: dict[str, str],
    log: Path,
    timeout: float | None = None,
    watch: Callable[[], str | None] | None = None,
    grace: float = SANDBOX_GRACE,
    stdout: Path | None = None,
    lines: Callable[[str], None] | None = None,
) -> TerraformResult:
    """Run `terraform <args>` in `root` (output to `log`; with `stdout`, standard output there apart; `lines`
    gets each line of the log as terraform writes it).

    Raises `TerraformStopped` after stopping it on timeout or when `watch` returns a reason.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    follow = _Follower(lines)
    with open(log, "wb") as out, open(stdout or os.devnull, "wb") as data, open(log, "rb") as tail:
        command, preexec = _spawn_args([terraform, *args], env)
        try:
            process = subprocess.Popen(
                command, cwd=root, env=env, stdin=subprocess.DEVNULL,
                stdout=data if stdout else out, stderr=out,
                start_new_session=True, preexec_fn=preexec,
            )
        except OSError as exc:
            raise ToolchainError(f"cannot run {terraform}: {exc.strerror or exc}; install tfgen-fleet[toolchain], put "
                                 f"terraform on PATH or set TFGEN_TERRAFORM") from None
        exited = _ExitWatch(process)
        try:
            while True:
                if exited.wait(0.1):
                    follow.read(tail, last=True)
                    break
                follow.read(tail)
                reason = watch() if watch else None
                if reason is None and timeout is not None and time.monotonic() - started > timeout:
                    reason = f"terraform {args[0]} did not finish within {timeout:.0f} s (log: {log})"
                if reason:
                    stop(process, grace)
                    raise TerraformStopped(reason, TerraformResult(
                        tuple(args), process.returncode, time.monotonic() - started, log))
        except BaseException:
            stop(process, grace)
            raise
        finally:
            exited.close()
    return TerraformResult(tuple(args), process.returncode, time.monotonic() - started, log)


class _ExitWatch:
    """Waits up to a timeout for a process to end, and returns as soon as it has ended: through a pidfd on Linux
    (5.3+), where `Popen.wait(timeout)` would poll in sleeps of up to 50 ms, so a short command's end waited for
    its next poll; elsewhere through that poll."""

    def __init__(self, process: subprocess.Popen[bytes]):
        self.process = process
        self.pidfd: int | None = None
        try:
            self.pidfd = os.pidfd_open(process.pid)
            self.poll = select.poll()
            self.poll.register(self.pidfd, select.POLLIN)
        except (AttributeError, OSError):  # not Linux, an older kernel
            self.close()

    def wait(self, timeout: float) -> bool:
        """True once the process has ended (and is reaped), False when `timeout` seconds passed first."""
        if self.pidfd is not None and self.process.returncode is None:
            if not self.poll.poll(timeout * 1000):
                return False
        try:
            self.process.wait(0 if self.pidfd is not None else timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def close(self) -> None:
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


class _Follower:
    """Hands each complete line of a growing log to `lines` (None: reads nothing)."""

    def __init__(self, lines: Callable[[str], None] | None):
        self.lines, self.partial = lines, b""

    def read(self, tail, *, last: bool = False) -> None:
        if self.lines is None:
            return
        chunk = self.partial + tail.read()
        *complete, self.partial = chunk.split(b"\n")
        if last and self.partial:
            complete, self.partial = [*complete, self.partial], b""
        for line in complete:
            self.lines(line.decode(errors="replace").rstrip())


def stop(process: subprocess.Popen, grace: float) -> None:
    """Interrupt terraform like Ctrl-C would, once, then kill what is left of its group after `grace` seconds."""
    if process.poll() is None:
        _signal_group(process.pid, signal.SIGINT)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
