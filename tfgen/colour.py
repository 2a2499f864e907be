"""Colour on a terminal: severities, finding codes, fixes and verdicts stand out in findings and reports.

Only where a person reads: a stream that is a terminal, `NO_COLOR` unset or
empty (https://no-color.org) and `TERM` not `dumb`; `FORCE_COLOR` (non-empty)
colours a stream that is not a terminal (CI logs that render colour). The text
is written first and coloured after, token by token, so every finding and report
formats itself the same for a file, a pipe and a terminal.
"""

from __future__ import annotations

import os
import re
import sys
from contextlib import contextmanager
from typing import IO, Iterator

from .rules import CODE

__all__ = ["enabled", "paint", "painting"]

_RESET = "\033[0m"
_STYLES = {"error": "\033[1;31m", "FAILED": "\033[1;31m", "warning": "\033[1;33m", "code": "\033[1m",
           "fix": "\033[32m", "ok": "\033[32m"}
_FINDING = re.compile(rf"\b(error|warning) ({CODE.pattern}|CKV2?_[A-Z0-9_]+)\b")
_FIX = re.compile(r"^(\s*)(fix:)", re.M)
_FAILED = re.compile(r"\bFAILED\b")
_VERDICT = re.compile(r"(?<=: )(passed|ok)(?=[:\n]|$)", re.M)
_CHECK = re.compile(r"(?<=FAILED )(CKV2?_[A-Z0-9_]+)")


def enabled(stream: IO[str], environ: dict[str, str] | None = None) -> bool:
    """Whether text written to `stream` is coloured."""
    environ = os.environ if environ is None else environ
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    if environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _style(name: str, text: str) -> str:
    return f"{_STYLES[name]}{text}{_RESET}"


def paint(text: str) -> str:
    """`text` with its severities, codes, fixes and verdicts coloured."""
    text = _FINDING.sub(lambda m: f"{_style(m[1], m[1])} {_style('code', m[2])}", text)
    text = _FIX.sub(lambda m: m[1] + _style("fix", m[2]), text)
    text = _CHECK.sub(lambda m: _style("code", m[1]), text)
    text = _FAILED.sub(lambda m: _style("FAILED", m[0]), text)
    return _VERDICT.sub(lambda m: _style("ok", m[0]), text)


class _Painted:
    """A text stream that colours what is written to it."""

    def __init__(self, stream: IO[str]):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(paint(text))
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


@contextmanager
def painting(*, stdout: bool = True, stderr: bool = True) -> Iterator[None]:
    """Colour what is printed to standard output (when `stdout`) and standard error (when `stderr`) while
    inside, each only when `enabled` for it."""
    saved = sys.stdout, sys.stderr
    if stdout and enabled(sys.stdout):
        sys.stdout = _Painted(sys.stdout)  # type: ignore[assignment]
    if stderr and enabled(sys.stderr):
        sys.stderr = _Painted(sys.stderr)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
