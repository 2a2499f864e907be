"""The recording stand-in for terraform (the script `terraform` here), for the orchestrator's and the sandbox's
tests."""

from __future__ import annotations

import functools
import marshal
import shutil
import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("terraform")
REPOSITORY = Path(__file__).resolve().parent.parent.parent


STUB_JSON = REPOSITORY / "tests" / "stub_json.py"


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


def stub_terraform(directory: Path) -> Path:
    """The stub as an executable in `directory` (a `launcher`)."""
    target = directory / "terraform"
    target.write_bytes(launcher(directory / "terraform.code", (SCRIPT.read_text(), str(SCRIPT))))
    target.chmod(0o755)
    return target


def stub_directory(tmp_path: Path, monkeypatch) -> Path:
    """The stub's control directory in `tmp_path`, with TFGEN_TERRAFORM pointing at the stub in it."""
    directory = tmp_path / "stub"
    directory.mkdir()
    monkeypatch.setenv("STUB_DIR", str(directory))
    monkeypatch.setenv("TFGEN_TERRAFORM", str(stub_terraform(directory)))
    return directory


def example_out(tmp_path: Path) -> Path:
    """A copy of the committed example build (`_state`, `development`, `production` and its manifest) in
    `tmp_path/out`."""
    from tfgen.write import MANIFEST

    out = tmp_path / "out"
    out.mkdir()
    for root in ("_state", "development", "production"):
        shutil.copytree(REPOSITORY / "out" / root, out / root)
    shutil.copy(REPOSITORY / "out" / MANIFEST, out / MANIFEST)
    return out
