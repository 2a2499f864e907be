"""`tfgen ci ENGINE OUT`: the graph of roots as a CI configuration (Atlantis or GitHub Actions).

Shared here: which roots a CI config runs and the path of OUT inside the
repository. `_state` is left out unless asked for: it keeps its state in a
local file (it creates the bucket the others keep theirs in), which a CI runner
does not have, so it is applied once from a workstation (`tfgen apply OUT --env
_state`); its dependents' edges to it are then already satisfied.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import yaml

from ..emit.state import STATE_ROOT
from .graph import RootGraph, UsageError

__all__ = ["render_ci", "repository_path", "ci_roots", "dump"]


def repository_path(out: str) -> str:
    """OUT as a path relative to the repository root (the working directory), POSIX, no `..`."""
    path = Path(out)
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            raise UsageError(f"{out} is outside the working directory; run `tfgen ci` from the repository's root "
                             f"with OUT relative to it (e.g. `tfgen ci atlantis out`)") from None
    posix = PurePosixPath(path.as_posix())
    if ".." in posix.parts:
        raise UsageError(f"{out} leaves the working directory; run `tfgen ci` from the repository's root with OUT "
                         f"inside it")
    return str(posix)


def ci_roots(graph: RootGraph, *, include_state: bool) -> dict[str, list[str]]:
    """`{root: [roots it needs that CI runs too]}`, in dependency order."""
    kept = [r for r in graph.order() if include_state or r != STATE_ROOT]
    return {root: [n for n in graph.needs[root] if n in kept] for root in kept}


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data) -> bool:  # a reader sees every job whole, no `&id001` anchors
        return True


def dump(document: dict, header: str) -> str:
    """YAML in the order the document was built (deterministic), after a comment header."""
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120)
    return "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines()) + body


def render_ci(engine: str, graph: RootGraph, *, out: str, spec: str | None = None,
              include_state: bool = False, branch: str = "main") -> str:
    """The configuration text of `engine` ("atlantis" or "github-actions") for the build `graph`."""
    from .actions import workflow
    from .atlantis import repo_config

    where = repository_path(out)
    roots = ci_roots(graph, include_state=include_state)
    if not roots:
        raise UsageError(f"{out} has no root for CI to run but _state; pass --include-state to run it too")
    depth = graph.depth()
    if engine == "atlantis":
        return repo_config(where, roots, depth)
    if spec is None:
        raise UsageError("tfgen ci github-actions needs --spec SPEC (the spec OUT is built from)")
    return workflow(where, roots, spec=repository_path(spec), branch=branch)
