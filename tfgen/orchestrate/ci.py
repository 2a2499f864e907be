"""`tfgen ci ENGINE OUT`: the graph of roots as a CI configuration (Atlantis or GitHub Actions).

This module checks what the user gave (paths inside the repository, the
branch, how CI installs tfgen, the Terraform version) into `CiInputs` and hands
them to the engine's renderer (`actions`, `atlantis`), which only writes YAML.
`_state` is left out unless asked for: it keeps its state in a local file (it
creates the bucket the others keep theirs in), which a CI runner does not have,
so it is applied once from a workstation (`tfgen apply OUT --env _state`); its
dependents' edges to it are then already satisfied.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path, PurePosixPath

from .._version import __version__
from ..emit.state import STATE_ROOT
from ..errors import ToolchainError
from ..providers.features import Version
from ..terraform.roots import read_root
from ..terraform.toolchain import remote_states_of, required_versions
from . import actions, atlantis
from .ciconfig import DISTRIBUTION, CiInputs, Install
from .graph import RootGraph, UsageError

__all__ = ["ENGINES", "DEFAULT_REQUIREMENT", "render_ci", "repository_path", "ci_roots", "parse_install",
           "terraform_version"]

ENGINES = {"atlantis": atlantis.repo_config, "github-actions": actions.workflow}
DEFAULT_REQUIREMENT = f"{DISTRIBUTION}[toolchain,policy]=={__version__}"

_NAME = r"(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?P<extras>\[[A-Za-z0-9._,\s-]*\])?\s*"
_PINNED_NAME = re.compile(_NAME + r"===?\s*[A-Za-z0-9][A-Za-z0-9.+!_-]*")
_DIRECT = re.compile(_NAME + r"@\s*(?P<url>\S+)")
# https without credentials in the URL (they would be in the workflow); ssh with an optional user (git@).
_GIT_URL = re.compile(r"git\+(?:https://|ssh://(?:[A-Za-z0-9._-]+@)?)[^\s@/]+/[^\s@]+@(?P<rev>[^\s#@]+)(?:#\S*)?")
_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_REQUIREMENTS = re.compile(r"(?:-r|--requirement)(?:\s+|=)(?P<file>.+)")
_ROOT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*")
_BRANCH_BAD = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|^[/.-]|[/.]$|\.lock$|/\.")


def _install_fix() -> str:
    return (f"Fix: pin it: an exact version (--install '{DEFAULT_REQUIREMENT}'), a commit "
            f"(--install 'git+https://github.com/ORG/REPO@<40-hex commit>'), or a requirements file with "
            f"hashes (--install '-r requirements.txt', made by `pip-compile --generate-hashes`)")


def _plain(value: str, what: str) -> str:
    """`value` unless GitHub or a YAML comment would read more into it than the characters."""
    if re.search(r"[\x00-\x1f\x7f]", value):
        raise UsageError(f"{what} {value!r} holds a control character (a newline, a tab); rename it")
    if "${{" in value:
        raise UsageError(f"{what} {value!r} holds `${{{{`, which GitHub Actions evaluates as an expression; "
                         f"rename it")
    return value


def repository_path(path: str, what: str = "OUT") -> str:
    """`path` relative to the repository root (the working directory), POSIX, no `..`."""
    _plain(path, what)
    relative = Path(path)
    if relative.is_absolute():
        try:
            relative = relative.resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            raise UsageError(f"{what} {path} is outside the working directory; run `tfgen ci` from the "
                             f"repository's root with paths relative to it (e.g. `tfgen ci atlantis out --spec "
                             f"fleet.yaml`)") from None
    posix = PurePosixPath(relative.as_posix())
    if ".." in posix.parts:
        raise UsageError(f"{what} {path} leaves the working directory; run `tfgen ci` from the repository's root "
                         f"with paths inside it")
    return str(posix)


def ci_roots(graph: RootGraph, *, include_state: bool) -> dict[str, list[str]]:
    """`{root: [roots it needs that CI runs too]}`, in dependency order."""
    kept = [r for r in graph.order() if include_state or r != STATE_ROOT]
    return {root: [n for n in graph.needs[root] if n in kept] for root in kept}


def parse_install(value: str | None) -> Install:
    """How CI installs tfgen: `value` checked to be pinned (None: this tfgen's exact version from PyPI)."""
    if value is None:
        return Install(requirement=DEFAULT_REQUIREMENT)
    text = _plain(value, "--install").strip()
    files = _REQUIREMENTS.fullmatch(text)
    if files:
        return Install(requirements_file=_requirements_file(files.group("file").strip()))
    if text.startswith("git+"):
        return Install(requirement=f"{DISTRIBUTION}[toolchain,policy] @ {_git_url(text)}")
    direct = _DIRECT.fullmatch(text)
    if direct:
        _git_url(direct.group("url"))
        return Install(requirement=text)
    if _PINNED_NAME.fullmatch(text):
        return Install(requirement=text)
    raise UsageError(f"--install {value!r} is not pinned: whoever publishes the newest release of that name "
                     f"would run code in jobs that can assume your deploy roles. {_install_fix()}")


def _git_url(url: str) -> str:
    match = _GIT_URL.fullmatch(url)
    if not match:
        raise UsageError(f"--install {url!r} is not a git URL pip can pin (git+https:// or git+ssh://, then "
                         f"@<commit>). {_install_fix()}")
    if not _COMMIT.fullmatch(match.group("rev")):
        raise UsageError(f"--install {url!r} names {match.group('rev')!r}, not a full commit SHA: a branch or "
                         f"tag can be moved to other code. Fix: give the 40-hex commit (`git rev-parse "
                         f"{match.group('rev')}^{{commit}}` in that repository)")
    return url


def _requirements_file(path: str) -> str:
    where = repository_path(path, "--install -r")
    try:
        text = Path(where).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--install -r {path}: cannot read it ({exc.strerror or exc}); give the requirements "
                         f"file the repository has, relative to its root") from None
    if "--hash=" not in text:
        raise UsageError(f"{path} has no --hash= lines; CI installs it with `pip install --require-hashes`, "
                         f"which refuses it. Fix: `pip-compile --generate-hashes` it")
    return where


def terraform_version(graph: RootGraph, roots, given: str | None) -> tuple[str, str]:
    """The Terraform version CI runs `roots` with, and why: `given`, else the lowest every root admits."""
    try:
        constraints = required_versions({root: graph.path(root) for root in roots})
    except ToolchainError as exc:
        raise UsageError(f"{exc}; fix: rebuild with `tfgen build SPEC --out {graph.out}`") from None
    if given is not None:
        try:
            version = Version.parse(given)
        except ValueError as exc:
            raise UsageError(f"--terraform-version: {exc}; give an exact version such as 1.10.5") from None
        refused = [f"{root} ({c.text})" for root, c in constraints.items() if not c.admits(version)]
        if refused:
            raise UsageError(f"--terraform-version {given}: the roots {', '.join(refused)} do not admit it; give "
                             f"a version every root's required_version admits")
        return str(version), "--terraform-version"
    lows = [c.lowest for c in constraints.values()]
    if not lows or None in lows:
        raise UsageError(f"{graph.out}: a root without a lower bound on required_version leaves CI's Terraform "
                         f"version open; pass --terraform-version (e.g. 1.10.5)")
    version = max(lows)
    refused = [f"{root} ({c.text})" for root, c in constraints.items() if not c.admits(version)]
    if refused:
        raise UsageError(f"{graph.out}: no single Terraform version is the lowest every root admits ({version} is "
                         f"refused by {', '.join(refused)}); pass --terraform-version")
    return str(version), "the lowest version every root's required_version admits"


def _branch(branch: str) -> str:
    _plain(branch, "--branch")
    if not branch or _BRANCH_BAD.search(branch):
        raise UsageError(f"--branch {branch!r} is not a branch name git allows; give the branch whose pushes "
                         f"apply, e.g. main")
    return branch


def _command(engine: str, out: str, spec: str, *, include_state: bool, branch: str, install: str | None,
             version: str | None) -> str:
    words = ["tfgen", "ci", engine, out, "--spec", spec]
    if engine == "github-actions" and branch != "main":
        words += ["--branch", branch]
    if include_state:
        words.append("--include-state")
    if install is not None:
        words.append(f"--install={install}")
    if version is not None:
        words += ["--terraform-version", version]
    return shlex.join(words)


def render_ci(engine: str, graph: RootGraph, *, out: str, spec: str, include_state: bool = False,
              branch: str = "main", install: str | None = None, terraform: str | None = None) -> str:
    """The configuration text of `engine` ("atlantis" or "github-actions") for the build `graph`."""
    if engine not in ENGINES:
        raise UsageError(f"no CI engine {engine!r}; choose one of {', '.join(ENGINES)}")
    where = repository_path(out)
    graph = graph.in_waves()  # the rollout's waves order the roots' jobs and execution order groups
    roots = ci_roots(graph, include_state=include_state)
    if not roots:
        raise UsageError(f"{out} has no root for CI to run but _state; pass --include-state to run it too")
    unusable = [root for root in graph.roots if not _ROOT_NAME.fullmatch(root)]
    if unusable:
        raise UsageError(f"{out}: the roots {', '.join(map(repr, unusable))} cannot name CI jobs and environments "
                         f"(letters, digits, `_` and `-` only); rename them in the spec and build again")
    version, reason = terraform_version(graph, roots, terraform)
    spec_path = repository_path(spec, "--spec")
    inputs = CiInputs(
        out=where, spec=spec_path, roots=roots, depth=graph.depth(),
        left_out=[r for r in graph.order() if r not in roots], branch=_branch(branch),
        install=parse_install(install), terraform_version=version, terraform_reason=reason,
        command=_command(engine, where, spec_path, include_state=include_state, branch=branch, install=install,
                         version=terraform),
        reads={root: [r for r in remote_states_of(read_root(graph.path(root)).documents) if r in roots]
               for root in roots})
    return ENGINES[engine](inputs)
