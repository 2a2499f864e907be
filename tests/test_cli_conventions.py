"""The conventions of the Python and Terraform worlds: `python -m tfgen`, `-help` and `tfgen help VERB`,
shell completion generated from the parser, colour on a terminal only, and pre-commit hooks."""

from __future__ import annotations

import argparse
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tfgen.cli import _parser, main
from tfgen.completion import SHELLS, render, tree
from tests.conftest import EXAMPLE, ROOT

BAD_SPEC = ROOT / "tests" / "bad_specs" / "hub-without-region.yaml"


def _tfgen(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tfgen", *args], capture_output=True, text=True, timeout=120,
                          env=env, cwd=cwd)


# -- python -m tfgen, -help, tfgen help ------------------------------------------------------------------

def test_python_dash_m_tfgen_is_the_command():
    ran = _tfgen("validate", str(BAD_SPEC))
    assert (ran.returncode, "SPEC012" in ran.stdout, ran.stderr) == (1, True, "")
    assert _tfgen("--version").stdout.startswith("tfgen ")


@pytest.mark.parametrize("argv, usage", [
    (["-help"], "usage: tfgen [-h]"), (["--help"], "usage: tfgen [-h]"), (["-h"], "usage: tfgen [-h]"),
    (["build", "-help"], "usage: tfgen build"), (["ci", "atlantis", "-help"], "usage: tfgen ci atlantis"),
    (["help"], "usage: tfgen [-h]"), (["help", "build"], "usage: tfgen build"),
    (["help", "ci", "github-actions"], "usage: tfgen ci github-actions"),
])
def test_help_as_terraform_and_python_spell_it(capsys, argv, usage):
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's help action exits
        status = exc.code
    captured = capsys.readouterr()
    assert (status, captured.out.startswith(usage), captured.err) == (0, True, ""), captured.out[:200]


def test_help_on_an_unknown_verb_proposes_the_close_one(capsys):
    assert main(["help", "biuld"]) == 2
    assert capsys.readouterr().err == "tfgen: no help on 'biuld'\n  fix: did you mean `build`? `tfgen help` lists the verbs\n"
    assert main(["help", "ci", "atlantic"]) == 2
    assert "did you mean `ci atlantis`?" in capsys.readouterr().err


# -- completion --------------------------------------------------------------------------------------------

def _script(tmp_path: Path, shell: str, capsys) -> Path:
    assert main(["completion", shell]) == 0
    path = tmp_path / f"tfgen.{shell}"
    path.write_text(capsys.readouterr().out)
    return path


def test_completion_is_generated_from_the_parser():
    parser = argparse.ArgumentParser(prog="tfgen")
    verbs = parser.add_subparsers(dest="verb")
    lint = verbs.add_parser("lint", help="a verb added later")
    lint.add_argument("--level", choices=("low", "high"))
    lint.add_argument("spec")
    for shell in SHELLS:
        script = render(shell, parser)
        assert all(word in script for word in ("lint", "level", "low", "high")), shell
    every = {" ".join(c.path) for c in _walk(tree(_parser()))}
    assert {"tfgen build", "tfgen ci atlantis", "tfgen completion", "tfgen help"} <= every


def _walk(command):
    yield command
    for verb in command.verbs.values():
        yield from _walk(verb)


@pytest.mark.parametrize("shell, check", [("bash", ["bash", "-n"]), ("zsh", ["zsh", "-n"]),
                                          ("fish", ["fish", "--no-execute"])])
def test_each_script_parses_in_its_shell(tmp_path, capsys, shell, check):
    if shutil.which(check[0]) is None:
        pytest.skip(f"{shell} is not installed")
    script = _script(tmp_path, shell, capsys)
    ran = subprocess.run([*check, str(script)], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr


@pytest.mark.parametrize("words, expected", [
    (["tfgen", "bui"], ["build"]),
    (["tfgen", "validate", "--for"], ["--format"]),
    (["tfgen", "validate", "--format", ""], ["text", "json"]),
    (["tfgen", "ci", ""], ["atlantis", "github-actions"]),
    (["tfgen", "ci", "atlantis", "--sp"], ["--spec"]),
    (["tfgen", "completion", ""], ["bash", "zsh", "fish"]),
    (["tfgen", "help", "sa"], ["sandbox"]),
    (["tfgen", "build", "--out", ""], ["built/"]),
    (["tfgen", "validate", "f"], ["fleet.yaml"]),
])
def test_bash_completes_verbs_options_and_values(tmp_path, capsys, words, expected):
    script = _script(tmp_path, "bash", capsys)
    (tmp_path / "fleet.yaml").write_text("")
    (tmp_path / "built").mkdir()
    quoted = " ".join(f"'{w}'" for w in words)
    program = (f"source {script}\nCOMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}\n_tfgen\n"
               'printf "%s\\n" "${COMPREPLY[@]}"\n')
    ran = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    got = [line + ("/" if (tmp_path / line).is_dir() else "") for line in ran.stdout.split()]
    assert (ran.returncode, got) == (0, expected), ran.stderr


# zsh's completion system, stubbed: what the script asks it to offer.
_ZSH_STUBS = """compadd() { print -r -- "compadd $*"; }
_describe() { print -r -- "describe ${(j: :)${(@)${(P)2}%%:*}}"; }
_files() { print -r -- "files $*"; }
_message() { print -r -- "message $*"; }
compdef() { :; }
"""


@pytest.mark.parametrize("words, expected", [
    (["tfgen", "ci", ""], "describe atlantis github-actions"),
    (["tfgen", "validate", "--format", ""], "compadd -- text json"),
    (["tfgen", "build", "--out", ""], "files -/"),
    (["tfgen", "completion", ""], "compadd -- bash zsh fish"),
    (["tfgen", "ci", "atlantis", "--s"], "describe -h -help --help --spec --install --terraform-version "
                                         "--include-state --output"),
])
def test_zsh_completes_verbs_options_and_values(tmp_path, capsys, words, expected):
    if shutil.which("zsh") is None:
        pytest.skip("zsh is not installed")
    script = _script(tmp_path, "zsh", capsys)
    quoted = " ".join(f"'{w}'" for w in words)
    program = f"{_ZSH_STUBS}source {script}\nwords=({quoted}); CURRENT={len(words)}\n_tfgen\n"
    ran = subprocess.run(["zsh", "-f", "-c", program], capture_output=True, text=True, timeout=60)
    assert (ran.returncode, ran.stdout.strip()) == (0, expected), ran.stderr


@pytest.mark.parametrize("line, expected", [
    ("tfgen bui", ["build"]),
    ("tfgen validate --format ", ["json", "text"]),
    ("tfgen ci ", ["atlantis", "github-actions"]),
    ("tfgen ci atlantis --sp", ["--spec"]),
    ("tfgen completion ", ["bash", "fish", "zsh"]),
])
def test_fish_completes_verbs_options_and_values(tmp_path, capsys, line, expected):
    if shutil.which("fish") is None:
        pytest.skip("fish is not installed")
    script = _script(tmp_path, "fish", capsys)
    ran = subprocess.run(["fish", "--no-config", "-c", f"source {script}; complete -C '{line}'"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert (ran.returncode, sorted(row.split("\t")[0] for row in ran.stdout.splitlines())) == (0, expected), ran.stderr


# -- colour ------------------------------------------------------------------------------------------------

def _on_a_terminal(*args: str, **environ: str) -> str:
    """What `python -m tfgen ARGS` writes to a terminal (stdout and stderr on one pseudo-terminal)."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    env.update(TERM="xterm", **environ)
    process = subprocess.Popen([sys.executable, "-m", "tfgen", *args], stdout=follower, stderr=follower,
                               stdin=subprocess.DEVNULL, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode()


def test_findings_are_coloured_on_a_terminal():
    shown = _on_a_terminal("validate", str(BAD_SPEC))
    assert "\033[1;31merror\033[0m \033[1mSPEC012\033[0m" in shown, repr(shown)
    assert "\033[32mfix:\033[0m" in shown, repr(shown)


def test_no_colour_with_no_color_or_outside_a_terminal():
    shown = _on_a_terminal("validate", str(BAD_SPEC), NO_COLOR="1")
    assert "SPEC012" in shown and "\033[" not in shown, repr(shown)
    piped = _tfgen("validate", str(BAD_SPEC))
    assert "SPEC012" in piped.stdout and "\033[" not in piped.stdout + piped.stderr
    built = _tfgen("build", str(BAD_SPEC), "--out", os.devnull)
    assert "SPEC012" in built.stderr and "\033[" not in built.stderr


def test_machine_output_is_never_coloured_even_on_a_terminal():
    shown = _on_a_terminal("validate", str(BAD_SPEC), "--format", "json", FORCE_COLOR="1")
    assert '"code": "SPEC012"' in shown and "\033[" not in shown, repr(shown)


# -- pre-commit hooks --------------------------------------------------------------------------------------

def _index_reachable(scratch: Path) -> bool:
    """Whether pip reaches a package index: pre-commit builds each hook's environment from one."""
    ran = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(scratch), "--quiet",
                          "setuptools>=68"], capture_output=True, timeout=120)
    return ran.returncode == 0


@pytest.mark.slow
def test_pre_commit_try_repo_runs_the_three_hooks(tmp_path):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and tfgen's own repository")
    if not _index_reachable(tmp_path / "probe"):
        pytest.skip("pre-commit installs each hook's environment (tfgen, and checkov for tfgen-check) from a "
                    "package index, which pip cannot reach here")
    repo = tmp_path / "fleet"
    repo.mkdir()
    shutil.copyfile(ROOT / "examples" / "multi-region-eks.yaml", repo / "tfgen.yaml")
    assert main(["build", str(repo / "tfgen.yaml"), "--out", str(repo / "out")]) == 0
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "a fleet"]):
        subprocess.run([*git, *command], cwd=repo, check=True, capture_output=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    pre_commit = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT)]
    ran = subprocess.run([*pre_commit, "--all-files"], cwd=repo, env=env, capture_output=True, text=True,
                         timeout=3600)  # every hook of the repository; tfgen-check's environment installs checkov
    passed = [line.split(".")[0] for line in ran.stdout.splitlines() if line.endswith("Passed")]
    assert (ran.returncode, sorted(passed)) == (0, ["tfgen build --check", "tfgen check", "tfgen validate"]), \
        ran.stdout[-3000:]
    (repo / "tfgen.yaml").write_text((repo / "tfgen.yaml").read_text().replace("Owner: platform", "Owner: infra"))
    ran = subprocess.run([*pre_commit, "tfgen-build-check", "--all-files"], cwd=repo, env=env,
                         capture_output=True, text=True, timeout=600)
    assert ran.returncode == 1 and "Failed" in ran.stdout and "is stale" in ran.stdout, ran.stdout[-3000:]


def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path):
    """`tfgen build ... | head -1`: the build is written, and the closed pipe is neither an error about a path
    nor a traceback; the status is the one a shell gives a command SIGPIPE ended (141)."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line
    try:
        result = subprocess.run([sys.executable, "-m", "tfgen.cli", "build", str(EXAMPLE), "--out",
                                 str(tmp_path / "out")], stdout=write, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        os.close(write)
    assert (result.returncode, result.stderr) == (141, "")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".tfgen-manifest.json", "_state", "development",
                                                                   "production"]


def test_the_command_exits_with_its_status_after_exit_handlers_and_flushed_output(tmp_path):
    """`tfgen` leaves what it made to the process's exit (not walked again for cycles at shutdown), but it
    exits as any program does: exit handlers run, buffered output is written, the status is the verb's."""
    script = ("import atexit, pathlib, sys; from tfgen.cli import run; "
              f"atexit.register(pathlib.Path({str(tmp_path / 'handler-ran')!r}).touch); "
              "run()")
    for spec, status in ((EXAMPLE, 0), (BAD_SPEC, 1)):
        result = subprocess.run([sys.executable, "-c", script, "validate", str(spec)], capture_output=True,
                                text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert result.returncode == status, result.stderr
        assert (tmp_path / "handler-ran").exists(), "an exit handler did not run"
        assert result.stdout.rstrip().endswith(("0 error(s), 0 warning(s)", "1 error(s), 0 warning(s)")), result
        (tmp_path / "handler-ran").unlink()
