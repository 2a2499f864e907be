"""Executables for the tests' stand-ins of other programs (terraform, and the bootstrap's curl, aws, kubectl and
helm): their Python code compiled once per session and run without `site`, after tests/stub_json.py."""

from __future__ import annotations

import functools
import marshal
import sys
from pathlib import Path

STUB_JSON = Path(__file__).with_name("stub_json.py")


@functools.cache
def _compiled(sources: tuple[tuple[str, str], ...]) -> bytes:
    return marshal.dumps(tuple(compile(text, name, "exec") for text, name in (
        (STUB_JSON.read_text(), str(STUB_JSON)), *sources)))


def launcher(code: Path, *sources: tuple[str, str]) -> bytes:
    """An executable that runs `sources` ((text, file name) pairs, after tests/stub_json.py) by the interpreter
    running the tests, without `site` (stubs need the standard library only), rather than whatever `python3` is
    first on PATH. The code is compiled once per session into `code` (a script run directly is compiled on every
    run, and the fast tier starts stubs about two thousand times); tracebacks still name the sources."""
    code.write_bytes(_compiled(sources))
    return (f"#!{sys.executable} -S\nimport marshal\n"
            f"for code in marshal.loads(open({str(code)!r}, 'rb').read()):\n    exec(code)\n").encode()
