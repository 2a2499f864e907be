"""The recording stand-in for terraform (the script `terraform` here), for the orchestrator's and the sandbox's
tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.stub_launcher import launcher

SCRIPT = Path(__file__).with_name("terraform")
REPOSITORY = Path(__file__).resolve().parent.parent.parent


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
