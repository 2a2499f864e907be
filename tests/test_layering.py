"""The package's layering, read from its import statements: no circle between modules, no arrow back up to the
package face (`tfgen/__init__`), which exists for users, not for tfgen's own modules.

The graph is built from the source with `ast`: every `import` and `from ... import` anywhere in a module (at
the top, in a function, under `if TYPE_CHECKING:`), relative imports resolved against the module's package,
`from package import name` an arrow to the submodule when `name` is one, else to the package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

import tfgen

PACKAGE = Path(tfgen.__file__).resolve().parent

# No module imports another that imports it back: the two circles issue 21 found are gone. Keep this empty.
ALLOWED_CYCLES: set[frozenset[str]] = set()

# checkov loads tfgen/policies as a directory of top-level modules: there they import each other by bare name.
_POLICY_SUPPORT = "tfgen_policy_support"


def modules(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name, not `.__init__`)."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of `known` that module `name` (at `path`) imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            if base == _POLICY_SUPPORT:
                base = f"{package}.{_POLICY_SUPPORT}"
            targets.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                           for alias in node.names)
    return {target for target in targets if target in known and target != name}


def import_graph(package: Path = PACKAGE) -> nx.DiGraph:
    """Module -> the modules it imports, over every module of the package."""
    known = modules(package)
    graph = nx.DiGraph()
    graph.add_nodes_from(known)
    for name, path in known.items():
        graph.add_edges_from((name, target) for target in imports(name, path, known))
    return graph


def cycles(graph: nx.DiGraph) -> list[frozenset[str]]:
    """Each circle of imports as the set of its modules (a strongly connected component of two or more)."""
    return sorted((frozenset(c) for c in nx.strongly_connected_components(graph) if len(c) > 1), key=sorted)


def test_no_module_imports_another_that_imports_it_back():
    found = cycles(import_graph())
    unexpected = [sorted(c) for c in found if not any(c <= allowed for allowed in ALLOWED_CYCLES)]
    assert unexpected == [], f"import circles (break each by moving what both need below both): {unexpected}"
    gone = [sorted(allowed) for allowed in ALLOWED_CYCLES if not any(c <= allowed for c in found)]
    assert gone == [], f"these circles are gone: remove them from ALLOWED_CYCLES: {gone}"


def test_no_module_inside_tfgen_imports_the_package_face():
    graph = import_graph()
    assert sorted(graph.predecessors("tfgen")) == [], "import from the module that defines the name instead"


@pytest.mark.parametrize("source, expected", [
    ("from .. import __version__", {"tfgen"}),
    ("import tfgen", {"tfgen"}),
    ("def f():\n    from tfgen import build", {"tfgen"}),
    ("from ..spec import load", {"tfgen.spec"}),
    ("from . import loader", {"tfgen.spec.loader"}),
    ("import tfgen.spec.loader", {"tfgen.spec.loader"}),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..model import Fleet", {"tfgen.model"}),
    ("import json\nfrom yaml import safe_load", set()),
])
def test_the_graph_sees_every_kind_of_import(tmp_path, source, expected):
    """The reader the two rules stand on: a module tfgen/spec/probe.py written each way imports what it names."""
    package = tmp_path / "tfgen"
    for path in ("__init__.py", "model/__init__.py", "spec/__init__.py", "spec/loader.py"):
        (package / path).parent.mkdir(parents=True, exist_ok=True)
        (package / path).write_text("")
    (package / "spec" / "probe.py").write_text(source + "\n")
    assert set(import_graph(package).successors("tfgen.spec.probe")) == expected


def test_a_circle_is_found_and_named(tmp_path):
    package = tmp_path / "tfgen"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from .b import x\n")
    (package / "b.py").write_text("def f():\n    from . import a\n")  # deferred: still an arrow
    (package / "c.py").write_text("from . import a\n")
    assert cycles(import_graph(package)) == [frozenset({"tfgen.a", "tfgen.b"})]
