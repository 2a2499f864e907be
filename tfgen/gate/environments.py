"""The gate's view of whole environments: rules about an environment as a whole (the GitOps path, the
whole-module TFGEN rules) see a cells environment's roots joined into one."""

from __future__ import annotations

from typing import Callable

from ..derive.naming import CELL_SEPARATOR, environment_of_root
from ..emit.cells import join_environment
from ..terraform.index import Root
from .locate import Locator

__all__ = ["environments"]


def environments(locators: dict[str, Locator]) -> list[tuple[str, Root, Callable[[str], tuple]]]:
    """`(name, index, where)` per environment: a root's index, or a cells environment's roots joined
    (`tfgen.emit.cells.join_environment`: whole-module rules see the environment as one, across its roots);
    `where(file)` gives the root and file name of one of the index's files."""
    cells: dict[str, list[str]] = {}
    found = []
    for root in sorted(locators):
        if CELL_SEPARATOR in root:
            cells.setdefault(environment_of_root(root), []).append(root)
        else:
            found.append((root, locators[root].root, lambda file, root=root: (root, file)))
    for env, roots in sorted(cells.items()):
        # Joined under the names the roots give each other (their directory names: a read of another
        # root's state names it so), though the gate may find them deeper (`tfgen check out/`: out/cells/...).
        found_as = {root.rsplit("/", 1)[-1]: root for root in roots}
        joined = join_environment({name: locators[root].root for name, root in found_as.items()})
        found.append((env, joined, lambda file, found_as=found_as, roots=roots:
                      (found_as[file.split("/", 1)[0]], file.split("/", 1)[1]) if "/" in file else (roots[0], file)))
    return found
