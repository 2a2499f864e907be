"""The rules on the model, run beside the rest of a command in a child process forked when it starts.

The network rules need networkx, whose import alone costs more than all of a
large fleet's other checks (about 50 ms of a 2 x 33 fleet's build; the rules
themselves take a millisecond or two). So the CLI calls `prefork` before it
imports the pipeline: a child forks while the process is still small and
imports the rules (`tfgen.checks.model`, networkx with it) while the parent
imports the rest, reads the spec and allocates; `beside` then hands the child
the allocated fleet (pickled, about 20 KB) and the parent emits and checks what
it emitted while the child runs every rule on the model. The parent reads the
findings before it decides anything, so a command reports and writes exactly
what it would in one process.

Forking late, from a grown process, would not pay: every page the parent
touches after the fork is copied (a measured 30 ms on that build). Without a
started child (a library caller, another platform than Linux: macOS frameworks
do not survive a fork without exec, other threads running, which a fork does
not copy, or the module already loaded: nothing left to hide) the function runs
in the process, when its result is first asked for. A child that fails (it
should not) is not trusted: the parent runs the function itself, so a bug
surfaces as it would without the fork.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import signal
import sys
import threading
from typing import Any, Iterator

__all__ = ["Beside", "beside", "prefork"]

_CHILDREN: dict[str, "_Child"] = {}  # module -> the started child that has not been given its job yet


class _Child:
    """A forked process that imports `module`, then runs one function of it on arguments sent later."""

    def __init__(self, module: str):
        job_read, self._job = os.pipe()
        self._result, result_write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self._job)
            os.close(self._result)
            _serve(module, job_read, result_write)  # never returns
        os.close(job_read)
        os.close(result_write)

    def send(self, function: str, args: tuple, kwargs: dict) -> bool:
        """Hand the child its job; False when it cannot take it (arguments that do not pickle, a child gone)."""
        try:
            job = pickle.dumps((function, args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
            with os.fdopen(self._job, "wb") as pipe:  # the child reads as it imports: this never waits long
                pipe.write(job)
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            return False
        return True

    def answer(self) -> Any:
        """The function's result; raises LookupError when the child gave none."""
        try:
            with os.fdopen(self._result, "rb") as pipe:
                data = pipe.read()
        finally:
            os.waitpid(self.pid, 0)
        try:
            status, value = pickle.loads(data)
        except Exception:  # the child died before answering
            raise LookupError("no answer") from None
        if status != "ok":
            raise LookupError(value)
        return value

    def cancel(self) -> None:
        """Stop a child that was never given its job (the command ended before it needed the check)."""
        with contextlib.suppress(OSError):
            os.close(self._job)
        with contextlib.suppress(OSError):
            os.close(self._result)
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def _serve(module: str, job_read: int, result_write: int) -> None:
    """The child's life: read the job while importing `module`, run it, answer, leave at once (no atexit
    handlers, no second flush of the parent's buffered output)."""
    status = 1
    try:
        chunks: list[bytes] = []
        reader = threading.Thread(target=_read_all, args=(job_read, chunks), daemon=True)
        reader.start()
        try:
            loaded = importlib.import_module(module)
            reader.join()
            if not chunks:
                os._exit(0)  # cancelled
            function, args, kwargs = pickle.loads(b"".join(chunks))
            payload = ("ok", getattr(loaded, function)(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - reported as "failed": the parent runs the check itself
            payload = ("failed", repr(exc))
        with os.fdopen(result_write, "wb") as pipe:
            pipe.write(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
        status = 0
    finally:
        os._exit(status)


def _read_all(fd: int, chunks: list[bytes]) -> None:
    with os.fdopen(fd, "rb") as pipe:
        data = pipe.read()
    if data:
        chunks.append(data)


@contextlib.contextmanager
def prefork(module: str) -> Iterator[None]:
    """Within the block, a child (when one can be forked) imports `module`, ready for one `beside` call."""
    if not (sys.platform == "linux" and module not in sys.modules and threading.active_count() == 1):
        yield
        return
    child = _CHILDREN[module] = _Child(module)
    try:
        yield
    finally:
        if _CHILDREN.pop(module, None) is child:
            child.cancel()


class Beside:
    """The result of `module.function(*args, **kwargs)`: from the started child, or computed here on first ask."""

    def __init__(self, module: str, function: str, *args: Any, **kwargs: Any):
        self._call = (module, function, args, kwargs)
        self._child = _CHILDREN.pop(module, None)
        if self._child is not None and not self._child.send(function, args, kwargs):
            self._child.cancel()  # then it runs here, on ask
            self._child = None
        self.forked = self._child is not None  # the function runs in a child, beside the caller
        self._done = False
        self._value: Any = None
        self.where = ""  # once the result is in: "child" or "process", where it was computed

    def result(self) -> Any:
        """The function's result; waits for the child (and reaps it) the first time."""
        if not self._done:
            if self._child is not None:
                child, self._child = self._child, None
                with contextlib.suppress(LookupError):
                    self._value, self.where = child.answer(), "child"
            if not self.where:
                module, function, args, kwargs = self._call
                self._value, self.where = getattr(importlib.import_module(module), function)(*args, **kwargs), "process"
            self._done = True
        return self._value


def beside(module: str, function: str, *args: Any, **kwargs: Any) -> Beside:
    """Start `module.function(*args, **kwargs)` in the child `prefork` started, if any (else it runs on ask)."""
    return Beside(module, function, *args, **kwargs)
