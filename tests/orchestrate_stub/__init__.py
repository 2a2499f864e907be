"""The recording stand-in for terraform (the script `terraform` here), for the orchestrator's and the sandbox's
tests."""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPT = Path(__file__).with_name("terraform")


def stub_terraform(directory: Path) -> Path:
    """The stub as an executable in `directory`, run by the interpreter running the tests (without `site`: it
    needs the standard library only) rather than whatever `python3` is first on PATH, for every command."""
    target = directory / "terraform"
    target.write_text(f"#!{sys.executable} -S\n" + SCRIPT.read_text().split("\n", 1)[1])
    target.chmod(0o755)
    return target
