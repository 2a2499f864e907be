"""The graph of roots: which root modules a root needs applied before it, read from the emitted documents.

A root needs another when it uses something the other creates. Today that is
the state backend: an environment keeps its state in the bucket (and lock
table) the `_state` root creates. Each kind of edge is one rule in `EDGES`, so
the cells layout adds its shared, region and link roots as rules here, and the
orchestrator, `tfgen ci` and the sandbox read one graph.
"""

from __future__ import annotations

from typing import Callable, Iterator

__all__ = ["EDGES", "root_graph"]

Documents = dict[str, dict[str, dict]]


def _created(documents: dict[str, dict], type_: str, argument: str) -> Iterator[str]:
    """Literal values of `argument` on every `type_` resource of one root."""
    for document in documents.values():
        for body in (document.get("resource", {}).get(type_) or {}).values():
            value = body.get(argument)
            if isinstance(value, str) and "${" not in value:
                yield value


def backend_edges(roots: Documents) -> Iterator[tuple[str, str]]:
    """(root, needed): `root` keeps its state in a bucket or lock table that `needed` creates."""
    makers: dict[tuple[str, str], str] = {}
    for name, documents in roots.items():
        for bucket in _created(documents, "aws_s3_bucket", "bucket"):
            makers[("bucket", bucket)] = name
        for table in _created(documents, "aws_dynamodb_table", "name"):
            makers[("dynamodb_table", table)] = name
    for name, documents in roots.items():
        for document in documents.values():
            backend = (document.get("terraform", {}).get("backend") or {}).get("s3") or {}
            for key in ("bucket", "dynamodb_table"):
                needed = makers.get((key, backend.get(key)))
                if needed is not None and needed != name:
                    yield name, needed


EDGES: tuple[Callable[[Documents], Iterator[tuple[str, str]]], ...] = (backend_edges,)


def root_graph(roots: Documents) -> dict[str, list[str]]:
    """`{root: [roots it needs, sorted]}` for every root of a build (`emit_documents`' result)."""
    graph: dict[str, set[str]] = {name: set() for name in roots}
    for rule in EDGES:
        for name, needed in rule(roots):
            graph[name].add(needed)
    return {name: sorted(needs) for name, needs in sorted(graph.items())}
