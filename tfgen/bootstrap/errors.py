"""Errors of the bootstrap: `BootstrapError` and `ManifestError` (drawn in tfgen/errors.py's hierarchy)."""

from __future__ import annotations

from ..errors import TfgenError

__all__ = ["BootstrapError", "ManifestError"]


class BootstrapError(TfgenError):
    """The bootstrap's input cannot make a script; the message names the field and the fix."""

    exit_code = 1


class ManifestError(BootstrapError):
    """One or more manifests do not validate; `problems` lists each as `Kind/name: path: message`."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} manifest problem(s):\n  " + "\n  ".join(self.problems))
