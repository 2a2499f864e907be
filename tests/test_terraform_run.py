"""A terraform that tfgen started dies with tfgen: killed outright (no handler runs), tfgen leaves no terraform
behind, whether setpriv sets the parent-death signal or the fallback's preexec_fn does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# tfgen, as a process of its own: runs a "terraform" that records its pid and sleeps.
PARENT = """
import sys
from pathlib import Path
from tfgen.terraform.run import run_command
root = Path(sys.argv[1])
run_command(sys.argv[2], root, "apply", env={"PATH": sys.argv[3]}, log=root / "log")
"""
TERRAFORM = f"""#!{sys.executable} -S
import os, time
open("pid", "w").write(str(os.getpid()))
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
@pytest.mark.parametrize("path", [os.defpath, ""], ids=["setpriv", "no-setpriv-on-path"])
def test_a_killed_tfgen_leaves_no_terraform_running(tmp_path, path):
    terraform = tmp_path / "terraform"
    terraform.write_text(TERRAFORM)
    terraform.chmod(0o755)
    env = {**os.environ, "PATH": path}
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tmp_path), str(terraform), path], env=env)
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "pid").exists() or not (tmp_path / "pid").read_text():
            assert time.monotonic() < deadline and parent.poll() is None, "terraform never started"
            time.sleep(0.02)
        child = int((tmp_path / "pid").read_text())
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not _alive(child), "terraform outlived the tfgen that started it"
    finally:
        parent.kill()
        parent.wait()


# A "terraform" that writes a few lines (the last without its newline), then ends with status 3 or, told to,
# sleeps until it is stopped.
SHORT = f"""#!{sys.executable} -S
import sys, time
print("one", flush=True)
sys.stderr.write("two\\nthree")
sys.stderr.flush()
if sys.argv[1:] == ["sleep"]:
    time.sleep(60)
sys.exit(3)
"""


@pytest.fixture(params=["pidfd", "no-pidfd"])
def short_terraform(request, tmp_path, monkeypatch):
    """The SHORT terraform, run_command waiting for it through a pidfd or, without one (not Linux, an older
    kernel), through Popen's poll."""
    if request.param == "no-pidfd":
        monkeypatch.delattr(os, "pidfd_open", raising=False)
    elif not hasattr(os, "pidfd_open"):
        pytest.skip("no os.pidfd_open here")
    terraform = tmp_path / "terraform"
    terraform.write_text(SHORT)
    terraform.chmod(0o755)
    return terraform


def test_a_command_that_ends_gives_its_status_and_every_line_of_its_log(tmp_path, short_terraform):
    from tfgen.terraform.run import run_command

    lines: list[str] = []
    result = run_command(str(short_terraform), tmp_path, "plan", env=dict(os.environ), log=tmp_path / "log",
                         lines=lines.append)
    assert result.returncode == 3 and result.args == ("plan",)
    assert lines == ["one", "two", "three"] and result.output == "one\ntwo\nthree"


def test_a_command_past_its_timeout_is_stopped_and_waited_for(tmp_path, short_terraform):
    from tfgen.terraform.run import TerraformStopped, run_command

    with pytest.raises(TerraformStopped, match="terraform sleep did not finish within 0 s") as stopped:
        run_command(str(short_terraform), tmp_path, "sleep", env=dict(os.environ), log=tmp_path / "log",
                    timeout=0.2, grace=5)
    assert stopped.value.result.returncode not in (None, 0), "stopped and reaped"
