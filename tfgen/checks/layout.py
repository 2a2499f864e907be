"""VAL137: a build that would move an environment to another layout than the previous build's roots have it.

Switching layouts moves every resource of an environment to other roots; a root that plans without the state
of what it now holds would create it all again. `build` refuses the switch unless `allow_layout_change`;
`tfgen.migrate` plans and runs the move of the state. `layout_changes` is what both read: each environment
whose layout the build would switch, judged from the roots the previous build recorded.
"""

from __future__ import annotations

from ..derive import naming
from ..errors import Finding
from ..model import LAYOUT_CELLS, LAYOUT_ENVIRONMENT, Environment, Fleet

__all__ = ["layout_changes", "check_layout_change"]


def _layout_in(roots, env: str) -> str | None:
    """The layout `env` has among the recorded `roots` (None: it has no root there)."""
    if env in roots:
        return LAYOUT_ENVIRONMENT
    if any(naming.environment_of_root(r) == env and r != env for r in roots):
        return LAYOUT_CELLS
    return None


def layout_changes(fleet: Fleet, previous: dict[str, list[str]] | None) -> list[tuple[Environment, str, str]]:
    """`(environment, layout before, layout now)` of each environment whose layout the build would switch."""
    if not previous:
        return []
    changes = []
    for env in fleet.environments.values():
        before, now = _layout_in(previous, env.name), fleet.layout_of(env)
        if before is not None and before != now:
            changes.append((env, before, now))
    return changes


def check_layout_change(fleet: Fleet, previous: dict[str, list[str]] | None, *, spec: str = "SPEC",
                        out: str = "out") -> list[Finding]:
    """VAL137 for each environment the build would move to another layout."""
    return [Finding(
        "VAL137", f"environment {env.name} is built in the {before} layout in {out}; building it in the {now} "
        f"layout moves every resource to other roots, whose plans would create them all again",
        f"to switch, build with --allow-layout-change, then move the state before any plan or apply: review "
        f"`tfgen migrate {spec} --env {env.name} --out {out}`, then run it with --run (docs/cells.md); "
        f"else set `layout: {before}` on the environment",
        path=env.name, origin=env.origin("layout") if env.layout is not None else fleet.origin("layout"))
        for env, before, now in layout_changes(fleet, previous)]
