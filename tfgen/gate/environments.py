"""The gate's view of whole environments: rules about an environment as a whole (the GitOps path, the
whole-module TFGEN rules) see a cells environment's roots joined into one."""

from __future__ import annotations

from typing import Callable

from .locate import Locator

__all__ = ["environments"]


def environments(locators: dict[str, Locator]) -> list[tuple[str, dict[str, dict], Callable[[str], tuple]]]:
    """`(name, documents, where)` per environment: a root's documents, or a cells environment's roots joined
    (`tfgen.emit.cells.join_environment`: whole-module rules see the environment as one, across its roots);
    `where(file)` gives the root and file name of one of the documents' files."""
    from ..derive.naming import CELL_SEPARATOR, environment_of_root
    from ..emit.cells import join_environment

    cells: dict[str, list[str]] = {}
    found = []
    for root in sorted(locators):
        if CELL_SEPARATOR in root:
            cells.setdefault(environment_of_root(root), []).append(root)
        else:
            found.append((root, locators[root].root.documents, lambda file, root=root: (root, file)))
    for env, roots in sorted(cells.items()):
        joined = join_environment({root: locators[root].root.documents for root in roots})
        # A joined file is `<root>/<file>`; the root's name may hold `/` itself (`tfgen check out/` finds
        # out/cells/...), a file name never does.
        found.append((env, joined, lambda file, roots=roots: tuple(file.rsplit("/", 1)) if "/" in file
                      else (roots[0], file)))
    return found
