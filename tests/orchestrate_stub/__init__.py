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


@functools.cache
def _compiled() -> bytes:
    return marshal.dumps(compile(SCRIPT.read_text(), str(SCRIPT), "exec"))


def stub_terraform(directory: Path) -> Path:
    """The stub as an executable in `directory`, run by the interpreter running the tests (without `site`: it
    needs the standard library only) rather than whatever `python3` is first on PATH, for every command.

    The executable is a launcher that runs the stub's code compiled once per session (a script run directly is
    compiled on every run, and the fast tier runs the stub a thousand times); tracebacks still name the script."""
    code = directory / "terraform.code"
    code.write_bytes(_compiled())
    target = directory / "terraform"
    target.write_text(f"#!{sys.executable} -S\nimport marshal\n"
                      f"exec(marshal.loads(open({str(code)!r}, 'rb').read()))\n")
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
