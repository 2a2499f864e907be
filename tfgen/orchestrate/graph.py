"""The graph of roots of a build, read from OUT's manifest: order, depth, selection.

`tfgen build` records `{root: [roots it needs]}` in `OUT/.tfgen-manifest.json`
(see `tfgen.emit.graph`); this module reads it back, checked, and answers what
the orchestrator and `tfgen ci` ask: which roots a command runs, in which waves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..emit.state import STATE_ROOT
from ..errors import TfgenError
from ..write import MANIFEST, read_roots, read_waves
from ..write.tree import topological
from ..write.journal import COMMITTED, JOURNAL

__all__ = ["UsageError", "RootGraph", "read_graph"]

_PENDING = (JOURNAL, COMMITTED)


class UsageError(TfgenError):
    """The command cannot run on this input (not a build, an unknown root, no terminal): exit 2."""

    exit_code = 2


@dataclass(frozen=True)
class RootGraph:
    """The roots of one build and, for each, the roots it needs applied first."""

    out: Path
    needs: dict[str, tuple[str, ...]]
    waves: dict | None = None  # the rollout's waves of roots the build recorded (tfgen.derive.waves)

    @property
    def roots(self) -> list[str]:
        return sorted(self.needs)

    def path(self, root: str) -> Path:
        return self.out / root

    def in_waves(self) -> RootGraph:
        """This graph with the recorded waves as edges: a root of a later wave needs the wave before (where
        that reverses no edge of the graph), so CI configs order roots by the rollout."""
        from ..derive.waves import wave_needs

        needs = wave_needs(self.needs, self.waves)
        return RootGraph(self.out, {root: tuple(n) for root, n in needs.items()}, self.waves)

    def needed_by(self, root: str) -> list[str]:
        """The roots that need `root` (its direct dependents)."""
        return sorted(r for r, needs in self.needs.items() if root in needs)

    def depth(self) -> dict[str, int]:
        """0 for a root that needs nothing, else one more than the deepest root it needs (no recursion: a
        chain of roots hundreds deep is walked in the order the manifest's check found)."""
        depth: dict[str, int] = {}
        for root in topological({r: list(n) for r, n in self.needs.items()}) or []:
            depth[root] = 1 + max((depth[n] for n in self.needs[root]), default=-1)
        return depth

    def order(self, roots=None) -> list[str]:
        """`roots` (default all) in an order that puts every root after the roots it needs: by depth, then name."""
        depth = self.depth()
        return sorted(self.roots if roots is None else roots, key=lambda r: (depth[r], r))

    def closure(self, names, *, upward: bool) -> set[str]:
        """`names` with what they need (`upward`) or with what needs them, transitively."""
        seen: set[str] = set()
        todo = list(names)
        while todo:
            root = todo.pop()
            if root not in seen:
                seen.add(root)
                todo.extend(self.needs[root] if upward else self.needed_by(root))
        return seen

    def select(self, names: list[str] | None, *, destroy: bool = False, with_needs: bool = True) -> list[str]:
        """The roots a command runs, in the order it runs them (reversed for destroy).

        plan/apply: the named roots (default all) and the roots they need. destroy:
        the named roots and the roots that need them (they cannot outlive them);
        `_state` only when named, as it holds everyone's state. `with_needs=False`:
        exactly the named roots (CI jobs ordered by `needs:` already).
        """
        unknown = sorted(set(names or []) - set(self.needs))
        if unknown:
            raise UsageError(f"{self.out} has no root {', '.join(unknown)}; its roots are "
                             f"{', '.join(self.roots)}. Fix: name one of them with --env, or rebuild "
                             f"(`tfgen build SPEC --out {self.out}`) if the spec has it")
        if not names:
            chosen = set(self.needs)
        elif not with_needs:
            chosen = set(names)
        else:
            chosen = self.closure(names, upward=not destroy)
        if destroy and STATE_ROOT not in (names or []):
            chosen.discard(STATE_ROOT)
        ordered = self.order(chosen)
        return ordered[::-1] if destroy else ordered

    def waits_for(self, root: str, selected, *, destroy: bool) -> list[str]:
        """The selected roots that must finish before `root` starts."""
        before = self.needed_by(root) if destroy else self.needs[root]
        return sorted(r for r in before if r in selected)


def read_graph(out: str | Path) -> RootGraph:
    """The graph of the build in `out`; `UsageError` when `out` is not a finished tfgen build."""
    out = Path(out)
    rebuild = f"run `tfgen build SPEC --out {out}` first"
    if not out.is_dir():
        raise UsageError(f"{out} is not a directory; give the output directory of a tfgen build, or {rebuild}")
    if not (out / MANIFEST).is_file():
        raise UsageError(f"{out} is not a tfgen build: it has no {MANIFEST}. Fix: give the directory `tfgen build "
                         f"--out` wrote (e.g. out/), or {rebuild}")
    if any((out / name).exists() for name in _PENDING):
        raise UsageError(f"{out} holds an interrupted build ({_PENDING[0]}); fix: build again to finish or undo "
                         f"it, then run this command")
    roots = read_roots(out)
    if roots is None:
        raise UsageError(f"{out}/{MANIFEST} has no graph of roots (an earlier tfgen wrote it); fix: {rebuild}, "
                         f"which records it")
    missing = sorted(root for root in roots if not any((out / root).glob("*.tf.json")))
    if missing:
        raise UsageError(f"{out}: the build's roots {', '.join(missing)} have no *.tf.json files; fix: {rebuild}")
    return RootGraph(out, {root: tuple(needs) for root, needs in roots.items()}, read_waves(out))
